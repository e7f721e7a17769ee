using System.Net;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Filter;

/// <summary>Per-interface working state shared by the filter and the sort for one decision.</summary>
internal struct InterfaceState
{
    public InterfaceFacts Facts;
    public List<ExclusionReason>? Reasons;
    public int Score;

    /// <summary>The sort's key (user points, operator points, the rest of the soft set), compared in that order.</summary>
    public SortKey Key;

    /// <summary>A Require rule in force selected the interface (§4.2.5 "Vpn last unless required").</summary>
    public bool Required;

    /// <summary>
    /// The interface's own answers for the host (128-bit forms), when the request was resolved per interface before the
    /// sort (<see cref="Sort.RankAfterResolution"/>); null: the request's destinations apply to every interface.
    /// </summary>
    public UInt128[]? Destinations;

    public readonly bool Excluded => Reasons is not null;
}

/// <summary>
/// §5.1 "First Step, Filter": "The merged policies serve as a filter which is iterated across the list of available
/// interfaces. Qualified interfaces are selected and the proceed to the second step."
/// <para>
/// Merging (§5.1: "a demand from users should be normally considered higher priority than from other actors"; §4.1:
/// "When several parameters in the hard set are in conflict, the user's preference should be prioritized"): on each
/// interface every rule in force has a direction — for it (Require that selects it, Prefer) or against it (Require
/// that does not select it, Prohibit, Avoid). When a user rule and an operator rule point in opposite directions on
/// one interface, the operator rule's verdict on that interface is set aside and the conflict is recorded with both
/// rules — except that a soft user rule (Prefer, Avoid) never lifts an operator hard rule (Require, Prohibit): §5 makes
/// the filter and the sort "two steps", and "These hard set parameters will provide a filter which will exclude not
/// qualifying interfaces from any further" steps, so a mere preference, which belongs to the sort, cannot bring back an
/// interface the filter excluded. Only a user hard rule overrides an operator hard rule. Such a stand-off is recorded
/// too, with the operator rule as the one applied. Rules of one source are all honoured together (RFC 9622 §6.2: the
/// outcome must be "consistent with all application requirements expressed using Require and Prohibit").
/// </para>
/// Prefer and Avoid verdicts that survive the merge become score components for the sort.
/// </summary>
internal static class HardSetFilter
{
    /// <summary>Points of one Prefer (Avoid: the negative) per source; user rules weigh more (§4.1.2 over §4.1.1).</summary>
    internal const int UserPreferencePoints = 10_000;

    /// <inheritdoc cref="UserPreferencePoints"/>
    internal const int OperatorPreferencePoints = 5_000;

    private static readonly RuleReference InterfaceDown = new("builtin:interface-down", RuleSource.BuiltIn, PreferenceLevel.Prohibit);
    private static readonly RuleReference NoAddressFamily = new("builtin:address-family", RuleSource.BuiltIn, PreferenceLevel.Require);
    private static readonly RuleReference LoopbackOnly = new("builtin:loopback", RuleSource.BuiltIn, PreferenceLevel.Prohibit);
    private static readonly RuleReference ThisHostOnly = new("builtin:this-host", RuleSource.BuiltIn, PreferenceLevel.Prohibit);
    private static readonly RuleReference OutOfScope = new("builtin:pvd-scope", RuleSource.BuiltIn, PreferenceLevel.Prohibit);

    private enum Direction : byte
    {
        None,
        For,
        Against,
    }

