using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// Invariants of filter and sort over many generated hosts and policies (FsCheck): the filter excludes exactly what
/// the rules and built-in checks exclude (never returns a prohibited interface, never drops one no rule excludes);
/// the sort is total and does not depend on the order interfaces are listed in; adding a Prefer for X never moves X
/// down.
/// </summary>
public class PlanProperties
{
    internal sealed record Case(InterfaceFacts[] Interfaces, HeMifPolicy Policy, int Seed)
    {
        public override string ToString() =>
            $"interfaces: {string.Join("; ", Interfaces.Select(i => $"{i.Name} {i.Kind} up={i.IsUp} m={i.Metered} r={i.Roaming} c={i.Constrained} pvd={i.PvdId} addrs={string.Join(",", i.Addresses.Select(a => a.Address))}"))}\n" +
               $"operator: {string.Join("; ", Policy.OperatorRules.Select(Describe))}\nuser: {string.Join("; ", Policy.UserRules.Select(Describe))}";

        private static string Describe(PolicyRule r) =>
            $"{r.Name} {r.Level} kinds=[{string.Join(",", r.Interface.Kinds ?? [])}] names=[{string.Join(",", r.Interface.Names ?? [])}] m={r.Interface.Metered} r={r.Interface.Roaming} c={r.Interface.Constrained} af={r.Interface.AddressFamily} pvd=[{string.Join(",", r.Interface.PvdIds ?? [])}]";
    }

    private static readonly string[] Pvds = ["a.example", "b.example"];

    private static Gen<bool?> Tri => Gen.Elements<bool?>(null, null, true, false);

    private static Gen<InterfaceFacts> Interface(int index) =>
        from kind in Gen.Elements(InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Ethernet, InterfaceKind.Vpn, InterfaceKind.Other)
        from up in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        from metered in Gen.Elements(true, false)
        from roaming in Gen.Elements(true, false)
        from constrained in Gen.Elements(true, false)
        from family in Gen.Elements(4, 6, 46)
        from pvd in Gen.Elements<string?>(null, "a.example", "b.example")
        select new InterfaceFacts("if" + index, kind)
        {
            IsUp = up,
            Metered = metered,
            Roaming = roaming,
            Constrained = constrained,
            PvdId = pvd,
            Addresses = family switch
            {
                4 => [new InterfaceAddress(IPAddress.Parse($"192.0.2.{index + 1}"), 24)],
                6 => [new InterfaceAddress(IPAddress.Parse($"2001:db8:{index + 1}::1"), 64)],
                _ => [new InterfaceAddress(IPAddress.Parse($"192.0.2.{index + 1}"), 24), new InterfaceAddress(IPAddress.Parse($"2001:db8:{index + 1}::1"), 64)],
            },
        };

    private static Gen<InterfaceMatch> Match(int interfaces) =>
        from kinds in Gen.Elements<InterfaceKind[]?>(null, null, [InterfaceKind.Wifi], [InterfaceKind.Cellular], [InterfaceKind.Wifi, InterfaceKind.Ethernet])
        from name in Gen.Choose(-interfaces, interfaces - 1)
        from metered in Tri
        from roaming in Tri
        from constrained in Tri
        from family in Gen.Elements<IpVersion?>(null, null, IpVersion.IPv4, IpVersion.IPv6)
        from pvd in Gen.Elements<string[]?>(null, null, null, ["a.example"], ["b.example", "a.example"])
        select new InterfaceMatch
        {
            Kinds = kinds,
            Names = name >= 0 ? ["if" + name] : null,
            Metered = metered,
            Roaming = roaming,
            Constrained = constrained,
            AddressFamily = family,
            PvdIds = pvd,
        };

    private static Gen<PolicyRule[]> Rules(string prefix, int interfaces, int max) =>
        from count in Gen.Choose(0, max)
        from levels in Gen.ArrayOf(Gen.Elements(PreferenceLevel.Require, PreferenceLevel.Prefer, PreferenceLevel.Avoid, PreferenceLevel.Prohibit,
            PreferenceLevel.Prefer, PreferenceLevel.Avoid), count)
        from matches in Gen.ArrayOf(Match(interfaces), count)
        select levels.Select((l, i) => new PolicyRule($"{prefix}{i}", l) { Interface = matches[i] }).ToArray();

