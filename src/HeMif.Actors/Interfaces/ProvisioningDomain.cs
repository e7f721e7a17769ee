using System.Net;

namespace HeMif.Interfaces;

/// <summary>A value learned from the network, with when it stops being valid.</summary>
/// <typeparam name="T">The value's type.</typeparam>
/// <param name="Value">The value.</param>
/// <param name="Expires">When its lifetime ends; null for an infinite lifetime.</param>
public sealed record LearnedValue<T>(T Value, DateTimeOffset? Expires)
{
    /// <summary>The value may be used at <paramref name="now"/> (strictly before <see cref="Expires"/>).</summary>
    public bool IsValidAt(DateTimeOffset now) => Expires is not { } e || now < e;
}

/// <summary>A route learned from a Router Advertisement (RFC 4191 §2.3, or a default route from the RA header).</summary>
/// <param name="Prefix">The destination prefix; ::/0 for a default route.</param>
/// <param name="Preference">The RFC 4191 preference.</param>
/// <param name="Expires">When the route's lifetime ends; null for infinity.</param>
public sealed record LearnedRoute(IPNetwork Prefix, RoutePreference Preference, DateTimeOffset? Expires);

/// <summary>How RA learning goes on an interface.</summary>
public enum RaLearningState
{
    /// <summary>No RA source was configured for this engine: nothing is learned from the network.</summary>
    Off,

    /// <summary>Listening for Router Advertisements.</summary>
    Listening,

    /// <summary>Listening is not possible here (no raw ICMPv6 socket: it needs root or CAP_NET_RAW; not Linux).</summary>
    Unavailable,

    /// <summary>The interface's listener has been started and has not said yet whether it listens.</summary>
    Starting,
}

/// <summary>
/// One provisioning domain an interface learned from its routers (RFC 7556, RFC 8801): the explicit PvD a Router
/// Advertisement named in its PvD Option, or a router's implicit PvD when it named none. An interface can have several.
/// </summary>
/// <param name="Id">The PvD ID (an FQDN); null for an implicit PvD.</param>
/// <param name="Routers">The link-local addresses of the routers that advertised it.</param>
public sealed record ProvisioningDomain(string? Id, IReadOnlyList<IPAddress> Routers)
{
    /// <summary>The PvD Option's sequence number (RFC 8801 §3.1); null for an implicit PvD.</summary>
    public ushort? SequenceNumber { get; init; }

    /// <summary>The H-flag: PvD Additional Information is published at <c>https://&lt;PvD ID&gt;/.well-known/pvd</c>.</summary>
    public bool HasAdditionalInformation { get; init; }

    /// <summary>
    /// RFC 8801 §4.1: the longest a host waits, at random, before it fetches the Additional Information: 2^(Delay × 2)
    /// milliseconds from the PvD Option's Delay field (so that hosts do not all ask at once).
    /// </summary>
    public TimeSpan MaxFetchDelay { get; init; }

    /// <summary>The L-flag: the PvD also holds the link's DHCPv4 configuration.</summary>
    public bool Legacy { get; init; }

    /// <summary>The default route through this PvD's routers (Router Lifetime above zero), when there is one.</summary>
    public LearnedRoute? DefaultRoute { get; init; }

    /// <summary>Prefix Information (RFC 4861 §4.6.2), each until its valid lifetime ends.</summary>
    public IReadOnlyList<LearnedValue<IPNetwork>> Prefixes { get; init; } = [];

    /// <summary>Route Information (RFC 4191 §2.3).</summary>
    public IReadOnlyList<LearnedRoute> Routes { get; init; } = [];

    /// <summary>Recursive DNS servers (RFC 8106 RDNSS), in the order advertised.</summary>
    public IReadOnlyList<LearnedValue<IPAddress>> DnsServers { get; init; } = [];

    /// <summary>DNS search domains (RFC 8106 DNSSL).</summary>
    public IReadOnlyList<LearnedValue<string>> SearchDomains { get; init; } = [];

    /// <summary>When the last Router Advertisement for this PvD arrived.</summary>
    public DateTimeOffset LastAdvertised { get; init; }

    /// <summary>The PvD Additional Information (RFC 8801 §4), when it was fetched and passed its checks.</summary>
    public PvdAdditionalInformation? AdditionalInformation { get; init; }

    /// <summary>Why the PvD Additional Information is not there, when it was sought and not obtained (the PvD stays usable with the RA's facts).</summary>
    public PvdInformationError? AdditionalInformationError { get; init; }

    /// <summary>The key the PvD is known by on its interface: its ID, or "implicit:" and its first router.</summary>
    public string Key => Id ?? "implicit:" + Routers[0];
}
