namespace HeMif.Continuity;

/// <summary>
/// What happened to the path under a connection HeMif made (draft §7.4, session continuity): the vocabulary of Apple's
/// viability and better-path handlers and Android's network callbacks, one for TCP, QUIC and MPTCP alike.
/// </summary>
public enum PathEventKind
{
    /// <summary>The connection's path can no longer be expected to carry traffic (see <see cref="PathEventReason"/>).</summary>
    NotViable,

    /// <summary>The path that was not viable is viable again (its interface is up, validated, and has the connection's address).</summary>
    ViableAgain,

    /// <summary>
    /// Under the current policy another interface now ranks first for this destination: a new connection would go over
    /// it (for example Wi-Fi came back while the connection runs on metered cellular). The connection itself still works
    /// unless a <see cref="NotViable"/> said otherwise; moving is the application's choice.
    /// </summary>
    BetterPathAvailable,
}

/// <summary>Why a <see cref="PathEvent"/> was raised.</summary>
public enum PathEventReason
{
    /// <summary>The connection's interface went down (link down, or the host says it is not up).</summary>
    InterfaceDown,

    /// <summary>The connection's interface is gone from the host.</summary>
    InterfaceRemoved,

    /// <summary>The interface lost validation (draft §5.2.1): a captive portal, DNS interception, or no connectivity.</summary>
    ValidationLost,

    /// <summary>The interface no longer has the local address the connection uses (its packets could not come back).</summary>
    LocalAddressLost,

    /// <summary>The interface is up, validated and has the connection's address again.</summary>
    Recovered,

    /// <summary>Another interface, now validated, ranks first under the current policy (<see cref="PathEvent.BetterInterface"/>).</summary>
    HigherRankedInterface,
}

/// <summary>One change of a connection's path.</summary>
/// <param name="Kind">Not viable, viable again, or a better path available.</param>
/// <param name="Reason">Why, as data.</param>
/// <param name="Interface">The connection's own interface.</param>
/// <param name="Detail">Why, in words (the validation verdict, the rule…), for logs and people.</param>
/// <param name="At">When it was noticed, on HeMif's clock.</param>
public sealed record PathEvent(PathEventKind Kind, PathEventReason Reason, string Interface, string Detail, DateTimeOffset At)
{
    /// <summary>For <see cref="PathEventKind.BetterPathAvailable"/>: the interface a new connection would use now.</summary>
    public string? BetterInterface { get; init; }

    /// <summary>One line: what, on which interface, and why.</summary>
    public override string ToString() =>
        BetterInterface is null ? $"{Kind} on {Interface} ({Reason}): {Detail}" : $"{Kind} on {Interface}: {BetterInterface} ({Reason}): {Detail}";
}
