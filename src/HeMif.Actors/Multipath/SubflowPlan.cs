namespace HeMif.Multipath;

/// <summary>
/// How a multipath connection uses the interfaces it may use, after Apple's MPTCP service types (the draft's §7.6:
/// "MPTCP … can be used … to take advantage of multiple interfaces").
/// </summary>
public enum MultipathMode
{
    /// <summary>One primary subflow; every other allowed interface holds a backup subflow, used only when the primary fails.</summary>
    Handover,

    /// <summary>
    /// Lowest latency: the primary is the allowed interface with the lowest known round-trip time; the next one carries
    /// an active subflow (the kernel's scheduler sends on the faster one and switches when it degrades); the rest are backups.
    /// </summary>
    Interactive,

    /// <summary>Every allowed interface carries an active subflow (bandwidth aggregation).</summary>
    Aggregate,
}

/// <summary>What a subflow on one interface is for.</summary>
public enum SubflowRole
{
    /// <summary>The interface the connection is opened on (its first subflow).</summary>
    Primary,

    /// <summary>An additional subflow that carries traffic.</summary>
    Active,

    /// <summary>A backup subflow (MPTCP MP_PRIO backup, RFC 8684 §3.3.8): used only when no active subflow works.</summary>
    Backup,
}

/// <summary>One interface's part in a multipath connection.</summary>
/// <param name="Interface">The interface name.</param>
/// <param name="Role">What its subflow is for.</param>
/// <param name="Reason">Why it got this role, as a person reads it.</param>
public sealed record SubflowAssignment(string Interface, SubflowRole Role, string Reason);

/// <summary>An interface that must carry no subflow, and why.</summary>
/// <param name="Interface">The interface name.</param>
/// <param name="Reason">Why (a prohibiting rule, an avoiding rule, not validated…).</param>
public sealed record SubflowExclusion(string Interface, string Reason);

/// <summary>
/// A subflow suggestion: which interfaces may carry subflows of a connection to <see cref="Host"/>:<see cref="Port"/>,
/// and in which role. Re-issued whenever interface state changes what the answer is (Wi-Fi lost: move to cellular;
/// Wi-Fi back: return).
/// </summary>
/// <param name="Mode">The mode it was planned for.</param>
/// <param name="Host">The destination host.</param>
/// <param name="Port">The destination port.</param>
/// <param name="Subflows">The interfaces that carry subflows, primary first; empty when no interface qualifies.</param>
/// <param name="Excluded">The interfaces that must carry none, with why.</param>
/// <param name="Trigger">What caused this suggestion (the first plan, or the interface change that re-issued it).</param>
public sealed record SubflowPlan(MultipathMode Mode, string Host, int Port, IReadOnlyList<SubflowAssignment> Subflows,
    IReadOnlyList<SubflowExclusion> Excluded, string Trigger)
{
    /// <summary>The primary subflow's interface, or null when no interface qualifies.</summary>
    public SubflowAssignment? Primary => Subflows.FirstOrDefault(s => s.Role == SubflowRole.Primary);

    /// <summary>Whether two suggestions give every interface the same role (reasons and trigger aside).</summary>
    public bool SameAssignmentsAs(SubflowPlan other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Mode == other.Mode && Subflows.Select(s => (s.Interface, s.Role)).SequenceEqual(other.Subflows.Select(s => (s.Interface, s.Role)));
    }
}
