using System.Net;
using HeMif.Configuration;
using HeMif.Interfaces;

namespace HeMif.Transports.Discovery;

/// <summary>What the OS cannot tell about one interface, by name.</summary>
internal sealed record InterfaceHostOverride(string Name)
{
    /// <summary>Where the file names it (<c>$.interfaces[0].name</c>), for errors.</summary>
    public string NamePath { get; init; } = "$";

    public InterfaceKind? Kind { get; init; }

    public bool? Metered { get; init; }

    public bool? Roaming { get; init; }

    public bool? Constrained { get; init; }

    public string? PvdId { get; init; }

    public IReadOnlyList<IPAddress>? DnsServers { get; init; }

    /// <summary>The check URL for the interface's own scope (<see cref="InterfaceFacts.ScopeCheckUrl"/>).</summary>
    public Uri? CheckUrl { get; init; }
}

/// <summary>How the connectivity check runs.</summary>
internal sealed record ProbeSettings
{
    public Uri? Url { get; init; }

    public int ExpectedStatus { get; init; } = 204;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Period { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A name that must not resolve (DNS interception check); null skips it.</summary>
    public string? NonexistentName { get; init; }

    /// <summary>Skip validation entirely (every interface counts as validated): for hosts without a check server.</summary>
    public bool Disabled { get; init; }
}

/// <summary>
/// The host override file of <c>hemif connect --interfaces</c> (documented in docs/connect.md):
/// <c>{ "interfaces": [ { "name", "kind", "metered", "roaming", "constrained", "pvd", "dnsServers", "checkUrl" } ], "probe": { "url",
/// "expectedStatus", "timeoutMs", "periodSeconds", "nonexistentName", "disabled" } }</c>. Strict: unknown keys, bad values
/// and duplicate names are errors naming the file, the JSON path and what was expected; names of interfaces the host
/// does not have are reported by <see cref="ApplyTo"/>, the same way.
/// </summary>
internal sealed record HostOverrides
{
    public IReadOnlyList<InterfaceHostOverride> Interfaces { get; init; } = [];

    public ProbeSettings Probe { get; init; } = new();

    /// <summary>The file (as its path was given), for errors.</summary>
    public string Origin { get; init; } = "";

    /// <summary>Reads the file through <see cref="HeMifConfiguration.ReadFile"/> (regular files of at most 4 MiB); errors name it by <paramref name="path"/>.</summary>
    public static HostOverrides Load(string path) => Parse(HeMifConfiguration.ReadFile(path), path);

    public static HostOverrides Parse(string json, string origin)
    {
        using var document = HeMifConfiguration.Parse(json, origin);
        var r = new StrictJsonReader(origin, configurationMode: false, "$");
        var root = r.Object(document.RootElement, "$", "interfaces", "probe");
        var result = new HostOverrides { Origin = origin };
        if (root.TryGetValue("interfaces", out var list))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var overrides = new List<InterfaceHostOverride>();
            foreach (var (item, at) in r.Array(list.Value, list.Path, "interface overrides"))
            {
                var o = r.Object(item, at, "name", "kind", "metered", "roaming", "constrained", "pvd", "dnsServers", "checkUrl");
                var name = o.TryGetValue("name", out var n) ? r.String(n.Value, n.Path, "an interface name")
                    : throw r.Error(r.Property(at, "name"), "an interface name", "nothing (the key is missing)");
                if (!seen.Add(name))
                {
                    throw r.Error(r.Property(at, "name"), "one override per interface", $"\"{name}\" a second time");
                }

                overrides.Add(new InterfaceHostOverride(name)
                {
                    NamePath = n.Path,
                    Kind = o.TryGetValue("kind", out var k) ? r.Enum<InterfaceKind>(k.Value, k.Path) : null,
                    Metered = o.TryGetValue("metered", out var m) ? r.Bool(m.Value, m.Path) : null,
                    Roaming = o.TryGetValue("roaming", out var ro) ? r.Bool(ro.Value, ro.Path) : null,
                    Constrained = o.TryGetValue("constrained", out var c) ? r.Bool(c.Value, c.Path) : null,
                    PvdId = o.TryGetValue("pvd", out var p) ? r.String(p.Value, p.Path, "a PvD ID (a host name)") : null,
                    DnsServers = o.TryGetValue("dnsServers", out var d)
                        ? r.Array(d.Value, d.Path, "DNS server addresses").Select(x => r.Address(x.Value, x.Path)).ToList()
                        : null,
                    CheckUrl = o.TryGetValue("checkUrl", out var cu) ? HttpUrl(r, cu.Value, cu.Path) : null,
                });
            }

            if (overrides.Count == 0)
            {
                throw r.Error(list.Path, "at least one interface override (leave the key out for none)", "an empty array");
            }

            result = result with { Interfaces = overrides };
        }

