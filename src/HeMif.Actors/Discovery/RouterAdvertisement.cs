using System.Net;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>
/// A lifetime carried by a Router Advertisement or one of its options, in seconds as on the wire. The 32-bit
/// lifetimes use all ones for "forever": RFC 4861 §4.6.2 "A value of all one bits (0xffffffff) represents infinity",
/// the same in RFC 4191 §2.3 and RFC 8106 §5.1. The Router Lifetime is 16 bits and has no infinity
/// (<see cref="RaHeader.RouterLifetime"/>).
/// </summary>
/// <param name="Seconds">The value on the wire.</param>
internal readonly record struct RaLifetime(uint Seconds)
{
    /// <summary>RFC 4861 §4.6.2: 0xffffffff "represents infinity".</summary>
    public const uint InfinitySeconds = uint.MaxValue;

    /// <summary>The lifetime never ends.</summary>
    public bool IsInfinite => Seconds == InfinitySeconds;

    /// <summary>
    /// A lifetime of zero: the router withdraws the fact (RFC 8106 §5.1 "A value of zero means that the RDNSS address
    /// MUST no longer be used", RFC 4191 §2.3 for routes).
    /// </summary>
    public bool IsZero => Seconds == 0;

    /// <summary>When the fact expires if it was received at <paramref name="received"/>; null for infinity.</summary>
    public DateTimeOffset? ExpiresAt(DateTimeOffset received) => IsInfinite ? null : received.AddSeconds(Seconds);

    /// <summary>The lifetime as a duration; <see cref="TimeSpan.MaxValue"/> for infinity.</summary>
    public TimeSpan Duration => IsInfinite ? TimeSpan.MaxValue : TimeSpan.FromSeconds(Seconds);

    /// <inheritdoc/>
    public override string ToString() => IsInfinite ? "infinite" : Seconds + " s";
}

/// <summary>
/// RFC 4861 §4.2's Router Advertisement header (the 16 octets after the IPv6 header), with RFC 4191 §2.2's Default
/// Router Preference in the flags. Also what an RFC 8801 PvD Option carries when its R-flag is set.
/// </summary>
/// <param name="CurHopLimit">"The default value that should be placed in the Hop Count field"; 0 is unspecified.</param>
/// <param name="Managed">M: "Managed address configuration" (DHCPv6 addresses).</param>
/// <param name="OtherConfig">O: "Other configuration" (DHCPv6 for other information).</param>
/// <param name="DefaultRouterPreference">RFC 4191 §2.2 Prf; Medium when the Router Lifetime is zero or Prf is the
/// reserved 10 ("the receiver MUST treat the value as if it were (00)").</param>
/// <param name="RouterLifetime">Seconds the router is a default router; 0: "not a default router".</param>
/// <param name="ReachableTimeMs">RFC 4861 Reachable Time in milliseconds; 0 is unspecified.</param>
/// <param name="RetransTimerMs">RFC 4861 Retrans Timer in milliseconds; 0 is unspecified.</param>
internal sealed record RaHeader(
    byte CurHopLimit, bool Managed, bool OtherConfig, RoutePreference DefaultRouterPreference,
    ushort RouterLifetime, uint ReachableTimeMs, uint RetransTimerMs)
{
    /// <summary>The router is a default router (a Router Lifetime above zero).</summary>
    public bool IsDefaultRouter => RouterLifetime > 0;
}

/// <summary>RFC 4861 §4.6.2 Prefix Information option (type 3).</summary>
/// <param name="Prefix">The prefix, the bits after its length cleared ("ignored by the receiver").</param>
/// <param name="OnLink">L: the prefix is on-link.</param>
/// <param name="Autonomous">A: the prefix may be used for stateless address autoconfiguration.</param>
/// <param name="ValidLifetime">How long the prefix is valid.</param>
/// <param name="PreferredLifetime">How long addresses from it stay preferred.</param>
internal sealed record PrefixInformationOption(IPNetwork Prefix, bool OnLink, bool Autonomous, RaLifetime ValidLifetime, RaLifetime PreferredLifetime);

/// <summary>RFC 4191 §2.3 Route Information option (type 24): a more specific route through this router.</summary>
/// <param name="Prefix">The destination prefix, bits after its length cleared.</param>
/// <param name="Preference">The route's preference.</param>
/// <param name="Lifetime">"The length of time in seconds ... that the prefix is valid for the purpose of route determination."</param>
internal sealed record RouteInformationOption(IPNetwork Prefix, RoutePreference Preference, RaLifetime Lifetime);

