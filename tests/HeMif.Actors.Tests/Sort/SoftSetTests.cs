using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Sort;

/// <summary>§4.2 "Soft Set": "factors which impact the selection of the path ... among the available interfaces".</summary>
public class SoftSetTests
{
    private static readonly HeMifPolicy NoCommonPractice = new() { KindOrder = [] };

    /// <summary>§4.2.1: "A PVD-aware node uses PvD Identity(PvD-ID) to select a PvD with a matching ID"; RFC 8801 dnsZones.</summary>
    [Fact]
    public void A_destination_in_a_PvD_dnsZone_prefers_that_PvD_interface()
    {
        var corp = Vpn() with
        {
            PvdId = "corp.example.com",
            PvdInfo = new PvdAdditionalInformation("corp.example.com", Noon.AddDays(1), []) { DnsZones = ["corp.example.com"] },
        };
        var plan = Plan(HeMifPolicy.Empty, [Wifi(), corp], Request("intranet.corp.example.com"));
        Assert.Equal(["tun0", "wlan0"], plan.Order());
        Assert.Contains(plan.Candidates[0].Breakdown, c => c.Factor == SoftFactor.PvdIdentity && c.Subject == "corp.example.com" && c.Points > 0);

        // Outside the zones the VPN stays last (§4.2.5 "Vpn last").
        Assert.Equal(["wlan0", "tun0"], Plan(HeMifPolicy.Empty, [Wifi(), corp], Request("www.example.org")).Order());

        // Expired information is not used (RFC 8801 §4.3).
        Assert.Equal(["wlan0", "tun0"], Plan(HeMifPolicy.Empty, [Wifi(), corp], Request("intranet.corp.example.com"), now: Noon.AddDays(1)).Order());
    }

    /// <summary>
    /// A PvD that says noInternet serves only its own scope (issue 15, validation per PvD; docs/discovery.md): outside
    /// its zones it is not ranked lower but left out, by the built-in check <c>builtin:pvd-scope</c>; inside them it
    /// ranks first (its dnsZones match). Before issue 15 it only ranked lower.
    /// </summary>
    [Fact]
    public void A_PvD_without_Internet_takes_part_only_inside_its_zones()
    {
        var walledGarden = Wifi("wlan1", "192.0.2.11") with
        {
            PvdInfo = new PvdAdditionalInformation("garden.example.net", Noon.AddDays(1), []) { NoInternet = true, DnsZones = ["garden.example.net"] },
        };
        var plan = Plan(HeMifPolicy.Empty, [walledGarden, Cellular()]);
        Assert.Equal(["rmnet0"], plan.Order());
        Assert.Equal("builtin:pvd-scope", Assert.Single(plan.ExcludedEntry("wlan1").Reasons).Rule.Name);

        var inside = Plan(HeMifPolicy.Empty, [walledGarden, Cellular()], Request("shop.garden.example.net"));
        Assert.Equal(["wlan1", "rmnet0"], inside.Order());
        Assert.Contains(inside.Candidates[0].Breakdown, c => c is { Factor: SoftFactor.PvdIdentity, Points: > 0 });
    }

    /// <summary>§4.2.2: "A HE-MIF node should take the parameter of RDNSS Selection DHCP Option [RFC6731] to select an interface for a particular namespace."</summary>
    [Fact]
    public void RFC_6731_DNS_selection_prefers_the_interface_named_for_the_domain_by_preference()
    {
        var wifi = Wifi() with { DnsSelection = [new DnsServerSelection(IPAddress.Parse("192.0.2.53"), RoutePreference.Low, ["example.com"])] };
        var cell = Cellular() with { DnsSelection = [new DnsServerSelection(IPAddress.Parse("2001:db8:1::53"), RoutePreference.High, ["example.com"])] };
        var plan = Plan(NoCommonPractice, [wifi, cell], Request("mail.example.com"));

        Assert.Equal(["rmnet0", "wlan0"], plan.Order());
        Assert.Equal(SoftSetRanker.DnsSelectionPoints + SoftSetRanker.DnsPreferenceStep, plan.Candidates[0].Breakdown.Single().Points);
        Assert.Equal(SoftSetRanker.DnsSelectionPoints - SoftSetRanker.DnsPreferenceStep, plan.Candidates[1].Breakdown.Single().Points);
        Assert.Equal(["rmnet0", "wlan0"], Plan(NoCommonPractice, [wifi, cell], Request("other.example.org")).Order()); // equal: name order
        Assert.True(Plan(NoCommonPractice, [wifi, cell], Request("other.example.org")).AllEqual);
    }

