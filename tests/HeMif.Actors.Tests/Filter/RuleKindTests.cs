using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>
/// Each rule level and each condition a rule can test. RFC 9622 §6.2: Require — "Select only protocols/paths
/// providing the property, fail otherwise"; Prohibit — "Select only protocols/paths not having the property, fail
/// otherwise"; Prefer and Avoid "proceed otherwise" (they only sort). The draft §5.1: "These hard set parameters will
/// provide a filter which will exclude not qualifying interfaces".
/// </summary>
public class RuleKindTests
{
    private static readonly InterfaceFacts[] Three = [Wifi(), Cellular(), Ethernet()];

    [Fact]
    public void Require_excludes_every_interface_the_rule_does_not_select_and_says_which_fact_failed()
    {
        var plan = Plan(Operator(Rule("wifi-only", PreferenceLevel.Require, Kind(InterfaceKind.Wifi))), Three);

        Assert.Equal(["wlan0"], plan.Order());
        Assert.Equal(["eth0", "rmnet0"], plan.ExcludedNames());
        var reason = Assert.Single(plan.ExcludedEntry("rmnet0").Reasons);
        Assert.Equal(new RuleReference("wifi-only", RuleSource.Operator, PreferenceLevel.Require), reason.Rule);
        Assert.Equal("requires kind Wifi; rmnet0 is Cellular", reason.Fact);
    }

    [Fact]
    public void Prohibit_excludes_the_interfaces_the_rule_selects_and_names_the_matched_facts()
    {
        var roaming = Cellular() with { Roaming = true };
        var plan = Plan(User(Rule("no-roaming-cellular", PreferenceLevel.Prohibit, new InterfaceMatch { Kinds = [InterfaceKind.Cellular], Roaming = true })),
            [Wifi(), roaming]);

        Assert.Equal(["wlan0"], plan.Order());
        var reason = Assert.Single(plan.ExcludedEntry("rmnet0").Reasons);
        Assert.Equal(RuleSource.User, reason.Rule.Source);
        Assert.Equal(PreferenceLevel.Prohibit, reason.Rule.Level);
        Assert.Equal("prohibits kind Cellular, roaming; rmnet0 matches", reason.Fact);
    }

    [Fact]
    public void Prefer_and_Avoid_never_exclude_they_only_move_interfaces()
    {
        var prefer = Plan(Operator(Rule("prefer-cell", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular))), Three);
        Assert.Empty(prefer.Excluded);
        Assert.Equal("rmnet0", prefer.Candidates[0].Interface);
        Assert.Contains(prefer.Candidates[0].Breakdown, c => c is { Factor: SoftFactor.OperatorPreference, Points: > 0, Subject: "prefer-cell" });