    /// <summary>
    /// Filters <paramref name="states"/> in place: excluded interfaces get their reasons, candidates get the
    /// surviving Prefer/Avoid components appended to <paramref name="components"/>, and every user-over-operator
    /// conflict goes to <paramref name="conflicts"/>.
    /// </summary>
    public static void Apply(Span<InterfaceState> states, CompiledRule[] operatorRules, CompiledRule[] userRules, CompiledRule[] requestRules,
        ConnectionRequest request, ReadOnlySpan<UInt128> destinations, in HostEnvironment env,
        ComponentSink components, ConflictLog conflicts)
    {
        var now = env.Now;
        Span<bool> opApplies = operatorRules.Length <= 256 ? stackalloc bool[operatorRules.Length] : new bool[operatorRules.Length];
        Span<bool> userApplies = userRules.Length <= 256 ? stackalloc bool[userRules.Length] : new bool[userRules.Length];
        for (var r = 0; r < operatorRules.Length; r++)
        {
            opApplies[r] = operatorRules[r].AppliesTo(request, env);
        }

        for (var r = 0; r < userRules.Length; r++)
        {
            userApplies[r] = userRules[r].AppliesTo(request, env);
        }

        // Each user rule's verdict on the interface at hand, worked out once and read by the merge, the conflict
        // records and the user pass alike.
        Span<Direction> userWay = userRules.Length <= 256 ? stackalloc Direction[userRules.Length] : new Direction[userRules.Length];
        Span<InterfaceCondition> userMismatch = userRules.Length <= 256
            ? stackalloc InterfaceCondition[userRules.Length]
            : new InterfaceCondition[userRules.Length];
        var wantsLoopback = WantsLoopback(request.Host, destinations);
        var onlyLoopback = OnlyLoopback(request.Host, destinations);
        for (var i = 0; i < states.Length; i++)
        {
            ref var s = ref states[i];
            var f = s.Facts;
            components.Owner = i;
            var componentStart = components.Count;
            BuiltInChecks(ref s, destinations, wantsLoopback, onlyLoopback);
            ScopeCheck(ref s, request, now);

            // Which way do the user's rules point on this interface, and which way do its hard rules point?
            bool userFor = false, userAgainst = false, userHardFor = false, userHardAgainst = false;
            for (var r = 0; r < userRules.Length; r++)
            {
                userWay[r] = Direction.None;
                userMismatch[r] = InterfaceCondition.None;
                if (userApplies[r])
                {
                    userWay[r] = Verdict(userRules[r], f, now, out userMismatch[r]);
                    userFor |= userWay[r] == Direction.For;
                    userAgainst |= userWay[r] == Direction.Against;
                    userHardFor |= userWay[r] == Direction.For && userRules[r].IsHard;
                    userHardAgainst |= userWay[r] == Direction.Against && userRules[r].IsHard;
                }
            }

            for (var r = 0; r < operatorRules.Length; r++)
            {
                if (!opApplies[r])
                {
                    continue;
                }

                var rule = operatorRules[r];
                var d = Verdict(rule, f, now, out var mismatch);
                if (d == Direction.None)
                {
                    continue;
                }

                if (rule.IsHard)
                {
                    // The filter decides before the sort (§5): only a user hard rule lifts an operator hard rule.
                    if ((d == Direction.For && userHardAgainst) || (d == Direction.Against && userHardFor))
                    {
                        RecordConflicts(i, r, d, userWay, userRules, hardOnly: true, conflicts);
                        continue;
                    }

                    if (d == Direction.Against && userFor)
                    {
                        // A user preference for an interface the operator's hard rule excludes: the exclusion stands.
                        RecordStandOffs(i, r, userWay, userRules, conflicts);
                    }
                }
                else if ((d == Direction.For && userAgainst) || (d == Direction.Against && userFor))
                {
                    RecordConflicts(i, r, d, userWay, userRules, hardOnly: false, conflicts);
                    continue;
                }

                Apply(ref s, rule, d, mismatch, now, components);
            }

            for (var r = 0; r < userRules.Length; r++)
            {
                if (userWay[r] != Direction.None)
                {
                    Apply(ref s, userRules[r], userWay[r], userMismatch[r], now, components);
                }
            }

            // The request's own choice comes after the merge and takes no part in it: its Require excludes the
            // interfaces it does not select and its Prohibit those it does, but selecting an interface never makes up
            // for a policy rule that excluded it (a request cannot lift an operator or user Prohibit).
            for (var r = 0; r < requestRules.Length; r++)
            {
                var way = Verdict(requestRules[r], f, now, out var mismatch);
                if (way != Direction.None)
                {
                    Apply(ref s, requestRules[r], way, mismatch, now, components);
                }
            }

            if (s.Excluded)
            {
                // Soft components of an excluded interface mean nothing; drop them.
                components.Truncate(componentStart);
            }
        }
    }