/// <summary>RFC 8106 §5.1 Recursive DNS Server option (type 25).</summary>
/// <param name="Servers">The servers, in the order given ("in order of preference").</param>
/// <param name="Lifetime">"The maximum time in seconds ... over which these RDNSS addresses MAY be used for name resolution."</param>
internal sealed record RdnssOption(IReadOnlyList<IPAddress> Servers, RaLifetime Lifetime);

/// <summary>RFC 8106 §5.2 DNS Search List option (type 31).</summary>
/// <param name="Domains">The search domains, in presentation form without the trailing dot.</param>
/// <param name="Lifetime">"The maximum time in seconds ... over which these DNSSL domain names MAY be used for name resolution."</param>
internal sealed record DnsslOption(IReadOnlyList<string> Domains, RaLifetime Lifetime);

/// <summary>The options HeMif reads from one level of a Router Advertisement (the RA itself, or a PvD Option's inside).</summary>
internal sealed record RaOptions
{
    /// <summary>An empty set.</summary>
    public static readonly RaOptions Empty = new();

    /// <summary>RFC 4861 Prefix Information options.</summary>
    public IReadOnlyList<PrefixInformationOption> Prefixes { get; init; } = [];

    /// <summary>RFC 4191 Route Information options.</summary>
    public IReadOnlyList<RouteInformationOption> Routes { get; init; } = [];

    /// <summary>RFC 8106 RDNSS options.</summary>
    public IReadOnlyList<RdnssOption> DnsServers { get; init; } = [];

    /// <summary>RFC 8106 DNSSL options.</summary>
    public IReadOnlyList<DnsslOption> SearchLists { get; init; } = [];

    /// <summary>RFC 4861 §4.6.4 MTU option, when present.</summary>
    public uint? Mtu { get; init; }
}

/// <summary>
/// RFC 8801 §3.1 PvD Option (type 21): the explicit provisioning domain the RA belongs to, with the options nested in it.
/// </summary>
/// <param name="PvdId">The PvD ID FQDN, in presentation form without the trailing dot.</param>
/// <param name="HttpFlag">H: "PvD Additional Information is made available through HTTP over TLS" (RFC 8801 §4).</param>
/// <param name="LegacyFlag">L: the PvD is also associated with the link's DHCPv4 information.</param>
/// <param name="SequenceNumber">"Sequence number for the PvD Additional Information" (RFC 8801 §3.1).</param>
/// <param name="Delay">RFC 8801 §4.1: a host waits a random time between 0 and 2**(Delay * 2) milliseconds before fetching
/// the Additional Information; 0–15.</param>
/// <param name="Header">The RA header the option carries when its R-flag is set; PvD-aware hosts use it for this PvD.</param>
/// <param name="Options">The options nested in the PvD Option ("PvD-scoped" options).</param>
internal sealed record PvdOption(string PvdId, bool HttpFlag, bool LegacyFlag, ushort SequenceNumber, byte Delay, RaHeader? Header, RaOptions Options)
{
    /// <summary>RFC 8801 §4.1: the longest the host waits before a fetch, 2**(Delay * 2) milliseconds.</summary>
    public TimeSpan MaxFetchDelay => TimeSpan.FromMilliseconds(Math.Pow(2, Delay * 2));
}

/// <summary>A Router Advertisement that passed RFC 4861 §6.1.2's validity checks, as HeMif read it.</summary>
/// <param name="Source">The router's link-local address (the IPv6 source).</param>
/// <param name="Header">The RA's own header.</param>
/// <param name="Options">The options outside any PvD Option.</param>
/// <param name="Pvd">The first PvD Option, or null: the RA then belongs to the router's implicit PvD (RFC 7556 §3).</param>
/// <param name="Ignored">Every option (or part of one) that was ignored, and why; the rest of the RA stands.</param>
internal sealed record RouterAdvertisement(IPAddress Source, RaHeader Header, RaOptions Options, PvdOption? Pvd, IReadOnlyList<RaOptionReport> Ignored)
{
    /// <summary>
    /// The header that applies to the PvD: RFC 8801 §3.1, when the PvD Option's R-flag is set it carries the RA header
    /// "that would otherwise be valid as part of the" RA for PvD-aware hosts; else the RA's own.
    /// </summary>
    public RaHeader EffectiveHeader => Pvd?.Header ?? Header;
}

