using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Validate;

namespace HeMif.Report;

/// <summary>How a race ended.</summary>
public enum RaceOutcome
{
    /// <summary>One attempt connected; every other was cancelled.</summary>
    Connected,

    /// <summary>Nothing connected: every attempt and exclusion is in the report.</summary>
    Failed,
}

/// <summary>One line of a race's timeline.</summary>
/// <param name="At">Race time: zero when the request started.</param>
/// <param name="Kind">What happened: <c>plan</c>, <c>excluded</c>, <c>resolve</c>, <c>resolved</c>, <c>attempt</c>,
/// <c>attempt-failed</c>, <c>cancel</c>, <c>note</c>, <c>won</c>, <c>failed</c>.</param>
/// <param name="Detail">In words.</param>
/// <param name="Interface">The interface it concerns, if one.</param>
public sealed record RaceEvent(TimeSpan At, string Kind, string Detail, string? Interface = null);

/// <summary>One attempt as the report lists it.</summary>
/// <param name="Id">Attempt number in start order, from 0.</param>
/// <param name="Interface">Where it ran.</param>
/// <param name="Transport"><c>tcp</c>, <c>quic</c>, or <c>mptcp</c> (a TCP attempt over an MPTCP socket, <c>ConnectOptions.Multipath</c>).</param>
/// <param name="Family"><c>ipv6</c> or <c>ipv4</c>.</param>
/// <param name="Remote">The remote endpoint.</param>
/// <param name="Start">Race time it started.</param>
/// <param name="End">Race time it ended (null: still running when the report was made).</param>
/// <param name="Result"><c>won</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="Error">Why it failed or was cancelled.</param>
public sealed record AttemptReport(ulong Id, string Interface, string Transport, string Family, string Remote, TimeSpan Start, TimeSpan? End, string Result, string? Error);

/// <summary>The winning path; <c>Transport</c> as in <see cref="AttemptReport"/>.</summary>
public sealed record WinnerReport(string Interface, InterfaceKind Kind, string Transport, string Family, string Remote);

/// <summary>Where the fallback delay a race used came from (draft §7.2), highest precedence last.</summary>
public enum FallbackDelaySource
{
    /// <summary>HeMif's default (2 s), with no history for the preferred interface.</summary>
    Default,

    /// <summary>Adapted from the preferred interface's history (draft §7.2: "the timeout setting based on past experiences of a particular interface").</summary>
    Adaptive,

    /// <summary>The application's options (<c>HeMif:FallbackDelay</c>, <c>HeMifConnectorOptions.FallbackDelay</c>).</summary>
    Options,

    /// <summary>An operator's fallback delay rule.</summary>
    OperatorRule,

    /// <summary>A user's fallback delay rule.</summary>
    UserRule,

    /// <summary>The request itself (<c>ConnectOptions.FallbackDelay</c>).</summary>
    Request,
}

/// <summary>The timing values the race used.</summary>
/// <param name="FallbackDelay">How long the preferred interfaces had alone, counted from <see cref="FallbackTimerStart"/>.</param>
/// <param name="ConnectionAttemptDelay">The RFC 8305 Connection Attempt Delay.</param>
/// <param name="ResolutionDelay">The RFC 8305 Resolution Delay.</param>
public sealed record RaceTimings(TimeSpan FallbackDelay, TimeSpan ConnectionAttemptDelay, TimeSpan ResolutionDelay)
{
    /// <summary>Where <see cref="FallbackDelay"/> came from.</summary>
    public FallbackDelaySource FallbackDelaySource { get; init; }

    /// <summary>Why that value, in words (the source, and what bounded or adapted it); null when none was given.</summary>
    public string? FallbackDelayReason { get; init; }

    /// <summary>
    /// How long, from <see cref="FallbackTimerStart"/>, metered or roaming interfaces waited before joining, when longer
    /// than <see cref="FallbackDelay"/>: not before the preferred interface's first SYN was retransmitted (RFC 6298 RTO),
    /// draft §7.2: "at the cost of traffic that may be chargeable". Null when they joined with the others.
    /// </summary>
    public TimeSpan? CostlyFallbackDelay { get; init; }

    /// <summary>
    /// When the fallback timer started (race time): at the first attempt on a preferred interface, or at the start of the
    /// request (zero) when its resolution stayed silent for the whole fallback delay or no attempt was made.
    /// </summary>
    public TimeSpan FallbackTimerStart { get; init; }
}

/// <summary>Everything one connection request went through (docs/architecture.md §1, step 7): the decision and its timeline.</summary>
/// <param name="Host">The destination host.</param>
/// <param name="Port">The destination port.</param>
/// <param name="Outcome">Connected or failed.</param>
/// <param name="Winner">The winning path when connected.</param>
/// <param name="TimeToConnect">Race time of the win.</param>
/// <param name="Timings">The delays the race used.</param>
/// <param name="Attempts">Every attempt.</param>
/// <param name="Excluded">Every interface that did not take part, with every reason (policy or validation).</param>
/// <param name="Events">The timeline.</param>
/// <param name="Failure">Why the race failed, when it did.</param>
public sealed record RaceReport(
    string Host,
    int Port,
    RaceOutcome Outcome,
    WinnerReport? Winner,
    TimeSpan? TimeToConnect,
    RaceTimings Timings,
    IReadOnlyList<AttemptReport> Attempts,
    IReadOnlyList<ExcludedInterface> Excluded,
    IReadOnlyList<RaceEvent> Events,
    string? Failure)
{
    /// <summary>
    /// The timeline note that started the other interfaces (draft §5.2.3: the fallback delay passed; §7.2: a hard error;
    /// or the preferred interfaces were lost or had nothing left to try), or null when the preferred interfaces decided
    /// the race alone.
    /// </summary>
    public RaceEvent? Fallback { get; init; }

    /// <summary>
    /// Set when this race moved an existing connection (draft §7.4, session continuity: <c>IHeMifConnector.MoveAsync</c>):
    /// from which interface and remote endpoint, and why. Null for an ordinary race.
    /// </summary>
    public ConnectionMove? Move { get; init; }
}

/// <summary>What a race that moved a connection moved away from, and why (draft §7.4).</summary>
/// <param name="FromInterface">The old connection's interface.</param>
/// <param name="FromRemote">The old connection's remote endpoint.</param>
/// <param name="Reason">Why the application moved it, in its words.</param>
public sealed record ConnectionMove(string FromInterface, string FromRemote, string Reason);

/// <summary>An interface's validation state changed (draft §5.2.1); a caller may re-select on it.</summary>
/// <param name="Interface">The interface.</param>
/// <param name="State">The new state.</param>
/// <param name="Detail">Why, in words.</param>
/// <param name="At">When, on the engine's clock.</param>
public sealed record InterfaceStateChanged(string Interface, ValidationState State, string Detail, DateTimeOffset At);
