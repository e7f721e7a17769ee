using System.Globalization;
using System.Net;
using System.Text.Json;
using HeMif.Configuration;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Validate;

namespace HeMif.Simulation;

/// <summary>
/// Reads scenario JSON (<c>docs/scenarios.md</c>) with the configuration's <see cref="StrictJsonReader"/>: the
/// <c>interfaces</c> and <c>policy</c> keys through the very loaders of <c>docs/policy.md</c>, the rest here, with the
/// same errors (origin, JSON path, expectation). Everything is read into locals and the scenario is built last, so
/// an error leaves nothing half-loaded.
/// </summary>
internal static class ScenarioReader
{
    private const string Missing = "nothing (the key is missing)";
    private const double MaxMilliseconds = 86_400_000; // one day: far beyond any race, well inside TimeSpan

    public static Scenario Read(string json, string origin)
    {
        using var doc = HeMifConfiguration.Parse(json, origin);
        var r = new StrictJsonReader(origin, configurationMode: false, "$");
        var root = r.Object(doc.RootElement, "$",
            "name", "description", "interfaces", "policy", "network", "destinations", "requests", "changes", "settings", "quicSupported", "seed", "now");

        var name = root.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "a scenario name") : Path.GetFileNameWithoutExtension(origin);
        var description = root.TryGetValue("description", out var d) ? r.String(d.Value, d.Path, "a description") : "";

        if (!root.TryGetValue("interfaces", out var i))
        {
            throw r.Error("$.interfaces", "an array of interfaces (docs/policy.md, \"Interfaces file\")", Missing);
        }

        var interfaces = HeMifConfiguration.ReadInterfaces(r, i.Value, i.Path);
        if (interfaces.Count == 0)
        {
            throw r.Error(i.Path, "at least one interface", "an empty array");
        }

        var policy = root.TryGetValue("policy", out var p) ? HeMifConfiguration.ReadPolicy(r, p.Value, p.Path) : HeMifPolicy.Empty;
        for (var o = 0; o < policy.InterfaceOverrides.Count; o++)
        {
            // Like the host override file: a correction for an interface the scenario does not have is a mistake, not a no-op.
            var overridden = policy.InterfaceOverrides[o].Name;
            if (!interfaces.Any(x => x.Name == overridden))
            {
                throw r.Error(r.Property(r.Index(r.Property(p.Path, "interfaceOverrides"), o), "name"),
                    "the name of an interface in $.interfaces (" + string.Join(", ", interfaces.Select(x => x.Name)) + ")", StrictJsonReader.Quote(overridden));
            }
        }
        var network = root.TryGetValue("network", out var nw) ? ReadNetwork(r, nw.Value, nw.Path, interfaces) : [];
        var destinations = root.TryGetValue("destinations", out var ds) ? ReadDestinations(r, ds.Value, ds.Path) : [];

        if (!root.TryGetValue("requests", out var rq))
        {
            throw r.Error("$.requests", "an array of one or more requests", Missing);
        }

        var requests = r.Array(rq.Value, rq.Path, "requests").Select(x => ReadRequest(r, x.Value, x.Path)).ToList();
        if (requests.Count == 0)
        {
            throw r.Error(rq.Path, "an array of one or more requests", "an empty array");
        }

        var changes = root.TryGetValue("changes", out var ch) ? ReadChanges(r, ch.Value, ch.Path, interfaces) : [];
        var settings = root.TryGetValue("settings", out var st) ? ReadSettings(r, st.Value, st.Path) : ScenarioSettings.None;
        var quic = !root.TryGetValue("quicSupported", out var q) || r.Bool(q.Value, q.Path);
        var seed = root.TryGetValue("seed", out var sd) ? (int)r.Integer(sd.Value, sd.Path, int.MinValue, int.MaxValue, "an integer seed (32-bit)") : 0;
        var now = root.TryGetValue("now", out var nowElement) ? ReadInstant(r, nowElement.Value, nowElement.Path) : VirtualClock.DefaultStart;