    [Fact]
    public void RFC_6731_networks_select_by_destination_address()
    {
        var wifi = Wifi() with { DnsSelection = [new DnsServerSelection(IPAddress.Parse("192.0.2.53"), RoutePreference.Medium, []) { Networks = [IPNetwork.Parse("198.51.100.0/24")] }] };
        var plan = Plan(NoCommonPractice, [wifi, Ethernet("eth1", "192.0.2.99")], Request("198.51.100.7"));
        Assert.Equal("wlan0", plan.Candidates[0].Interface);
        Assert.Equal("198.51.100.0/24", plan.Candidates[0].Breakdown.Single(c => c.Factor == SoftFactor.DnsSelection).Subject);
    }

    /// <summary>§4.2.3: "[RFC4191] allows the configuration of specific routes to a destination ... router preference and route information to identify the next hop."</summary>
    [Fact]
    public void A_more_specific_route_wins_then_the_route_preference()
    {
        static InterfaceFacts With(InterfaceFacts f, string prefix, RoutePreference p, int lifetime = 1800) =>
            f with { Routes = [.. f.Routes, new RouteInformation(IPNetwork.Parse(prefix), p, TimeSpan.FromSeconds(lifetime))] };

        var dest = Request("2001:db8:aa:1::1");
        var a = With(Cellular("rmnet0", "2001:db8:1::10"), "2001:db8:aa::/48", RoutePreference.Low);
        var b = With(Cellular("rmnet1", "2001:db8:2::10"), "2001:db8::/32", RoutePreference.High);
        Assert.Equal(["rmnet0", "rmnet1"], Plan(NoCommonPractice, [b, a], dest).Order());

        var c = With(Cellular("rmnet2", "2001:db8:3::10"), "2001:db8:aa::/48", RoutePreference.High);
        Assert.Equal(["rmnet2", "rmnet0", "rmnet1"], Plan(NoCommonPractice, [a, b, c], dest).Order());

        // A withdrawn route (lifetime 0, RFC 4191 §2.3) counts for nothing; default-router preference still ranks.
        var withdrawn = With(Cellular("rmnet3", "2001:db8:4::10"), "2001:db8:aa::/48", RoutePreference.High, lifetime: 0);
        var defaultHigh = With(Cellular("rmnet4", "2001:db8:5::10"), "::/0", RoutePreference.High);
        Assert.Equal(["rmnet4", "rmnet3"], Plan(NoCommonPractice, [withdrawn, defaultHigh], dest).Order());
    }

    /// <summary>§4.2.5: "Prefer WiFi over a 3GPP interface, if available"; default Ethernet, Wifi, Cellular, Vpn last.</summary>
    [Fact]
    public void The_default_kind_order_is_Ethernet_WiFi_Cellular_then_VPN()
    {
        var plan = Plan(HeMifPolicy.Empty, [Vpn(), Cellular(), Wifi(), Ethernet()]);
        Assert.Equal(["eth0", "wlan0", "rmnet0", "tun0"], plan.Order());
        Assert.Equal([1, 2, 3, 4], plan.Candidates.Select(c => c.Rank));
    }

    [Fact]
    public void The_kind_order_is_configurable()
    {
        var plan = Plan(new HeMifPolicy { KindOrder = [InterfaceKind.Cellular, InterfaceKind.Wifi] }, [Wifi(), Cellular(), Ethernet()]);
        Assert.Equal(["rmnet0", "wlan0", "eth0"], plan.Order());
    }

    /// <summary>"Vpn last unless required": a VPN a Require rule selects is not pushed down by the kind order.</summary>
    [Fact]
    public void A_VPN_is_last_unless_a_rule_requires_it()
    {
        var policy = Operator(Rule("corp-needs-vpn-or-wifi", PreferenceLevel.Require, Kind(InterfaceKind.Vpn, InterfaceKind.Wifi), new RequestMatch { DomainSuffixes = ["corp.example.com"] }));
        var required = Plan(policy, [Wifi(), Vpn()], Request("git.corp.example.com"));
        Assert.True(required.AllEqual);
        Assert.Contains(required.Candidates.Single(c => c.Interface == "tun0").Breakdown, c => c.Subject == "Vpn (required by a rule)");
        Assert.Equal(["wlan0", "tun0"], Plan(policy, [Wifi(), Vpn()], Request("www.example.com")).Order());
    }

