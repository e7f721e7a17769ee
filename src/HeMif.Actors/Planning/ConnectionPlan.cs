using System.Globalization;
using HeMif.Filter;
using HeMif.Interfaces;

namespace HeMif.Planning;

/// <summary>A reference to the rule (or built-in check, or common practice) behind a reason or a conflict.</summary>
/// <param name="Name">The rule's name; built-in checks are named <c>builtin:…</c>, common practice <c>common-practice:kind-order</c>.</param>
/// <param name="Source">Who stated it.</param>
/// <param name="Level">Its level.</param>
public sealed record RuleReference(string Name, RuleSource Source, PreferenceLevel Level)
{
    /// <inheritdoc/>
    public override string ToString() => Source switch
    {
        RuleSource.Operator => $"operator rule '{Name}' ({Level})",
        RuleSource.User => $"user rule '{Name}' ({Level})",
        RuleSource.BuiltIn => $"built-in check '{Name}' ({Level})",
        RuleSource.Request => $"the request's choice '{Name}' ({Level})",
        _ => $"common practice '{Name}'",
    };
}

/// <summary>Why an interface was excluded by the filter: the rule, its level, and the fact that decided.</summary>
public sealed record ExclusionReason
{
    // The text is written on first use: a decision that nobody explains costs no string building. A rule's reason
    // keeps what its text is written from (the rule, the condition that failed, the facts, the time) in fields rather
    // than in a closure: a closure and its delegate would cost more than the reason itself, once per excluding rule.
    private readonly Func<string>? _describe;
    private readonly CompiledRule? _compiled;
    private readonly InterfaceFacts? _facts;
    private readonly InterfaceCondition _mismatch;
    private readonly DateTimeOffset _now;
    private string? _fact;

    /// <summary>Creates a reason.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="fact">The interface fact that matched a Prohibit, or that failed a Require.</param>
    public ExclusionReason(RuleReference rule, string fact)
    {
        Rule = rule;
        _fact = fact;
    }

    internal ExclusionReason(RuleReference rule, Func<string> describe)
    {
        Rule = rule;
        _describe = describe;
    }

    /// <summary>A policy rule's reason: <paramref name="mismatch"/> is the condition a Require failed, or <see cref="InterfaceCondition.None"/> for a Prohibit that matched.</summary>
    internal ExclusionReason(CompiledRule rule, InterfaceCondition mismatch, InterfaceFacts facts, DateTimeOffset now)
    {
        Rule = rule.Reference;
        _compiled = rule;
        _mismatch = mismatch;
        _facts = facts;
        _now = now;
    }

    /// <summary>The rule (or built-in check).</summary>
    public RuleReference Rule { get; }

    /// <summary>The interface fact that matched a Prohibit, or that failed a Require, in words.</summary>
    public string Fact => _fact ??= _describe is not null ? _describe()
        : _mismatch == InterfaceCondition.None ? _compiled!.DescribeMatch(_facts!)
        : _compiled!.DescribeMismatch(_mismatch, _facts!, _now);

    /// <inheritdoc/>
    public bool Equals(ExclusionReason? other) => other is not null && Rule == other.Rule && Fact == other.Fact;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rule, Fact);

    /// <inheritdoc/>
    public override string ToString() => $"{Rule}: {Fact}";
}

/// <summary>An interface the filter removed, with every reason (never just the first).</summary>
/// <param name="Interface">The interface name.</param>
/// <param name="Reasons">All reasons, in rule order.</param>
public sealed record ExcludedInterface(string Interface, IReadOnlyList<ExclusionReason> Reasons)
{
    /// <summary>The interface and every reason: <c>rmnet1: user rule 'no-roaming' (Prohibit): …; …</c>.</summary>
    public override string ToString() => $"{Interface}: {string.Join("; ", Reasons)}";
}

/// <summary>The soft-set factors of §4.2, in the draft's order, plus the two rule sources and history.</summary>
public enum SoftFactor
{
    /// <summary>A §4.1.2 user Prefer/Avoid rule.</summary>
    UserPreference,

    /// <summary>A §4.1.1 operator Prefer/Avoid rule.</summary>
    OperatorPreference,

    /// <summary>§4.2.1 Provisioning Domain identity (RFC 8801 dnsZones, noInternet).</summary>
    PvdIdentity,

    /// <summary>§4.2.2 DNS selection (RFC 6731).</summary>
    DnsSelection,

    /// <summary>§4.2.3 next hop (RFC 4191 route information and preference).</summary>
    NextHop,

    /// <summary>§4.2.4 source address selection (RFC 6724).</summary>
    SourceAddressSelection,

    /// <summary>§4.2.5 common practice (kind order).</summary>
    CommonPractice,

    /// <summary>Recent failures to this destination.</summary>
    RecentFailures,

    /// <summary>Smoothed RTT to this destination.</summary>
    RoundTripTime,
}