        return new Scenario
        {
            Name = name,
            Description = description,
            Interfaces = interfaces,
            Policy = policy,
            Network = network,
            Destinations = destinations,
            Requests = requests,
            Changes = changes,
            Settings = settings,
            QuicSupported = quic,
            Seed = seed,
            Now = now,
        };
    }

    private static Dictionary<string, SimulatedPath> ReadNetwork(StrictJsonReader r, JsonElement e, string path, List<InterfaceFacts> interfaces)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw r.Error(path, "an object mapping interface names to path behaviours", e);
        }

        var result = new Dictionary<string, SimulatedPath>(StringComparer.Ordinal);
        var names = interfaces.Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in e.EnumerateObject())
        {
            var at = r.Property(path, entry.Name);
            if (!names.Contains(entry.Name))
            {
                throw r.Error(at, "the name of an interface in $.interfaces (" + string.Join(", ", interfaces.Select(x => x.Name)) + ")", "\"" + entry.Name + "\"");
            }

            if (!result.TryAdd(entry.Name, ReadPath(r, entry.Value, at)))
            {
                throw r.Error(at, "each interface once", "\"" + entry.Name + "\" a second time");
            }
        }

        return result;
    }

    private static SimulatedPath ReadPath(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "rttMs", "ipv6RttMs", "ipv4RttMs", "jitterMs", "loss", "maxTries", "ipv6", "ipv4", "quic", "udp",
            "captivePortal", "dnsInterception", "linkDown", "probe", "probeTimeoutMs", "dns", "dnsDelayMs", "aaaaDelayMs", "dnsTimeoutMs");
        var defaults = SimulatedPath.Default;
        return new SimulatedPath
        {
            Rtt = o.TryGetValue("rttMs", out var rtt) ? Milliseconds(r, rtt.Value, rtt.Path) : defaults.Rtt,
            Ipv6Rtt = o.TryGetValue("ipv6RttMs", out var rtt6) ? Milliseconds(r, rtt6.Value, rtt6.Path) : null,
            Ipv4Rtt = o.TryGetValue("ipv4RttMs", out var rtt4) ? Milliseconds(r, rtt4.Value, rtt4.Path) : null,
            Jitter = o.TryGetValue("jitterMs", out var j) ? Milliseconds(r, j.Value, j.Path) : defaults.Jitter,
            Loss = o.TryGetValue("loss", out var l) ? Probability(r, l.Value, l.Path) : defaults.Loss,
            MaxTries = o.TryGetValue("maxTries", out var mt) ? (int)r.Integer(mt.Value, mt.Path, 1, 16, "a number of tries from 1 to 16") : defaults.MaxTries,
            Ipv6 = o.TryGetValue("ipv6", out var v6) ? r.Enum<FamilyBehavior>(v6.Value, v6.Path) : defaults.Ipv6,
            Ipv4 = o.TryGetValue("ipv4", out var v4) ? r.Enum<FamilyBehavior>(v4.Value, v4.Path) : defaults.Ipv4,
            Quic = o.TryGetValue("quic", out var qu) ? r.Enum<QuicBehavior>(qu.Value, qu.Path) : defaults.Quic,
            Udp = o.TryGetValue("udp", out var ud) ? r.Enum<UdpBehavior>(ud.Value, ud.Path) : defaults.Udp,
            CaptivePortal = o.TryGetValue("captivePortal", out var cp) ? PortalUrl(r, cp.Value, cp.Path) : null,
            DnsInterception = o.TryGetValue("dnsInterception", out var di) ? InterceptionAddresses(r, di.Value, di.Path) : null,
            LinkDown = o.TryGetValue("linkDown", out var ld) && r.Bool(ld.Value, ld.Path),
            Probe = o.TryGetValue("probe", out var pr) ? ProbeVerdict(r, pr.Value, pr.Path) : null,
            ProbeTimeout = o.TryGetValue("probeTimeoutMs", out var pt) ? Milliseconds(r, pt.Value, pt.Path) : defaults.ProbeTimeout,
            Dns = o.TryGetValue("dns", out var dn) ? r.Enum<DnsBehavior>(dn.Value, dn.Path) : defaults.Dns,
            DnsDelay = o.TryGetValue("dnsDelayMs", out var dd) ? Milliseconds(r, dd.Value, dd.Path) : null,
            AaaaDelay = o.TryGetValue("aaaaDelayMs", out var ad) ? Milliseconds(r, ad.Value, ad.Path) : null,
            DnsTimeout = o.TryGetValue("dnsTimeoutMs", out var dt) ? Milliseconds(r, dt.Value, dt.Path) : defaults.DnsTimeout,
        };
    }

    private static Dictionary<string, IReadOnlyList<IPAddress>> ReadDestinations(StrictJsonReader r, JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw r.Error(path, "an object mapping host names to arrays of IP addresses", e);
        }

        var result = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in e.EnumerateObject())
        {
            var at = r.Property(path, host.Name);
            if (!DomainNames.IsValid(host.Name))
            {
                throw r.Error(at, "a host name such as \"www.example.com\"", "\"" + host.Name + "\"");
            }

            var addresses = r.Array(host.Value, at, "IP addresses").Select(x => r.Address(x.Value, x.Path)).ToList();
            if (!result.TryAdd(host.Name.TrimEnd('.'), addresses))
            {
                throw r.Error(at, "each host once", "\"" + host.Name + "\" a second time");
            }
        }

        return result;
    }

    private static ScenarioRequest ReadRequest(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "host", "port", "transport", "expectedBytes", "atMs", "holdMs", "request", "expectPrefix");
        var host = o.TryGetValue("host", out var h) ? r.String(h.Value, h.Path, "a host name or IP address") : throw r.Error(r.Property(path, "host"), "a host name or IP address", Missing);
        if (!HostName.TryNormalize(host, out _, out var problem))
        {
            throw r.Error(h.Path, "a host name or IP address", StrictJsonReader.Describe(h.Value) + ": " + problem);
        }

        // "quic" and "any" both let QUIC race first with TCP behind it (HEv3); "udp" is a request/response exchange (§7.1).
        var transports = o.TryGetValue("transport", out var t)
            ? Pick<IReadOnlyList<TransportName>>(r, t.Value, t.Path, ("tcp", [TransportName.Tcp]), ("quic", QuicAndTcp), ("any", QuicAndTcp), ("udp", [TransportName.Udp]))
            : [TransportName.Tcp];
        var exchange = transports is [var only] && only == TransportName.Udp;
        string? datagram = null;
        string? prefix = null;
        foreach (var (key, set) in new (string Key, Action<string> Set)[] { ("request", v => datagram = v), ("expectPrefix", v => prefix = v) })
        {
            if (o.TryGetValue(key, out var v))
            {
                if (!exchange)
                {
                    throw r.Error(v.Path, "no \"" + key + "\" here: only a UDP exchange (\"transport\": \"udp\") sends a request datagram", v.Value);
                }

                var text = r.String(v.Value, v.Path, key == "request" ? "the request datagram's text (1 or more characters)" : "the text the response must begin with");
                if (key == "request" && text.Length == 0)
                {
                    throw r.Error(v.Path, "the request datagram's text (1 or more characters)", v.Value);
                }

                set(text);
            }
        }

        return new ScenarioRequest(host, o.TryGetValue("port", out var port) ? (int)r.Integer(port.Value, port.Path, 1, 65535, "a port from 1 to 65535") : 443)
        {
            Transports = transports,
            Request = exchange ? datagram ?? ScenarioRequest.DefaultRequest : null,
            ExpectPrefix = prefix,
            ExpectedBytes = o.TryGetValue("expectedBytes", out var b) ? r.Integer(b.Value, b.Path, 0, long.MaxValue, "a size in bytes (0 or more)") : null,
            At = o.TryGetValue("atMs", out var at) ? Milliseconds(r, at.Value, at.Path, 0, "a time in milliseconds from the scenario's start (0 or more)") : null,
            Hold = o.TryGetValue("holdMs", out var hold) ? Milliseconds(r, hold.Value, hold.Path, 0, "how long to keep the connection open, in milliseconds (0 or more)") : null,
        };
    }

    /// <summary>
    /// <c>changes</c>: each names an interface of the scenario, a time, and the path's whole behaviour from then on; the
    /// times must not go backwards, so the file reads as the timeline it is.
    /// </summary>
    private static List<ScenarioChange> ReadChanges(StrictJsonReader r, JsonElement e, string path, List<InterfaceFacts> interfaces)
    {
        var result = new List<ScenarioChange>();
        foreach (var item in r.Array(e, path, "changes"))
        {
            var o = r.Object(item.Value, item.Path, "atMs", "interface", "network", "description");
            var at = o.TryGetValue("atMs", out var a)
                ? Milliseconds(r, a.Value, a.Path, 0, "a time in milliseconds from the scenario's start (0 or more)")
                : throw r.Error(r.Property(item.Path, "atMs"), "a time in milliseconds from the scenario's start (0 or more)", Missing);
            if (result.Count > 0 && at < result[^1].At)
            {
                throw r.Error(a.Path, $"a time no earlier than the change before it ({result[^1].At.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms)", a.Value);
            }

            var name = o.TryGetValue("interface", out var i)
                ? r.String(i.Value, i.Path, "the name of an interface in $.interfaces")
                : throw r.Error(r.Property(item.Path, "interface"), "the name of an interface in $.interfaces", Missing);
            if (!interfaces.Any(x => x.Name == name))
            {
                throw r.Error(i.Path, "the name of an interface in $.interfaces (" + string.Join(", ", interfaces.Select(x => x.Name)) + ")", StrictJsonReader.Quote(name));
            }

            var behaviour = o.TryGetValue("network", out var n)
                ? ReadPath(r, n.Value, n.Path)
                : throw r.Error(r.Property(item.Path, "network"), "the path's behaviour from then on (the keys of $.network.<interface>)", Missing);
            var description = o.TryGetValue("description", out var d) ? r.String(d.Value, d.Path, "a description") : "";
            result.Add(new ScenarioChange(at, name, behaviour, description));
        }

        return result;
    }

    private static readonly IReadOnlyList<TransportName> QuicAndTcp = [TransportName.Quic, TransportName.Tcp];

    private static ScenarioSettings ReadSettings(StrictJsonReader r, JsonElement e, string path)
    {
        var o = r.Object(e, path, "fallbackDelayMs", "connectionAttemptDelayMs", "resolutionDelayMs", "maxConcurrentAttempts", "raceTimeoutMs");
        return new ScenarioSettings
        {
            FallbackDelay = o.TryGetValue("fallbackDelayMs", out var f) ? Milliseconds(r, f.Value, f.Path) : null,
            ConnectionAttemptDelay = o.TryGetValue("connectionAttemptDelayMs", out var c)
                ? Milliseconds(r, c.Value, c.Path, 10, "a delay in milliseconds of at least 10 (RFC 8305 §5: \"MUST NOT be less than 10 milliseconds\")")
                : null,
            ResolutionDelay = o.TryGetValue("resolutionDelayMs", out var rd) ? Milliseconds(r, rd.Value, rd.Path) : null,
            MaxConcurrentAttempts = o.TryGetValue("maxConcurrentAttempts", out var m) ? (int)r.Integer(m.Value, m.Path, 1, 1000, "a number of attempts from 1 to 1000") : null,
            RaceTimeout = o.TryGetValue("raceTimeoutMs", out var t) ? Milliseconds(r, t.Value, t.Path, 1, "a timeout in milliseconds of at least 1") : null,
        };
    }

    private static TimeSpan Milliseconds(StrictJsonReader r, JsonElement e, string path, double min = 0, string expected = "a delay in milliseconds (0 or more)")
    {
        var v = r.Number(e, path, min, expected);
        return v <= MaxMilliseconds ? TimeSpan.FromMilliseconds(v) : throw r.Error(path, expected + ", at most one day (86400000)", e);
    }

    private static double Probability(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "a probability from 0 to 1";
        var v = r.Number(e, path, 0, Expected);
        return v <= 1 ? v : throw r.Error(path, Expected, e);
    }

    private static Uri PortalUrl(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "the portal's absolute http or https URL, such as \"http://portal.example.net/login\"";
        if (e.ValueKind == JsonValueKind.String && Uri.TryCreate(e.GetString(), UriKind.Absolute, out var uri) &&
            (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        throw r.Error(path, Expected, e);
    }

    private static List<IPAddress> InterceptionAddresses(StrictJsonReader r, JsonElement e, string path)
    {
        var list = r.Array(e, path, "IP addresses the interceptor answers with").Select(x => r.Address(x.Value, x.Path)).ToList();
        return list.Count > 0 ? list : throw r.Error(path, "one or more IP addresses the interceptor answers with", "an empty array");
    }

    private static ValidationState ProbeVerdict(StrictJsonReader r, JsonElement e, string path) =>
        Pick(r, e, path,
            ("validated", ValidationState.Validated),
            ("captivePortal", ValidationState.CaptivePortal),
            ("dnsIntercepted", ValidationState.DnsIntercepted),
            ("noConnectivity", ValidationState.NoConnectivity),
            ("down", ValidationState.Down));

    /// <summary>One of a fixed set of names (case-insensitive), for choices that are not a whole enum.</summary>
    private static T Pick<T>(StrictJsonReader r, JsonElement e, string path, params (string Name, T Value)[] choices)
    {
        if (e.ValueKind == JsonValueKind.String)
        {
            foreach (var (name, value) in choices)
            {
                if (string.Equals(name, e.GetString(), StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }
        }

        throw r.Error(path, "one of " + string.Join(", ", choices.Select(c => c.Name)), e);
    }

    private static DateTimeOffset ReadInstant(StrictJsonReader r, JsonElement e, string path)
    {
        const string Expected = "an RFC 3339 date-time with a time zone, e.g. \"2026-05-23T06:00:00Z\"";
        var s = e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (s is not null &&
            DateTimeOffset.TryParseExact(s, ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) &&
            (s.EndsWith('Z') || s.EndsWith('z') || (s.Length > 6 && s[^6] is '+' or '-' && s[^3] == ':')))
        {
            return t;
        }

        throw r.Error(path, Expected, e);
    }
}
