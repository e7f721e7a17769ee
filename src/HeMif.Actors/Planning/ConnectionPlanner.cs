using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif.Planning;

/// <summary>
/// Computes a <see cref="ConnectionPlan"/>: §5.1 filter (the hard set) then §5.2 sort (the soft set). Pure and
/// deterministic: the same facts, policy, request, history and time give the same plan, whatever order the
/// interfaces come in. Time is an argument, never read from a clock. Thread-safe: the planner holds only the
/// prepared policy.
/// </summary>
public sealed class ConnectionPlanner
{
    private readonly CompiledRule[] _operatorRules;
    private readonly CompiledRule[] _userRules;
    private readonly int[] _kindPoints;
    private readonly Dictionary<string, InterfaceOverride> _overrides;

    /// <summary>Prepares <paramref name="policy"/> for repeated decisions.</summary>
    /// <exception cref="ArgumentException">Two rules share a name, a kind appears twice in the kind order, or two overrides name one interface.</exception>
    public ConnectionPlanner(HeMifPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
        var names = new HashSet<string>(StringComparer.Ordinal);
        _operatorRules = Compile(policy.OperatorRules, RuleSource.Operator, names);
        _userRules = Compile(policy.UserRules, RuleSource.User, names);

        _kindPoints = new int[Enum.GetValues<InterfaceKind>().Length];
        var order = policy.KindOrder;
        for (var p = 0; p < order.Count; p++)
        {
            if (_kindPoints[(int)order[p]] != 0)
            {
                throw new ArgumentException($"Kind {order[p]} appears twice in the kind order.", nameof(policy));
            }

            _kindPoints[(int)order[p]] = SoftSetRanker.KindOrderStep * (order.Count - p);
        }

        _overrides = new Dictionary<string, InterfaceOverride>(StringComparer.Ordinal);
        foreach (var o in policy.InterfaceOverrides)
        {
            if (!_overrides.TryAdd(o.Name, o))
            {
                throw new ArgumentException($"Two interface overrides name '{o.Name}'.", nameof(policy));
            }
        }
    }

    /// <summary>The policy this planner applies.</summary>
    public HeMifPolicy Policy { get; }

    private static CompiledRule[] Compile(IReadOnlyList<PolicyRule> rules, RuleSource source, HashSet<string> names)
    {
        var compiled = new CompiledRule[rules.Count];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i] ?? throw new ArgumentException($"{source} rule {i} is null.", nameof(rules));
            if (!names.Add(rule.Name))
            {
                throw new ArgumentException($"Rule name '{rule.Name}' is used twice; conflicts and reasons name rules, so names must be unique.", nameof(rules));
            }