    /// <summary>History: "an interface whose recent attempts to this destination failed ranks lower; lower smoothed RTT ranks higher".</summary>
    [Fact]
    public void Recent_failures_rank_an_interface_lower_and_a_lower_RTT_ranks_it_higher()
    {
        PathHistory[] failing = [new("wlan0", 2, null)];
        Assert.Equal(["rmnet0", "wlan0"], Plan(HeMifPolicy.Empty, [Wifi(), Cellular()], history: failing).Order());

        PathHistory[] rtts = [new("wlan1", 0, TimeSpan.FromMilliseconds(200)), new("wlan0", 0, TimeSpan.FromMilliseconds(20))];
        var plan = Plan(HeMifPolicy.Empty, [Wifi("wlan1", "192.0.2.11"), Wifi()], history: rtts);
        Assert.Equal(["wlan0", "wlan1"], plan.Order());
        Assert.Equal("20 ms", plan.Candidates[0].Breakdown.Single(c => c.Factor == SoftFactor.RoundTripTime).Subject);
        Assert.Equal(18, plan.Candidates[0].Breakdown.Single(c => c.Factor == SoftFactor.RoundTripTime).Points); // 180 ms faster than wlan1
    }

    /// <summary>
    /// RTT only compares interfaces whose RTT is known: one without history (say, after its network changed and its
    /// history was flushed, RFC 8305 §4) is not outranked for being unmeasured, so it gets tried again.
    /// </summary>
    [Fact]
    public void An_interface_without_history_is_not_outranked_by_one_with_a_known_RTT()
    {
        PathHistory[] onlyCellularKnown = [new("rmnet0", 0, TimeSpan.FromMilliseconds(60))];
        var plan = Plan(HeMifPolicy.Empty, [Wifi(), Cellular()], history: onlyCellularKnown);
        Assert.Equal(["wlan0", "rmnet0"], plan.Order());
        Assert.DoesNotContain(plan.Candidates.SelectMany(c => c.Breakdown), c => c.Factor == SoftFactor.RoundTripTime);
    }

    /// <summary>§5.2.3: "If there is no specific Soft Set provided, all selected interfaces should be treated equally."</summary>
    [Fact]
    public void With_no_soft_set_information_all_candidates_are_equal()
    {
        var plan = Plan(NoCommonPractice, [Wifi(), Cellular(), Ethernet()]);
        Assert.True(plan.AllEqual);
        Assert.All(plan.Candidates, c => Assert.Equal((1, 0), (c.Rank, c.Score)));
        Assert.All(plan.Candidates, c => Assert.Empty(c.Breakdown));
        Assert.Equal(["eth0", "rmnet0", "wlan0"], plan.Order());

        Assert.True(Plan(HeMifPolicy.Empty, [Wifi(), Wifi("wlan1", "192.0.2.11")]).AllEqual);
        Assert.False(Plan(HeMifPolicy.Empty, [Wifi(), Cellular()]).AllEqual);
    }

    /// <summary>The score is the sum of the breakdown, and each line says what it is.</summary>
    [Fact]
    public void The_score_is_the_sum_of_its_breakdown()
    {
        var plan = Plan(User(Rule("prefer-eth", PreferenceLevel.Prefer, Kind(InterfaceKind.Ethernet))), [Wifi(), Ethernet()],
            history: [new("eth0", 1, TimeSpan.FromMilliseconds(50)), new("wlan0", 0, TimeSpan.FromMilliseconds(100))]);
        foreach (var c in plan.Candidates)
        {
            Assert.Equal(c.Score, c.Breakdown.Sum(b => b.Points));
        }

        Assert.Equal(
            ["+10000 §4.1.2 user rule: prefer-eth", "+40 §4.2.5 common practice: Ethernet", "-400 history: recent failures: 1 failed attempt", "+5 history: smoothed RTT: 50 ms"],
            plan.Candidates[0].Breakdown.Select(b => b.Reason));
    }
}
