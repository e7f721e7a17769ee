using System.Net;
using System.Net.Sockets;

namespace HeMif.Interfaces;

/// <summary>
/// What kind of link an interface is. The kind feeds §4.2.5 "Common Practice" and kind-based rules only:
/// RFC 9622 §6.2 warns that "Interface types SHOULD NOT be treated as a proxy for properties of interfaces such as
/// metered or unmetered", so cost comes from <see cref="InterfaceFacts.Metered"/>, never from the kind.
/// </summary>
public enum InterfaceKind
{
    /// <summary>IEEE 802.11 wireless LAN.</summary>
    Wifi,

    /// <summary>A 3GPP mobile network (the draft's "3/4G").</summary>
    Cellular,

    /// <summary>Wired Ethernet.</summary>
    Ethernet,

    /// <summary>A tunnel interface of a virtual private network.</summary>
    Vpn,

    /// <summary>The loopback interface.</summary>
    Loopback,

    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>IPv6 address scopes as RFC 6724 §3.1 orders them (the numeric values are the RFC 4291 scope values).</summary>
public enum AddressScope
{
    /// <summary>Interface-local (multicast only).</summary>
    InterfaceLocal = 0x1,

    /// <summary>Link-local; RFC 6724 §3.1 also gives IPv4 169.254/16 and 127/8 this scope.</summary>
    LinkLocal = 0x2,

    /// <summary>Admin-local (multicast only).</summary>
    AdminLocal = 0x4,

    /// <summary>Site-local (the deprecated fec0::/10 and site-scoped multicast).</summary>
    SiteLocal = 0x5,

    /// <summary>Organization-local (multicast only).</summary>
    OrganizationLocal = 0x8,

    /// <summary>Global.</summary>
    Global = 0xE,
}

/// <summary>An IP version, as the rules and the address-family capability name it.</summary>
public enum IpVersion
{
    /// <summary>IPv4.</summary>
    IPv4,

    /// <summary>IPv6.</summary>
    IPv6,
}

/// <summary>
/// RFC 4191 §2.1 router / route preference: "11 Low, 00 Medium (default), 01 High". Declared in ascending order so
/// a larger value is preferred.
/// </summary>
public enum RoutePreference
{
    /// <summary>Low (binary 11).</summary>
    Low,

    /// <summary>Medium, the default (binary 00).</summary>
    Medium,

    /// <summary>High (binary 01).</summary>
    High,
}

/// <summary>One unicast address configured on an interface.</summary>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">The on-link prefix length (0–32 for IPv4, 0–128 for IPv6).</param>
public sealed record InterfaceAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>An explicit scope; when null the scope is derived from the address as RFC 6724 §3.1 describes.</summary>
    public AddressScope? Scope { get; init; }

    /// <summary>
    /// The address is deprecated in the RFC 4862 sense; RFC 6724 §5 Rule 3: "Avoid deprecated addresses."
    /// </summary>
    public bool Deprecated { get; init; }

    /// <summary>A temporary (privacy) address, RFC 8981; RFC 6724 §5 Rule 7: "Prefer temporary addresses."</summary>
    public bool Temporary { get; init; }

    /// <summary>The address family.</summary>
    public IpVersion Version => Address.AddressFamily == AddressFamily.InterNetworkV6 ? IpVersion.IPv6 : IpVersion.IPv4;
}

/// <summary>
/// A route learned by the interface. A prefix length of 0 is a default route (its preference is the RFC 4191
/// Default Router Preference); a longer prefix is an RFC 4191 §2.3 Route Information Option, "a more-specific route".
/// </summary>
/// <param name="Prefix">The destination prefix.</param>
/// <param name="Preference">The RFC 4191 preference.</param>
/// <param name="Lifetime">The route lifetime; RFC 4191 §2.3: a lifetime of zero means the route is withdrawn.</param>
public sealed record RouteInformation(IPNetwork Prefix, RoutePreference Preference, TimeSpan Lifetime)
{
    /// <summary>True for ::/0 or 0.0.0.0/0.</summary>
    public bool IsDefault => Prefix.PrefixLength == 0;

    /// <summary>Where the route came from (given, or learned from a Router Advertisement).</summary>
    public FactSource Source { get; init; }
}

/// <summary>
/// An RFC 6731 RDNSS selection option the interface received: "a DNS server ... that is to be used for resolving
/// names in the listed domains" with a preference (the option's prf bits, the same three levels as RFC 4191).
/// </summary>
/// <param name="Server">The recursive DNS server.</param>
/// <param name="Preference">The option's preference.</param>
/// <param name="Domains">The domains the server is to be preferred for.</param>
public sealed record DnsServerSelection(IPAddress Server, RoutePreference Preference, IReadOnlyList<string> Domains)
{
    /// <summary>Networks for which the server answers reverse lookups (RFC 6731 §4.1, optional).</summary>
    public IReadOnlyList<IPNetwork> Networks { get; init; } = [];
}

