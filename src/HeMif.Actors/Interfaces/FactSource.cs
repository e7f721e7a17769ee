namespace HeMif.Interfaces;

/// <summary>
/// Where a fact about an interface came from (issue: "Whatever source a fact came from is shown"). Shown by
/// <c>hemif interfaces</c> and the MIF API (<c>InterfaceView</c>); decisions never depend on it.
/// </summary>
public enum FactSource
{
    /// <summary>Given by the application: <c>HeMifOptions.Interfaces</c>, configuration or code that built the facts.</summary>
    Configuration,

    /// <summary>Read from the operating system (.NET's <c>NetworkInterface</c>: name, link state, addresses, kind by name).</summary>
    OperatingSystem,

    /// <summary>The host override file (<c>--interfaces</c>, <c>HeMif:OverridesFile</c>), which wins where it says something.</summary>
    OverrideFile,

    /// <summary>Learned from the interface's Router Advertisements (RFC 4861, RFC 4191, RFC 8106, RFC 8801 PvD option).</summary>
    RouterAdvertisement,

    /// <summary>From a PvD's Additional Information document (RFC 8801 §4, <c>https://&lt;PvD-ID&gt;/.well-known/pvd</c>).</summary>
    PvdAdditionalInformation,

    /// <summary>
    /// The host's own resolver's per-link configuration (systemd-resolved over D-Bus, <c>org.freedesktop.resolve1</c>):
    /// the DNS servers and search domains it uses for that interface. Below the override file, what the application gave
    /// and the interface's own Router Advertisements; above nothing known.
    /// </summary>
    HostResolver,

    /// <summary>
    /// systemd-networkd's own state for the link (<c>/run/systemd/netif/links/&lt;ifindex&gt;</c>: <c>DNS=</c>,
    /// <c>DOMAINS=</c>): a further source after the host resolver, for an interface it said nothing about.
    /// </summary>
    SystemdNetworkd,
}

/// <summary>
/// Where each of an interface's facts came from, fact by fact (<see cref="InterfaceFacts.Sources"/>). Each route says
/// its own (<see cref="RouteInformation.Source"/>); each learned PvD fact is in <see cref="InterfaceFacts.Pvds"/>.
/// </summary>
public sealed record InterfaceFactSources
{
    /// <summary>Every fact given by the application (the default).</summary>
    public static InterfaceFactSources Configuration { get; } = new();

    /// <summary>Every fact read from the operating system.</summary>
    public static InterfaceFactSources OperatingSystem { get; } = new()
    {
        Kind = FactSource.OperatingSystem,
        Link = FactSource.OperatingSystem,
        Addresses = FactSource.OperatingSystem,
        DnsServers = FactSource.OperatingSystem,
        PvdId = FactSource.OperatingSystem,
        Metered = FactSource.OperatingSystem,
        Roaming = FactSource.OperatingSystem,
        Constrained = FactSource.OperatingSystem,
    };

    /// <summary>Of <see cref="InterfaceFacts.Kind"/>.</summary>
    public FactSource Kind { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.IsUp"/>.</summary>
    public FactSource Link { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.Addresses"/>.</summary>
    public FactSource Addresses { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.DnsServers"/> (never mixed: given servers win whole, else the learned ones).</summary>
    public FactSource DnsServers { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.PvdId"/>.</summary>
    public FactSource PvdId { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.Metered"/> (a PvD's Additional Information may also say "metered": <see cref="InterfaceFacts.IsMetered"/>).</summary>
    public FactSource Metered { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.Roaming"/>.</summary>
    public FactSource Roaming { get; init; }

    /// <summary>Of <see cref="InterfaceFacts.Constrained"/>.</summary>
    public FactSource Constrained { get; init; }
}
