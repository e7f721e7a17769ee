using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// Issue 3: "every conflict is reported with both rules and the resolution" — one conflict per (interface, user rule,
/// operator rule) whose verdicts point in opposite directions, none merged, none dropped, in the order the filter meets
/// them (interfaces by name, then operator rules, then user rules), however the plan stores them internally.
/// </summary>
public class ConflictReportTests
{
    private const string Prioritized = "(§4.1: \"the user's preference should be prioritized\")";

    /// <summary>
    /// Two user rules against two operator rules on one interface, two against one on the other: five conflicts, each
    /// named. The user's Prefer for wlan0 does not count against the operator's Prohibit there: only a user hard rule
    /// lifts an operator hard rule (§5: the filter decides before the sort), and here the user's Require does.
    /// </summary>
    [Fact]
    public void Every_contradicting_rule_pair_is_reported_on_every_interface()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules =
            [
                Rule("op-no-wifi", PreferenceLevel.Prohibit, Kind(InterfaceKind.Wifi)),
                Rule("op-avoid-wifi", PreferenceLevel.Avoid, Kind(InterfaceKind.Wifi)),
                Rule("op-prefer-cellular", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular)),
            ],
            UserRules =
            [
                Rule("user-wifi-only", PreferenceLevel.Require, Kind(InterfaceKind.Wifi)),
                Rule("user-prefer-wlan0", PreferenceLevel.Prefer, Named("wlan0")),
                Rule("user-avoid-cellular", PreferenceLevel.Avoid, Kind(InterfaceKind.Cellular)),
            ],
        }, [Wifi(), Cellular()]);

        Assert.Equal(
        [
            ("rmnet0", "user-wifi-only", "op-prefer-cellular", $"user rule 'user-wifi-only' (Require) wins over operator rule 'op-prefer-cellular' (Prefer) on rmnet0 {Prioritized}: rmnet0 is excluded"),
            ("rmnet0", "user-avoid-cellular", "op-prefer-cellular", $"user rule 'user-avoid-cellular' (Avoid) wins over operator rule 'op-prefer-cellular' (Prefer) on rmnet0 {Prioritized}: rmnet0 gets no bonus from the operator rule"),
            ("wlan0", "user-wifi-only", "op-no-wifi", $"user rule 'user-wifi-only' (Require) wins over operator rule 'op-no-wifi' (Prohibit) on wlan0 {Prioritized}: wlan0 stays a candidate"),
            ("wlan0", "user-wifi-only", "op-avoid-wifi", $"user rule 'user-wifi-only' (Require) wins over operator rule 'op-avoid-wifi' (Avoid) on wlan0 {Prioritized}: wlan0 stays a candidate"),
            ("wlan0", "user-prefer-wlan0", "op-avoid-wifi", $"user rule 'user-prefer-wlan0' (Prefer) wins over operator rule 'op-avoid-wifi' (Avoid) on wlan0 {Prioritized}: wlan0 is not penalised by the operator rule"),
        ], plan.Conflicts.Select(c => (c.Interface, c.Winner.Name, c.Overridden.Name, c.Resolution)));
        Assert.All(plan.Conflicts, c => Assert.Equal((RuleSource.User, RuleSource.Operator), (c.Winner.Source, c.Overridden.Source)));
        Assert.Equal(PreferenceLevel.Require, plan.Conflicts[0].Winner.Level);
        Assert.Equal(PreferenceLevel.Prefer, plan.Conflicts[0].Overridden.Level);
    }

    /// <summary>Reading the conflicts twice, by index or by enumeration, gives the same records.</summary>
    [Fact]
    public void The_conflicts_read_the_same_every_time()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-no-wifi", PreferenceLevel.Prohibit, Kind(InterfaceKind.Wifi)), Rule("op-no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular))],
            UserRules = [Rule("user-wants-all", PreferenceLevel.Require)],
        }, [Wifi(), Cellular()]);

        Assert.Equal(2, plan.Conflicts.Count);
        var enumerated = plan.Conflicts.ToArray();
        Assert.Equal(enumerated.Length, plan.Conflicts.Count);
        for (var i = 0; i < enumerated.Length; i++)
        {
            Assert.Same(enumerated[i], plan.Conflicts[i]);
        }

        Assert.Equal(enumerated, plan.Conflicts.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Conflicts[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.Conflicts[-1]);
    }

    /// <summary>
    /// The benchmark's stress shape (16 interfaces, 30 operator and 20 user rules, all concerning the request, user and
    /// operator contradicting each other on most interfaces): the plan reports exactly the conflicts an oracle written
    /// from the rules' text expects — hundreds of them, with both rules and the resolution each, in order.
    /// </summary>
    [Fact]
    public void Under_many_contradicting_rules_every_conflict_is_reported_with_both_rules_and_the_resolution()
    {
        var kinds = new[] { InterfaceKind.Ethernet, InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Vpn };
        var interfaces = Enumerable.Range(0, 16).Select(i => new InterfaceFacts($"if{i:00}", kinds[i % 4])
        {
            Addresses = i % 3 == 0
                ? [Addr($"192.0.2.{i + 1}")]
                : [Addr($"192.0.2.{i + 1}"), Addr($"2001:db8:{i + 1}::1")],
            PvdId = i % 6 == 0 ? $"pvd{i}.example.net" : null,
            Metered = i % 3 == 1,
            Roaming = i == 6,
            Constrained = i % 7 == 0,
        }).Reverse().ToArray();
        var levels = new[] { PreferenceLevel.Require, PreferenceLevel.Prefer, PreferenceLevel.Avoid, PreferenceLevel.Prohibit };
        InterfaceMatch Match(int i) => (i % 6) switch
        {
            0 => Kind(kinds[i / 6 % 4]),
            1 => new InterfaceMatch { Metered = true },
            2 => Named($"if{i % 16:00}", $"if{(i + 5) % 16:00}"),
            3 => new InterfaceMatch { Kinds = [kinds[(i + 1) % 4], kinds[(i + 2) % 4]], Constrained = i % 4 == 0 ? false : null },
            4 => new InterfaceMatch { AddressFamily = IpVersion.IPv6 },
            _ => new InterfaceMatch { PvdIds = ["pvd0.example.net", "pvd6.example.net"] },
        };
        var policy = new HeMifPolicy
        {
            OperatorRules = Enumerable.Range(0, 30).Select(i => Rule($"op{i:00}", levels[i % 4], Match(i))).ToArray(),
            UserRules = Enumerable.Range(0, 20).Select(j => Rule($"user{j:00}", levels[(j + 2) % 4], Match(j + 3))).ToArray(),
        };

        var plan = Plan(policy, interfaces, new ConnectionRequest("www.example.com", 443) { DestinationAddresses = [IPAddress.Parse("2001:db8:ff::80"), IPAddress.Parse("192.0.2.80")] });

        var expected = ExpectedConflicts(policy, interfaces);
        Assert.True(expected.Count > 200, $"the scenario should be a stress case, but has only {expected.Count} conflicts");
        var actual = plan.Conflicts
            .Where(c => c.Kind is PolicyConflictKind.Filter or PolicyConflictKind.HardRuleStands)
            .Select(c => (c.Interface, c.Winner, c.Overridden, c.Resolution))
            .ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }

        // The other kinds follow the filter's: the sort's order conflicts, then at most one §3.2 common-practice one.
        Assert.All(plan.Conflicts.Skip(actual.Count), c => Assert.True(c.Kind is PolicyConflictKind.Order or PolicyConflictKind.CommonPractice, c.Kind.ToString()));
        Assert.InRange(plan.Conflicts.Count(c => c.Kind == PolicyConflictKind.CommonPractice), 0, 1);
    }

    // ---- an oracle written from the rules' text (§4.1, §5.1), independent of the planner's code ----

    private static List<(string Interface, RuleReference Winner, RuleReference Overridden, string Resolution)> ExpectedConflicts(
        HeMifPolicy policy, IEnumerable<InterfaceFacts> interfaces)
    {
        var expected = new List<(string, RuleReference, RuleReference, string)>();
        foreach (var f in interfaces.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            foreach (var op in policy.OperatorRules)
            {
                var opWay = Way(op, f);
                if (opWay == 0)
                {
                    continue;
                }

                var opHard = op.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit;
                var userHardOpposes = policy.UserRules.Any(u => Way(u, f) == -opWay && u.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit);
                if (opHard && !userHardOpposes)
                {
                    // A user preference never lifts an operator hard rule; one for an interface the rule excludes is reported
                    // with the operator rule standing.
                    if (opWay < 0)
                    {
                        foreach (var user in policy.UserRules.Where(u => Way(u, f) > 0))
                        {
                            expected.Add((f.Name, new RuleReference(op.Name, RuleSource.Operator, op.Level), new RuleReference(user.Name, RuleSource.User, user.Level),
                                $"operator rule '{op.Name}' ({op.Level}) stands over user rule '{user.Name}' ({user.Level}) on {f.Name}: a preference does not lift a " +
                                $"hard rule (§5: the filter is the first step, the sort the second; only a user Require or Prohibit overrides an operator's): {f.Name} is excluded"));
                        }
                    }

                    continue;
                }

                foreach (var user in policy.UserRules.Where(u => Way(u, f) == -opWay && (!opHard || u.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit)))
                {
                    var hard = user.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit;
                    var outcome = Way(user, f) > 0
                        ? hard ? $"{f.Name} stays a candidate" : $"{f.Name} is not penalised by the operator rule"
                        : hard ? $"{f.Name} is excluded" : $"{f.Name} gets no bonus from the operator rule";
                    expected.Add((f.Name, new RuleReference(user.Name, RuleSource.User, user.Level), new RuleReference(op.Name, RuleSource.Operator, op.Level),
                        $"user rule '{user.Name}' ({user.Level}) wins over operator rule '{op.Name}' ({op.Level}) on {f.Name} {Prioritized}: {outcome}"));
                }
            }
        }

        return expected;
    }

    /// <summary>+1: the rule is for the interface (a Require or Prefer that selects it); -1: against it (a Require that does not select it, a Prohibit or Avoid that does); 0: silent.</summary>
    private static int Way(PolicyRule r, InterfaceFacts f)
    {
        var m = r.Interface;
        var selects =
            (m.Kinds is null || m.Kinds.Contains(f.Kind)) &&
            (m.Names is null || m.Names.Contains(f.Name)) &&
            (m.PvdIds is null || (f.PvdId is not null && m.PvdIds.Contains(f.PvdId))) &&
            (m.Metered is null || m.Metered == f.Metered) &&
            (m.Roaming is null || m.Roaming == f.Roaming) &&
            (m.Constrained is null || m.Constrained == f.Constrained) &&
            (m.AddressFamily is null || f.Addresses.Any(a => a.Version == m.AddressFamily));
        return r.Level switch
        {
            PreferenceLevel.Require => selects ? 1 : -1,
            PreferenceLevel.Prefer => selects ? 1 : 0,
            _ => selects ? -1 : 0,
        };
    }
}
