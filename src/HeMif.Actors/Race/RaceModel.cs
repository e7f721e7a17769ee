using System.Net;
using System.Net.Sockets;

namespace HeMif.Race;

/// <summary>An attempt's id, issued in order from 0 so a test can name attempt 0, 1, 2.</summary>
internal readonly record struct AttemptId(ulong Value)
{
    public override string ToString() => "#" + Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Why a transport a request asked for is not tried on an interface.</summary>
internal enum TransportSkip
{
    /// <summary>This host cannot open such connections (QUIC without libmsquic): skip, and say so once per race.</summary>
    UnsupportedOnHost,

    /// <summary>A probe or history says UDP/QUIC does not get through on this interface (a transport over UDP): skip, and say so.</summary>
    KnownBlocked,
}

/// <summary>A transport the request asked for that is not tried on one interface, and why.</summary>
internal sealed record SkippedTransport(TransportName Name, TransportSkip Why);

/// <summary>One interface that passed the filter and validation, as the race sees it.</summary>
/// <param name="Interface">Its name (for example <c>wlan0</c>).</param>
/// <param name="Rank">Its position in the sort; equal ranks start together (draft §5.2.3).</param>
/// <param name="IPv6">Whether it can carry IPv6.</param>
/// <param name="IPv4">Whether it can carry IPv4.</param>
/// <param name="SmoothedRtt">Its smoothed handshake RTT to this destination, from the outcome cache.</param>
/// <param name="RecentFailures">How many recent attempts to this destination failed on it.</param>
internal sealed record RaceCandidate(
    string Interface,
    int Rank,
    bool IPv6 = true,
    bool IPv4 = true,
    TimeSpan? SmoothedRtt = null,
    int RecentFailures = 0)
{
    /// <summary>TCP alone: what a request that names no other transport races.</summary>
    public static IReadOnlyList<TransportName> TcpOnly { get; } = [TransportName.Tcp];

    /// <summary>
    /// The transports to try here, in the order the registry gave (HEv3: QUIC before TCP), each to every address; empty
    /// when none of the request's transports can be used here (see <see cref="Skipped"/>).
    /// </summary>
    public IReadOnlyList<TransportName> Transports { get; init; } = TcpOnly;

    /// <summary>The request's transports that are not tried here, and why (said in the timeline).</summary>
    public IReadOnlyList<SkippedTransport> Skipped { get; init; } = [];

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

    /// <summary>The transport to try first for each address because it won last time while the other did not (null: the registry's order, HEv3: QUIC first).</summary>
    public TransportName? PreferredTransport { get; init; }

    /// <summary>What the history says about this interface and destination, for the timeline (null: nothing worth a note).</summary>
    public string? HistoryNote { get; init; }
}

/// <summary>One place to connect to: interface, remote endpoint, transport.</summary>
internal sealed record Endpoint(string Interface, IPEndPoint Remote, TransportName Transport)
{
    public AddressFamily Family => Remote.AddressFamily;

    public override string ToString() => $"{Transport.Value.ToUpperInvariant()} {Remote} on {Interface}";
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
