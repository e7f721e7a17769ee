using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Actors.Tests.Planning;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Validate;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Multipath;

/// <summary>
/// Draft §7.6 (multipath applicability) through the hard and soft sets: which interfaces carry subflows, in which role.
/// Issue 6: "A prohibited, metered-when-avoided or roaming-when-prohibited interface never gets a subflow."
/// </summary>
public sealed class SubflowPlannerTests
{
    private static readonly InterfaceFacts Ethernet = Facts.Ethernet();
    private static readonly InterfaceFacts Wifi = Facts.Wifi();
    private static readonly InterfaceFacts Cellular = Facts.Cellular() with { Metered = true };

    [Fact]
    public void Aggregate_gives_every_validated_allowed_interface_an_active_subflow_behind_the_best_one()
    {
        var plan = PlanFor(MultipathMode.Aggregate, HeMifPolicy.Empty, [Ethernet, Wifi, Cellular]);

        Assert.Equal([("eth0", SubflowRole.Primary), ("wlan0", SubflowRole.Active), ("rmnet0", SubflowRole.Active)], Roles(plan));
        Assert.Empty(plan.Excluded);
        Assert.Equal("eth0", plan.Primary!.Interface);
    }

    [Fact]
    public void Handover_keeps_one_primary_and_makes_every_other_interface_a_backup()
    {
        var plan = PlanFor(MultipathMode.Handover, HeMifPolicy.Empty, [Wifi, Cellular]);

        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)], Roles(plan));
        Assert.Contains("only when the primary fails", plan.Subflows[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Interactive_puts_the_lowest_latency_first_the_next_active_and_the_rest_as_backups()
    {
        var rtts = new Dictionary<string, TimeSpan?> { ["eth0"] = Ms(30), ["wlan0"] = Ms(80), ["rmnet0"] = Ms(12) };
        var plan = PlanFor(MultipathMode.Interactive, HeMifPolicy.Empty, [Ethernet, Wifi, Cellular], rtts: rtts);

        Assert.Equal([("rmnet0", SubflowRole.Primary), ("eth0", SubflowRole.Active), ("wlan0", SubflowRole.Backup)], Roles(plan));
        Assert.Contains("12 ms", plan.Subflows[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Interactive_without_any_RTT_keeps_the_plans_order()
    {
        var plan = PlanFor(MultipathMode.Interactive, HeMifPolicy.Empty, [Wifi, Cellular]);

        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)], Roles(plan));
    }

    [Theory]
    [InlineData(MultipathMode.Handover)]
    [InlineData(MultipathMode.Interactive)]
    [InlineData(MultipathMode.Aggregate)]
    public void A_prohibited_interface_never_gets_a_subflow(MultipathMode mode)
    {
        var policy = User(Rule("no-cellular", PreferenceLevel.Prohibit, Named("rmnet0")));
        var plan = PlanFor(mode, policy, [Wifi, Cellular]);

        Assert.Equal([("wlan0", SubflowRole.Primary)], Roles(plan));
        var excluded = Assert.Single(plan.Excluded);
        Assert.Equal("rmnet0", excluded.Interface);
        Assert.Contains("no-cellular", excluded.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MultipathMode.Handover)]
    [InlineData(MultipathMode.Aggregate)]
    public void A_metered_interface_a_rule_avoids_never_gets_a_subflow(MultipathMode mode)
    {
        var policy = User(Rule("avoid-metered", PreferenceLevel.Avoid, new InterfaceMatch { Metered = true }));
        var plan = PlanFor(mode, policy, [Wifi, Cellular]);

        Assert.Equal([("wlan0", SubflowRole.Primary)], Roles(plan));
        var excluded = Assert.Single(plan.Excluded);
        Assert.Equal("rmnet0", excluded.Interface);
        Assert.Contains("avoided", excluded.Reason, StringComparison.Ordinal);
        Assert.Contains("avoid-metered", excluded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_roaming_interface_an_operator_prohibits_when_roaming_never_gets_a_subflow()
    {
        var policy = Operator(Rule("no-roaming", PreferenceLevel.Prohibit, new InterfaceMatch { Roaming = true }));
        var plan = PlanFor(MultipathMode.Aggregate, policy, [Wifi, Cellular with { Roaming = true }]);

        Assert.Equal([("wlan0", SubflowRole.Primary)], Roles(plan));
        Assert.Contains("no-roaming", Assert.Single(plan.Excluded).Reason, StringComparison.Ordinal);
    }

    /// <summary>§5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'."</summary>
    [Fact]
    public void An_interface_that_is_not_validated_gets_no_subflow_and_says_why()
    {
        var states = new Dictionary<string, ValidationState> { ["wlan0"] = ValidationState.CaptivePortal };
        var plan = PlanFor(MultipathMode.Aggregate, HeMifPolicy.Empty, [Wifi, Cellular], states);

        Assert.Equal([("rmnet0", SubflowRole.Primary)], Roles(plan));
        Assert.Contains("not validated: CaptivePortal", Assert.Single(plan.Excluded).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void When_only_an_avoided_interface_is_left_it_carries_the_connection_but_no_extra_subflow()
    {
        var policy = User(Rule("avoid-metered", PreferenceLevel.Avoid, new InterfaceMatch { Metered = true }));
        var states = new Dictionary<string, ValidationState> { ["wlan0"] = ValidationState.Down };
        var other = Cellular with { Name = "rmnet1", Addresses = [Addr("2001:db8:7::10")] };
        var plan = PlanFor(MultipathMode.Aggregate, policy, [Wifi, Cellular, other], states);

        Assert.Equal([("rmnet0", SubflowRole.Primary)], Roles(plan));
        Assert.Contains("only validated interface left", plan.Subflows[0].Reason, StringComparison.Ordinal);
        Assert.Contains(plan.Excluded, e => e.Interface == "rmnet1" && e.Reason.Contains("avoided", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_validated_means_no_subflow_at_all()
    {
        var states = new Dictionary<string, ValidationState> { ["wlan0"] = ValidationState.Down, ["rmnet0"] = ValidationState.NoConnectivity };
        var plan = PlanFor(MultipathMode.Handover, HeMifPolicy.Empty, [Wifi, Cellular], states);

        Assert.Empty(plan.Subflows);
        Assert.Null(plan.Primary);
        Assert.Equal(["rmnet0", "wlan0"], plan.Excluded.Select(e => e.Interface));
    }

    [Fact]
    public void Same_assignments_ignore_reasons_and_trigger_but_not_roles()
    {
        var a = PlanFor(MultipathMode.Handover, HeMifPolicy.Empty, [Wifi, Cellular]);
        var b = a with { Trigger = "wlan0 is Validated", Subflows = a.Subflows.Select(s => s with { Reason = "other" }).ToList() };
        var c = a with { Subflows = [a.Subflows[1] with { Role = SubflowRole.Primary }] };

        Assert.True(a.SameAssignmentsAs(b));
        Assert.False(a.SameAssignmentsAs(c));
    }

    /// <summary>
    /// Over generated hosts, policies and states: every interface is in exactly one list; at most one primary; a
    /// prohibited, unvalidated or avoided interface never carries a subflow (an avoided one only as the sole primary).
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Property_no_forbidden_interface_ever_carries_a_subflow()
    {
        var kinds = new[] { InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Ethernet, InterfaceKind.Vpn };
        var gen =
            from count in Gen.Choose(1, 5)
            from metered in Gen.ArrayOf(Gen.Elements(true, false), count)
            from kindIndex in Gen.ArrayOf(Gen.Choose(0, kinds.Length - 1), count)
            from state in Gen.ArrayOf(Gen.Elements(ValidationState.Validated, ValidationState.Validated, ValidationState.CaptivePortal, ValidationState.Down), count)
            from rtt in Gen.ArrayOf(Gen.Choose(0, 200), count)
            from prohibit in Gen.Choose(-1, count - 1)
            from avoidMetered in Gen.Elements(true, false)
            from mode in Gen.Elements(MultipathMode.Handover, MultipathMode.Interactive, MultipathMode.Aggregate)
            select (count, metered, kindIndex, state, rtt, prohibit, avoidMetered, mode);

        return Prop.ForAll(Arb.From(gen), c =>
        {
            var facts = Enumerable.Range(0, c.count)
                .Select(i => new InterfaceFacts($"if{i}", kinds[c.kindIndex[i]]) { Addresses = [Addr($"192.0.2.{i + 1}")], Metered = c.metered[i] })
                .ToList();
            var rules = new List<PolicyRule>();
            if (c.prohibit >= 0)
            {
                rules.Add(Rule("prohibit", PreferenceLevel.Prohibit, Named($"if{c.prohibit}")));
            }

            if (c.avoidMetered)
            {
                rules.Add(Rule("avoid-metered", PreferenceLevel.Avoid, new InterfaceMatch { Metered = true }));
            }

            var states = Enumerable.Range(0, c.count).ToDictionary(i => $"if{i}", i => c.state[i]);
            var rtts = Enumerable.Range(0, c.count).ToDictionary(i => $"if{i}", i => c.rtt[i] == 0 ? (TimeSpan?)null : Ms(c.rtt[i]));
            var plan = PlanFor(c.mode, new HeMifPolicy { UserRules = rules }, facts, states, rtts);

            var inSubflows = plan.Subflows.Select(s => s.Interface).ToList();
            var everyoneOnce = inSubflows.Concat(plan.Excluded.Select(e => e.Interface)).Order(StringComparer.Ordinal)
                .SequenceEqual(facts.Select(f => f.Name).Order(StringComparer.Ordinal));
            var onePrimary = plan.Subflows.Count == 0 || plan.Subflows.Count(s => s.Role == SubflowRole.Primary) == 1;
            bool Forbidden(int i) => i == c.prohibit || c.state[i] != ValidationState.Validated;
            var noForbidden = Enumerable.Range(0, c.count).Where(Forbidden).All(i => !inSubflows.Contains($"if{i}"));
            var avoided = Enumerable.Range(0, c.count).Where(i => c.avoidMetered && c.metered[i] && !Forbidden(i)).Select(i => $"if{i}").ToHashSet();
            var avoidedOnlyAsSolePrimary = plan.Subflows.Where(s => avoided.Contains(s.Interface)).All(s => s.Role == SubflowRole.Primary && plan.Subflows.Count == 1);
            return everyoneOnce && onePrimary && noForbidden && avoidedOnlyAsSolePrimary;
        });
    }

    private static SubflowPlan PlanFor(MultipathMode mode, HeMifPolicy policy, IReadOnlyList<InterfaceFacts> interfaces,
        IReadOnlyDictionary<string, ValidationState>? states = null, IReadOnlyDictionary<string, TimeSpan?>? rtts = null)
    {
        var request = Request();
        var connectionPlan = Facts.Plan(policy, interfaces, request);
        var inputs = interfaces.ToDictionary(
            i => i.Name,
            i => new SubflowInput(states?.GetValueOrDefault(i.Name, ValidationState.Validated) ?? ValidationState.Validated, "test", rtts?.GetValueOrDefault(i.Name)));
        return SubflowPlanner.Plan(mode, request, connectionPlan, inputs, "first plan");
    }

    private static (string, SubflowRole)[] Roles(SubflowPlan plan) => plan.Subflows.Select(s => (s.Interface, s.Role)).ToArray();

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);
}