        if (root.TryGetValue("probe", out var probe))
        {
            var o = r.Object(probe.Value, probe.Path, "url", "expectedStatus", "timeoutMs", "periodSeconds", "nonexistentName", "disabled");
            var settings = new ProbeSettings();
            if (o.TryGetValue("url", out var u))
            {
                settings = settings with { Url = HttpUrl(r, u.Value, u.Path) };
            }

            if (o.TryGetValue("expectedStatus", out var s))
            {
                settings = settings with { ExpectedStatus = (int)r.Integer(s.Value, s.Path, 100, 599, "an HTTP status from 100 to 599") };
            }

            if (o.TryGetValue("timeoutMs", out var t))
            {
                settings = settings with { Timeout = TimeSpan.FromMilliseconds(r.Integer(t.Value, t.Path, 1, 600_000, "a timeout in milliseconds from 1 to 600000")) };
            }

            if (o.TryGetValue("periodSeconds", out var per))
            {
                settings = settings with { Period = TimeSpan.FromSeconds(r.Integer(per.Value, per.Path, 1, 86_400, "a period in seconds from 1 to 86400")) };
            }

            if (o.TryGetValue("nonexistentName", out var ne))
            {
                settings = settings with { NonexistentName = r.String(ne.Value, ne.Path, "a DNS name that must not exist") };
            }

            if (o.TryGetValue("disabled", out var dis))
            {
                settings = settings with { Disabled = r.Bool(dis.Value, dis.Path) };
            }

            result = result with { Probe = settings };
        }

        return result;
    }

    /// <summary>A check URL: absolute and plain <c>http://</c> (the check is plain HTTP, like the platforms' own).</summary>
    private static Uri HttpUrl(StrictJsonReader r, System.Text.Json.JsonElement value, string path)
    {
        var text = r.String(value, path, "an http:// URL");
        return Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp
            ? url
            : throw r.Error(path, "an absolute http:// URL (the check is plain HTTP, like the platforms' own)", value);
    }

    /// <summary>
    /// Applies the overrides. An override for an interface the host does not have is a
    /// <see cref="HeMifConfigurationException"/> naming the file, the JSON path of the first such name, the name, and the
    /// interfaces the host has.
    /// </summary>
    public IReadOnlyList<InterfaceFacts> ApplyTo(IReadOnlyList<InterfaceFacts> discovered)
    {
        var names = discovered.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = Interfaces.Where(o => !names.Contains(o.Name)).ToList();
        if (unknown.Count > 0)
        {
            var others = unknown.Count > 1 ? $" (and {string.Join(", ", unknown.Skip(1).Select(o => $"{StrictJsonReader.Quote(o.Name)} at {o.NamePath}"))})" : "";
            throw new HeMifConfigurationException(Origin, unknown[0].NamePath,
                $"the name of an interface this host has ({string.Join(", ", names.Order(StringComparer.Ordinal))})",
                StrictJsonReader.Quote(unknown[0].Name) + others);
        }

        return discovered.Select(f => Interfaces.FirstOrDefault(o => o.Name == f.Name) is { } o
            ? f with
            {
                Kind = o.Kind ?? f.Kind,
                Metered = o.Metered ?? f.Metered,
                Roaming = o.Roaming ?? f.Roaming,
                Constrained = o.Constrained ?? f.Constrained,
                PvdId = o.PvdId ?? f.PvdId,
                DnsServers = o.DnsServers ?? f.DnsServers,
                ScopeCheckUrl = o.CheckUrl ?? f.ScopeCheckUrl,
                Sources = f.Sources with
                {
                    Kind = From(o.Kind, f.Sources.Kind),
                    Metered = From(o.Metered, f.Sources.Metered),
                    Roaming = From(o.Roaming, f.Sources.Roaming),
                    Constrained = From(o.Constrained, f.Sources.Constrained),
                    PvdId = From(o.PvdId, f.Sources.PvdId),
                    DnsServers = From(o.DnsServers, f.Sources.DnsServers),
                },
            }
            : f).ToList();
    }

    /// <summary>The override file's word where it says something, else where the fact came from before.</summary>
    private static FactSource From(object? overridden, FactSource before) => overridden is null ? before : FactSource.OverrideFile;
}
