using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HeMif.Interfaces;

/// <summary>
/// RFC 8801 §4.3 "Provisioning Domain Additional Information": the JSON object a host fetches from
/// <c>https://&lt;PvD-ID&gt;/.well-known/pvd</c>. Only the keys HE-MIF uses are kept.
/// </summary>
/// <param name="Identifier">The PvD ID FQDN; it must equal the PvD ID the router advertised.</param>
/// <param name="Expires">After this instant the information must no longer be used.</param>
/// <param name="Prefixes">The IPv6 prefixes that belong to this PvD.</param>
public sealed record PvdAdditionalInformation(string Identifier, DateTimeOffset Expires, IReadOnlyList<IPNetwork> Prefixes)
{
    /// <summary>A human-readable name of the service, when given.</summary>
    public string? Name { get; init; }

    /// <summary>"noInternet": the PvD gives no access to the Internet, only to its own services.</summary>
    public bool NoInternet { get; init; }

    /// <summary>"metered": traffic through this PvD is charged.</summary>
    public bool Metered { get; init; }

    /// <summary>"dnsZones": DNS zones that are searchable and reachable through this PvD (§4.2.1 matches against them).</summary>
    public IReadOnlyList<string> DnsZones { get; init; } = [];

    /// <summary>
    /// "connectivityCheckUrl" (HeMif's own key; RFC 8801 §4.3 lets a network add keys of its own): a plain <c>http://</c>
    /// URL inside the PvD that answers the connectivity check (the status the check expects, 204 by default). A PvD that
    /// serves only its own scope (<c>noInternet</c>) is validated against it instead of an Internet check (draft §5.2.1
    /// with RFC 7556 §5.3). Null when the document names none.
    /// </summary>
    public Uri? ConnectivityCheckUrl { get; init; }

    /// <summary>The information may be used at <paramref name="now"/> (strictly before <see cref="Expires"/>).</summary>
    public bool IsValidAt(DateTimeOffset now) => now < Expires;

    /// <summary>
    /// The largest document read: RFC 8801 gives no limit, and a real one is a few hundred octets; anything larger is
    /// refused before it is parsed.
    /// </summary>
    public const int MaxDocumentBytes = 64 * 1024;

    /// <summary>The deepest nesting read (the RFC's keys need 2; vendor keys may nest a little).</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Parses and validates an RFC 8801 §4.3 JSON object. Required keys: <c>identifier</c> (FQDN), <c>expires</c>
    /// (RFC 3339 date-time with an offset), <c>prefixes</c> (array of IPv6 prefixes). Optional: <c>name</c>,
    /// <c>noInternet</c>, <c>metered</c> (booleans), <c>dnsZones</c> (array of FQDNs). Keys this library does not know
    /// are ignored, because RFC 8801 lets networks add their own (e.g. vendor-specific) keys.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="expectedIdentifier">When given, the PvD ID the information must describe.</param>
    /// <exception cref="FormatException">The text is not valid JSON or a key has the wrong type or form; the message
    /// names the JSON path and what was expected.</exception>
    public static PvdAdditionalInformation Parse(string json, string? expectedIdentifier = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        return TryParse(System.Text.Encoding.UTF8.GetBytes(json), expectedIdentifier, out var error) ??
               throw new FormatException(error!.Message);
    }