        var avoid = Plan(User(Rule("avoid-eth", PreferenceLevel.Avoid, Kind(InterfaceKind.Ethernet))), Three);
        Assert.Empty(avoid.Excluded);
        Assert.Equal("eth0", avoid.Candidates[^1].Interface);
        Assert.Contains(avoid.Candidates[^1].Breakdown, c => c is { Factor: SoftFactor.UserPreference, Points: < 0, Subject: "avoid-eth" });
    }

    /// <summary>Every interface fact a rule can select on, through a Prohibit that must hit exactly one interface.</summary>
    [Theory]
    [MemberData(nameof(InterfaceConditions))]
    public void Each_interface_condition_selects_exactly_the_matching_interface(string condition, InterfaceMatch match, string expectedExcluded)
    {
        InterfaceFacts[] interfaces =
        [
            Wifi() with { PvdId = "home.example.net" },
            Cellular() with { Metered = true, Roaming = true },
            Ethernet() with { Constrained = true },
        ];
        var plan = Plan(Operator(Rule("p-" + condition, PreferenceLevel.Prohibit, match)), interfaces);
        Assert.Equal([expectedExcluded], plan.ExcludedNames());
    }

    public static TheoryData<string, InterfaceMatch, string> InterfaceConditions() => new()
    {
        { "kind", Kind(InterfaceKind.Cellular), "rmnet0" },
        { "name", Named("eth0"), "eth0" },
        { "pvd", new InterfaceMatch { PvdIds = ["HOME.example.net."] }, "wlan0" },
        { "metered", new InterfaceMatch { Metered = true }, "rmnet0" },
        { "roaming", new InterfaceMatch { Roaming = true }, "rmnet0" },
        { "constrained", new InterfaceMatch { Constrained = true }, "eth0" },
        { "family", new InterfaceMatch { AddressFamily = IpVersion.IPv6 }, "rmnet0" },
    };

    /// <summary>
    /// Complaint #7 and RFC 9622 §6.2: "Interface types SHOULD NOT be treated as a proxy for properties of interfaces
    /// such as metered or unmetered". A metered Wi-Fi hotspot is metered; an unmetered cellular plan is not.
    /// </summary>
    [Fact]
    public void Metered_is_a_stated_fact_never_inferred_from_the_kind()
    {
        var hotspot = Wifi("wlan1") with { Metered = true };
        var flatRate = Cellular();
        var plan = Plan(User(Rule("no-metered", PreferenceLevel.Prohibit, new InterfaceMatch { Metered = true })), [hotspot, flatRate]);
        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal(["wlan1"], plan.ExcludedNames());
    }

    /// <summary>RFC 8801 §4.3 "metered" from the PvD counts as metered while the information is valid.</summary>
    [Fact]
    public void PvD_metered_information_counts_until_it_expires()
    {
        var info = new PvdAdditionalInformation("cafe.example.com", Noon.AddHours(1), []) { Metered = true };
        var cafe = Wifi() with { PvdId = "cafe.example.com", PvdInfo = info };
        var policy = User(Rule("no-metered", PreferenceLevel.Prohibit, new InterfaceMatch { Metered = true }));

        Assert.Equal(["wlan0"], Plan(policy, [cafe, Cellular()], now: Noon).ExcludedNames());
        Assert.Empty(Plan(policy, [cafe, Cellular()], now: Noon.AddHours(1)).Excluded);
    }

    /// <summary>Request facts decide whether a rule applies at all.</summary>
    [Theory]
    [MemberData(nameof(RequestConditions))]
    public void Each_request_condition_decides_whether_the_rule_applies(string condition, RequestMatch match, ConnectionRequest applies, ConnectionRequest doesNot)
    {
        var policy = Operator(Rule("r-" + condition, PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular), match));
        Assert.Equal(["rmnet0"], Plan(policy, Three, applies).ExcludedNames());
        Assert.Empty(Plan(policy, Three, doesNot).Excluded);
    }

    public static TheoryData<string, RequestMatch, ConnectionRequest, ConnectionRequest> RequestConditions() => new()
    {
        { "host", new RequestMatch { Hosts = ["Video.Example.com."] }, Request("video.example.com"), Request("www.video.example.com") },
        { "suffix", new RequestMatch { DomainSuffixes = ["example.com"] }, Request("cdn.example.com"), Request("notexample.com") },
        { "port", new RequestMatch { Ports = [443, 8443] }, Request(port: 8443), Request(port: 80) },
        { "transport", new RequestMatch { Transport = TransportName.Quic }, Request() with { Transports = [TransportName.Quic, TransportName.Tcp] }, Request() },
        { "min-size", new RequestMatch { MinExpectedBytes = 20_000_000 }, Request() with { ExpectedBytes = 20_000_000 }, Request() with { ExpectedBytes = 19_999_999 } },
        { "max-size", new RequestMatch { MaxExpectedBytes = 1_000 }, Request() with { ExpectedBytes = 1_000 }, Request() with { ExpectedBytes = 1_001 } },
        { "unknown-size", new RequestMatch { MinExpectedBytes = 0 }, Request() with { ExpectedBytes = 0 }, Request() },
        { "class", new RequestMatch { TrafficClasses = ["background"] }, Request() with { TrafficClass = "Background" }, Request() with { TrafficClass = "interactive" } },
    };

    /// <summary>§4.1.2: "Only download applications larger than 20Mb over WiFi", as a Require for large requests.</summary>
    [Fact]
    public void The_large_download_preference_keeps_big_requests_on_WiFi_only()
    {
        var policy = User(Rule("large-downloads-over-wifi", PreferenceLevel.Require, Kind(InterfaceKind.Wifi),
            new RequestMatch { MinExpectedBytes = 20_000_000 }));

        var big = Plan(policy, Three, Request("apps.example.com") with { ExpectedBytes = 80_000_000 });
        Assert.Equal(["wlan0"], big.Order());
        Assert.All(big.Excluded, e => Assert.Equal("large-downloads-over-wifi", Assert.Single(e.Reasons).Rule.Name));

        var small = Plan(policy, Three, Request("apps.example.com") with { ExpectedBytes = 5_000_000 });
        Assert.Equal(3, small.Candidates.Count);
    }

    /// <summary>Built-in checks: a down interface and an interface without the destination's family are excluded with a reason.</summary>
    [Fact]
    public void Down_interfaces_and_interfaces_without_the_destination_family_are_excluded_with_reasons()
    {
        var down = Ethernet() with { IsUp = false };
        var request = Request("2001:db8:ff::1") with { };
        var plan = Plan(HeMifPolicy.Empty, [down, Wifi(), Cellular()], request);

        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal("builtin:interface-down", plan.ExcludedEntry("eth0").Reasons[0].Rule.Name);
        var family = plan.ExcludedEntry("wlan0").Reasons.Single();
        Assert.Equal("builtin:address-family", family.Rule.Name);
        Assert.Equal("the destination has only IPv6 addresses; wlan0 is IPv4-only", family.Fact);

        var both = Plan(HeMifPolicy.Empty, [Wifi(), Cellular()], Request() with { DestinationAddresses = [IPAddress.Parse("192.0.2.80"), IPAddress.Parse("2001:db8::80")] });
        Assert.Empty(both.Excluded);
    }

    /// <summary>An excluded interface reports every reason, not just the first.</summary>
    [Fact]
    public void Every_reason_for_an_exclusion_is_reported()
    {
        var cell = Cellular() with { Roaming = true, Metered = true };
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-wifi-only", PreferenceLevel.Require, Kind(InterfaceKind.Wifi))],
            UserRules = [Rule("no-roaming", PreferenceLevel.Prohibit, new InterfaceMatch { Roaming = true }), Rule("no-metered", PreferenceLevel.Prohibit, new InterfaceMatch { Metered = true })],
        }, [Wifi(), cell]);

        Assert.Equal(["op-wifi-only", "no-roaming", "no-metered"], plan.ExcludedEntry("rmnet0").Reasons.Select(r => r.Rule.Name));
    }

    /// <summary>Nothing qualifies: a failure naming each interface and the rules that excluded it; no fallback.</summary>
    [Fact]
    public void When_nothing_qualifies_the_failure_names_every_interface_and_rule()
    {
        var plan = Plan(User(
            Rule("no-cellular", PreferenceLevel.Prohibit, Kind(InterfaceKind.Cellular)),
            Rule("ethernet-only", PreferenceLevel.Require, Kind(InterfaceKind.Ethernet))), [Wifi(), Cellular()]);

        Assert.Empty(plan.Candidates);
        Assert.False(plan.AllEqual);
        Assert.NotNull(plan.Failure);
        Assert.StartsWith("No interface qualifies for www.example.com:443.", plan.Failure, StringComparison.Ordinal);
        Assert.Contains("rmnet0 was excluded by user rule 'no-cellular' (Prohibit): prohibits kind Cellular; rmnet0 matches and by user rule 'ethernet-only' (Require): requires kind Ethernet; rmnet0 is Cellular", plan.Failure, StringComparison.Ordinal);
        Assert.Contains("wlan0 was excluded by user rule 'ethernet-only' (Require)", plan.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plan_with_candidates_has_no_failure() => Assert.Null(Plan(HeMifPolicy.Empty, Three).Failure);

    [Fact]
    public void Duplicate_rule_names_and_interface_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ConnectionPlanner(new HeMifPolicy
        {
            OperatorRules = [Rule("x", PreferenceLevel.Prefer)],
            UserRules = [Rule("x", PreferenceLevel.Avoid)],
        }));
        Assert.Throws<ArgumentException>(() => Plan(HeMifPolicy.Empty, [Wifi(), Wifi()]));
    }

    /// <summary>Interface overrides correct the facts before any rule reads them (a hotspot seen as Wi-Fi, but metered).</summary>
    [Fact]
    public void Interface_overrides_correct_facts_before_rules_read_them()
    {
        var plan = Plan(new HeMifPolicy
        {
            UserRules = [Rule("no-metered", PreferenceLevel.Prohibit, new InterfaceMatch { Metered = true })],
            InterfaceOverrides = [new InterfaceOverride("wlan0") { Metered = true }],
        }, [Wifi(), Cellular()]);
        Assert.Equal(["wlan0"], plan.ExcludedNames());
    }
}
