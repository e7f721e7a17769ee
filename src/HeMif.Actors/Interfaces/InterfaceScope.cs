using System.Net;

namespace HeMif.Interfaces;

/// <summary>Why an interface serves only its own scope, not the Internet.</summary>
internal enum ScopeReason
{
    /// <summary>Its PvD's Additional Information says <c>noInternet</c> (RFC 8801 §4.3).</summary>
    NoInternet,

    /// <summary>A VPN whose routes do not include a default route: a split tunnel.</summary>
    SplitTunnel,
}

/// <summary>
/// The scope of an interface that is not meant to reach the Internet (issue 15, "Validation per PvD", with RFC 7556 §5.3:
/// a PvD may give access to some destinations only): a PvD that says <c>noInternet</c>, or a VPN whose routes do not
/// include a default route. Such an interface is validated for its own scope (its DNS servers answer; an Internet check
/// does not decide it) and takes part only for destinations inside its scope: its PvD's <c>dnsZones</c>, its RFC 6731
/// domains, and its prefixes (the PvD's <c>prefixes</c> and its more-specific routes).
/// </summary>
/// <param name="Reason">Why it is scoped.</param>
/// <param name="Zones">DNS zones inside the scope.</param>
/// <param name="Prefixes">Destination prefixes inside the scope.</param>
internal sealed record InterfaceScope(ScopeReason Reason, IReadOnlyList<string> Zones, IReadOnlyList<IPNetwork> Prefixes)
{
    /// <summary>
    /// The scope's own check URL: the one its valid PvD Additional Information names (<c>connectivityCheckUrl</c>), else
    /// the one the override file names (<see cref="InterfaceFacts.ScopeCheckUrl"/>); null: validated by its DNS servers.
    /// </summary>
    public Uri? CheckUrl { get; init; }

    /// <summary>The scope of <paramref name="f"/> at <paramref name="now"/>, or null when it is an ordinary interface.</summary>
    public static InterfaceScope? Of(InterfaceFacts f, DateTimeOffset now)
    {
        var info = f.PvdInfo is { } i && i.IsValidAt(now) ? i : null;
        ScopeReason reason;
        if (info is { NoInternet: true })
        {
            reason = ScopeReason.NoInternet;
        }
        else if (f.Kind == InterfaceKind.Vpn && f.Routes.Count > 0 && !f.Routes.Any(r => r.IsDefault))
        {
            reason = ScopeReason.SplitTunnel;
        }
        else
        {
            return null;
        }

        var zones = new List<string>();
        foreach (var zone in (info?.DnsZones ?? []).Concat(f.DnsSelection.SelectMany(s => s.Domains)))
        {
            if (!zones.Contains(zone, StringComparer.OrdinalIgnoreCase))
            {
                zones.Add(zone);
            }
        }

        var prefixes = new List<IPNetwork>(info?.Prefixes ?? []);
        foreach (var route in f.Routes)
        {
            if (!route.IsDefault && !prefixes.Contains(route.Prefix))
            {
                prefixes.Add(route.Prefix);
            }
        }

        return new InterfaceScope(reason, zones, prefixes) { CheckUrl = info?.ConnectivityCheckUrl ?? f.ScopeCheckUrl };
    }

    /// <summary>Whether two scopes (null: not scoped) would be validated and used alike: same reason, zones, prefixes and check URL.</summary>
    public static bool Same(InterfaceScope? a, InterfaceScope? b) =>
        a is null || b is null ? a is null && b is null
            : a.Reason == b.Reason && a.CheckUrl == b.CheckUrl && a.Zones.SequenceEqual(b.Zones, StringComparer.OrdinalIgnoreCase) && a.Prefixes.SequenceEqual(b.Prefixes);

    /// <summary>
    /// The destination is inside the scope: the host is in one of the zones, or (the host being an address, or its
    /// addresses known) every address lies in one of the prefixes.
    /// </summary>
    public bool Covers(string host, IReadOnlyList<IPAddress> addresses)
    {
        foreach (var zone in Zones)
        {
            if (DomainNames.IsInZone(host, zone))
            {
                return true;
            }
        }

        IReadOnlyList<IPAddress> destinations = addresses.Count > 0 ? addresses
            : IPAddress.TryParse(host, out var literal) ? [literal] : [];
        return destinations.Count > 0 && destinations.All(a => Prefixes.Any(p => p.Contains(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)));
    }

    /// <summary>Why, in words.</summary>
    public string Why => Reason == ScopeReason.NoInternet
        ? "its PvD says noInternet (RFC 8801 §4.3)"
        : "a VPN whose routes do not include a default route (a split tunnel)";

    /// <summary>The scope, in words: "DNS zones corp.example; prefixes 10.0.0.0/8".</summary>
    public string Describe()
    {
        var zones = Zones.Count == 0 ? "no DNS zone" : "DNS zones " + string.Join(", ", Zones);
        var prefixes = Prefixes.Count == 0 ? "no prefix" : "prefixes " + string.Join(", ", Prefixes);
        return $"{zones}; {prefixes}";
    }
}
