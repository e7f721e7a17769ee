using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// "Property tests over generated policies: for every pair of sources, the higher source's verdict is never overturned
/// by any combination of the lower source's rules." The sources, highest first: the user (§4.1.2), the operator
/// (§4.1.1), the soft set's facts (§4.2.1–§4.2.5 and history). Lower sources are generated in stacks (up to a dozen
/// operator rules, many alike) so that a sum of points would have overturned the higher source; the oracles below read
/// the rules' text, not the planner's code.
/// </summary>
public class SourcePriorityProperties
{
    internal sealed record Case(InterfaceFacts[] Interfaces, PolicyRule[] User, PolicyRule[] Operator, PathHistory[] History)
    {
        public HeMifPolicy Policy => new() { UserRules = User, OperatorRules = Operator };

        public override string ToString() =>
            $"interfaces: {string.Join("; ", Interfaces.Select(i => $"{i.Name} {i.Kind} m={i.Metered} pvd={i.PvdId}"))}\n" +
            $"user: {string.Join("; ", User.Select(Describe))}\noperator: {string.Join("; ", Operator.Select(Describe))}\n" +
            $"history: {string.Join("; ", History.Select(h => $"{h.Interface} f={h.RecentFailures} rtt={h.SmoothedRtt}"))}";

        private static string Describe(PolicyRule r) => $"{r.Name} {r.Level} kinds=[{string.Join(",", r.Interface.Kinds ?? [])}] names=[{string.Join(",", r.Interface.Names ?? [])}] m={r.Interface.Metered}";
    }

    private static readonly InterfaceKind[] Kinds = [InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Ethernet, InterfaceKind.Vpn];

    private static Gen<InterfaceFacts> Interface(int index) =>
        from kind in Gen.Elements(Kinds)
        from metered in Gen.Elements(true, false)
        from zone in Gen.Elements(false, false, true)
        from dns in Gen.Elements(false, false, true)
        select new InterfaceFacts("if" + index, kind)
        {
            Metered = metered,
            Addresses = [new InterfaceAddress(IPAddress.Parse($"192.0.2.{index + 1}"), 24), new InterfaceAddress(IPAddress.Parse($"2001:db8:{index + 1}::1"), 64)],
            PvdId = zone ? $"pvd{index}.example" : null,
            PvdInfo = zone ? new PvdAdditionalInformation($"pvd{index}.example", Facts.Noon.AddDays(1), []) { DnsZones = ["example.com"] } : null,
            DnsSelection = dns ? [new DnsServerSelection(IPAddress.Parse("192.0.2.53"), RoutePreference.High, ["example.com"])] : [],
        };

    private static Gen<InterfaceMatch> Match(int interfaces) =>
        from way in Gen.Choose(0, 3)
        from kind in Gen.Elements(Kinds)
        from name in Gen.Choose(0, interfaces - 1)
        from metered in Gen.Elements(true, false)
        select way switch
        {
            0 => new InterfaceMatch { Kinds = [kind] },
            1 => new InterfaceMatch { Names = ["if" + name] },
            2 => new InterfaceMatch { Metered = metered },
            _ => new InterfaceMatch(),
        };

    /// <summary>Rules of one source; a run repeats one match so that points stack.</summary>
    private static Gen<PolicyRule[]> Rules(string prefix, int interfaces, int maxRuns, Gen<PreferenceLevel> level) =>
        from runs in Gen.Choose(0, maxRuns)
        from parts in Gen.ArrayOf(
            from l in level
            from m in Match(interfaces)
            from repeat in Gen.Choose(1, 4)
            select (l, m, repeat), runs)
        select parts.SelectMany(p => Enumerable.Repeat(p, p.repeat)).Select((p, i) => new PolicyRule($"{prefix}{i}", p.l) { Interface = p.m }).ToArray();

    private static readonly Gen<PreferenceLevel> AnyLevel = Gen.Elements(PreferenceLevel.Require, PreferenceLevel.Prohibit, PreferenceLevel.Prefer, PreferenceLevel.Avoid, PreferenceLevel.Prefer, PreferenceLevel.Avoid);