/// <summary>Why a whole Router Advertisement was ignored (nothing in it is used).</summary>
internal enum RaRejection
{
    /// <summary>RFC 4861 §6.1.2: "IP Source Address is a link-local address" failed.</summary>
    SourceNotLinkLocal,

    /// <summary>RFC 4861 §6.1.2: "The IP Hop Limit field has a value of 255" failed (the RA came through a router).</summary>
    HopLimitNot255,

    /// <summary>The ICMPv6 message is not a Router Advertisement (type 134).</summary>
    NotRouterAdvertisement,

    /// <summary>RFC 4861 §6.1.2: "ICMP Code is 0" failed.</summary>
    NonZeroCode,

    /// <summary>RFC 4861 §6.1.2: "ICMP length (derived from the IP length) is 16 or more octets" failed.</summary>
    TooShort,

    /// <summary>RFC 4861 §6.1.2: "All included options have a length that is greater than zero" failed.</summary>
    ZeroLengthOption,

    /// <summary>An option's length runs past the end of the message (a truncated packet).</summary>
    OptionTruncated,

    /// <summary>The first PvD Option's PvD ID is not a valid FQDN (or is compressed, or runs past the option).</summary>
    InvalidPvdId,

    /// <summary>The first PvD Option is malformed (too short, its RA header or nested options do not fit in it).</summary>
    MalformedPvdOption,
}

/// <summary>Why one option (or part of one) was ignored while the rest of the RA was used.</summary>
internal enum RaOptionProblem
{
    /// <summary>The option's length is not the one its RFC defines for it.</summary>
    BadLength,

    /// <summary>RFC 4191 §3.1: the Route Information option's Prf is the reserved 10; "the Route Information Option MUST be ignored".</summary>
    ReservedPreference,

    /// <summary>A prefix length above 128, or one the option's length cannot hold (RFC 4191 §2.3).</summary>
    BadPrefixLength,

    /// <summary>RFC 4862 §5.5.3 c): "If the preferred lifetime is greater than the valid lifetime, silently ignore the Prefix Information option."</summary>
    PreferredAboveValid,

    /// <summary>RFC 4862 §5.5.3 b): "If the prefix is the link-local prefix, silently ignore the Prefix Information option."</summary>
    LinkLocalPrefix,

    /// <summary>An RDNSS address that cannot be a DNS server (unspecified, loopback, multicast).</summary>
    BadServerAddress,

    /// <summary>A DNSSL name that is not a valid domain name (bad label, compression, too long, no end).</summary>
    BadDomainName,

    /// <summary>RFC 8801 §3.1: a PvD Option inside a PvD Option; only one level exists, the inner one is ignored.</summary>
    NestedPvdOption,

    /// <summary>RFC 8801 §3.4: "In case multiple PvD Options are found in a given RA, hosts MUST ignore all but the first PvD Option."</summary>
    SecondPvdOption,
}

/// <summary>One ignored option, with where it was and why.</summary>
/// <param name="Offset">The option's offset in the ICMPv6 message.</param>
/// <param name="Type">The option type.</param>
/// <param name="Problem">Why it was ignored.</param>
/// <param name="Detail">The value that was wrong, for people.</param>
internal sealed record RaOptionReport(int Offset, byte Type, RaOptionProblem Problem, string Detail)
{
    /// <inheritdoc/>
    public override string ToString() => $"option type {Type} at octet {Offset} ignored ({Problem}): {Detail}";
}

/// <summary>What <see cref="RouterAdvertisementReader.Read"/> made of a packet: an RA to use, or the reason it was ignored.</summary>
internal sealed record RaReadResult
{
    private RaReadResult(RouterAdvertisement? advertisement, RaRejection? rejection, string? detail)
    {
        Advertisement = advertisement;
        Rejection = rejection;
        Detail = detail;
    }

    /// <summary>The RA, when it is to be used.</summary>
    public RouterAdvertisement? Advertisement { get; }

    /// <summary>Why the packet was ignored, when it was.</summary>
    public RaRejection? Rejection { get; }

    /// <summary>What was wrong, for people (the value and where), when ignored.</summary>
    public string? Detail { get; }

    /// <summary>The RA is to be used.</summary>
    public bool Ok => Advertisement is not null;

    internal static RaReadResult Accepted(RouterAdvertisement ra) => new(ra, null, null);

    internal static RaReadResult Rejected(RaRejection why, string detail) => new(null, why, detail);

    /// <inheritdoc/>
    public override string ToString() => Ok ? $"RA from {Advertisement!.Source}" : $"RA ignored ({Rejection}): {Detail}";
}