/// <summary>
/// Everything the library knows about one network interface. Facts only: what to do with them is the policy's job.
/// </summary>
/// <param name="Name">The interface name (unique on the host), e.g. <c>wlan0</c>.</param>
/// <param name="Kind">The link kind.</param>
public sealed record InterfaceFacts(string Name, InterfaceKind Kind)
{
    /// <summary>The interface is administratively and operationally up.</summary>
    public bool IsUp { get; init; } = true;

    /// <summary>The unicast addresses on the interface.</summary>
    public IReadOnlyList<InterfaceAddress> Addresses { get; init; } = [];

    /// <summary>The recursive DNS servers the interface was provisioned with.</summary>
    public IReadOnlyList<IPAddress> DnsServers { get; init; } = [];

    /// <summary>
    /// The DNS search domains the host's resolver uses for this interface (systemd-resolved's per-link domains; they come
    /// with <see cref="DnsServers"/> and from the same source). Shown, not used to pick interfaces: the RA's DNSSL domains
    /// are in <see cref="Pvds"/>.
    /// </summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>RFC 6731 DNS server selection options received on the interface.</summary>
    public IReadOnlyList<DnsServerSelection> DnsSelection { get; init; } = [];

    /// <summary>Default routes and RFC 4191 more-specific routes.</summary>
    public IReadOnlyList<RouteInformation> Routes { get; init; } = [];

    /// <summary>The provisioning domain identifier (RFC 7556; an FQDN per RFC 8801), when the network names one.</summary>
    public string? PvdId { get; init; }

    /// <summary>RFC 8801 PvD additional information, when it was fetched.</summary>
    public PvdAdditionalInformation? PvdInfo { get; init; }

    /// <summary>
    /// The provisioning domains the interface learned from its routers' Router Advertisements (RFC 8801; several per
    /// interface), with every fact's lifetime. Empty when nothing was learned (no RA learning, or no router said anything).
    /// </summary>
    public IReadOnlyList<ProvisioningDomain> Pvds { get; init; } = [];

    /// <summary>
    /// A plain <c>http://</c> check URL for the interface's own scope, as the host override file names it
    /// (<c>interfaces[].checkUrl</c>): an interface that serves only its own scope (a <c>noInternet</c> PvD, a split-tunnel
    /// VPN) is validated against it; its PvD's Additional Information (<see cref="PvdAdditionalInformation.ConnectivityCheckUrl"/>)
    /// wins when it names one. Ordinary interfaces take the Internet check. Null: none named.
    /// </summary>
    public Uri? ScopeCheckUrl { get; init; }

    /// <summary>The name of the Wi-Fi network (SSID) the interface is associated with, for validity conditions.</summary>
    public string? WifiNetwork { get; init; }

    /// <summary>Traffic on the interface costs money per byte. Stated, never inferred from <see cref="Kind"/>.</summary>
    public bool Metered { get; init; }

    /// <summary>The interface is attached to a visited (roaming) network.</summary>
    public bool Roaming { get; init; }

    /// <summary>The interface is bandwidth-constrained (low-data mode).</summary>
    public bool Constrained { get; init; }

    /// <summary>Where each fact came from (the operating system, the override file, a Router Advertisement, …).</summary>
    public InterfaceFactSources Sources { get; init; } = InterfaceFactSources.Configuration;

    /// <summary>IPv4 capability; when null, true if the interface has an IPv4 address.</summary>
    public bool? Ipv4 { get; init; }

    /// <summary>IPv6 capability; when null, true if the interface has an IPv6 address.</summary>
    public bool? Ipv6 { get; init; }

    /// <summary>Whether the interface can carry the given IP version.</summary>
    public bool Supports(IpVersion version)
    {
        var stated = version == IpVersion.IPv4 ? Ipv4 : Ipv6;
        if (stated is { } s)
        {
            return s;
        }

        for (var iA19 = 0; iA19 < Addresses.Count; iA19++)
        {
            var a = Addresses[iA19];
            if (a.Version == version)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The interface is metered: stated on the interface or by its PvD (RFC 8801 §4.3 "metered"). Valid PvD
    /// information only: callers pass the decision time.
    /// </summary>
    public bool IsMetered(DateTimeOffset now) => Metered || (PvdInfo is { } p && p.IsValidAt(now) && p.Metered);
}
