using System.Net;
using System.Net.Sockets;
using HeMif.Filter;

namespace HeMif.Race;

/// <summary>An attempt's id, issued in order from 0 so a test can name attempt 0, 1, 2.</summary>
internal readonly record struct AttemptId(ulong Value)
{
    public override string ToString() => "#" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>How an attempt failed, as the planner needs to know it.</summary>
internal enum AttemptFailureKind
{
    /// <summary>
    /// A hard error: TCP RST, ICMP unreachable / prohibited. Draft §7.2: "a hard error [RFC1122] in replied ICMP
    /// could serve as a trigger for the fallback process."
    /// </summary>
    Hard,

    /// <summary>No answer, an ICMP soft error, a timeout: the path may just be slow.</summary>
    Soft,
}

/// <summary>What the QUIC path is known to do on one interface.</summary>
internal enum QuicAvailability
{
    /// <summary>QUIC is not wanted for this request.</summary>
    NotRequested,

    /// <summary>QUIC may be tried.</summary>
    Allowed,

    /// <summary>This host cannot open QUIC connections (no libmsquic): skip, and say so once.</summary>
    UnsupportedOnHost,

    /// <summary>A probe or history says UDP/QUIC does not get through on this interface: skip, and say so.</summary>
    KnownBlocked,
}

/// <summary>One interface that passed the filter and validation, as the race sees it.</summary>
/// <param name="Interface">Its name (for example <c>wlan0</c>).</param>
/// <param name="Rank">Its position in the sort; equal ranks start together (draft §5.2.3).</param>
/// <param name="IPv6">Whether it can carry IPv6.</param>
/// <param name="IPv4">Whether it can carry IPv4.</param>
/// <param name="Quic">What QUIC may do here.</param>
/// <param name="SmoothedRtt">Its smoothed handshake RTT to this destination, from the outcome cache.</param>
/// <param name="RecentFailures">How many recent attempts to this destination failed on it.</param>
/// <param name="Tcp">Whether TCP may be tried (false: the request wants QUIC only).</param>
internal sealed record RaceCandidate(
    string Interface,
    int Rank,
    bool IPv6 = true,
    bool IPv4 = true,
    QuicAvailability Quic = QuicAvailability.NotRequested,
    TimeSpan? SmoothedRtt = null,
    int RecentFailures = 0,
    bool Tcp = true)
{
    /// <summary>
    /// Traffic on it may be chargeable (metered or roaming): draft §7.2, "Aggressive timeouts may achieve quick interface
    /// handover, but at the cost of traffic that may be chargeable on certain networks".
    /// </summary>
    public bool Costly { get; init; }

    /// <summary>Its RFC 6298 retransmission timeout to this destination, measured (null: unknown, the initial 1 s applies).</summary>
    public TimeSpan? RetransmissionTimeout { get; init; }

    /// <summary>
    /// The address family to try first here because it worked last time while the other did not answer (RFC 8305 §4, the
    /// draft §7.5); null: the usual order (RFC 6724, IPv6 first).
    /// </summary>
    public AddressFamily? PreferredFamily { get; init; }

    /// <summary>The transport to try first for each address because it won last time while the other did not (null: QUIC first, HEv3).</summary>
    public TransportProtocol? PreferredTransport { get; init; }

    /// <summary>What the history says about this interface and destination, for the timeline (null: nothing worth a note).</summary>
    public string? HistoryNote { get; init; }
}

/// <summary>One place to connect to: interface, remote endpoint, transport.</summary>
internal sealed record Endpoint(string Interface, IPEndPoint Remote, TransportProtocol Transport)
{
    public AddressFamily Family => Remote.AddressFamily;

    public override string ToString() => $"{Transport.ToString().ToUpperInvariant()} {Remote} on {Interface}";
}

/// <summary>Facts fed to the planner.</summary>
internal abstract record RaceInput
{
    /// <summary>A resolver answered for one family on one interface (an empty list is a negative answer).</summary>
    public sealed record ResolutionAnswered(string Interface, AddressFamily Family, IReadOnlyList<IPAddress> Addresses) : RaceInput;

    /// <summary>A resolution failed (NXDOMAIN, SERVFAIL, timeout, …); <paramref name="Reason"/> says which.</summary>
    public sealed record ResolutionFailed(string Interface, AddressFamily Family, string Reason) : RaceInput;

    /// <summary>The attempt's handshake completed.</summary>
    public sealed record AttemptSucceeded(AttemptId Id) : RaceInput;

    /// <summary>The attempt failed.</summary>
    public sealed record AttemptFailed(AttemptId Id, AttemptFailureKind Kind, string Reason) : RaceInput;

    /// <summary>The caller gave up.</summary>
    public sealed record Cancelled(string Reason) : RaceInput;

    /// <summary>An interface went down or lost validation mid-race: its attempts are cancelled and it takes no more.</summary>
    public sealed record InterfaceLost(string Interface, string Reason) : RaceInput;
}

/// <summary>Commands from the planner. Outputs come in a fixed priority: cancel, start, note, then wait or finish.</summary>
internal abstract record RaceCommand
{
    /// <summary>Resolve the host for one family through this interface's resolver.</summary>
    public sealed record StartResolution(string Interface, AddressFamily Family) : RaceCommand;

    /// <summary>Start one attempt.</summary>
    public sealed record StartAttempt(AttemptId Id, Endpoint Endpoint) : RaceCommand;

    /// <summary>Cancel an attempt (a loser, or one on an interface that was lost). Its later result is ignored.</summary>
    public sealed record CancelAttempt(AttemptId Id, string Reason) : RaceCommand;

    /// <summary>A decision worth a line in the timeline (fallback taken, QUIC skipped, …).</summary>
    /// <param name="Interface">The interface it is about, if one.</param>
    /// <param name="Text">The line.</param>
    /// <param name="IsFallback">This note starts the other interfaces (the report's <c>Fallback</c>).</param>
    public sealed record Note(string? Interface, string Text, bool IsFallback = false) : RaceCommand;

    /// <summary>Nothing more to do until <paramref name="At"/> (race time): call <c>Poll</c> again then, or on the next input.</summary>
    public sealed record WaitUntil(TimeSpan At) : RaceCommand;

    /// <summary>The race is won by this attempt; every other attempt has been cancelled before this is reported.</summary>
    public sealed record Won(AttemptId Id, Endpoint Endpoint) : RaceCommand;

    /// <summary>The race failed; <paramref name="Reason"/> sums up, the planner's <c>Attempts</c> list every attempt.</summary>
    public sealed record Failed(string Reason) : RaceCommand;
}

/// <summary>How one attempt ended.</summary>
internal enum AttemptOutcome
{
    Running,
    Won,
    Failed,
    Cancelled,
}

/// <summary>One attempt as the race report lists it.</summary>
internal sealed record AttemptRecord(AttemptId Id, Endpoint Endpoint, TimeSpan Started)
{
    public TimeSpan? Ended { get; set; }

    public AttemptOutcome Outcome { get; set; } = AttemptOutcome.Running;

    public string? Error { get; set; }

    public AttemptFailureKind? FailureKind { get; set; }
}