    /// <summary>
    /// Parses and validates an RFC 8801 §4.3 JSON document as fetched (UTF-8), as <see cref="Parse"/> does, and never
    /// throws: a document larger than <see cref="MaxDocumentBytes"/>, nested deeper than <see cref="MaxDepth"/>, not
    /// JSON, or with a key of the wrong form gives null and an <paramref name="error"/> that says which and where.
    /// </summary>
    /// <param name="utf8Json">The document's bytes.</param>
    /// <param name="expectedIdentifier">When given, the PvD ID the information must describe.</param>
    /// <param name="error">Why the document was refused, when it was.</param>
    /// <returns>The information, or null.</returns>
    public static PvdAdditionalInformation? TryParse(ReadOnlySpan<byte> utf8Json, string? expectedIdentifier, out PvdInformationError? error)
    {
        error = null;
        if (utf8Json.Length > MaxDocumentBytes)
        {
            error = new PvdInformationError(PvdInformationProblem.TooLarge, "$",
                $"$: expected a document of at most {MaxDocumentBytes} octets; found {utf8Json.Length}");
            return null;
        }

        if (DepthBeyond(utf8Json, MaxDepth) is { } depth)
        {
            error = new PvdInformationError(PvdInformationProblem.TooDeep, "$",
                $"$: expected JSON nested at most {MaxDepth} deep; found deeper nesting at octet {depth}");
            return null;
        }

        // Found by fuzzing: the parser checks neither that string bytes are UTF-8 nor that an escaped surrogate has its
        // pair, and reading such a string later threw InvalidOperationException out of a method that never throws.
        // RFC 8259 §8.1: JSON exchanged between systems "MUST be encoded using UTF-8".
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            error = new PvdInformationError(PvdInformationProblem.NotJson, "$", "$: expected a JSON object in UTF-8 (RFC 8259 §8.1); the document has bytes that are not UTF-8");
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth + 2 });
            if (UnpairedSurrogate(doc.RootElement, "$") is { } at)
            {
                error = new PvdInformationError(PvdInformationProblem.WrongValue, at,
                    $"{at}: expected text without an unpaired surrogate escape (\\ud800 to \\udfff alone; RFC 8259 §8.2); found one");
                return null;
            }

            return FromJson(doc.RootElement, "$", expectedIdentifier);
        }
        catch (JsonException e)
        {
            error = new PvdInformationError(PvdInformationProblem.NotJson, "$",
                $"$: expected a JSON object (RFC 8801 §4.3); the text is not valid JSON: {e.Message}");
        }
        catch (PvdInformationException e)
        {
            error = e.Error;
        }

        return null;
    }

    /// <summary>The path of the first key or string that is not text (an escaped surrogate without its pair), or null.</summary>
    private static string? UnpairedSurrogate(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return path;
                    }

                    if (UnpairedSurrogate(p.Value, path + "." + name) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (UnpairedSurrogate(item, string.Create(CultureInfo.InvariantCulture, $"{path}[{i++}]")) is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.String:
                try
                {
                    _ = e.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return path;
                }

            default:
                return null;
        }
    }

    /// <summary>
    /// RFC 8801 §4.3's checks of information against the RA it came with, at <paramref name="now"/>: "expires" has not
    /// passed, and every prefix the RA advertised for the PvD is covered by one of its "prefixes" ("Hosts MUST verify
    /// that all prefixes in the RA PIO are covered by a prefix from the PvD Additional Information"). Null when both hold.
    /// </summary>
    /// <param name="advertisedPrefixes">The Prefix Information prefixes of the PvD's RA.</param>
    /// <param name="now">The decision time.</param>
    /// <returns>The first check that fails, or null.</returns>
    public PvdInformationError? CheckAgainst(IReadOnlyList<IPNetwork> advertisedPrefixes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(advertisedPrefixes);
        if (!IsValidAt(now))
        {
            return new PvdInformationError(PvdInformationProblem.Expired, "$.expires",
                $"$.expires: expected a time after now ({now:O}); found {Expires:O}: the information has expired");
        }

        foreach (var advertised in advertisedPrefixes)
        {
            if (!Prefixes.Any(p => p.PrefixLength <= advertised.PrefixLength && p.Contains(advertised.BaseAddress)))
            {
                return new PvdInformationError(PvdInformationProblem.PrefixNotCovered, "$.prefixes",
                    $"$.prefixes: expected a prefix covering {advertised}, which the RA advertised; found {(Prefixes.Count == 0 ? "none" : string.Join(", ", Prefixes))}");
            }
        }

        return null;
    }

    /// <summary>The octet offset where nesting passes <paramref name="max"/>, or null (also for text that is not JSON: the parse says so).</summary>
    private static long? DepthBeyond(ReadOnlySpan<byte> utf8Json, int max)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = max + 2 });
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth > max)
                {
                    return reader.TokenStartIndex;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: reported by the parse that follows, with its own message.
        }

        return null;
    }

    /// <summary>Validates an already parsed element; <paramref name="path"/> prefixes every error.</summary>
    internal static PvdAdditionalInformation FromJson(JsonElement e, string path, string? expectedIdentifier)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, "a JSON object (RFC 8801 §4.3)", e, PvdInformationProblem.NotAnObject);
        }

        string? identifier = null, name = null;
        DateTimeOffset? expires = null;
        List<IPNetwork>? prefixes = null;
        bool noInternet = false, metered = false;
        Uri? checkUrl = null;
        List<string> zones = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            var at = path + "." + p.Name;
            if (!seen.Add(p.Name))
            {
                throw new PvdInformationException(PvdInformationProblem.DuplicateKey, at, $"{at}: expected each key once; \"{p.Name}\" appears twice");
            }

            switch (p.Name)
            {
                case "identifier":
                    identifier = Fqdn(p.Value, at);
                    break;
                case "name":
                    name = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw Error(at, "a string", p.Value);
                    break;
                case "expires":
                    if (p.Value.ValueKind != JsonValueKind.String ||
                        !DateTimeOffset.TryParseExact(p.Value.GetString(), ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"],
                            CultureInfo.InvariantCulture, DateTimeStyles.None, out var exp) ||
                        !HasOffset(p.Value.GetString()!))
                    {
                        throw Error(at, "an RFC 3339 date-time with a time zone, e.g. \"2026-05-23T06:00:00Z\"", p.Value);
                    }

                    expires = exp;
                    break;
                case "prefixes":
                    if (p.Value.ValueKind != JsonValueKind.Array)
                    {
                        throw Error(at, "an array of IPv6 prefixes", p.Value);
                    }

                    prefixes = [];
                    var i = 0;
                    foreach (var item in p.Value.EnumerateArray())
                    {
                        var itemPath = $"{at}[{i++}]";
                        if (item.ValueKind != JsonValueKind.String || !DomainNames.TryParseCanonicalPrefix(item.GetString(), out var net) ||
                            net.BaseAddress.AddressFamily != AddressFamily.InterNetworkV6)
                        {
                            throw Error(itemPath, "an IPv6 prefix such as \"2001:db8:1::/48\" with no bits set after the prefix length", item);
                        }

                        prefixes.Add(net);
                    }

                    break;
                case "noInternet":
                    noInternet = Bool(p.Value, at);
                    break;
                case "metered":
                    metered = Bool(p.Value, at);
                    break;
                case "dnsZones":
                    if (p.Value.ValueKind != JsonValueKind.Array)
                    {
                        throw Error(at, "an array of DNS zone names", p.Value);
                    }

                    var j = 0;
                    foreach (var item in p.Value.EnumerateArray())
                    {
                        zones.Add(Fqdn(item, $"{at}[{j++}]"));
                    }

                    break;
                case "connectivityCheckUrl":
                    if (p.Value.ValueKind != JsonValueKind.String || !Uri.TryCreate(p.Value.GetString(), UriKind.Absolute, out checkUrl)
                        || checkUrl.Scheme != Uri.UriSchemeHttp)
                    {
                        throw Error(at, "an absolute http:// URL (the check is plain HTTP)", p.Value);
                    }

                    break;
                default:
                    // RFC 8801 §4.3 allows keys beyond the ones defined there; they carry nothing HE-MIF uses.
                    break;
            }
        }

        if (identifier is null)
        {
            throw new PvdInformationException(PvdInformationProblem.MissingKey, path + ".identifier", $"{path}.identifier: expected the PvD ID (an FQDN), required by RFC 8801 §4.3; the key is missing");
        }

        if (expires is null)
        {
            throw new PvdInformationException(PvdInformationProblem.MissingKey, path + ".expires", $"{path}.expires: expected an RFC 3339 date-time, required by RFC 8801 §4.3; the key is missing");
        }

        if (prefixes is null)
        {
            throw new PvdInformationException(PvdInformationProblem.MissingKey, path + ".prefixes", $"{path}.prefixes: expected an array of IPv6 prefixes, required by RFC 8801 §4.3; the key is missing");
        }

        if (expectedIdentifier is not null && !string.Equals(identifier.TrimEnd('.'), expectedIdentifier.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
        {
            throw new PvdInformationException(PvdInformationProblem.IdentifierMismatch, path + ".identifier", $"{path}.identifier: expected \"{expectedIdentifier}\" (the interface's PvD ID); found \"{identifier}\"");
        }

        return new PvdAdditionalInformation(identifier, expires.Value, prefixes)
        {
            Name = name,
            NoInternet = noInternet,
            Metered = metered,
            DnsZones = zones,
            ConnectivityCheckUrl = checkUrl,
        };
    }

    private static bool HasOffset(string s) => s.EndsWith('Z') || s.EndsWith('z') || (s.Length > 6 && (s[^6] == '+' || s[^6] == '-'));

    private static bool Bool(JsonElement v, string at) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error(at, "true or false", v),
    };

    private static string Fqdn(JsonElement v, string at)
    {
        var s = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (s is null || !DomainNames.IsValid(s))
        {
            throw Error(at, "a fully qualified domain name such as \"pvd.example.com\"", v);
        }

        return s;
    }

    private static PvdInformationException Error(string path, string expected, JsonElement found, PvdInformationProblem problem = PvdInformationProblem.WrongValue) =>
        new(problem, path, $"{path}: expected {expected}; found {Describe(found)}");

    internal static string Describe(JsonElement found) => found.ValueKind switch
    {
        JsonValueKind.String => "\"" + found.GetString() + "\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => found.GetRawText(),
    };
}