    private static readonly Gen<PreferenceLevel> SoftLevel = Gen.Elements(PreferenceLevel.Prefer, PreferenceLevel.Avoid);

    private static Gen<Case> Cases(Gen<PreferenceLevel> userLevels, Gen<PreferenceLevel> operatorLevels) =>
        from n in Gen.Choose(2, 6)
        from interfaces in Gen.CollectToArray(Enumerable.Range(0, n), Interface)
        from user in Rules("user", n, 2, userLevels)
        from op in Rules("op", n, 4, operatorLevels)
        from failures in Gen.ArrayOf(Gen.Choose(0, 5), n)
        from rtts in Gen.ArrayOf(Gen.Elements<int?>(null, 10, 40, 300), n)
        select new Case(interfaces, user, op,
            [.. Enumerable.Range(0, n).Select(i => new PathHistory("if" + i, failures[i], rtts[i] is { } ms ? TimeSpan.FromMilliseconds(ms) : null))]);

    private static ConnectionPlan PlanOf(Case c, HeMifPolicy? policy = null) =>
        new ConnectionPlanner(policy ?? c.Policy).Plan(c.Interfaces, new ConnectionRequest("www.example.com", 443), Facts.Noon, c.History);

    // ---- oracles from the rules' text ----

    private static bool Selects(InterfaceMatch m, InterfaceFacts f) =>
        (m.Kinds is null || m.Kinds.Contains(f.Kind)) && (m.Names is null || m.Names.Contains(f.Name)) && (m.Metered is null || m.Metered == f.Metered);

    private static int Way(PolicyRule r, InterfaceFacts f) => r.Level switch
    {
        PreferenceLevel.Require => Selects(r.Interface, f) ? 1 : -1,
        PreferenceLevel.Prefer => Selects(r.Interface, f) ? 1 : 0,
        _ => Selects(r.Interface, f) ? -1 : 0,
    };

    private static bool IsHard(PolicyRule r) => r.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit;

    /// <summary>Net Prefer minus Avoid of the user's rules on an interface.</summary>
    private static int UserNet(Case c, InterfaceFacts f) => c.User.Where(r => !IsHard(r)).Sum(r => Way(r, f));

    /// <summary>Net Prefer minus Avoid of the operator's rules on an interface, leaving out those a user rule opposes there (§4.1).</summary>
    private static int OperatorNet(Case c, InterfaceFacts f) =>
        c.Operator.Where(r => !IsHard(r) && Way(r, f) != 0 && !c.User.Any(u => Way(u, f) == -Way(r, f))).Sum(r => Way(r, f));

    private static int Position(ConnectionPlan plan, string name) => plan.Candidates.ToList().FindIndex(x => x.Interface == name);

    /// <summary>
    /// User over operator, in the filter: whatever operator rules are added, an interface the user's hard rules exclude
    /// stays excluded, and a candidate that a user Require selects stays a candidate.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property No_operator_rules_overturn_the_users_hard_verdicts()
    {
        return Prop.ForAll(Arb.From(Cases(AnyLevel, AnyLevel)), c =>
        {
            var userOnly = PlanOf(c, new HeMifPolicy { UserRules = c.User });
            var both = PlanOf(c);
            foreach (var f in c.Interfaces)
            {
                var candidateAlone = Position(userOnly, f.Name) >= 0;
                var candidateBoth = Position(both, f.Name) >= 0;
                if (!candidateAlone && candidateBoth)
                {
                    return false; // the operator cannot bring back what the user excluded
                }

                if (candidateAlone && !candidateBoth && c.User.Any(u => u.Level == PreferenceLevel.Require && Way(u, f) > 0))
                {
                    return false; // nor exclude what a user Require keeps
                }
            }

            return true;
        });
    }

