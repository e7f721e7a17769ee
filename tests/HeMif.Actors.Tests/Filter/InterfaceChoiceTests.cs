using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// A request's own choice (the MIF API's "choose": pin an interface or a PvD, require or prohibit kinds or PvDs),
/// checked against the policy: "a per-request choice never lifts an operator or user Prohibit; the failure names the
/// rule" (issue 15). §4.1's user-over-operator merge is left as it is: the request's rules come after it.
/// </summary>
public sealed class InterfaceChoiceTests
{
    private static ConnectionRequest Choosing(InterfaceChoice choice) => Request() with { Choice = choice };

    [Fact]
    public void Pinning_an_interface_leaves_only_it_and_says_why_the_others_went()
    {
        var plan = Plan(HeMifPolicy.Empty, [Wifi(), Cellular(), Ethernet()], Choosing(new InterfaceChoice { Interface = "rmnet0" }));
        Assert.Equal(["rmnet0"], plan.Order());
        var reason = Assert.Single(plan.ExcludedEntry("wlan0").Reasons);
        Assert.Equal(new RuleReference("request:interface", RuleSource.Request, PreferenceLevel.Require), reason.Rule);
        Assert.Equal("the request's choice 'request:interface' (Require)", reason.Rule.ToString());
        Assert.Contains("requires interface rmnet0; this is wlan0", reason.Fact, StringComparison.Ordinal);
    }

    [Fact]
    public void Pinning_an_interface_the_user_prohibits_fails_naming_the_user_rule()
    {
        var plan = Plan(User(Rule("no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular))), [Wifi(), Cellular()],
            Choosing(new InterfaceChoice { Interface = "rmnet0" }));
        Assert.Empty(plan.Candidates);
        Assert.Contains("rmnet0 was excluded by user rule 'no-cellular' (Prohibit)", plan.Failure, StringComparison.Ordinal);
        Assert.Contains("wlan0 was excluded by the request's choice 'request:interface' (Require)", plan.Failure, StringComparison.Ordinal);
        Assert.Empty(plan.Conflicts); // the request takes no part in the §4.1 merge
    }

    /// <summary>A user Require lifts an operator Prohibit (§4.1); a request's pin does not.</summary>
    [Fact]
    public void Pinning_an_interface_the_operator_prohibits_fails_naming_the_operator_rule()
    {
        var plan = Plan(Operator(Rule("op-no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular))), [Wifi(), Cellular()],
            Choosing(new InterfaceChoice { RequireKinds = [InterfaceKind.Cellular] }));
        Assert.Empty(plan.Candidates);
        Assert.Contains("rmnet0 was excluded by operator rule 'op-no-cellular' (Prohibit)", plan.Failure, StringComparison.Ordinal);
        Assert.Contains("wlan0 was excluded by the request's choice 'request:kinds' (Require)", plan.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Prohibiting_kinds_and_PvDs_narrows_the_candidates()
    {
        var corp = Ethernet() with { PvdId = "corp.example" };
        var plan = Plan(HeMifPolicy.Empty, [Wifi(), Cellular(), corp],
            Choosing(new InterfaceChoice { ProhibitKinds = [InterfaceKind.Cellular], ProhibitPvds = ["CORP.example."] }));
        Assert.Equal(["wlan0"], plan.Order());
        Assert.Equal("request:not-kinds", Assert.Single(plan.ExcludedEntry("rmnet0").Reasons).Rule.Name);
        Assert.Equal("request:not-pvds", Assert.Single(plan.ExcludedEntry("eth0").Reasons).Rule.Name);
    }

    /// <summary>RFC 8801: an interface can be attached to several PvDs; pinning one of them keeps the interface.</summary>
    [Fact]
    public void Pinning_a_PvD_matches_any_PvD_the_interface_learned()
    {
        var wifi = Wifi() with
        {
            PvdId = "a.example",
            Pvds = [new ProvisioningDomain("a.example", []), new ProvisioningDomain("b.example", [])],
        };
        var plan = Plan(HeMifPolicy.Empty, [wifi, Cellular()], Choosing(new InterfaceChoice { Pvd = "b.example" }));
        Assert.Equal(["wlan0"], plan.Order());
        Assert.Contains("requires PvD b.example; rmnet0 has no PvD ID", Assert.Single(plan.ExcludedEntry("rmnet0").Reasons).Fact, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_choice_changes_nothing()
    {
        var plain = Plan(HeMifPolicy.Empty, [Wifi(), Cellular()]);
        var chosen = Plan(HeMifPolicy.Empty, [Wifi(), Cellular()], Choosing(new InterfaceChoice()));
        Assert.Equal(plain.Order(), chosen.Order());
        Assert.Empty(chosen.Excluded);
    }
}
