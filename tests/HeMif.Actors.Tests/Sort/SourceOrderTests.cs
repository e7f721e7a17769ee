using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Sort;

/// <summary>
/// In the sort, "the user's preferences come before the operator's, and the operator's before common practice and the
/// rest of the soft set, whatever the number of rules" (§5.1: "a demand from users should be normally considered higher
/// priority than from other actors"). The order compares the sources one after the other (user points, then operator
/// points, then the soft set), and every place where a higher source overrode a lower one is reported, naming both.
/// </summary>
public class SourceOrderTests
{
    private static readonly PolicyRule[] ThreeOperatorPrefersForCellular =
    [
        Rule("op-offload-1", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular)),
        Rule("op-offload-2", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular)),
        Rule("op-offload-3", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular)),
    ];

    /// <summary>
    /// "today Prefer points add up (user +10,000, operator +5,000 a rule), so three operator Prefers for cellular
    /// silently outrank one user Prefer for Wi-Fi": now the user's one rule decides, and each operator rule it overrode is
    /// a conflict naming both sides.
    /// </summary>
    [Fact]
    public void One_user_Prefer_outranks_three_stacked_operator_Prefers_and_each_is_reported()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = ThreeOperatorPrefersForCellular,
            UserRules = [Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["wlan0", "rmnet0"], plan.Order());
        Assert.Equal([1, 2], plan.Candidates.Select(c => c.Rank));
        Assert.True(plan.Candidates[1].Score > plan.Candidates[0].Score, "the sum still says what each factor added: 15020 against 10030");
        Assert.Equal((10_000, 0, 30), (plan.Candidates[0].UserPoints, plan.Candidates[0].OperatorPoints, plan.Candidates[0].SoftSetPoints));
        Assert.Equal((0, 15_000, 20), (plan.Candidates[1].UserPoints, plan.Candidates[1].OperatorPoints, plan.Candidates[1].SoftSetPoints));

        Assert.Equal(["op-offload-1", "op-offload-2", "op-offload-3"], plan.Conflicts.Select(c => c.Overridden.Name));
        Assert.All(plan.Conflicts, c =>
        {
            Assert.Equal(PolicyConflictKind.Order, c.Kind);
            Assert.Equal("wlan0", c.Interface);
            Assert.Equal(new RuleReference("user-prefers-wifi", RuleSource.User, PreferenceLevel.Prefer), c.Winner);
            Assert.Equal(RuleSource.Operator, c.Overridden.Source);
        });
        Assert.Equal(
            "user rule 'user-prefers-wifi' (Prefer) ranks wlan0 before rmnet0, which operator rule 'op-offload-1' (Prefer) favours: the user's " +
            "preferences come before the operator's, whatever their number (§5.1: \"a demand from users should be normally considered higher " +
            "priority than from other actors\")", plan.Conflicts[0].Resolution);
    }

    /// <summary>Operator Avoids stack the same way: they never push down an interface the user prefers below one the user does not.</summary>
    [Fact]
    public void Stacked_operator_Avoids_do_not_overturn_a_user_Prefer()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [.. Enumerable.Range(1, 5).Select(i => Rule($"op-avoid-eth-{i}", PreferenceLevel.Avoid, Kind(InterfaceKind.Ethernet)))],
            UserRules = [Rule("user-prefers-eth", PreferenceLevel.Prefer, Kind(InterfaceKind.Ethernet))],
        }, [Wifi(), Ethernet()]);

        // The user's Prefer on eth0 sets the operator's Avoids there aside (soft against soft on one interface).
        Assert.Equal(["eth0", "wlan0"], plan.Order());
    }

    /// <summary>
    /// "the operator's before common practice and the rest of the soft set": a PvD dnsZones match (+3000) and a DNS
    /// selection (+2000) on Wi-Fi together outweigh one operator Prefer's 5000 points by sum, but not by source.
    /// </summary>
    [Fact]
    public void An_operator_Prefer_outranks_any_sum_of_soft_set_facts_and_the_plan_says_so()
    {
        var wifi = Wifi() with
        {
            PvdId = "home.example.com",
            PvdInfo = new PvdAdditionalInformation("home.example.com", Noon.AddDays(1), []) { DnsZones = ["example.com"] },
            DnsSelection = [new DnsServerSelection(System.Net.IPAddress.Parse("192.0.2.53"), RoutePreference.High, ["example.com"])],
        };
        var plan = Plan(Operator(Rule("op-prefers-cellular", PreferenceLevel.Prefer, Kind(InterfaceKind.Cellular))), [wifi, Cellular()]);

        Assert.Equal(["rmnet0", "wlan0"], plan.Order());
        Assert.True(plan.Candidates[1].Score > plan.Candidates[0].Score);
        var conflict = Assert.Single(plan.Conflicts, c => c.Kind == PolicyConflictKind.Order);
        Assert.Equal(("rmnet0", "op-prefers-cellular", "§4.2.1 PvD identity"), (conflict.Interface, conflict.Winner.Name, conflict.Overridden.Name));
        Assert.Contains("stated policy comes before the soft set's facts", conflict.Resolution, StringComparison.Ordinal);
    }

    /// <summary>Candidates equal in every source share a rank (and start together, §5.2.3); unequal in any source, they do not.</summary>
    [Fact]
    public void Ranks_follow_the_whole_key()
    {
        var plan = Plan(new HeMifPolicy { KindOrder = [] }, [Wifi(), Wifi("wlan1", "192.0.2.11")]);
        Assert.Equal([1, 1], plan.Candidates.Select(c => c.Rank));
        Assert.True(plan.AllEqual);
        Assert.Empty(plan.Conflicts);
    }

    /// <summary>With nothing contested (user, operator and soft set agree) no order conflict is reported.</summary>
    [Fact]
    public void Agreeing_sources_are_no_conflict()
    {
        var plan = Plan(new HeMifPolicy
        {
            OperatorRules = [Rule("op-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
            UserRules = [Rule("user-prefers-wifi", PreferenceLevel.Prefer, Kind(InterfaceKind.Wifi))],
        }, [Wifi(), Cellular()]);

        Assert.Equal(["wlan0", "rmnet0"], plan.Order());
        Assert.Empty(plan.Conflicts);
    }

    /// <summary>The §3.2 conflict (operator rule over common practice) is reported once, as before, not again as an order conflict.</summary>
    [Fact]
    public void The_section_3_2_conflict_is_not_repeated()
    {
        var plan = Plan(Operator(Rule("prefer-ipv6", PreferenceLevel.Prefer, new InterfaceMatch { AddressFamily = IpVersion.IPv6 })),
            [Wifi("wlan0", "192.0.2.10"), Cellular("rmnet0", "2001:db8:1::10")]);

        var conflict = Assert.Single(plan.Conflicts);
        Assert.Equal(PolicyConflictKind.CommonPractice, conflict.Kind);
    }

    [Fact]
    public void The_sort_key_compares_sources_in_order()
    {
        Assert.True(new SortKey(1, -1_000_000, -1_000_000).CompareTo(new SortKey(0, 1_000_000, 1_000_000)) > 0);
        Assert.True(new SortKey(0, 1, -1_000_000).CompareTo(new SortKey(0, 0, 1_000_000)) > 0);
        Assert.True(new SortKey(0, 0, 1).CompareTo(new SortKey(0, 0, 0)) > 0);
        Assert.Equal(0, new SortKey(3, 2, 1).CompareTo(new SortKey(3, 2, 1)));
    }
}
