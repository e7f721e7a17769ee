using HeMif.Filter;
using HeMif.Interfaces;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// §4.1.1 ANDSF information carries "validity conditions (e.g. where and when)". A rule whose conditions do not hold
/// is not in force. Time windows are half-open, [start, end), and may wrap past midnight.
/// </summary>
public class ValidityConditionTests
{
    private static readonly DateTimeOffset Day = new(2026, 3, 2, 0, 0, 0, TimeSpan.FromHours(1));

    private static bool InForce(TimeOnly start, TimeOnly end, TimeSpan at)
    {
        var policy = Operator(Rule("peak-hours-no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular),
            validity: new ValidityConditions { TimeOfDay = [new TimeWindow(start, end)] }));
        return Plan(policy, [Wifi(), Cellular()], now: Day + at).Excluded.Count == 1;
    }

    [Fact]
    public void A_window_includes_its_start_instant()
    {
        Assert.True(InForce(new(8, 0), new(18, 0), new TimeSpan(8, 0, 0)));
        Assert.False(InForce(new(8, 0), new(18, 0), new TimeSpan(7, 59, 59) + TimeSpan.FromTicks(9_999_999)));
    }

    [Fact]
    public void A_window_excludes_its_end_instant()
    {
        Assert.True(InForce(new(8, 0), new(18, 0), new TimeSpan(17, 59, 59) + TimeSpan.FromTicks(9_999_999)));
        Assert.False(InForce(new(8, 0), new(18, 0), new TimeSpan(18, 0, 0)));
    }

    [Fact]
    public void A_window_that_ends_before_it_starts_wraps_past_midnight()
    {
        Assert.True(InForce(new(22, 0), new(6, 0), new TimeSpan(22, 0, 0)));
        Assert.True(InForce(new(22, 0), new(6, 0), TimeSpan.Zero));
        Assert.True(InForce(new(22, 0), new(6, 0), new TimeSpan(5, 59, 59)));
        Assert.False(InForce(new(22, 0), new(6, 0), new TimeSpan(6, 0, 0)));
        Assert.False(InForce(new(22, 0), new(6, 0), new TimeSpan(21, 59, 59)));
    }

    /// <summary>The time of day is read in the decision time's own offset (the caller passes local time).</summary>
    [Fact]
    public void The_time_of_day_is_read_in_the_offset_of_the_decision_time()
    {
        var policy = Operator(Rule("morning", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular),
            validity: new ValidityConditions { TimeOfDay = [new TimeWindow(new(8, 0), new(9, 0))] }));
        var utc = new DateTimeOffset(2026, 3, 2, 7, 30, 0, TimeSpan.Zero);
        Assert.Empty(Plan(policy, [Wifi(), Cellular()], now: utc).Excluded);
        Assert.Single(Plan(policy, [Wifi(), Cellular()], now: utc.ToOffset(TimeSpan.FromHours(1))).Excluded);
    }

    [Fact]
    public void A_roaming_condition_holds_only_while_some_interface_roams()
    {
        var policy = Operator(Rule("while-roaming", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular), validity: new ValidityConditions { Roaming = true }));
        Assert.Empty(Plan(policy, [Wifi(), Cellular()]).Excluded);
        Assert.Single(Plan(policy, [Wifi(), Cellular() with { Roaming = true }]).Excluded);
        Assert.DoesNotContain(Plan(policy, [Wifi(), Cellular() with { Roaming = true, IsUp = false }]).Excluded, e => e.Reasons.Any(r => r.Rule.Name == "while-roaming"));
    }

    [Fact]
    public void A_WiFi_network_condition_holds_only_while_associated_with_that_network()
    {
        var policy = Operator(Rule("at-home", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular), validity: new ValidityConditions { WifiNetworks = ["HomeNet"] }));
        Assert.Single(Plan(policy, [Wifi(), Cellular()]).Excluded);
        Assert.Empty(Plan(policy, [Wifi() with { WifiNetwork = "homenet" }, Cellular()]).Excluded);
        Assert.DoesNotContain(Plan(policy, [Wifi() with { IsUp = false }, Cellular()]).Excluded, e => e.Interface == "rmnet0");
    }

    [Fact]
    public void A_PvD_condition_holds_only_while_some_up_interface_is_in_that_PvD()
    {
        var policy = Operator(Rule("in-office", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular), validity: new ValidityConditions { PvdIds = ["office.example.com"] }));
        Assert.Empty(Plan(policy, [Wifi(), Cellular()]).Excluded);
        Assert.Single(Plan(policy, [Wifi() with { PvdId = "office.example.com" }, Cellular()]).Excluded);
    }
}
