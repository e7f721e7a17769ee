using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// §3.2 "Policy Conflict": "A node has network access via both WiFi and 3GPP networks. In a mobile network,
/// IPv6-only may be preferable ... The WiFi access offers IPv4 only. In this scenario, the combination of source
/// address selection [RFC6724] and preferring the WiFi interface may cause a problem. The transition to IPv6 may mean
/// that IPv6 is the preferred protocol, so the 3GPP interface should be chosen even though it could be considered a
/// suboptimal selection e.g. the WiFi interface likely is less expensive."
/// </summary>
public class PolicyConflictScenarioTests
{
    private static readonly InterfaceFacts Ipv4OnlyWifi = Wifi("wlan0", "192.0.2.10");
    private static readonly InterfaceFacts Ipv6OnlyCellular = Cellular("rmnet0", "2001:db8:1::10");

    private static readonly PolicyRule PreferIpv6 = Rule("operator-prefers-ipv6", PreferenceLevel.Prefer, new InterfaceMatch { AddressFamily = IpVersion.IPv6 });

    [Fact]
    public void Without_policy_common_practice_puts_the_WiFi_first()
    {
        var plan = Plan(HeMifPolicy.Empty, [Ipv4OnlyWifi, Ipv6OnlyCellular]);
        Assert.Equal(["wlan0", "rmnet0"], plan.Order());
        Assert.Empty(plan.Conflicts);
    }

    /// <summary>The operator's IPv6 preference picks the IPv6-only cellular over the IPv4-only Wi-Fi, and the plan says why.</summary>
    [Fact]
    public void The_IPv6_only_cellular_preferred_by_policy_is_chosen_over_the_IPv4_only_WiFi()
    {
        var plan = Plan(Operator(PreferIpv6), [Ipv4OnlyWifi, Ipv6OnlyCellular]);

        Assert.Equal(["rmnet0", "wlan0"], plan.Order());
        Assert.Equal([1, 2], plan.Candidates.Select(c => c.Rank));
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal("rmnet0", conflict.Interface);
        Assert.Equal(new RuleReference("operator-prefers-ipv6", RuleSource.Operator, PreferenceLevel.Prefer), conflict.Winner);
        Assert.Equal(RuleSource.CommonPractice, conflict.Overridden.Source);
        Assert.Contains("common practice (§4.2.5 kind order) prefers wlan0 (Wifi) over rmnet0 (Cellular)", conflict.Resolution, StringComparison.Ordinal);
        Assert.Contains("§3.2", conflict.Resolution, StringComparison.Ordinal);

        var wifi = plan.Candidates[1];
        Assert.Contains(wifi.Breakdown, c => c is { Factor: SoftFactor.CommonPractice, Subject: "Wifi" });
        Assert.Contains(plan.Candidates[0].Breakdown, c => c.Reason == "+5000 §4.1.1 operator rule: operator-prefers-ipv6");
    }

    /// <summary>With the destination's addresses known, RFC 6724 alone (IPv6 precedence 40 over IPv4's 35) chooses the 3GPP interface.</summary>
    [Fact]
    public void With_a_dual_stack_destination_RFC_6724_alone_chooses_the_IPv6_cellular()
    {
        var request = Request("www.example.com") with { DestinationAddresses = [IPAddress.Parse("192.0.2.80"), IPAddress.Parse("2001:db8:ff::80")] };
        var plan = Plan(HeMifPolicy.Empty, [Ipv4OnlyWifi, Ipv6OnlyCellular], request);

        Assert.Equal(["rmnet0", "wlan0"], plan.Order());
        var cell = plan.Candidates[0].Breakdown.Single(c => c.Factor == SoftFactor.SourceAddressSelection);
        var wifi = plan.Candidates[1].Breakdown.Single(c => c.Factor == SoftFactor.SourceAddressSelection);
        Assert.True(cell.Points > wifi.Points);
        Assert.Equal("2001:db8:1::10", cell.Subject);
        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal("§4.2.4 RFC 6724 source address selection", conflict.Winner.Name);
    }

    /// <summary>If the user prefers the cheaper Wi-Fi, the user's preference wins (§4.1) — the §3.2 outcome is a default, not a rule.</summary>
    [Fact]
    public void A_user_preference_for_the_cheaper_WiFi_outweighs_the_operator_IPv6_preference()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [PreferIpv6],
            UserRules = [Rule("user-prefers-cheap-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Ipv4OnlyWifi, Ipv6OnlyCellular]);

        Assert.Equal(["wlan0", "rmnet0"], plan.Order());
    }
}