/// <summary>One line of a candidate's score breakdown ("why is wlan0 first?").</summary>
/// <param name="Factor">The soft-set factor.</param>
/// <param name="Points">What it added (negative: took away).</param>
/// <param name="Subject">What it was about: a rule name, a DNS zone, a route, an address, a kind.</param>
public sealed record ScoreComponent(SoftFactor Factor, int Points, string Subject)
{
    /// <summary>
    /// Where the fact behind this line came from (a Router Advertisement, the host resolver, the override file, ...), when
    /// the line rests on an interface fact and HeMif learned it rather than being given it (issue 15: "Whatever source a
    /// fact came from is shown ... the plan's explanation"). Null for rules and history, and for facts the application gave.
    /// </summary>
    public FactSource? Source { get; init; }

    /// <summary>
    /// The line as a person reads it, e.g. <c>+3000 §4.2.1 PvD dnsZones match: corp.example.com</c>, with where a learned
    /// fact came from at the end: <c>+1396 §4.2.3 RFC 4191 route: 2001:db8:100::/48 (Medium) (from a Router Advertisement)</c>.
    /// </summary>
    public string Reason => Source is { } source and not FactSource.Configuration
        ? string.Create(CultureInfo.InvariantCulture, $"{Points:+0;-0;0} {Label(Factor)}: {Subject} (from {SourceName(source)})")
        : string.Create(CultureInfo.InvariantCulture, $"{Points:+0;-0;0} {Label(Factor)}: {Subject}");

    private static string SourceName(FactSource s) => s switch
    {
        FactSource.OperatingSystem => "the operating system",
        FactSource.OverrideFile => "the override file",
        FactSource.RouterAdvertisement => "a Router Advertisement",
        FactSource.PvdAdditionalInformation => "PvD Additional Information",
        FactSource.HostResolver => "the host resolver",
        FactSource.SystemdNetworkd => "systemd-networkd",
        _ => "the application",
    };

    private static string Label(SoftFactor f) => f switch
    {
        SoftFactor.UserPreference => "§4.1.2 user rule",
        SoftFactor.OperatorPreference => "§4.1.1 operator rule",
        SoftFactor.PvdIdentity => "§4.2.1 PvD",
        SoftFactor.DnsSelection => "§4.2.2 RFC 6731 DNS selection",
        SoftFactor.NextHop => "§4.2.3 RFC 4191 route",
        SoftFactor.SourceAddressSelection => "§4.2.4 RFC 6724",
        SoftFactor.CommonPractice => "§4.2.5 common practice",
        SoftFactor.RecentFailures => "history: recent failures",
        _ => "history: smoothed RTT",
    };

    /// <inheritdoc/>
    public override string ToString() => Reason;
}

/// <summary>
/// An interface that passed the filter, in sort order. The order compares sources one after the other, never their sum:
/// <see cref="UserPoints"/> first, then <see cref="OperatorPoints"/>, then <see cref="SoftSetPoints"/> (§5.1: "a demand
/// from users should be normally considered higher priority than from other actors"), so no number of operator rules
/// outranks one user rule, and no soft-set fact outranks an operator rule.
/// </summary>
/// <param name="Interface">The interface name.</param>
/// <param name="Rank">1 for the best; candidates equal on all three sources share a rank and start together (§5.2.3).</param>
/// <param name="Score">The sum of <paramref name="Breakdown"/>.</param>
/// <param name="Breakdown">Every soft-set contribution.</param>
public sealed record PlanCandidate(string Interface, int Rank, int Score, IReadOnlyList<ScoreComponent> Breakdown)
{
    /// <summary>The user's Prefer/Avoid points (§4.1.2): compared first.</summary>
    public int UserPoints => Sum(SoftFactor.UserPreference, true);

    /// <summary>The operator's Prefer/Avoid points (§4.1.1): compared when the user's are equal.</summary>
    public int OperatorPoints => Sum(SoftFactor.OperatorPreference, true);

    /// <summary>Every other factor's points (§4.2.1 to §4.2.5, history): compared when both sources' are equal.</summary>
    public int SoftSetPoints => Sum(SoftFactor.UserPreference, false) - OperatorPoints;

    private int Sum(SoftFactor factor, bool only)
    {
        var sum = 0;
        foreach (var c in Breakdown)
        {
            if ((c.Factor == factor) == only)
            {
                sum += c.Points;
            }
        }

        return sum;
    }
}

/// <summary>What kind of disagreement a <see cref="PolicyConflict"/> reports.</summary>
public enum PolicyConflictKind
{
    /// <summary>
    /// In the filter (§5.1), a user rule and an operator rule pointed opposite ways on one interface, and the operator
    /// rule's verdict there was set aside (§4.1: "the user's preference should be prioritized").
    /// </summary>
    Filter,

    /// <summary>
    /// In the filter, an operator hard rule (Require, Prohibit) excluded an interface that a user preference (Prefer)
    /// was for: a preference does not lift a hard rule (§5: the filter is the first step), so the operator rule stands.
    /// </summary>
    HardRuleStands,

