using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;
using Microsoft.Extensions.Configuration;

namespace HeMif.Configuration;

/// <summary>
/// Loads the policy (<c>docs/policy.md</c> describes the format) from a JSON file or binds it from the <c>HeMif</c>
/// configuration section, and loads interface facts from a JSON file. Strict: unknown keys, unknown kinds or levels,
/// bad prefixes, negative sizes, duplicate rule names and invalid JSON are errors naming the origin, the path and
/// the expectation. All or nothing: either the whole input is valid and a new value is returned, or nothing is.
/// </summary>
public static class HeMifConfiguration
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "HeMif";

    /// <summary>
    /// The largest input file HeMif reads (policy, interfaces, host override and scenario files): 4 MiB, hundreds of
    /// times the largest real one. A larger file is refused before it is read.
    /// </summary>
    public const int MaxFileBytes = 4 * 1024 * 1024;

    private static readonly JsonDocumentOptions Strict = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 32 };

    /// <summary>Reads and validates a policy file; errors name the file by <paramref name="path"/> as given.</summary>
    /// <exception cref="HeMifConfigurationException">The file is missing, unreadable or invalid (see <see cref="ReadFile"/>).</exception>
    public static HeMifPolicy LoadPolicyFile(string path) => ParsePolicy(ReadFile(path), path);

    /// <summary>Validates policy JSON; <paramref name="origin"/> names it in errors (usually the file name).</summary>
    /// <exception cref="HeMifConfigurationException">The JSON is invalid.</exception>
    public static HeMifPolicy ParsePolicy(string json, string origin)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = Parse(json, origin);
        return ReadPolicy(new StrictJsonReader(origin, configurationMode: false, "$"), doc.RootElement, "$");
    }

    /// <summary>
    /// Binds the policy from <paramref name="configuration"/>'s <c>HeMif</c> section (or <paramref name="configuration"/>
    /// itself when it is that section). A missing section gives <see cref="HeMifPolicy.Empty"/>.
    /// </summary>
    /// <exception cref="HeMifConfigurationException">A key is unknown or a value invalid; the path is the configuration key.</exception>
    public static HeMifPolicy BindPolicy(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration is IConfigurationSection s && string.Equals(s.Key, SectionName, StringComparison.OrdinalIgnoreCase)
            ? s
            : configuration.GetSection(SectionName);
        if (!section.GetChildren().Any())
        {
            return HeMifPolicy.Empty;
        }

        // IConfiguration is a tree of strings; write it as JSON (numbered children become arrays) and read it with
        // the same strict reader, so both sources accept exactly the same documents.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSection(section, writer);
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        var origin = $"configuration section '{section.Path}'";
        return ReadPolicy(new StrictJsonReader(origin, configurationMode: true, section.Path), doc.RootElement, section.Path);
    }

    /// <summary>Reads and validates an interfaces file; errors name the file by <paramref name="path"/> as given.</summary>
    /// <exception cref="HeMifConfigurationException">The file is missing, unreadable or invalid (see <see cref="ReadFile"/>).</exception>
    public static InterfaceSnapshot LoadInterfacesFile(string path) => ParseInterfaces(ReadFile(path), path);

    /// <summary>Validates interfaces JSON; <paramref name="origin"/> names it in errors.</summary>
    /// <exception cref="HeMifConfigurationException">The JSON is invalid.</exception>
    public static InterfaceSnapshot ParseInterfaces(string json, string origin)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = Parse(json, origin);
        var r = new StrictJsonReader(origin, configurationMode: false, "$");
        var root = r.Object(doc.RootElement, "$", "interfaces", "history");
        if (!root.TryGetValue("interfaces", out var list))
        {
            throw r.Error("$.interfaces", "an array of interfaces", "nothing (the key is missing)");
        }

        var interfaces = ReadInterfaces(r, list.Value, list.Path);
        if (interfaces.Count == 0)
        {
            throw r.Error(list.Path, "at least one interface", "an empty array");
        }

        var names = interfaces.ToDictionary(i => i.Name, i => i.Name, StringComparer.Ordinal);
        var history = new Dictionary<string, IReadOnlyList<PathHistory>>(StringComparer.OrdinalIgnoreCase);
        if (root.TryGetValue("history", out var h))
        {
            if (h.Value.ValueKind != JsonValueKind.Object)
            {
                throw r.Error(h.Path, "an object mapping destination hosts to arrays of outcomes", h.Value);
            }

            foreach (var host in h.Value.EnumerateObject())
            {
                var hostPath = r.Property(h.Path, host.Name);
                var entries = new List<PathHistory>();
                foreach (var (e, at) in r.Array(host.Value, hostPath, "outcomes"))
                {
                    var o = r.Object(e, at, "interface", "recentFailures", "smoothedRttMs");
                    var name = o.TryGetValue("interface", out var n) ? r.String(n.Value, n.Path, "an interface name") : throw r.Error(r.Property(at, "interface"), "an interface name", "nothing (the key is missing)");
                    if (!names.ContainsKey(name))
                    {
                        throw r.Error(r.Property(at, "interface"), "the name of an interface in $.interfaces", "\"" + name + "\"");
                    }

                    var failures = o.TryGetValue("recentFailures", out var fl) ? (int)r.Integer(fl.Value, fl.Path, 0, 1_000_000, "a count of failures (0 or more)") : 0;
                    TimeSpan? rtt = o.TryGetValue("smoothedRttMs", out var rt) ? RoundTripTime(r, rt.Value, rt.Path) : null;
                    entries.Add(new PathHistory(name, failures, rtt));
                }

                if (!history.TryAdd(host.Name, entries))
                {
                    throw r.Error(hostPath, "each destination once", "\"" + host.Name + "\" a second time");
                }
            }
        }

        return new InterfaceSnapshot(interfaces, history);
    }

    /// <summary>
    /// A history entry's smoothed round-trip time, at most one day: a larger number is no round-trip time, and past
    /// about 29,000 years it is not a <see cref="TimeSpan"/> either (found by fuzzing: <c>1e21</c> escaped as an
    /// <see cref="OverflowException"/> instead of an error naming the key).
    /// </summary>
    private static TimeSpan RoundTripTime(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "a round-trip time in milliseconds from 0 to 86400000 (one day)";
        var v = r.Number(e, path, 0, Expected);
        return v <= TimeSpan.FromDays(1).TotalMilliseconds ? TimeSpan.FromMilliseconds(v) : throw r.Error(path, Expected, e);
    }

    /// <summary>Reads an array of interfaces (the interfaces file's <c>interfaces</c>, a scenario's too); names are unique.</summary>
    internal static List<InterfaceFacts> ReadInterfaces(StrictJsonReader r, JsonElement list, string path)
    {
        var interfaces = new List<InterfaceFacts>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (item, at) in r.Array(list, path, "interfaces"))
        {
            var f = ReadInterface(r, item, at);
            if (!names.TryAdd(f.Name, at))
            {
                throw r.Error(r.Property(at, "name"), $"a name no other interface has (\"{f.Name}\" is already {names[f.Name]})", "\"" + f.Name + "\"");
            }

            interfaces.Add(f);
        }

        return interfaces;
    }

    /// <summary>
    /// Reads an input file the way every loader does (policy, interfaces, host override and scenario files): only a
    /// regular file (a directory, a FIFO, a device or a socket is refused before it is opened, so nothing blocks), of at
    /// most <see cref="MaxFileBytes"/>, in UTF-8 (a byte order mark is skipped).
    /// </summary>
    /// <param name="path">The path; errors name the file by it, as given.</param>
    /// <returns>The file's text.</returns>
    /// <exception cref="HeMifConfigurationException">The file is missing, not a regular file, too large, unreadable or not UTF-8; the message names the path and what was wrong.</exception>
    public static string ReadFile(string path) => InputFile.Read(path);

    internal static JsonDocument Parse(string json, string origin)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new HeMifConfigurationException(origin, "$", "a JSON object", json.Length == 0 ? "nothing (the input is empty)" : "only white space (the input is empty)");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, Strict);
        }
        catch (JsonException e)
        {
            throw new HeMifConfigurationException(origin, Where(json, e), "valid JSON", Reason(e), e);
        }

        try
        {
            CheckText(new StrictJsonReader(origin, configurationMode: false, "$"), doc.RootElement, "$");
            return doc;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every key and string of the document is text: the parser accepts an escaped surrogate without its pair
    /// (<c>"\ud800"</c>), but reading it as a string then throws <see cref="InvalidOperationException"/> wherever the
    /// readers happen to look (found by fuzzing: every file format escaped that way). RFC 8259 §8.2 leaves such strings'
    /// behaviour unpredictable; HeMif refuses them once, here, naming the place.
    /// </summary>
    private static void CheckText(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "text without an unpaired surrogate escape (\\ud800 to \\udfff alone; RFC 8259 §8.2)";
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var i = 0;
                foreach (var p in e.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw r.Error(path, Expected, string.Create(CultureInfo.InvariantCulture, $"key {i + 1} of the object with one"));
                    }

                    CheckText(r, p.Value, r.Property(path, name));
                    i++;
                }

                break;
            case JsonValueKind.Array:
                var n = 0;
                foreach (var item in e.EnumerateArray())
                {
                    CheckText(r, item, r.Index(path, n++));
                }

                break;
            case JsonValueKind.String:
                try
                {
                    _ = e.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw r.Error(path, Expected, "a string with one");
                }

                break;
        }
    }

    /// <summary>The error's place as a person counts it: line and column from 1, the column in characters (the parser counts bytes from 0).</summary>
    private static string Where(string json, JsonException e)
    {
        var line = (int)Math.Max(0, e.LineNumber ?? 0);
        var bytes = (int)Math.Max(0, e.BytePositionInLine ?? 0);
        var column = bytes + 1;
        var lines = json.Split('\n');
        if (line < lines.Length)
        {
            var text = System.Text.Encoding.UTF8.GetBytes(lines[line]);
            column = System.Text.Encoding.UTF8.GetCharCount(text, 0, Math.Min(bytes, text.Length)) + 1;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(e.Path is { Length: > 0 } p ? p : "$")} (line {line + 1}, column {column})");
    }

    /// <summary>The parser's reason without its own place (said once, by <see cref="Where"/>), in plain words where it has none.</summary>
    private static string Reason(JsonException e)
    {
        var message = e.Message;
        foreach (var cut in new[] { " Path: ", " LineNumber: ", " | LineNumber: " })
        {
            var at = message.IndexOf(cut, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
        }

        return message.Contains("maximum configured depth", StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"objects or arrays nested deeper than {Strict.MaxDepth} levels")
            : message.TrimEnd();
    }

    private static void WriteSection(IConfigurationSection section, Utf8JsonWriter w)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            w.WriteStringValue(section.Value);
            return;
        }

        var isArray = true;
        for (var i = 0; i < children.Count; i++)
        {
            isArray &= children[i].Key == i.ToString(CultureInfo.InvariantCulture);
        }

        if (isArray)
        {
            w.WriteStartArray();
            foreach (var c in children)
            {
                WriteSection(c, w);
            }

            w.WriteEndArray();
            return;
        }

        w.WriteStartObject();
        foreach (var c in children)
        {
            w.WritePropertyName(c.Key);
            WriteSection(c, w);
        }

        w.WriteEndObject();
    }

    internal static HeMifPolicy ReadPolicy(StrictJsonReader r, JsonElement rootElement, string rootPath)
    {
        var root = r.Object(rootElement, rootPath, "kindOrder", "operatorRules", "userRules", "interfaceOverrides", "addressSelectionTable", "fallbackDelays");
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var policy = new HeMifPolicy
        {
            OperatorRules = root.TryGetValue("operatorRules", out var op) ? ReadRules(r, op.Value, op.Path, names) : [],
            UserRules = root.TryGetValue("userRules", out var us) ? ReadRules(r, us.Value, us.Path, names) : [],
        };

        if (root.TryGetValue("kindOrder", out var ko))
        {
            var kinds = new List<InterfaceKind>();
            foreach (var (item, at) in r.Array(ko.Value, ko.Path, "interface kinds"))
            {
                var k = r.Enum<InterfaceKind>(item, at);
                if (kinds.Contains(k))
                {
                    throw r.Error(at, "each kind at most once", "\"" + k + "\" a second time");
                }

                kinds.Add(k);
            }

            policy = policy with { KindOrder = kinds };
        }

        if (root.TryGetValue("interfaceOverrides", out var ov))
        {
            var overrides = new List<InterfaceOverride>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (item, at) in r.Array(ov.Value, ov.Path, "interface overrides"))
            {
                var o = r.Object(item, at, "name", "kind", "metered", "roaming", "constrained");
                var name = o.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "an interface name") : throw r.Error(r.Property(at, "name"), "an interface name", "nothing (the key is missing)");
                if (!seen.Add(name))
                {
                    throw r.Error(r.Property(at, "name"), "one override per interface", "\"" + name + "\" a second time");
                }

                overrides.Add(new InterfaceOverride(name)
                {
                    Kind = o.TryGetValue("kind", out var k) ? r.Enum<InterfaceKind>(k.Value, k.Path) : null,
                    Metered = o.TryGetValue("metered", out var m) ? r.Bool(m.Value, m.Path) : null,
                    Roaming = o.TryGetValue("roaming", out var ro) ? r.Bool(ro.Value, ro.Path) : null,
                    Constrained = o.TryGetValue("constrained", out var c) ? r.Bool(c.Value, c.Path) : null,
                });
            }

            policy = policy with { InterfaceOverrides = overrides };
        }

        if (root.TryGetValue("addressSelectionTable", out var t))
        {
            var rows = new List<PolicyTableEntry>();
            foreach (var (item, at) in r.Array(t.Value, t.Path, "RFC 6724 policy table rows"))
            {
                var o = r.Object(item, at, "prefix", "precedence", "label");
                rows.Add(new PolicyTableEntry(
                    o.TryGetValue("prefix", out var p) ? r.Prefix(p.Value, p.Path, AddressFamily.InterNetworkV6) : throw r.Error(r.Property(at, "prefix"), "an IPv6 prefix", "nothing (the key is missing)"),
                    o.TryGetValue("precedence", out var pr) ? (int)r.Integer(pr.Value, pr.Path, 0, 1000, "a precedence from 0 to 1000") : throw r.Error(r.Property(at, "precedence"), "a precedence from 0 to 1000", "nothing (the key is missing)"),
                    o.TryGetValue("label", out var l) ? (int)r.Integer(l.Value, l.Path, 0, 1000, "a label from 0 to 1000") : throw r.Error(r.Property(at, "label"), "a label from 0 to 1000", "nothing (the key is missing)")));
            }

            if (!rows.Any(x => x.Prefix.PrefixLength == 0))
            {
                throw r.Error(t.Path, "a table with a ::/0 row (RFC 6724 §2.1: every address must match some row)", "no ::/0 row");
            }

            policy = policy with { AddressSelectionTable = new AddressSelectionPolicyTable(rows) };
        }

        if (root.TryGetValue("fallbackDelays", out var fd))
        {
            policy = policy with { FallbackDelays = ReadFallbackDelayRules(r, fd.Value, fd.Path, names) };
        }

        return policy;
    }

    /// <summary>
    /// The fallback delay rules (draft §7.2): each names its source (User or Operator), the requests and preferred
    /// interfaces it applies to, and a delay or an adaptive range in milliseconds (0 to 600000).
    /// </summary>
    private static List<FallbackDelayRule> ReadFallbackDelayRules(StrictJsonReader r, JsonElement e, string path, Dictionary<string, string> names)
    {
        const string Ms = "a delay in milliseconds from 0 to 600000 (10 minutes)";
        var rules = new List<FallbackDelayRule>();
        foreach (var (item, at) in r.Array(e, path, "fallback delay rules"))
        {
            var o = r.Object(item, at, "name", "source", "description", "interface", "request", "validity", "delayMs", "minMs", "maxMs");
            var namePath = r.Property(at, "name");
            var name = o.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "a rule name") : throw r.Error(namePath, "a rule name", "nothing (the key is missing)");
            if (!names.TryAdd(name, namePath))
            {
                throw r.Error(namePath, $"a rule name not used before (\"{name}\" is already {names[name]})", "\"" + name + "\"");
            }

            var sourcePath = r.Property(at, "source");
            var source = o.TryGetValue("source", out var so) ? r.Enum<RuleSource>(so.Value, so.Path) : throw r.Error(sourcePath, "User or Operator", "nothing (the key is missing)");
            if (source is not (RuleSource.User or RuleSource.Operator))
            {
                throw r.Error(sourcePath, "User or Operator", so.Value);
            }

            var settings = new FallbackDelaySettings
            {
                Delay = o.TryGetValue("delayMs", out var d) ? TimeSpan.FromMilliseconds(r.Integer(d.Value, d.Path, 0, 600_000, Ms)) : null,
                Min = o.TryGetValue("minMs", out var mn) ? TimeSpan.FromMilliseconds(r.Integer(mn.Value, mn.Path, 0, 600_000, Ms)) : null,
                Max = o.TryGetValue("maxMs", out var mx) ? TimeSpan.FromMilliseconds(r.Integer(mx.Value, mx.Path, 0, 600_000, Ms)) : null,
            };
            if (settings.IsEmpty)
            {
                throw r.Error(at, "at least one of delayMs, minMs, maxMs", "none of them");
            }

            if (settings.Min > settings.Max)
            {
                throw r.Error(r.Property(at, "maxMs"), $"a delay not below minMs ({settings.Min!.Value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)})", mx.Value);
            }

            rules.Add(new FallbackDelayRule(name, source)
            {
                Description = o.TryGetValue("description", out var ds) ? r.String(ds.Value, ds.Path) : null,
                Interface = o.TryGetValue("interface", out var i) ? ReadInterfaceMatch(r, i.Value, i.Path) : new InterfaceMatch(),
                Request = o.TryGetValue("request", out var q) ? ReadRequestMatch(r, q.Value, q.Path) : new RequestMatch(),
                Validity = o.TryGetValue("validity", out var v) ? ReadValidity(r, v.Value, v.Path) : new ValidityConditions(),
                Settings = settings,
            });
        }

        return rules;
    }

    private static List<PolicyRule> ReadRules(StrictJsonReader r, JsonElement e, string path, Dictionary<string, string> names)
    {
        var rules = new List<PolicyRule>();
        foreach (var (item, at) in r.Array(e, path, "rules"))
        {
            var o = r.Object(item, at, "name", "level", "description", "interface", "request", "validity");
            var namePath = r.Property(at, "name");
            var name = o.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "a rule name") : throw r.Error(namePath, "a rule name", "nothing (the key is missing)");
            if (!names.TryAdd(name, namePath))
            {
                throw r.Error(namePath, $"a rule name not used before (\"{name}\" is already {names[name]})", "\"" + name + "\"");
            }

            var levelPath = r.Property(at, "level");
            var level = o.TryGetValue("level", out var l) ? r.Enum<PreferenceLevel>(l.Value, l.Path) : throw r.Error(levelPath, "one of Require, Prefer, Avoid, Prohibit", "nothing (the key is missing)");
            rules.Add(new PolicyRule(name, level)
            {
                Description = o.TryGetValue("description", out var d) ? r.String(d.Value, d.Path) : null,
                Interface = o.TryGetValue("interface", out var i) ? ReadInterfaceMatch(r, i.Value, i.Path) : new InterfaceMatch(),
                Request = o.TryGetValue("request", out var q) ? ReadRequestMatch(r, q.Value, q.Path) : new RequestMatch(),
                Validity = o.TryGetValue("validity", out var v) ? ReadValidity(r, v.Value, v.Path) : new ValidityConditions(),
            });
        }

        return rules;
    }

    private static InterfaceMatch ReadInterfaceMatch(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "kinds", "names", "pvdIds", "metered", "roaming", "constrained", "addressFamily");
        return new InterfaceMatch
        {
            Kinds = o.TryGetValue("kinds", out var k) ? r.Enums<InterfaceKind>(k.Value, k.Path) : null,
            Names = o.TryGetValue("names", out var n) ? r.Strings(n.Value, n.Path, "interface names") : null,
            PvdIds = o.TryGetValue("pvdIds", out var p) ? r.Strings(p.Value, p.Path, "PvD IDs (FQDNs)", DomainNames.IsValid) : null,
            Metered = o.TryGetValue("metered", out var m) ? r.Bool(m.Value, m.Path) : null,
            Roaming = o.TryGetValue("roaming", out var ro) ? r.Bool(ro.Value, ro.Path) : null,
            Constrained = o.TryGetValue("constrained", out var c) ? r.Bool(c.Value, c.Path) : null,
            AddressFamily = o.TryGetValue("addressFamily", out var a) ? r.Enum<IpVersion>(a.Value, a.Path) : null,
        };
    }

    private static TransportName ReadTransportName(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "a transport name such as \"tcp\" or \"quic\" (letters, digits, '-', '_', '.'; a letter first)";
        return TransportName.TryParse(r.String(e, path, Expected), out var name) ? name : throw r.Error(path, Expected, e);
    }

    private static RequestMatch ReadRequestMatch(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "hosts", "domainSuffixes", "ports", "transport", "minExpectedBytes", "maxExpectedBytes", "trafficClasses");
        const string Size = "a size in bytes (0 or more)";
        var m = new RequestMatch
        {
            Hosts = o.TryGetValue("hosts", out var h) ? r.Strings(h.Value, h.Path, "host names", DomainNames.IsValid) : null,
            DomainSuffixes = o.TryGetValue("domainSuffixes", out var d) ? r.Strings(d.Value, d.Path, "domain suffixes such as \"example.com\"", s => DomainNames.IsValid(s.TrimStart('.'))) : null,
            Ports = o.TryGetValue("ports", out var p) ? r.Array(p.Value, p.Path, "ports").Select(x => (int)r.Integer(x.Value, x.Path, 1, 65535, "a port from 1 to 65535")).ToList() : null,
            Transport = o.TryGetValue("transport", out var t) ? ReadTransportName(r, t.Value, t.Path) : null,
            MinExpectedBytes = o.TryGetValue("minExpectedBytes", out var mn) ? r.Integer(mn.Value, mn.Path, 0, long.MaxValue, Size) : null,
            MaxExpectedBytes = o.TryGetValue("maxExpectedBytes", out var mx) ? r.Integer(mx.Value, mx.Path, 0, long.MaxValue, Size) : null,
            TrafficClasses = o.TryGetValue("trafficClasses", out var c) ? r.Strings(c.Value, c.Path, "traffic class names") : null,
        };
        if (m.MinExpectedBytes > m.MaxExpectedBytes)
        {
            throw r.Error(r.Property(path, "maxExpectedBytes"), $"a size not below minExpectedBytes ({m.MinExpectedBytes})", m.MaxExpectedBytes!.Value.ToString(CultureInfo.InvariantCulture));
        }

        return m;
    }

    private static ValidityConditions ReadValidity(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "timeOfDay", "roaming", "wifiNetworks", "pvdIds");
        List<TimeWindow>? windows = null;
        if (o.TryGetValue("timeOfDay", out var t))
        {
            windows = [];
            foreach (var (item, at) in r.Array(t.Value, t.Path, "time windows"))
            {
                var w = r.Object(item, at, "start", "end");
                var start = w.TryGetValue("start", out var s) ? Time(r, s.Value, s.Path) : throw r.Error(r.Property(at, "start"), "a time of day \"HH:mm\"", "nothing (the key is missing)");
                var end = w.TryGetValue("end", out var en) ? Time(r, en.Value, en.Path) : throw r.Error(r.Property(at, "end"), "a time of day \"HH:mm\"", "nothing (the key is missing)");
                if (start == end)
                {
                    throw r.Error(r.Property(at, "end"), "an end different from the start (an empty window never applies; omit timeOfDay for always)", "\"" + en.Value.GetString() + "\"");
                }

                windows.Add(new TimeWindow(start, end));
            }
        }

        return new ValidityConditions
        {
            TimeOfDay = windows,
            Roaming = o.TryGetValue("roaming", out var ro) ? r.Bool(ro.Value, ro.Path) : null,
            WifiNetworks = o.TryGetValue("wifiNetworks", out var wn) ? r.Strings(wn.Value, wn.Path, "Wi-Fi network names (SSIDs)") : null,
            PvdIds = o.TryGetValue("pvdIds", out var p) ? r.Strings(p.Value, p.Path, "PvD IDs (FQDNs)", DomainNames.IsValid) : null,
        };
    }

    private static TimeOnly Time(StrictJsonReader r, JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.String &&
            TimeOnly.TryParseExact(e.GetString(), ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
        {
            return t;
        }

        throw r.Error(path, "a time of day \"HH:mm\" (24-hour)", e);
    }

    private static InterfaceFacts ReadInterface(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "name", "kind", "up", "addresses", "dnsServers", "dnsSelection", "routes", "pvdId", "pvdInfo",
            "wifiNetwork", "metered", "roaming", "constrained", "ipv4", "ipv6");
        var name = o.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "an interface name") : throw r.Error(r.Property(path, "name"), "an interface name", "nothing (the key is missing)");
        var kind = o.TryGetValue("kind", out var k) ? r.Enum<InterfaceKind>(k.Value, k.Path) : throw r.Error(r.Property(path, "kind"), "one of " + string.Join(", ", Enum.GetNames<InterfaceKind>()), "nothing (the key is missing)");
        var pvdId = o.TryGetValue("pvdId", out var pv) ? r.String(pv.Value, pv.Path, "a PvD ID (an FQDN)") : null;
        if (pvdId is not null && !DomainNames.IsValid(pvdId))
        {
            throw r.Error(pv.Path, "a PvD ID (an FQDN)", pv.Value);
        }

        PvdAdditionalInformation? info = null;
        if (o.TryGetValue("pvdInfo", out var pi))
        {
            try
            {
                info = PvdAdditionalInformation.FromJson(pi.Value, pi.Path, pvdId);
            }
            catch (FormatException fe)
            {
                // The RFC 8801 parser reports "path: expected X; found Y"; keep its path, add the origin.
                var text = fe.Message;
                var colon = text.IndexOf(": expected ", StringComparison.Ordinal);
                var semicolon = text.LastIndexOf("; found ", StringComparison.Ordinal);
                throw colon > 0 && semicolon > colon
                    ? new HeMifConfigurationException(r.Origin, text[..colon], text[(colon + 11)..semicolon], text[(semicolon + 8)..], fe)
                    : new HeMifConfigurationException(r.Origin, pi.Path, "RFC 8801 PvD additional information", text, fe);
            }
        }

        return new InterfaceFacts(name, kind)
        {
            IsUp = !o.TryGetValue("up", out var up) || r.Bool(up.Value, up.Path),
            Addresses = o.TryGetValue("addresses", out var a) ? r.Array(a.Value, a.Path, "addresses").Select(x => ReadAddress(r, x.Value, x.Path)).ToList() : [],
            DnsServers = o.TryGetValue("dnsServers", out var d) ? r.Array(d.Value, d.Path, "IP addresses").Select(x => r.Address(x.Value, x.Path)).ToList() : [],
            DnsSelection = o.TryGetValue("dnsSelection", out var ds) ? r.Array(ds.Value, ds.Path, "RFC 6731 DNS selection entries").Select(x => ReadDnsSelection(r, x.Value, x.Path)).ToList() : [],
            Routes = o.TryGetValue("routes", out var rt) ? r.Array(rt.Value, rt.Path, "routes").Select(x => ReadRoute(r, x.Value, x.Path)).ToList() : [],
            PvdId = pvdId,
            PvdInfo = info,
            WifiNetwork = o.TryGetValue("wifiNetwork", out var w) ? r.String(w.Value, w.Path, "a Wi-Fi network name (SSID)") : null,
            Metered = o.TryGetValue("metered", out var m) && r.Bool(m.Value, m.Path),
            Roaming = o.TryGetValue("roaming", out var ro) && r.Bool(ro.Value, ro.Path),
            Constrained = o.TryGetValue("constrained", out var c) && r.Bool(c.Value, c.Path),
            Ipv4 = o.TryGetValue("ipv4", out var v4) ? r.Bool(v4.Value, v4.Path) : null,
            Ipv6 = o.TryGetValue("ipv6", out var v6) ? r.Bool(v6.Value, v6.Path) : null,
        };
    }

    private static InterfaceAddress ReadAddress(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "address", "prefixLength", "scope", "deprecated", "temporary");
        var address = o.TryGetValue("address", out var a) ? r.Address(a.Value, a.Path) : throw r.Error(r.Property(path, "address"), "an IP address", "nothing (the key is missing)");
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var expected = $"a prefix length from 0 to {max} for {(max == 32 ? "an IPv4" : "an IPv6")} address";
        var length = o.TryGetValue("prefixLength", out var p) ? (int)r.Integer(p.Value, p.Path, 0, max, expected) : throw r.Error(r.Property(path, "prefixLength"), expected, "nothing (the key is missing)");
        return new InterfaceAddress(address, length)
        {
            Scope = o.TryGetValue("scope", out var s) ? r.Enum<AddressScope>(s.Value, s.Path) : null,
            Deprecated = o.TryGetValue("deprecated", out var d) && r.Bool(d.Value, d.Path),
            Temporary = o.TryGetValue("temporary", out var t) && r.Bool(t.Value, t.Path),
        };
    }

    private static RouteInformation ReadRoute(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "prefix", "preference", "lifetimeSeconds");
        var prefix = o.TryGetValue("prefix", out var p) ? r.Prefix(p.Value, p.Path) : throw r.Error(r.Property(path, "prefix"), "a prefix such as \"2001:db8::/32\"", "nothing (the key is missing)");
        return new RouteInformation(prefix,
            o.TryGetValue("preference", out var pr) ? r.Enum<RoutePreference>(pr.Value, pr.Path) : RoutePreference.Medium,
            o.TryGetValue("lifetimeSeconds", out var l)
                ? TimeSpan.FromSeconds(r.Integer(l.Value, l.Path, 0, uint.MaxValue, "a lifetime in seconds from 0 to 4294967295 (RFC 4191 §2.3: 0xffffffff is infinity)"))
                : TimeSpan.FromSeconds(uint.MaxValue));
    }

    private static DnsServerSelection ReadDnsSelection(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "server", "preference", "domains", "networks");
        var server = o.TryGetValue("server", out var s) ? r.Address(s.Value, s.Path) : throw r.Error(r.Property(path, "server"), "the DNS server's IP address", "nothing (the key is missing)");
        return new DnsServerSelection(server,
            o.TryGetValue("preference", out var p) ? r.Enum<RoutePreference>(p.Value, p.Path) : RoutePreference.Medium,
            o.TryGetValue("domains", out var d) ? r.Strings(d.Value, d.Path, "domain names", DomainNames.IsValid) : [])
        {
            Networks = o.TryGetValue("networks", out var n) ? r.Array(n.Value, n.Path, "prefixes").Select(x => r.Prefix(x.Value, x.Path)).ToList() : [],
        };
    }
}
