using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HeMif.Configuration;

/// <summary>
/// Reads a <see cref="JsonElement"/> tree strictly: only known keys, each once, every value of the expected type and
/// form. Errors become <see cref="HeMifConfigurationException"/>s naming the origin, the path and the expectation.
/// Configuration sections arrive as the same tree with every scalar a string (that is how
/// <c>IConfiguration</c> stores them), so in configuration mode a scalar may also be given as a string, and paths
/// are written as configuration keys.
/// </summary>
internal sealed class StrictJsonReader(string origin, bool configurationMode, string root)
{
    public string Origin { get; } = origin;

    public string Root { get; } = root;

    /// <summary>
    /// The path of a property: <c>$.interfaces</c> for a plain name (a letter or underscore, then letters, digits or
    /// underscores), and the bracket form for any other, so that a key with dots cannot be misread as several:
    /// <c>$.destinations['www.example.com']</c> (a quote or backslash in it escaped, control characters as <c>\uXXXX</c>).
    /// </summary>
    public string Property(string path, string name) =>
        configurationMode ? path + ":" + name : IsPlainName(name) ? path + "." + name : path + "['" + EscapeName(name) + "']";

    public string Index(string path, int i) =>
        configurationMode ? path + ":" + i.ToString(CultureInfo.InvariantCulture) : path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";

    public HeMifConfigurationException Error(string path, string expected, JsonElement found) =>
        new(Origin, path, expected, Describe(found));

    public HeMifConfigurationException Error(string path, string expected, string found) => new(Origin, path, expected, found);

    /// <summary>The longest value a message quotes whole; a longer one is cut, saying its length.</summary>
    internal const int MaxQuoted = 120;

    public static string Describe(JsonElement found) => found.ValueKind switch
    {
        JsonValueKind.String => Quote(found.GetString()!),
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Undefined => "nothing",
        _ => found.GetRawText() is { Length: > MaxQuoted } raw ? raw[..MaxQuoted] + "… (" + raw.Length.ToString(CultureInfo.InvariantCulture) + " characters)" : found.GetRawText(),
    };

    /// <summary><paramref name="value"/> in double quotes, cut after <see cref="MaxQuoted"/> characters (saying how long it was).</summary>
    public static string Quote(string value) => value.Length <= MaxQuoted
        ? "\"" + value + "\""
        : "\"" + value[..MaxQuoted] + "…\" (" + value.Length.ToString(CultureInfo.InvariantCulture) + " characters)";

    private static bool IsPlainName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string EscapeName(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            _ = c switch
            {
                '\'' => sb.Append("\\'"),
                '\\' => sb.Append("\\\\"),
                _ when char.IsControl(c) => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => sb.Append(c),
            };
        }

        return sb.ToString();
    }

    /// <summary>
    /// The properties of an object, keyed by their canonical (allowed) name. Unknown keys and keys given twice
    /// (case-insensitively, as configuration keys compare) are errors.
    /// </summary>
    public Dictionary<string, (JsonElement Value, string Path)> Object(JsonElement e, string path, params string[] allowed)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, "an object", e);
        }

        var result = new Dictionary<string, (JsonElement, string)>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            var at = Property(path, p.Name);
            var canonical = System.Array.Find(allowed, a => string.Equals(a, p.Name, StringComparison.OrdinalIgnoreCase));
            if (canonical is null)
            {
                throw Error(at, "one of the keys " + string.Join(", ", allowed), "the unknown key " + Quote(p.Name));
            }

            if (!result.TryAdd(canonical, (p.Value, at)))
            {
                throw Error(at, "each key once", Quote(p.Name) + " a second time");
            }
        }

        return result;
    }

    public List<(JsonElement Value, string Path)> Array(JsonElement e, string path, string of)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, "an array of " + of, e);
        }

        var list = new List<(JsonElement, string)>();
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            list.Add((item, Index(path, i++)));
        }

        return list;
    }

    public string String(JsonElement e, string path, string expected = "a string")
    {
        if (e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } s)
        {
            throw Error(path, expected, e);
        }

        return s;
    }

    public bool Bool(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String when configurationMode && bool.TryParse(e.GetString(), out var b):
                return b;
            default:
                throw Error(path, "true or false", e);
        }
    }

    public long Integer(JsonElement e, string path, long min, long max, string expected)
    {
        long v;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out v))
        {
        }
        else if (configurationMode && e.ValueKind == JsonValueKind.String &&
                 long.TryParse(e.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v))
        {
        }
        else
        {
            throw Error(path, expected, e);
        }

        if (v < min || v > max)
        {
            throw Error(path, expected, e);
        }

        return v;
    }

    public double Number(JsonElement e, string path, double min, string expected)
    {
        double v;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out v))
        {
        }
        else if (configurationMode && e.ValueKind == JsonValueKind.String &&
                 double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out v))
        {
        }
        else
        {
            throw Error(path, expected, e);
        }

        if (v < min || double.IsNaN(v) || double.IsInfinity(v))
        {
            throw Error(path, expected, e);
        }

        return v;
    }

    public TEnum Enum<TEnum>(JsonElement e, string path)
        where TEnum : struct, Enum
    {
        var expected = "one of " + string.Join(", ", System.Enum.GetNames<TEnum>());
        if (e.ValueKind == JsonValueKind.String && e.GetString() is { } s && !char.IsAsciiDigit(s.FirstOrDefault()) && !s.StartsWith('-') &&
            System.Enum.TryParse<TEnum>(s, ignoreCase: true, out var v) && System.Enum.IsDefined(v))
        {
            return v;
        }

        throw Error(path, expected, e);
    }

    public IPAddress Address(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String && IPAddress.TryParse(e.GetString(), out var a))
        {
            return a;
        }

        throw Error(path, "an IP address such as \"192.0.2.1\" or \"2001:db8::1\"", e);
    }

    public IPNetwork Prefix(JsonElement e, string path, AddressFamily? family = null)
    {
        var expected = family switch
        {
            AddressFamily.InterNetworkV6 => "an IPv6 prefix such as \"2001:db8::/32\" with no bits set after the prefix length",
            _ => "a prefix such as \"2001:db8::/32\" or \"198.51.100.0/24\" with no bits set after the prefix length",
        };
        if (e.ValueKind == JsonValueKind.String && HeMif.Interfaces.DomainNames.TryParseCanonicalPrefix(e.GetString(), out var net) &&
            (family is null || net.BaseAddress.AddressFamily == family))
        {
            return net;
        }

        throw Error(path, expected, e);
    }

    public List<string> Strings(JsonElement e, string path, string of, Func<string, bool>? valid = null)
    {
        var list = new List<string>();
        foreach (var (item, at) in Array(e, path, of))
        {
            var s = String(item, at, of);
            if (valid is not null && !valid(s))
            {
                throw Error(at, of, item);
            }

            list.Add(s);
        }

        return list;
    }

    public List<TEnum> Enums<TEnum>(JsonElement e, string path)
        where TEnum : struct, Enum
    {
        var list = new List<TEnum>();
        foreach (var (item, at) in Array(e, path, "names of " + typeof(TEnum).Name))
        {
            list.Add(Enum<TEnum>(item, at));
        }

        return list;
    }
}