/// <summary>Domain-name helpers shared by PvD matching (§4.2.1), RFC 6731 selection (§4.2.2) and rule matching.</summary>
internal static class DomainNames
{
    /// <summary>Letters, digits, hyphens and underscores in labels of 1–63 characters, 253 in all; a trailing dot is allowed.</summary>
    public static bool IsValid(string name)
    {
        var s = name.AsSpan().TrimEnd('.');
        if (s.Length is 0 or > 253)
        {
            return false;
        }

        var label = 0;
        foreach (var c in s)
        {
            if (c == '.')
            {
                if (label == 0)
                {
                    return false;
                }

                label = 0;
                continue;
            }

            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_') || ++label > 63)
            {
                return false;
            }
        }

        return label > 0;
    }

    /// <summary>
    /// Parses "address/length" and insists the address has no bits set after the length: "2001:db8::1/48" is a typo
    /// for an address, not a prefix, and silently masking it would hide the mistake.
    /// </summary>
    public static bool TryParseCanonicalPrefix(string? text, out IPNetwork network)
    {
        network = default;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) ||
            !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (length > max || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            return false;
        }

        var bits = HeMif.Sort.Rfc6724.ToUInt128(address);
        var hostBits = max - length;
        var mask = hostBits == 0 ? UInt128.Zero : (UInt128.One << hostBits) - UInt128.One;
        if ((bits & mask) != UInt128.Zero)
        {
            return false;
        }