    /// <summary>
    /// In the sort (§5.2), a higher source ranked an interface before one that a lower source favoured: the user's
    /// preferences over the operator's, or stated rules over the soft set's facts, whatever their number.
    /// </summary>
    Order,

    /// <summary>§3.2 "Policy Conflict": the first candidate is not the one common practice (§4.2.5) alone would put first.</summary>
    CommonPractice,
}

/// <summary>Two rules that disagreed about an interface, and which one won.</summary>
public sealed record PolicyConflict
{
    private readonly Func<string>? _describe;
    private string? _resolution;

    /// <summary>Creates a conflict record.</summary>
    /// <param name="interface">The interface they disagreed about.</param>
    /// <param name="winner">The rule that was applied.</param>
    /// <param name="overridden">The rule whose verdict on this interface was set aside.</param>
    /// <param name="resolution">What happened, in words.</param>
    public PolicyConflict(string @interface, RuleReference winner, RuleReference overridden, string resolution)
    {
        Interface = @interface;
        Winner = winner;
        Overridden = overridden;
        _resolution = resolution;
    }

    internal PolicyConflict(string @interface, RuleReference winner, RuleReference overridden, Func<string> describe)
    {
        Interface = @interface;
        Winner = winner;
        Overridden = overridden;
        _describe = describe;
    }

    // A user-over-operator conflict keeps the two rules and writes its text on first use, without a closure:
    // conflicts can be numerous (one per rule pair and interface) and most are never read.
    internal PolicyConflict(string @interface, Filter.CompiledRule user, Filter.CompiledRule op, bool userFor, bool operatorStands = false)
    {
        Interface = @interface;
        Winner = operatorStands ? op.Reference : user.Reference;
        Overridden = operatorStands ? user.Reference : op.Reference;
        _user = user;
        _op = op;
        _userFor = userFor;
        _operatorStands = operatorStands;
        Kind = operatorStands ? PolicyConflictKind.HardRuleStands : PolicyConflictKind.Filter;
    }

    private readonly Filter.CompiledRule? _user;
    private readonly Filter.CompiledRule? _op;
    private readonly bool _userFor;
    private readonly bool _operatorStands;

    /// <summary>
    /// The interface they disagreed about: where a verdict was set aside (filter), or the one the winner ranks first
    /// (sort).
    /// </summary>
    public string Interface { get; }

    /// <summary>What kind of disagreement this is.</summary>
    public PolicyConflictKind Kind { get; init; }

    /// <summary>The rule that was applied.</summary>
    public RuleReference Winner { get; }

    /// <summary>The rule whose verdict on this interface was set aside.</summary>
    public RuleReference Overridden { get; }

    /// <summary>What happened, in words.</summary>
    public string Resolution => _resolution ??= _describe is not null ? _describe()
        : _operatorStands ? Filter.HardSetFilter.StandOff(_user!, _op!, Interface)
        : Filter.HardSetFilter.Resolution(_user!, _op!, _userFor, Interface);

    /// <inheritdoc/>
    public bool Equals(PolicyConflict? other) =>
        other is not null && Interface == other.Interface && Kind == other.Kind && Winner == other.Winner && Overridden == other.Overridden &&
        Resolution == other.Resolution;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Interface, Kind, Winner, Overridden, Resolution);
}

/// <summary>
/// The result of filter (§5.1) and sort (§5.2) for one request: the candidates best first, the excluded interfaces
/// with every reason, the conflicts and how they were resolved.
/// </summary>
/// <param name="Candidates">Best first; a total order (ties broken by interface name so the order never depends on input order).</param>
/// <param name="Excluded">Excluded interfaces, by name.</param>
/// <param name="Conflicts">Conflicts, in the order found.</param>
public sealed record ConnectionPlan(IReadOnlyList<PlanCandidate> Candidates, IReadOnlyList<ExcludedInterface> Excluded,
    IReadOnlyList<PolicyConflict> Conflicts)
{
    /// <summary>
    /// True when every candidate has rank 1: §5.2.3 "If there is no specific Soft Set provided, all selected
    /// interfaces should be treated equally", so the race starts them together.
    /// </summary>
    public bool AllEqual => Candidates.Count > 0 && Candidates[^1].Rank == 1;

    /// <summary>
    /// When no interface qualifies: a message naming, for each interface, the rules that excluded it. Null when
    /// there is a candidate. Never a silent fallback onto an excluded interface.
    /// </summary>
    public string? Failure { get; init; }

    /// <summary>
    /// The fallback delay rules (draft §7.2) that apply to this request and its first-ranked interfaces: the first
    /// matching user rule, then the first matching operator rule (each at most once). The race takes each value from the
    /// first of them that states it, after the request's own.
    /// </summary>
    public IReadOnlyList<FallbackDelayRule> FallbackDelayRules { get; init; } = [];

    /// <summary>The policy the plan was made with (the race takes its RFC 6724 table and fallback delay rules from it).</summary>
    internal HeMifPolicy Policy { get; init; } = HeMifPolicy.Empty;
}
