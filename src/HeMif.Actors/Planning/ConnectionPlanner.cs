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
    private readonly (FallbackDelayRule Rule, CompiledRule Match)[] _fallbackRules;
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
        _fallbackRules = CompileFallbackRules(policy.FallbackDelays, names);

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

    /// <summary>
    /// The hard rule that keeps this interface (with the policy's overrides applied) out of every request, in words, or
    /// null when some request could use it (see <see cref="HardSetFilter.ExcludingAlways"/>).
    /// </summary>
    internal string? ExcludesAlways(InterfaceFacts facts, DateTimeOffset now)
    {
        var f = _overrides.TryGetValue(facts.Name, out var o) ? o.ApplyTo(facts) : facts;
        return HardSetFilter.ExcludingAlways(_operatorRules, _userRules, f, now) is { } rule
            ? $"{rule.Source.ToString().ToLowerInvariant()} rule '{rule.Rule.Name}' ({rule.Level}) excludes it from every request"
            : null;
    }

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

    /// <summary>
    /// The fallback delay rules, user rules first (they win, draft §7.2), each with a rule of its conditions to match
    /// with (its level says nothing: only the conditions are read).
    /// </summary>
    private static (FallbackDelayRule, CompiledRule)[] CompileFallbackRules(IReadOnlyList<FallbackDelayRule> rules, HashSet<string> names)
    {
        var compiled = new List<(FallbackDelayRule, CompiledRule)>(rules.Count);
        foreach (var source in new[] { RuleSource.User, RuleSource.Operator })
        {
            for (var i = 0; i < rules.Count; i++)
            {
                var rule = rules[i] ?? throw new ArgumentException($"Fallback delay rule {i} is null.", nameof(rules));
                if (rule.Source is not (RuleSource.User or RuleSource.Operator))
                {
                    throw new ArgumentException($"Fallback delay rule '{rule.Name}' has source {rule.Source}; it must be User or Operator.", nameof(rules));
                }

                if (rule.Source != source)
                {
                    continue;
                }

                if (!names.Add(rule.Name))
                {
                    throw new ArgumentException($"Rule name '{rule.Name}' is used twice; conflicts and reasons name rules, so names must be unique.", nameof(rules));
                }

                if (rule.Settings.Problem() is { } problem)
                {
                    throw new ArgumentException($"Fallback delay rule '{rule.Name}': {problem}.", nameof(rules));
                }

                var conditions = new PolicyRule(rule.Name, PreferenceLevel.Prefer) { Interface = rule.Interface, Request = rule.Request, Validity = rule.Validity };
                compiled.Add((rule, new CompiledRule(conditions, source, i)));
            }
        }

        return [.. compiled];
    }

    /// <summary>The first matching fallback delay rule of each source for the first-ranked candidates (user first).</summary>
    private List<FallbackDelayRule> MatchFallbackRules(InterfaceState[] states, int[] order, ConnectionRequest request, in HostEnvironment env)
    {
        var found = new List<FallbackDelayRule>(2);
        if (order.Length == 0)
        {
            return found;
        }

        var matchedSource = (RuleSource?)null;
        foreach (var (rule, match) in _fallbackRules)
        {
            if (rule.Source == matchedSource || !match.AppliesTo(request, env))
            {
                continue;
            }

            for (var c = 0; c < order.Length && states[order[c]].Key == states[order[0]].Key; c++)
            {
                if (match.FirstMismatch(states[order[c]].Facts, env.Now) == InterfaceCondition.None)
                {
                    found.Add(rule);
                    matchedSource = rule.Source;
                    break;
                }
            }
        }

        return found;
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

        if (request.InterfaceAddresses is { } answers)
        {
            for (var i = 0; i < n; i++)
            {
                states[i].Destinations = answers.TryGetValue(states[i].Facts.Name, out var own) ? [.. own.Select(Rfc6724.ToUInt128)] : [];
            }
        }

        var env = HostEnvironment.Of(facts, now);
        Span<UInt128> destBuffer = stackalloc UInt128[16];
        var destinations = destBuffer[..HardSetFilter.Destinations(request, destBuffer)];

        using var components = new ComponentSink(n * 4);
        using var conflicts = new ConflictLog();
        var requestRules = request.Choice is { IsEmpty: false } choice ? CompileChoice(choice) : [];
        HardSetFilter.Apply(states, _operatorRules, _userRules, requestRules, request, destinations, env, components, conflicts);
        SoftSetRanker.Score(states, request, destinations, history, Policy, _kindPoints, now, components);
        return Assemble(states, facts, components.Split(n), conflicts.ToArray(), request, env);
    }

    private ConnectionPlan Assemble(InterfaceState[] states, InterfaceFacts[] facts, ScoreComponent[][] breakdowns, ConflictEntry[] conflicts,
        ConnectionRequest request, in HostEnvironment env)
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
            states[i].Key = SortKey.Of(breakdowns[i]);
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

        // Best key first (user points, then operator points, then the rest of the soft set: SortKey); equal keys keep
        // name order (states are sorted by name). Insertion sort for short lists: stable and no allocation; for long ones
        // (thousands of interfaces) it is quadratic, so a sort made stable by the name order as the last key.
        if (order.Length > 32)
        {
            Array.Sort(order, (x, y) =>
            {
                var c = states[y].Key.CompareTo(states[x].Key);
                return c != 0 ? c : x.CompareTo(y);
            });
        }

        for (var a = 1; a < order.Length && order.Length <= 32; a++)
        {
            var x = order[a];
            var b = a - 1;
            while (b >= 0 && states[order[b]].Key.CompareTo(states[x].Key) < 0)
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
            if (c == 0 || states[order[c]].Key != states[order[c - 1]].Key)
            {
                rank++;
            }

            candidates[c] = new PlanCandidate(states[order[c]].Facts.Name, rank, states[order[c]].Score, breakdowns[order[c]]);
        }

        var commonPractice = CommonPracticeConflict(candidates, states, order, breakdowns);
        var ordering = OrderConflicts(states, order, breakdowns, commonPractice);
        IReadOnlyList<ExcludedInterface> excludedList = excluded is null ? [] : excluded;
        return new ConnectionPlan(candidates, excludedList, new ConflictList(conflicts, facts, _userRules, _operatorRules, ordering, commonPractice))
        {
            Failure = candidateCount == 0 ? HardSetFilter.DescribeFailure(request, excludedList) : null,
            Policy = Policy,
            FallbackDelayRules = _fallbackRules.Length == 0 ? [] : MatchFallbackRules(states, order, request, env),
        };
    }

    /// <summary>
    /// Every place where the sort's order by source (<see cref="SortKey"/>) put a candidate before one that a lower source
    /// preferred: the user's preferences over the operator's (naming each user rule that favours the first and each
    /// operator rule that favours the second), and stated rules over the rest of the soft set (naming each deciding rule
    /// and the soft-set factor that favoured the second most). For each candidate, the comparison is made with the best
    /// ranked candidate above it that the lower source liked less, so the count stays linear in the candidates (times the
    /// rules involved). The §3.2 conflict, when there is one, is not repeated.
    /// </summary>
    private List<PolicyConflict>? OrderConflicts(InterfaceState[] states, int[] order, ScoreComponent[][] breakdowns, PolicyConflict? commonPractice)
    {
        List<PolicyConflict>? found = null;
        if (order.Length < 2)
        {
            return found;
        }

        // Prefix minima, earliest first: their values strictly decrease, so the earliest one below a value is a binary
        // search away. One list per comparison: operator points among candidates with more user points; soft-set points
        // among candidates with a better (user, operator) pair.
        var byOperator = new List<(int Position, int Value)>();
        var bySoftSet = new List<(int Position, int Value)>();
        int userGroupStart = 0, ruleGroupStart = 0;
        for (var j = 0; j < order.Length; j++)
        {
            var key = states[order[j]].Key;
            if (j > 0 && key.User != states[order[j - 1]].Key.User)
            {
                for (var p = userGroupStart; p < j; p++)
                {
                    AddMinimum(byOperator, p, states[order[p]].Key.Operator);
                }

                userGroupStart = j;
            }

            if (j > 0 && (key.User, key.Operator) != (states[order[j - 1]].Key.User, states[order[j - 1]].Key.Operator))
            {
                for (var p = ruleGroupStart; p < j; p++)
                {
                    AddMinimum(bySoftSet, p, states[order[p]].Key.SoftSet);
                }

                ruleGroupStart = j;
            }

            if (EarliestBelow(byOperator, key.Operator) is { } a)
            {
                AddUserOverOperator(ref found, states[order[a]].Facts, breakdowns[order[a]], states[order[j]].Facts, breakdowns[order[j]]);
            }

            if (EarliestBelow(bySoftSet, key.SoftSet) is { } r)
            {
                var above = states[order[r]];
                var userDecides = above.Key.User != key.User;
                AddRuleOverSoftSet(ref found, above.Facts, breakdowns[order[r]], states[order[j]].Facts, breakdowns[order[j]], userDecides, commonPractice);
            }
        }

        return found;

        static void AddMinimum(List<(int Position, int Value)> minima, int position, int value)
        {
            if (minima.Count == 0 || value < minima[^1].Value)
            {
                minima.Add((position, value));
            }
        }

        static int? EarliestBelow(List<(int Position, int Value)> minima, int value)
        {
            int lo = 0, hi = minima.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (minima[mid].Value < value)
                {
                    hi = mid;
                }
                else
                {
                    lo = mid + 1;
                }
            }

            return lo < minima.Count ? minima[lo].Position : null;
        }
    }

    /// <summary>The user rules that favour <paramref name="first"/> over <paramref name="second"/> against the operator rules that favour the second.</summary>
    private void AddUserOverOperator(ref List<PolicyConflict>? found, InterfaceFacts first, ScoreComponent[] firstBreakdown,
        InterfaceFacts second, ScoreComponent[] secondBreakdown)
    {
        foreach (var user in Favouring(_userRules, SoftFactor.UserPreference, firstBreakdown, secondBreakdown))
        {
            foreach (var op in Favouring(_operatorRules, SoftFactor.OperatorPreference, secondBreakdown, firstBreakdown))
            {
                (found ??= []).Add(UserOverOperator(first.Name, second.Name, user, op));
            }
        }

        // The closure is made here, only for a conflict found.
        static PolicyConflict UserOverOperator(string first, string second, RuleReference user, RuleReference op) =>
            new(first, user, op, () =>
                $"{user} ranks {first} before {second}, which {op} favours: the user's preferences come before the operator's, " +
                $"whatever their number (§5.1: \"a demand from users should be normally considered higher priority than from other actors\")")
            {
                Kind = PolicyConflictKind.Order,
            };
    }

    /// <summary>The deciding source's rules that favour <paramref name="first"/>, against the soft-set factor that favours <paramref name="second"/> most.</summary>
    private void AddRuleOverSoftSet(ref List<PolicyConflict>? found, InterfaceFacts first, ScoreComponent[] firstBreakdown, InterfaceFacts second,
        ScoreComponent[] secondBreakdown, bool userDecides, PolicyConflict? commonPractice)
    {
        // The factor outside the rules where the second is furthest ahead of the first.
        SoftFactor? factor = null;
        var lead = 0;
        foreach (var f in SoftSetFactors)
        {
            var d = Points(secondBreakdown, f) - Points(firstBreakdown, f);
            if (d > lead)
            {
                (factor, lead) = (f, d);
            }
        }

        if (factor is not { } favoured)
        {
            return;
        }

        var overridden = favoured == SoftFactor.CommonPractice ? CommonPracticeReference
            : new RuleReference(FactorRuleName(favoured), RuleSource.BuiltIn, PreferenceLevel.Prefer);
        var (rules, own) = userDecides ? (_userRules, SoftFactor.UserPreference) : (_operatorRules, SoftFactor.OperatorPreference);
        foreach (var rule in Favouring(rules, own, firstBreakdown, secondBreakdown))
        {
            if (commonPractice is not null && commonPractice.Interface == first.Name && commonPractice.Winner == rule && commonPractice.Overridden == overridden)
            {
                continue; // already said, as §3.2
            }

            (found ??= []).Add(RuleOverSoftSet(first.Name, second.Name, rule, overridden, lead));
        }

        static PolicyConflict RuleOverSoftSet(string first, string second, RuleReference rule, RuleReference overridden, int lead) =>
            new(first, rule, overridden, () =>
                $"{rule} ranks {first} before {second}, which {Name(overridden)} favours (+{lead}): stated policy comes before the " +
                "soft set's facts, whatever their points (§4.2: the soft set sorts among the interfaces \"which meet the hard set requirements\")")
            {
                Kind = PolicyConflictKind.Order,
            };

        static string Name(RuleReference r) => r.Source == RuleSource.CommonPractice ? "§4.2.5 common practice (kind order)" : r.Name;
    }

    private static readonly SoftFactor[] SoftSetFactors =
    [
        SoftFactor.PvdIdentity, SoftFactor.DnsSelection, SoftFactor.NextHop, SoftFactor.SourceAddressSelection,
        SoftFactor.CommonPractice, SoftFactor.RecentFailures, SoftFactor.RoundTripTime,
    ];

    private static int Points(ScoreComponent[] breakdown, SoftFactor factor)
    {
        var sum = 0;
        foreach (var c in breakdown)
        {
            if (c.Factor == factor)
            {
                sum += c.Points;
            }
        }

        return sum;
    }

    /// <summary>
    /// The rules of one source (their components are <paramref name="factor"/>) that favour the first breakdown over the
    /// second: a Prefer on the first and not on the second, or an Avoid on the second and not on the first. In rule order.
    /// </summary>
    private static IEnumerable<RuleReference> Favouring(CompiledRule[] rules, SoftFactor factor, ScoreComponent[] first, ScoreComponent[] second)
    {
        foreach (var rule in rules)
        {
            if (rule.SoftComponent is not { } component)
            {
                continue;
            }

            bool onFirst = Has(first, factor, rule.Rule.Name), onSecond = Has(second, factor, rule.Rule.Name);
            if (component.Points > 0 ? onFirst && !onSecond : onSecond && !onFirst)
            {
                yield return rule.Reference;
            }
        }

        static bool Has(ScoreComponent[] breakdown, SoftFactor factor, string name)
        {
            foreach (var c in breakdown)
            {
                if (c.Factor == factor && string.Equals(c.Subject, name, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        }
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

        if (favourite < 0 || states[top].Key == states[favourite].Key)
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
                $"{decisive.Reason} outweighs it, so {topFacts.Name} ranks first (§3.2 Policy Conflict)")
            {
                Kind = PolicyConflictKind.CommonPractice,
            };
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