    /// <summary>
    /// The hard rule that keeps <paramref name="f"/> out of every request whatever it asks, or null when some request
    /// could use it: an unconditional user hard rule against it (nothing lifts a user's hard rule), or an unconditional
    /// operator hard rule against it that no user hard rule (of any condition) could lift. Such an interface is not
    /// examined (its validation state is Excluded): a connectivity check would put packets on an interface the policy forbids.
    /// </summary>
    public static CompiledRule? ExcludingAlways(CompiledRule[] operatorRules, CompiledRule[] userRules, InterfaceFacts f, DateTimeOffset now)
    {
        foreach (var rule in userRules)
        {
            if (rule.IsHard && rule.IsUnconditional && Verdict(rule, f, now, out _) == Direction.Against)
            {
                return rule;
            }
        }

        var liftable = userRules.Any(rule => rule.IsHard && Verdict(rule, f, now, out _) == Direction.For);
        if (liftable)
        {
            return null;
        }

        foreach (var rule in operatorRules)
        {
            if (rule.IsHard && rule.IsUnconditional && Verdict(rule, f, now, out _) == Direction.Against)
            {
                return rule;
            }
        }

        return null;
    }

    private static Direction Verdict(CompiledRule rule, InterfaceFacts f, DateTimeOffset now, out InterfaceCondition mismatch)
    {
        mismatch = rule.FirstMismatch(f, now);
        var selected = mismatch == InterfaceCondition.None;
        return rule.Level switch
        {
            PreferenceLevel.Require => selected ? Direction.For : Direction.Against,
            PreferenceLevel.Prefer => selected ? Direction.For : Direction.None,
            PreferenceLevel.Avoid or PreferenceLevel.Prohibit => selected ? Direction.Against : Direction.None,
            _ => Direction.None,
        };
    }

    private static void Apply(ref InterfaceState s, CompiledRule rule, Direction d, InterfaceCondition mismatch, DateTimeOffset now,
        ComponentSink components)
    {
        switch (rule.Level)
        {
            case PreferenceLevel.Require when d == Direction.Against:
                Exclude(ref s, new ExclusionReason(rule, mismatch, s.Facts, now));
                break;
            case PreferenceLevel.Require:
                s.Required = true;
                break;
            case PreferenceLevel.Prohibit:
                Exclude(ref s, new ExclusionReason(rule, InterfaceCondition.None, s.Facts, now));
                break;
            case PreferenceLevel.Prefer or PreferenceLevel.Avoid:
                components.Add(rule.SoftComponent!);
                break;
        }
    }

    /// <summary>
    /// One entry per user rule that points the other way from operator rule <paramref name="op"/> on interface
    /// <paramref name="index"/> and set its verdict aside (<paramref name="hardOnly"/>: only the user's hard rules can,
    /// the operator rule being hard): the issue asks for every conflict with both rules, so none is merged or dropped.
    /// </summary>
    private static void RecordConflicts(int index, int op, Direction opDirection, ReadOnlySpan<Direction> userWay, CompiledRule[] userRules,
        bool hardOnly, ConflictLog conflicts)
    {
        for (var r = 0; r < userWay.Length; r++)
        {
            if (userWay[r] != Direction.None && userWay[r] != opDirection && (!hardOnly || userRules[r].IsHard))
            {
                conflicts.Add(new ConflictEntry(index, r, op, userWay[r] == Direction.For));
            }
        }
    }