    private static readonly Gen<Case> Cases =
        from n in Gen.Choose(1, 8)
        from interfaces in Gen.CollectToArray(Enumerable.Range(0, n), Interface)
        from op in Rules("op", n, 5)
        from user in Rules("user", n, 4)
        from kindOrder in Gen.Elements<InterfaceKind[]>([], [InterfaceKind.Ethernet, InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Vpn], [InterfaceKind.Cellular, InterfaceKind.Wifi])
        from seed in Gen.Choose(0, int.MaxValue)
        select new Case(interfaces, new HeMifPolicy { OperatorRules = op, UserRules = user, KindOrder = kindOrder }, seed);

    // ---- an oracle written from the rules' text, independent of the planner's code ----

    private static bool Selects(InterfaceMatch m, InterfaceFacts f) =>
        (m.Kinds is null || m.Kinds.Contains(f.Kind)) &&
        (m.Names is null || m.Names.Contains(f.Name)) &&
        (m.PvdIds is null || (f.PvdId is not null && m.PvdIds.Contains(f.PvdId))) &&
        (m.Metered is null || m.Metered == f.Metered) &&
        (m.Roaming is null || m.Roaming == f.Roaming) &&
        (m.Constrained is null || m.Constrained == f.Constrained) &&
        (m.AddressFamily is null || f.Addresses.Any(a => a.Version == m.AddressFamily));

    private static bool Against(PolicyRule r, InterfaceFacts f) =>
        (r.Level == PreferenceLevel.Require && !Selects(r.Interface, f)) || (r.Level is PreferenceLevel.Prohibit or PreferenceLevel.Avoid && Selects(r.Interface, f));

    private static bool For(PolicyRule r, InterfaceFacts f) => r.Level is PreferenceLevel.Require or PreferenceLevel.Prefer && Selects(r.Interface, f);

    private static bool HardAgainst(PolicyRule r, InterfaceFacts f) => r.Level != PreferenceLevel.Avoid && Against(r, f);

    private static bool ExpectedExcluded(InterfaceFacts f, HeMifPolicy p)
    {
        if (!f.IsUp)
        {
            return true;
        }

        if (p.UserRules.Any(r => HardAgainst(r, f)))
        {
            return true;
        }

        // Operator hard verdicts opposed by a user hard verdict on this interface are set aside (§4.1); a user preference
        // never sets one aside (§5: the filter decides before the sort).
        var userHardFor = p.UserRules.Any(r => r.Level == PreferenceLevel.Require && For(r, f));
        return p.OperatorRules.Any(r => HardAgainst(r, f) && !userHardFor);
    }

    /// <summary>
    /// "the filter never returns an interface that a Prohibit rule matches, nor drops one that no rule excludes": the
    /// excluded set is exactly what the oracle computes, and every operator Prohibit that a candidate escaped is
    /// reported as a conflict a user rule won.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property The_filter_excludes_exactly_what_the_rules_exclude()
    {
        return Prop.ForAll(Arb.From(Cases), c =>
        {
            var plan = new ConnectionPlanner(c.Policy).Plan(c.Interfaces, new ConnectionRequest("www.example.com", 443), Facts.Noon);
            foreach (var f in c.Interfaces)
            {
                var excluded = plan.Excluded.Any(e => e.Interface == f.Name);
                if (excluded != ExpectedExcluded(f, c.Policy))
                {
                    return false;
                }

                if (excluded != plan.Candidates.All(x => x.Interface != f.Name))
                {
                    return false;
                }

                if (!excluded)
                {
                    if (c.Policy.UserRules.Any(r => r.Level == PreferenceLevel.Prohibit && Selects(r.Interface, f)))
                    {
                        return false;
                    }

                    foreach (var r in c.Policy.OperatorRules.Where(r => r.Level == PreferenceLevel.Prohibit && Selects(r.Interface, f)))
                    {
                        if (!plan.Conflicts.Any(x => x.Interface == f.Name && x.Overridden.Name == r.Name && x.Winner.Source == RuleSource.User))
                        {
                            return false;
                        }
                    }
                }
                else if (plan.Excluded.Single(e => e.Interface == f.Name).Reasons.Count == 0)
                {
                    return false;
                }
            }

            return plan.Candidates.Count > 0 ? plan.Failure is null : plan.Failure is not null;
        });
    }

