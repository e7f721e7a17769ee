using HeMif.Interfaces;

namespace HeMif.Filter;

/// <summary>
/// RFC 9622 §6.2 preference levels ("Require", "Prefer", "Avoid", "Prohibit"; "No Preference" is the absence of a
/// rule). Require and Prohibit are the hard set (§4.1): they filter. Prefer and Avoid are soft (§4.2): they sort.
/// </summary>
public enum PreferenceLevel
{
    /// <summary>"Select only protocols/paths providing the property, fail otherwise": interfaces the rule does not match are excluded.</summary>
    Require,

    /// <summary>"Prefer protocols/paths providing the property, proceed otherwise": a bonus in the sort.</summary>
    Prefer,

    /// <summary>"Prefer protocols/paths not having the property, proceed otherwise": a penalty in the sort.</summary>
    Avoid,

    /// <summary>"Select only protocols/paths not having the property, fail otherwise": interfaces the rule matches are excluded.</summary>
    Prohibit,
}

/// <summary>Who stated a rule. §4.1: "When several parameters in the hard set are in conflict, the user's preference should be prioritized."</summary>
public enum RuleSource
{
    /// <summary>§4.1.1 operator policy (ANDSF-like).</summary>
    Operator,

    /// <summary>§4.1.2 user preference.</summary>
    User,

    /// <summary>A fact the library checks on its own (interface down, no address of the destination's family).</summary>
    BuiltIn,

    /// <summary>§4.2.5 common practice (the configured kind order).</summary>
    CommonPractice,

    /// <summary>
    /// A choice made for one request (<see cref="InterfaceChoice"/>): Require and Prohibit only, applied after the
    /// operator and user rules are merged; it narrows the candidates and never lifts a Prohibit.
    /// </summary>
    Request,
}

/// <summary>
/// Interface facts a rule selects on. Every condition given must hold (AND); within a list any entry may match (OR).
/// A rule with no interface condition selects every interface.
/// </summary>
public sealed record InterfaceMatch
{
    /// <summary>Interface kinds, any of.</summary>
    public IReadOnlyList<InterfaceKind>? Kinds { get; init; }

    /// <summary>Interface names, any of (ordinal).</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>PvD IDs, any of (case-insensitive).</summary>
    public IReadOnlyList<string>? PvdIds { get; init; }

    /// <summary>The interface's metered state (stated or from RFC 8801 PvD information).</summary>
    public bool? Metered { get; init; }

    /// <summary>The interface's roaming state.</summary>
    public bool? Roaming { get; init; }

    /// <summary>The interface's constrained (low-data) state.</summary>
    public bool? Constrained { get; init; }

    /// <summary>The interface can carry this IP version.</summary>
    public IpVersion? AddressFamily { get; init; }
}

/// <summary>Request facts that decide whether a rule applies to a request at all. Every condition given must hold.</summary>
public sealed record RequestMatch
{
    /// <summary>Destination host names, any of (exact, case-insensitive).</summary>
    public IReadOnlyList<string>? Hosts { get; init; }

    /// <summary>Destination domain suffixes, any of (label-aligned: "example.com" matches "www.example.com").</summary>
    public IReadOnlyList<string>? DomainSuffixes { get; init; }

    /// <summary>Destination ports, any of.</summary>
    public IReadOnlyList<int>? Ports { get; init; }

    /// <summary>
    /// A transport the request may use (<see cref="Planning.ConnectionRequest.Transports"/>), by name: <c>tcp</c>,
    /// <c>quic</c>, <c>mptcp</c>, or a registered transport of the application's own.
    /// </summary>
    public TransportName? Transport { get; init; }

    /// <summary>The request's expected transfer size is at least this many bytes (an unknown size does not match).</summary>
    public long? MinExpectedBytes { get; init; }

    /// <summary>The request's expected transfer size is at most this many bytes (an unknown size does not match).</summary>
    public long? MaxExpectedBytes { get; init; }

    /// <summary>Traffic classes, any of (case-insensitive), e.g. "background", "interactive".</summary>
    public IReadOnlyList<string>? TrafficClasses { get; init; }
}

/// <summary>
/// A daily time window, half-open: <c>[Start, End)</c>. When <see cref="End"/> is earlier than <see cref="Start"/>
/// the window wraps past midnight. The time of day is read from the decision time's own offset.
/// </summary>
/// <param name="Start">First instant inside the window.</param>
/// <param name="End">First instant after the window.</param>
public readonly record struct TimeWindow(TimeOnly Start, TimeOnly End)
{
    /// <summary>Whether <paramref name="timeOfDay"/> lies inside the window.</summary>
    public bool Contains(TimeOnly timeOfDay) =>
        Start < End ? timeOfDay >= Start && timeOfDay < End : timeOfDay >= Start || timeOfDay < End;
}

/// <summary>
/// §4.1.1 validity conditions, as ANDSF gives them ("validity conditions (e.g. where and when)"). Every condition
/// given must hold; within a list any entry may match. A rule whose conditions do not hold is skipped.
/// </summary>
public sealed record ValidityConditions
{
    /// <summary>Time-of-day windows, any of.</summary>
    public IReadOnlyList<TimeWindow>? TimeOfDay { get; init; }

    /// <summary>The host is (true) or is not (false) roaming: some up interface reports roaming.</summary>
    public bool? Roaming { get; init; }

    /// <summary>Some up Wi-Fi interface is associated with one of these network names (SSIDs).</summary>
    public IReadOnlyList<string>? WifiNetworks { get; init; }

    /// <summary>Some up interface is attached to one of these PvDs.</summary>
    public IReadOnlyList<string>? PvdIds { get; init; }
}

/// <summary>One named policy rule: a level, the interfaces it selects, and when it applies.</summary>
/// <param name="Name">Unique among all rules of a policy; reasons and conflicts name it.</param>
/// <param name="Level">What the rule does to the interfaces it selects.</param>
public sealed record PolicyRule(string Name, PreferenceLevel Level)
{
    /// <summary>The interfaces the rule selects (empty: all).</summary>
    public InterfaceMatch Interface { get; init; } = new();

    /// <summary>The requests the rule applies to (empty: all).</summary>
    public RequestMatch Request { get; init; } = new();

    /// <summary>When the rule is in force (empty: always).</summary>
    public ValidityConditions Validity { get; init; } = new();

    /// <summary>Free text for people, e.g. the user's own words.</summary>
    public string? Description { get; init; }
}

/// <summary>A correction to facts the host reported about an interface, e.g. a phone hotspot seen as Wi-Fi but metered.</summary>
/// <param name="Name">The interface to correct.</param>
public sealed record InterfaceOverride(string Name)
{
    /// <summary>Replaces the kind.</summary>
    public InterfaceKind? Kind { get; init; }

    /// <summary>Replaces the metered flag.</summary>
    public bool? Metered { get; init; }

    /// <summary>Replaces the roaming flag.</summary>
    public bool? Roaming { get; init; }

    /// <summary>Replaces the constrained flag.</summary>
    public bool? Constrained { get; init; }

    /// <summary>Applies the override to matching facts.</summary>
    public InterfaceFacts ApplyTo(InterfaceFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return facts with
        {
            Kind = Kind ?? facts.Kind,
            Metered = Metered ?? facts.Metered,
            Roaming = Roaming ?? facts.Roaming,
            Constrained = Constrained ?? facts.Constrained,
        };
    }
}