            compiled[i] = new CompiledRule(rule, source, i);
        }

        return compiled;
    }

    /// <summary>The request's choice as rules of source <see cref="RuleSource.Request"/> (their names are fixed and distinct).</summary>
    private static CompiledRule[] CompileChoice(InterfaceChoice choice)
    {
        var rules = choice.ToRules();
        var compiled = new CompiledRule[rules.Count];
        for (var i = 0; i < rules.Count; i++)
        {
            compiled[i] = new CompiledRule(rules[i], RuleSource.Request, i);
        }

        return compiled;
    }

    /// <summary>Plans one request.</summary>
    /// <param name="interfaces">The host's interfaces (names must be unique).</param>
    /// <param name="request">The request.</param>
    /// <param name="now">The decision time; validity windows and RFC 8801 expiry are read against it.</param>
    /// <param name="history">Recent outcomes to this request's destination, per interface; null when none are known.</param>
    /// <returns>The plan; <see cref="ConnectionPlan.Failure"/> is set when no interface qualifies.</returns>
    /// <exception cref="ArgumentException">An interface or a history entry is null, or two interfaces share a name.</exception>
    public ConnectionPlan Plan(IReadOnlyList<InterfaceFacts> interfaces, ConnectionRequest request, DateTimeOffset now,
        IReadOnlyList<PathHistory>? history = null)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        ArgumentNullException.ThrowIfNull(request);
        var n = interfaces.Count;
        var states = new InterfaceState[n];
        for (var i = 0; i < n; i++)
        {
            var f = interfaces[i] ?? throw new ArgumentException($"Interface {i} is null.", nameof(interfaces));
            states[i].Facts = _overrides.Count > 0 && _overrides.TryGetValue(f.Name, out var o) ? o.ApplyTo(f) : f;
        }

        for (var h = 0; history is not null && h < history.Count; h++)
        {
            if (history[h] is null)
            {
                throw new ArgumentException($"History entry {h} is null.", nameof(history));
            }
        }

        // Work in name order: the plan must not depend on the order the host listed its interfaces in.
        Array.Sort(states, static (a, b) => string.CompareOrdinal(a.Facts.Name, b.Facts.Name));
        for (var i = 1; i < n; i++)
        {
            if (string.Equals(states[i - 1].Facts.Name, states[i].Facts.Name, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Two interfaces are named '{states[i].Facts.Name}'.", nameof(interfaces));
            }
        }

        var facts = new InterfaceFacts[n];
        for (var i = 0; i < n; i++)
        {
            facts[i] = states[i].Facts;
        }

        var env = HostEnvironment.Of(facts, now);
        Span<UInt128> destBuffer = stackalloc UInt128[16];
        var destinations = destBuffer[..HardSetFilter.Destinations(request, destBuffer)];

        using var components = new ComponentSink(n * 4);
        using var conflicts = new ConflictLog();
        var requestRules = request.Choice is { IsEmpty: false } choice ? CompileChoice(choice) : [];
        HardSetFilter.Apply(states, _operatorRules, _userRules, requestRules, request, destinations, env, components, conflicts);
        SoftSetRanker.Score(states, request, destinations, history, Policy, _kindPoints, now, components);
        return Assemble(states, facts, components.Split(n), conflicts.ToArray(), request);
    }

    private ConnectionPlan Assemble(InterfaceState[] states, InterfaceFacts[] facts, ScoreComponent[][] breakdowns, ConflictEntry[] conflicts,
        ConnectionRequest request)
    {
        var candidateCount = 0;
        List<ExcludedInterface>? excluded = null;
        for (var i = 0; i < states.Length; i++)
        {
            if (states[i].Excluded)
            {
                (excluded ??= []).Add(new ExcludedInterface(states[i].Facts.Name, states[i].Reasons!));
                continue;
            }

            var score = 0;
            foreach (var c in breakdowns[i])
            {
                score += c.Points;
            }

            states[i].Score = score;
            candidateCount++;
        }

        var order = new int[candidateCount];
        var k = 0;
        for (var i = 0; i < states.Length; i++)
        {
            if (!states[i].Excluded)
            {
                order[k++] = i;
            }
        }

        // Best score first; equal scores keep name order (states are sorted by name). Insertion sort for short lists:
        // stable and no allocation; for long ones (thousands of interfaces) it is quadratic, so a sort on unique keys.
        if (order.Length > 32)
        {
            var keys = new long[order.Length];
            for (var c = 0; c < order.Length; c++)
            {
                keys[c] = (-(long)states[order[c]].Score << 32) | (uint)order[c]; // best first, then name order
            }

            Array.Sort(keys, order);
        }

        for (var a = 1; a < order.Length && order.Length <= 32; a++)
        {
            var x = order[a];
            var b = a - 1;
            while (b >= 0 && states[order[b]].Score < states[x].Score)
            {
                order[b + 1] = order[b];
                b--;
            }

            order[b + 1] = x;
        }

        var candidates = new PlanCandidate[candidateCount];
        var rank = 0;
        for (var c = 0; c < candidateCount; c++)
        {
            if (c == 0 || states[order[c]].Score != states[order[c - 1]].Score)
            {
                rank++;
            }

            candidates[c] = new PlanCandidate(states[order[c]].Facts.Name, rank, states[order[c]].Score, breakdowns[order[c]]);
        }

        var commonPractice = CommonPracticeConflict(candidates, states, order, breakdowns);
        IReadOnlyList<ExcludedInterface> excludedList = excluded is null ? [] : excluded;
        return new ConnectionPlan(candidates, excludedList, new ConflictList(conflicts, facts, _userRules, _operatorRules, commonPractice))
        {
            Failure = candidateCount == 0 ? HardSetFilter.DescribeFailure(request, excludedList) : null,
        };
    }

    /// <summary>
    /// §3.2 "Policy Conflict": "the combination of source address selection [RFC6724] and preferring the WiFi
    /// interface may cause a problem. ... the 3GPP interface should be chosen even though it could be considered a
    /// suboptimal selection". When the first candidate is not the one common practice alone would put first, the plan
    /// says so: common practice was outweighed, and by what.
    /// </summary>
    private PolicyConflict? CommonPracticeConflict(PlanCandidate[] candidates, InterfaceState[] states, int[] order, ScoreComponent[][] breakdowns)
    {
        if (candidates.Length < 2 || Policy.KindOrder.Count == 0)
        {
            return null;
        }

        var top = order[0];
        var topKind = KindPoints(breakdowns[top]);
        var favourite = -1;
        var favouriteKind = topKind;
        for (var c = 1; c < order.Length; c++)
        {
            var kp = KindPoints(breakdowns[order[c]]);
            if (kp > favouriteKind)
            {
                favourite = order[c];
                favouriteKind = kp;
            }
        }

        if (favourite < 0 || states[top].Score == states[favourite].Score)
        {
            return null;
        }

        // The component of the winner that the loser lacks and that adds the most: what outweighed common practice.
        ScoreComponent? decisive = null;
        foreach (var c in breakdowns[top])
        {
            if (c.Factor != SoftFactor.CommonPractice && c.Points > 0 && !Has(breakdowns[favourite], c) && (decisive is null || c.Points > decisive.Points))
            {
                decisive = c;
            }
        }

        if (decisive is null)
        {
            return null;
        }

        var winner = decisive.Factor switch
        {
            SoftFactor.OperatorPreference => Find(_operatorRules, decisive.Subject),
            SoftFactor.UserPreference => Find(_userRules, decisive.Subject),
            _ => new RuleReference(FactorRuleName(decisive.Factor), RuleSource.BuiltIn, PreferenceLevel.Prefer),
        };
        return Outweighed(states[top].Facts, states[favourite].Facts, winner, decisive);

        // The closure is made here, only when there is a conflict: a lambda over the locals above would have its
        // closure allocated on every call.
        static PolicyConflict Outweighed(InterfaceFacts topFacts, InterfaceFacts favFacts, RuleReference winner, ScoreComponent decisive) =>
            new(topFacts.Name, winner, CommonPracticeReference, () =>
                $"common practice (§4.2.5 kind order) prefers {favFacts.Name} ({favFacts.Kind}) over {topFacts.Name} ({topFacts.Kind}); " +
                $"{decisive.Reason} outweighs it, so {topFacts.Name} ranks first (§3.2 Policy Conflict)");
    }

    private static readonly RuleReference CommonPracticeReference = new("common-practice:kind-order", RuleSource.CommonPractice, PreferenceLevel.Prefer);

    private static string FactorRuleName(SoftFactor f) => f switch
    {
        SoftFactor.PvdIdentity => "§4.2.1 PvD identity",
        SoftFactor.DnsSelection => "§4.2.2 RFC 6731 DNS selection",
        SoftFactor.NextHop => "§4.2.3 RFC 4191 next hop",
        SoftFactor.SourceAddressSelection => "§4.2.4 RFC 6724 source address selection",
        _ => "history",
    };

    private static RuleReference Find(CompiledRule[] rules, string name)
    {
        foreach (var r in rules)
        {
            if (r.Rule.Name == name)
            {
                return r.Reference;
            }
        }

        throw new InvalidOperationException($"No rule named '{name}'.");
    }

    private static bool Has(ScoreComponent[] breakdown, ScoreComponent c)
    {
        foreach (var x in breakdown)
        {
            if (x.Factor == c.Factor && x.Points >= c.Points)
            {
                return true;
            }
        }

        return false;
    }

    private static int KindPoints(ScoreComponent[] breakdown)
    {
        foreach (var c in breakdown)
        {
            if (c.Factor == SoftFactor.CommonPractice)
            {
                return c.Points;
            }
        }

        return 0;
    }
}
