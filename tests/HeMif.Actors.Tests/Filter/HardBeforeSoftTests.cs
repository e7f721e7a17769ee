using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// §5: "The first step is to use the Hard Set to synthesize policies from different actors (e.g., users or network
/// operators). These hard set parameters will provide a filter which will exclude not qualifying interfaces from any
/// further" — the filter decides before the sort. A soft user rule (Prefer, Avoid) never lifts an operator hard rule
/// (Require, Prohibit); only a user hard rule does (§4.1: "When several parameters in the hard set are in conflict, the
/// user's preference should be prioritized"), and that conflict is reported as before.
/// </summary>
public class HardBeforeSoftTests
{
    private static readonly PolicyRule BanCafeSsid = Rule("ban-cafe-wifi", PreferenceLevel.Prohibit, Named("wlan0"),
        validity: new ValidityConditions { WifiNetworks = ["HomeNet"] });

    /// <summary>
    /// "today a user's mere Prefer Wi-Fi sets aside an operator's Prohibit on that Wi-Fi (for example a network the
    /// operator bans by SSID), and the interface is used": now the ban stands, Wi-Fi is excluded, and the report names both
    /// rules with the operator's as the one applied.
    /// </summary>
    [Fact]
    public void A_user_Prefer_does_not_lift_an_operator_Prohibit()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [BanCafeSsid],
            UserRules = [Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal("ban-cafe-wifi", Assert.Single(plan.ExcludedEntry("wlan0").Reasons).Rule.Name);
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(PolicyConflictKind.HardRuleStands, conflict.Kind);
        Assert.Equal("wlan0", conflict.Interface);
        Assert.Equal(new RuleReference("ban-cafe-wifi", RuleSource.Operator, PreferenceLevel.Prohibit), conflict.Winner);
        Assert.Equal(new RuleReference("user-prefers-wifi", RuleSource.User, PreferenceLevel.Prefer), conflict.Overridden);
        Assert.Equal(
            "operator rule 'ban-cafe-wifi' (Prohibit) stands over user rule 'user-prefers-wifi' (Prefer) on wlan0: a preference does not lift a " +
            "hard rule (§5: the filter is the first step, the sort the second; only a user Require or Prohibit overrides an operator's): wlan0 is excluded",
            conflict.Resolution);
    }

    /// <summary>An operator Require that does not select the Wi-Fi excludes it too, whatever the user prefers.</summary>
    [Fact]
    public void A_user_Prefer_does_not_lift_an_operator_Require_either()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-cellular-only", PreferenceLevel.Require, Kind(InterfaceKind.Cellular))],
            UserRules = [Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal(("op-cellular-only", "user-prefers-wifi"), (plan.Conflicts.Single().Winner.Name, plan.Conflicts.Single().Overridden.Name));
    }

    /// <summary>"Only a user hard rule overrides an operator hard rule, and that conflict is reported as today."</summary>
    [Fact]
    public void A_user_Require_still_lifts_the_operator_Prohibit_and_the_conflict_names_only_the_hard_rule()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [BanCafeSsid],
            UserRules =
            [
                Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi)),
                Rule("user-wifi-only", PreferenceLevel.Require, Kind(InterfaceKind.Wifi)),
            ],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["wlan0"], plan.Order());
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(PolicyConflictKind.Filter, conflict.Kind);
        Assert.Equal(("user-wifi-only", "ban-cafe-wifi"), (conflict.Winner.Name, conflict.Overridden.Name));
        Assert.EndsWith("wlan0 stays a candidate", conflict.Resolution, StringComparison.Ordinal);
    }

    /// <summary>
    /// A user Avoid on an interface an operator Require selects excludes nothing and sets nothing aside: the interface
    /// stays (the operator's requirement holds) and ranks lower (the user's preference holds). No conflict is invented.
    /// </summary>
    [Fact]
    public void A_user_Avoid_and_an_operator_Require_both_apply()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-no-vpn", PreferenceLevel.Require, Kind(InterfaceKind.Wifi, InterfaceKind.Cellular))],
            UserRules = [Rule("user-avoids-wifi", PreferenceLevel.Avoid, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular(), Vpn()]);

        Assert.Equal(["rmnet0", "wlan0"], plan.Order());
        Assert.Equal(["tun0"], plan.ExcludedNames());
        Assert.Empty(plan.Conflicts);
    }

    /// <summary>A soft operator rule is still set aside by an opposing soft user rule, as before (both are the sort's).</summary>
    [Fact]
    public void Soft_against_soft_is_unchanged()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-avoid-wifi", PreferenceLevel.Avoid, Kind(InterfaceKind.Wifi))],
            UserRules = [Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular()]);

        Assert.DoesNotContain(plan.Candidates[0].Breakdown, c => c.Subject == "op-avoid-wifi");
        Assert.Equal(PolicyConflictKind.Filter, Assert.Single(plan.Conflicts).Kind);
    }
}