    /// <summary>
    /// Operator over the user's preferences, in the filter: a soft user rule never lifts an operator hard rule, so with
    /// only soft user rules the excluded interfaces are exactly those the operator alone excludes, and each interface a
    /// user Prefer was for is reported with the operator rule that stood.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property No_user_preference_lifts_an_operator_hard_rule()
    {
        return Prop.ForAll(Arb.From(Cases(SoftLevel, AnyLevel)), c =>
        {
            var operatorOnly = PlanOf(c, new HeMifPolicy { OperatorRules = c.Operator });
            var both = PlanOf(c);
            if (!operatorOnly.Excluded.Select(e => e.Interface).SequenceEqual(both.Excluded.Select(e => e.Interface)))
            {
                return false;
            }

            foreach (var e in both.Excluded)
            {
                var f = c.Interfaces.Single(i => i.Name == e.Interface);
                foreach (var u in c.User.Where(u => Way(u, f) > 0))
                {
                    if (!both.Conflicts.Any(x => x.Kind == PolicyConflictKind.HardRuleStands && x.Interface == f.Name && x.Overridden.Name == u.Name))
                    {
                        return false;
                    }
                }
            }

            return true;
        });
    }

    /// <summary>
    /// User over operator, in the sort: when the user's preferences favour one candidate over another, it ranks first,
    /// whatever the operator's rules (stacked) say; and when the operator's favoured the other, the plan reports it.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property No_stack_of_operator_rules_outranks_a_user_preference()
    {
        return Prop.ForAll(Arb.From(Cases(SoftLevel, SoftLevel)), c =>
        {
            var plan = PlanOf(c);
            foreach (var a in c.Interfaces)
            {
                foreach (var b in c.Interfaces)
                {
                    if (UserNet(c, a) <= UserNet(c, b))
                    {
                        continue;
                    }

                    int pa = Position(plan, a.Name), pb = Position(plan, b.Name);
                    if (pa < 0 || pb < 0 || pa > pb || plan.Candidates[pa].Rank == plan.Candidates[pb].Rank)
                    {
                        return false;
                    }

                    if (OperatorNet(c, b) > OperatorNet(c, a) &&
                        !plan.Conflicts.Any(x => x.Kind == PolicyConflictKind.Order && x.Winner.Source == RuleSource.User && x.Overridden.Source == RuleSource.Operator))
                    {
                        return false;
                    }
                }
            }

            return true;
        });
    }

    /// <summary>
    /// Operator over the soft set: when the user's preferences are equal and the operator's favour one candidate, it ranks
    /// first whatever PvD, DNS selection, common practice and history (failures, RTT) say.
    /// </summary>
    [Property(MaxTest = 400)]
    public Property No_sum_of_soft_set_facts_outranks_an_operator_preference()
    {
        return Prop.ForAll(Arb.From(Cases(SoftLevel, SoftLevel)), c =>
        {
            var plan = PlanOf(c);
            foreach (var a in c.Interfaces)
            {
                foreach (var b in c.Interfaces)
                {
                    if (UserNet(c, a) != UserNet(c, b) || OperatorNet(c, a) <= OperatorNet(c, b))
                    {
                        continue;
                    }

                    int pa = Position(plan, a.Name), pb = Position(plan, b.Name);
                    if (pa > pb || plan.Candidates[pa].Rank == plan.Candidates[pb].Rank)
                    {
                        return false;
                    }
                }
            }

            return true;
        });
    }

    /// <summary>User over the soft set: a user preference outranks every soft-set fact (with or without operator rules).</summary>
    [Property(MaxTest = 300)]
    public Property No_sum_of_soft_set_facts_outranks_a_user_preference()
    {
        return Prop.ForAll(Arb.From(Cases(SoftLevel, SoftLevel)), c =>
        {
            var plan = PlanOf(c with { Operator = [] });
            return c.Interfaces.All(a => c.Interfaces.All(b =>
                UserNet(c, a) <= UserNet(c, b) || Position(plan, a.Name) < Position(plan, b.Name)));
        });
    }
}