    /// <summary>
    /// The order is total (user points, then operator points, then the soft set, descending; then name) and the same for
    /// any listing order of the interfaces.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property The_sort_is_total_and_stable_under_permutation()
    {
        return Prop.ForAll(Arb.From(Cases), c =>
        {
            var planner = new ConnectionPlanner(c.Policy);
            var request = new ConnectionRequest("www.example.com", 443) { DestinationAddresses = [IPAddress.Parse("192.0.2.200"), IPAddress.Parse("2001:db8:ff::1")] };
            var plan = planner.Plan(c.Interfaces, request, Facts.Noon);
            var shuffled = c.Interfaces.OrderBy(_ => 0).ToArray();
            new Random(c.Seed).Shuffle(shuffled);
            var again = planner.Plan(shuffled, request, Facts.Noon);

            var same = plan.Candidates.Select(x => (x.Interface, x.Rank, x.Score)).SequenceEqual(again.Candidates.Select(x => (x.Interface, x.Rank, x.Score))) &&
                       plan.Excluded.Select(x => x.Interface).SequenceEqual(again.Excluded.Select(x => x.Interface));
            static (int, int, int) Key(PlanCandidate x) => (x.UserPoints, x.OperatorPoints, x.SoftSetPoints);
            var total = plan.Candidates.Zip(plan.Candidates.Skip(1)).All(p =>
                Key(p.First).CompareTo(Key(p.Second)) > 0 ||
                (Key(p.First) == Key(p.Second) && string.CompareOrdinal(p.First.Interface, p.Second.Interface) < 0 && p.First.Rank == p.Second.Rank));
            var ranks = plan.Candidates.Zip(plan.Candidates.Skip(1)).All(p => p.Second.Rank == p.First.Rank + (Key(p.First) == Key(p.Second) ? 0 : 1));
            var sums = plan.Candidates.All(x => x.UserPoints + x.OperatorPoints + x.SoftSetPoints == x.Score);
            return same && total && ranks && sums && (plan.Candidates.Count == 0 || plan.Candidates[0].Rank == 1);
        });
    }

    /// <summary>Adding a Prefer for X (as operator or as user) never moves X down.</summary>
    [Property(MaxTest = 300)]
    public Property Adding_a_Prefer_for_X_never_moves_X_down()
    {
        var gen = from c in Cases
                  from pick in Gen.Choose(0, 7)
                  from asUser in Gen.Elements(true, false)
                  select (c, pick, asUser);
        return Prop.ForAll(Arb.From(gen), t =>
        {
            var (c, pick, asUser) = t;
            var x = c.Interfaces[pick % c.Interfaces.Length].Name;
            var before = new ConnectionPlanner(c.Policy).Plan(c.Interfaces, new ConnectionRequest("www.example.com", 443), Facts.Noon);
            var prefer = new PolicyRule("prefer-" + x, PreferenceLevel.Prefer) { Interface = new InterfaceMatch { Names = [x] } };
            var policy = asUser ? c.Policy with { UserRules = [.. c.Policy.UserRules, prefer] } : c.Policy with { OperatorRules = [.. c.Policy.OperatorRules, prefer] };
            var after = new ConnectionPlanner(policy).Plan(c.Interfaces, new ConnectionRequest("www.example.com", 443), Facts.Noon);

            var oldIndex = before.Candidates.ToList().FindIndex(k => k.Interface == x);
            var newIndex = after.Candidates.ToList().FindIndex(k => k.Interface == x);
            if (oldIndex < 0)
            {
                return newIndex < 0; // X was excluded; a Prefer never brings it back (the filter decides before the sort, §5).
            }

            return newIndex >= 0 && newIndex <= oldIndex && after.Candidates[newIndex].Rank <= before.Candidates[oldIndex].Rank;
        });
    }
}
