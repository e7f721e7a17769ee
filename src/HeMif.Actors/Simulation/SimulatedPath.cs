using System.Net;
using System.Net.Sockets;
using HeMif.Validate;

namespace HeMif.Simulation;

/// <summary>What one IP family does on a simulated interface (<c>docs/scenarios.md</c>).</summary>
public enum FamilyBehavior
{
    /// <summary>Handshakes complete after one round trip.</summary>
    Ok,

    /// <summary>Nothing ever answers: an attempt ends only when it is cancelled (draft §3.1 "WiFi is broken").</summary>
    Blackhole,

    /// <summary>The destination answers with a TCP RST (QUIC: ICMP port unreachable) after one round trip: a hard error.</summary>
    Reject,

    /// <summary>A router half-way answers with ICMP host unreachable after half a round trip: a hard error.</summary>
    Unreachable,

    /// <summary>The interface has no such connectivity (no address, no route): attempts fail at once.</summary>
    Absent,
}

/// <summary>How an interface's DNS resolver answers.</summary>
public enum DnsBehavior
{
    /// <summary>Answers from the scenario's destinations (a host not listed gets NXDOMAIN).</summary>
    Ok,

    /// <summary>Answers SERVFAIL after the DNS delay.</summary>
    Servfail,

    /// <summary>Answers NXDOMAIN after the DNS delay, for every name (draft §7.3: "a response with NXDOMAIN is replied").</summary>
    Nxdomain,

    /// <summary>Never answers; the query times out after <see cref="SimulatedPath.DnsTimeout"/>.</summary>
    Timeout,
}

/// <summary>What UDP/QUIC does on a simulated interface.</summary>
public enum QuicBehavior
{
    /// <summary>QUIC behaves like TCP on the same family.</summary>
    Ok,

    /// <summary>UDP is dropped: QUIC attempts on the interface are blackholed.</summary>
    Blocked,
}

/// <summary>What UDP request/response exchanges (the <c>udp</c> transport, draft §7.1) meet on a simulated interface.</summary>
public enum UdpBehavior
{
    /// <summary>The destination's UDP responder answers each request with the request itself, one round trip later.</summary>
    Ok,

    /// <summary>UDP is dropped on the path (a firewall that drops it): no answer, no error; QUIC is blackholed too.</summary>
    Blocked,

    /// <summary>
    /// Nothing listens on the destination's UDP port: an exchange's try gets ICMP port unreachable one round trip later (a
    /// hard error, draft §7.2).
    /// </summary>
    PortUnreachable,
}

/// <summary>
/// How one simulated interface's path behaves: latency, jitter, loss, per-family verdicts, what its connectivity probe
/// sees, and how its DNS resolver answers. Every default is that of a healthy path with a 50 ms round trip.
/// </summary>
public sealed record SimulatedPath
{
    /// <summary>A healthy path: every property at its default.</summary>
    public static SimulatedPath Default { get; } = new();

    /// <summary>The handshake round-trip time (default 50 ms).</summary>
    public TimeSpan Rtt { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The IPv6 round-trip time, when it differs from <see cref="Rtt"/>.</summary>
    public TimeSpan? Ipv6Rtt { get; init; }

    /// <summary>The IPv4 round-trip time, when it differs from <see cref="Rtt"/>.</summary>
    public TimeSpan? Ipv4Rtt { get; init; }

    /// <summary>Each handshake takes up to this much longer than its round trip, drawn from the scenario's seed.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>The probability (0 to 1) that one SYN or QUIC Initial is lost.</summary>
    public double Loss { get; init; }

    /// <summary>How many SYNs / Initials an attempt sends before it gives up with a soft "timed out" (default 3).</summary>
    public int MaxTries { get; init; } = 3;

    /// <summary>What IPv6 does.</summary>
    public FamilyBehavior Ipv6 { get; init; } = FamilyBehavior.Ok;

    /// <summary>What IPv4 does.</summary>
    public FamilyBehavior Ipv4 { get; init; } = FamilyBehavior.Ok;

    /// <summary>What QUIC does.</summary>
    public QuicBehavior Quic { get; init; } = QuicBehavior.Ok;

    /// <summary>What UDP exchanges meet (the file's <c>"udp"</c>: <c>ok</c>, <c>blocked</c> or <c>portUnreachable</c>).</summary>
    public UdpBehavior Udp { get; init; } = UdpBehavior.Ok;

    /// <summary>Where a captive portal redirects the probe to; when set, the probe finds a captive portal.</summary>
    public Uri? CaptivePortal { get; init; }

    /// <summary>
    /// When set, the resolver is intercepted: every query is answered with these addresses (of the queried family)
    /// instead of the destination's (draft §7.3), and the probe finds the interception.
    /// </summary>
    public IReadOnlyList<IPAddress>? DnsInterception { get; init; }

    /// <summary>The link is down: the probe says so, DNS and attempts fail at once.</summary>
    public bool LinkDown { get; init; }

    /// <summary>
    /// The probe's verdict, when it should differ from what the path would give (for example a path that broke after
    /// validation passed: draft §3.1). Null derives the verdict from the path.
    /// </summary>
    public ValidationState? Probe { get; init; }

    /// <summary>How long a probe that gets no answer waits before it reports no connectivity (default 3 s).</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How the resolver answers.</summary>
    public DnsBehavior Dns { get; init; } = DnsBehavior.Ok;

    /// <summary>How long an A answer (or a DNS error) takes; null means one <see cref="Rtt"/>.</summary>
    public TimeSpan? DnsDelay { get; init; }

    /// <summary>How long an AAAA answer takes; null means the same as <see cref="DnsDelay"/>.</summary>
    public TimeSpan? AaaaDelay { get; init; }

    /// <summary>How long an unanswered query waits before it fails with "timed out" (default 5 s, as resolv.conf).</summary>
    public TimeSpan DnsTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The round trip for <paramref name="family"/>.</summary>
    internal TimeSpan RttFor(AddressFamily family) =>
        (family == AddressFamily.InterNetworkV6 ? Ipv6Rtt : Ipv4Rtt) ?? Rtt;

    /// <summary>What <paramref name="family"/> does.</summary>
    internal FamilyBehavior BehaviorFor(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? Ipv6 : Ipv4;

    /// <summary>How long an answer for <paramref name="family"/> takes.</summary>
    internal TimeSpan DnsDelayFor(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? AaaaDelay ?? DnsDelay ?? Rtt : DnsDelay ?? Rtt;
}