    /// <summary>
    /// One entry per soft user rule that is for interface <paramref name="index"/>, which operator hard rule
    /// <paramref name="op"/> excludes: the exclusion stands (a preference does not lift a hard rule), and the report
    /// says so, naming both rules.
    /// </summary>
    private static void RecordStandOffs(int index, int op, ReadOnlySpan<Direction> userWay, CompiledRule[] userRules, ConflictLog conflicts)
    {
        for (var r = 0; r < userWay.Length; r++)
        {
            if (userWay[r] == Direction.For && !userRules[r].IsHard)
            {
                conflicts.Add(new ConflictEntry(index, r, op, UserFor: true) { OperatorStands = true });
            }
        }
    }

    /// <summary>The words for a user-over-operator conflict (written when someone reads them).</summary>
    internal static string Resolution(CompiledRule user, CompiledRule op, bool userFor, string name)
    {
        var outcome = userFor
            ? user.IsHard ? $"{name} stays a candidate" : $"{name} is not penalised by the operator rule"
            : user.IsHard ? $"{name} is excluded" : $"{name} gets no bonus from the operator rule";
        return $"user rule '{user.Rule.Name}' ({user.Level}) wins over operator rule '{op.Rule.Name}' ({op.Level}) on {name} " +
               $"(§4.1: \"the user's preference should be prioritized\"): {outcome}";
    }

    /// <summary>The words for an operator hard rule that a user preference could not lift (written when someone reads them).</summary>
    internal static string StandOff(CompiledRule user, CompiledRule op, string name) =>
        $"operator rule '{op.Rule.Name}' ({op.Level}) stands over user rule '{user.Rule.Name}' ({user.Level}) on {name}: a preference " +
        $"does not lift a hard rule (§5: the filter is the first step, the sort the second; only a user Require or Prohibit " +
        $"overrides an operator's): {name} is excluded";

    private static void BuiltInChecks(ref InterfaceState s, ReadOnlySpan<UInt128> destinations, bool wantsLoopback, bool onlyLoopback)
    {
        var f = s.Facts;
        if (!f.IsUp)
        {
            Exclude(ref s, IsDown(f));
        }

        if (f.Kind == InterfaceKind.Loopback && !wantsLoopback)
        {
            Exclude(ref s, IsLoopback(f));
        }

        // The mirror rule: packets to this host never leave it, so an attempt over any other interface can only hang.
        if (f.Kind != InterfaceKind.Loopback && onlyLoopback)
        {
            Exclude(ref s, IsNotLoopback(f));
        }

        bool v4 = f.Supports(IpVersion.IPv4), v6 = f.Supports(IpVersion.IPv6);
        if (!v4 && !v6)
        {
            Exclude(ref s, HasNoFamily(f));
            return;
        }

        // §4.1 names "support for IPv4 or IPv6" among the hard-set parameters: with the destination's addresses
        // known, an interface that cannot carry any of their families cannot be used.
        if (destinations.Length > 0)
        {
            bool needV4 = false, needV6 = false;
            foreach (var d in destinations)
            {
                needV4 |= Rfc6724.IsIPv4(d);
                needV6 |= !Rfc6724.IsIPv4(d);
            }

            if (!((needV4 && v4) || (needV6 && v6)))
            {
                var families = needV4 && needV6 ? "IPv4 and IPv6" : needV4 ? "IPv4" : "IPv6";
                Exclude(ref s, LacksFamily(f, families, v4));
            }
        }

        // The texts' closures are made in these functions, only when a check fails: a lambda over a local of
        // BuiltInChecks itself would have its closure allocated on every call, for every interface.
        static ExclusionReason IsDown(InterfaceFacts f) => new(InterfaceDown, () => $"{f.Name} is down");

        static ExclusionReason IsLoopback(InterfaceFacts f) =>
            new(LoopbackOnly, () => $"{f.Name} is a loopback interface and the destination is not this host");

        static ExclusionReason IsNotLoopback(InterfaceFacts f) =>
            new(ThisHostOnly, () => $"the destination is this host, which only the loopback interface reaches, and {f.Name} is not it");

        static ExclusionReason HasNoFamily(InterfaceFacts f) => new(NoAddressFamily, () => $"{f.Name} has neither IPv4 nor IPv6");

        static ExclusionReason LacksFamily(InterfaceFacts f, string families, bool v4) =>
            new(NoAddressFamily, () => $"the destination has only {families} addresses; {f.Name} is {(v4 ? "IPv4" : "IPv6")}-only");
    }