        network = new IPNetwork(address, length);
        return true;
    }

    /// <summary>
    /// <paramref name="host"/> equals <paramref name="zone"/> or lies below it (label-aligned, case-insensitive,
    /// trailing dots ignored). Allocation-free: the planner calls it for every rule and interface.
    /// </summary>
    public static bool IsInZone(string host, string zone)
    {
        var h = host.AsSpan().TrimEnd('.');
        var z = zone.AsSpan().TrimEnd('.').TrimStart('.');
        if (z.Length == 0 || h.Length < z.Length || !h.EndsWith(z, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return h.Length == z.Length || h[h.Length - z.Length - 1] == '.';
    }
}

/// <summary>Why PvD Additional Information was refused (RFC 8801 §4).</summary>
public enum PvdInformationProblem
{
    /// <summary>The document is not JSON.</summary>
    NotJson,

    /// <summary>The document is larger than <see cref="PvdAdditionalInformation.MaxDocumentBytes"/>.</summary>
    TooLarge,

    /// <summary>The document nests deeper than <see cref="PvdAdditionalInformation.MaxDepth"/>.</summary>
    TooDeep,

    /// <summary>The document is JSON but not an object.</summary>
    NotAnObject,

    /// <summary>A required key (identifier, expires, prefixes) is missing.</summary>
    MissingKey,

    /// <summary>A key appears twice.</summary>
    DuplicateKey,

    /// <summary>A key's value has the wrong type or form.</summary>
    WrongValue,

    /// <summary>"identifier" is not the PvD ID the router advertised.</summary>
    IdentifierMismatch,

    /// <summary>"expires" has passed.</summary>
    Expired,

    /// <summary>A prefix the RA advertised is not covered by the document's "prefixes" (RFC 8801 §4.3).</summary>
    PrefixNotCovered,

    /// <summary>The fetch failed: the name did not resolve through the PvD's servers, no connection, an HTTP status other than 200.</summary>
    FetchFailed,

    /// <summary>The fetch did not finish in its bounded time.</summary>
    FetchTimedOut,

    /// <summary>The server's certificate was not accepted for the PvD ID (RFC 8801 §4.1: the document is fetched over HTTPS).</summary>
    CertificateRejected,
}

/// <summary>Why PvD Additional Information was refused: the problem, the JSON path, and a sentence naming both.</summary>
/// <param name="Problem">What was wrong.</param>
/// <param name="Path">Where: a JSON path such as <c>$.prefixes[1]</c>.</param>
/// <param name="Message">The path, what was expected and what was found.</param>
public sealed record PvdInformationError(PvdInformationProblem Problem, string Path, string Message);

/// <summary>Carries a <see cref="PvdInformationError"/> out of the recursive reader; <see cref="FormatException"/> for <see cref="PvdAdditionalInformation.Parse"/>'s callers.</summary>
internal sealed class PvdInformationException(PvdInformationProblem problem, string path, string message) : FormatException(message)
{
    public PvdInformationError Error { get; } = new(problem, path, message);
}
