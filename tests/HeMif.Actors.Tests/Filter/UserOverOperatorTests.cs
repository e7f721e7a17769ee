using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// §4.1: "When several parameters in the hard set are in conflict, the user's preference should be prioritized."
/// §5.1: "a demand from users should be normally considered higher priority than from other actors." Every conflict
/// is reported with both rules and the resolution.
/// </summary>
public class UserOverOperatorTests
{
    /// <summary>The operator prohibits the roaming partner's cellular; the user requires cellular: the user wins, rmnet0 stays.</summary>
    [Fact]
    public void A_user_Require_wins_over_an_operator_Prohibit()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular))],
            UserRules = [Rule("user-cellular-only", PreferenceLevel.Require, Kind(InterfaceKind.Cellular))],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal("user-cellular-only", Assert.Single(plan.ExcludedEntry("wlan0").Reasons).Rule.Name);
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal("rmnet0", conflict.Interface);
        Assert.Equal(new RuleReference("user-cellular-only", RuleSource.User, PreferenceLevel.Require), conflict.Winner);
        Assert.Equal(new RuleReference("op-no-cellular", RuleSource.Operator, PreferenceLevel.Prohibit), conflict.Overridden);
        Assert.Contains("rmnet0 stays a candidate", conflict.Resolution, StringComparison.Ordinal);
        Assert.Contains("the user's preference should be prioritized", conflict.Resolution, StringComparison.Ordinal);
    }

    /// <summary>§4.1.2 "No 3/4G while roaming" against an operator that prefers its roaming partner: excluded, conflict reported.</summary>
    [Fact]
    public void The_no_cellular_while_roaming_preference_wins_over_an_operator_Prefer()
    {
        var roaming = Cellular() with { Roaming = true };
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-roaming-partner", PreferenceLevel.Prefer, new InterfaceMatch { Kinds = [InterfaceKind.Cellular], Roaming = true })],
            UserRules = [Rule("no-3g-4g-while-roaming", PreferenceLevel.Prohibit, new InterfaceMatch { Kinds = [InterfaceKind.Cellular] }, validity: new ValidityConditions { Roaming = true })],
        }, [Wifi(), roaming]);

        Assert.Equal(["wlan0"], plan.Order());
        Assert.Equal("no-3g-4g-while-roaming", Assert.Single(plan.ExcludedEntry("rmnet0").Reasons).Rule.Name);
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(("no-3g-4g-while-roaming", "op-roaming-partner"), (conflict.Winner.Name, conflict.Overridden.Name));
        Assert.Contains("rmnet0 is excluded", conflict.Resolution, StringComparison.Ordinal);
    }

    /// <summary>Soft against soft: the operator's Avoid on an interface the user prefers is set aside.</summary>
    [Fact]
    public void A_user_Prefer_sets_aside_an_operator_Avoid_on_the_same_interface()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-avoid-wifi", PreferenceLevel.Avoid, Kind(InterfaceKind.Wifi))],
            UserRules = [Rule("user-prefer-wifi", PreferenceLevel.Prefer, Named("wlan0"))],
        }, [Wifi(), Cellular()]);

        var wlan = plan.Candidates.Single(c => c.Interface == "wlan0");
        Assert.DoesNotContain(wlan.Breakdown, c => c.Subject == "op-avoid-wifi");
        Assert.Contains(wlan.Breakdown, c => c.Subject == "user-prefer-wifi");
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(("user-prefer-wifi", "op-avoid-wifi"), (conflict.Winner.Name, conflict.Overridden.Name));
        Assert.Contains("not penalised", conflict.Resolution, StringComparison.Ordinal);
    }

    /// <summary>An operator Require that does not select an interface the user requires: the user's requirement keeps it.</summary>
    [Fact]
    public void An_operator_Require_cannot_exclude_an_interface_a_user_rule_requires()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-cellular-only", PreferenceLevel.Require, Kind(InterfaceKind.Cellular))],
            UserRules = [Rule("user-home-wifi", PreferenceLevel.Require, Named("wlan0", "rmnet0"))],
        }, [Wifi(), Cellular(), Ethernet()]);

        Assert.Equal(["rmnet0", "wlan0"], plan.Order().Order(StringComparer.Ordinal));
        Assert.Equal(["op-cellular-only", "user-home-wifi"], plan.ExcludedEntry("eth0").Reasons.Select(r => r.Rule.Name));
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(("wlan0", "user-home-wifi", "op-cellular-only"), (conflict.Interface, conflict.Winner.Name, conflict.Overridden.Name));
    }

    /// <summary>Rules of one source are all honoured together (RFC 9622: consistent with all Require and Prohibit); no conflict is invented.</summary>
    [Fact]
    public void Rules_of_one_source_are_all_applied_without_a_conflict()
    {
        var plan = Plan(Operator(
            Rule("wifi-only", PreferenceLevel.Require, Kind(InterfaceKind.Wifi)),
            Rule("no-metered", PreferenceLevel.Prohibit, new InterfaceMatch { Metered = true })), [Wifi() with { Metered = true }, Wifi("wlan1", "192.0.2.11"), Cellular()]);

        Assert.Equal(["wlan1"], plan.Order());
        Assert.Empty(plan.Conflicts);
    }

    /// <summary>When user and operator agree, nothing is reported.</summary>
    [Fact]
    public void Agreeing_rules_are_no_conflict()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-no-roaming", PreferenceLevel.Prohibit, new InterfaceMatch { Roaming = true })],
            UserRules = [Rule("user-no-roaming", PreferenceLevel.Prohibit, new InterfaceMatch { Roaming = true })],
        }, [Wifi(), Cellular() with { Roaming = true }]);

        Assert.Empty(plan.Conflicts);
        Assert.Equal(["op-no-roaming", "user-no-roaming"], plan.ExcludedEntry("rmnet0").Reasons.Select(r => r.Rule.Name));
    }
}