    /// <summary>
    /// An interface that serves only its own scope (a PvD that says noInternet, a split-tunnel VPN: RFC 7556 §5.3,
    /// <see cref="InterfaceScope"/>) takes part only for destinations inside it: its DNS zones, RFC 6731 domains and
    /// prefixes. Anything else would be sent where the network said it cannot go.
    /// </summary>
    private static void ScopeCheck(ref InterfaceState s, ConnectionRequest request, DateTimeOffset now)
    {
        if (s.Excluded || InterfaceScope.Of(s.Facts, now) is not { } scope || scope.Covers(request.Host, request.DestinationAddresses))
        {
            return;
        }

        var f = s.Facts;
        var host = request.Host;
        Exclude(ref s, new ExclusionReason(OutOfScope,
            () => $"{f.Name} serves only its own scope ({scope.Why}): {host} is outside it ({scope.Describe()})"));
    }

    private static bool WantsLoopback(string host, ReadOnlySpan<UInt128> destinations)
    {
        if (string.Equals(host.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var d in destinations)
        {
            if (IsLoopbackAddress(d))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>::1, or 127.0.0.0/8 in its IPv4-mapped form.</summary>
    private static bool IsLoopbackAddress(UInt128 a) => a == UInt128.One || (Rfc6724.IsIPv4(a) && ((uint)(a & 0xFFFF_FFFF) >> 24) == 127);

    /// <summary>Every destination is this host: "localhost", or only loopback addresses (at least one).</summary>
    private static bool OnlyLoopback(string host, ReadOnlySpan<UInt128> destinations)
    {
        if (string.Equals(host.TrimEnd('.'), "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var d in destinations)
        {
            if (!IsLoopbackAddress(d))
            {
                return false;
            }
        }

        return destinations.Length > 0;
    }

    private static void Exclude(ref InterfaceState s, ExclusionReason reason) => (s.Reasons ??= []).Add(reason);

    /// <summary>
    /// The failure text when nothing qualifies: every interface with the rules that excluded it. §5.1 gives no
    /// fallback, and neither does this: the caller gets a failure, not a prohibited interface.
    /// </summary>
    public static string DescribeFailure(ConnectionRequest request, IReadOnlyList<ExcludedInterface> excluded)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("No interface qualifies for ").Append(request.Host).Append(':').Append(request.Port);
        if (excluded.Count == 0)
        {
            sb.Append(": the host has no interfaces.");
            return sb.ToString();
        }

        sb.Append(". ");
        for (var i = 0; i < excluded.Count; i++)
        {
            var e = excluded[i];
            sb.Append(i == 0 ? "" : "; ").Append(e.Interface).Append(" was excluded by ");
            for (var j = 0; j < e.Reasons.Count; j++)
            {
                sb.Append(j == 0 ? "" : " and by ").Append(e.Reasons[j]);
            }
        }

        sb.Append('.');
        return sb.ToString();
    }

    /// <summary>The 128-bit forms of the request's destination addresses (or of the host when it is an IP literal).</summary>
    public static int Destinations(ConnectionRequest request, Span<UInt128> buffer)
    {
        var n = 0;
        for (var iA12 = 0; iA12 < request.DestinationAddresses.Count; iA12++)
        {
            var a = request.DestinationAddresses[iA12];
            if (n < buffer.Length)
            {
                buffer[n++] = Rfc6724.ToUInt128(a);
            }
        }

        if (n == 0 && IPAddress.TryParse(request.Host.AsSpan().TrimStart('[').TrimEnd(']'), out var literal) && buffer.Length > 0)
        {
            buffer[n++] = Rfc6724.ToUInt128(literal);
        }

        return n;
    }
}
