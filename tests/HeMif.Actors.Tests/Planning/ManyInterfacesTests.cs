using System.Net;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// A host with hundreds of interfaces is planned as a host with a few: the planner sorts long lists (the final order,
/// the RFC 6724 classes of §4.2.4, each interface's history) with O(n log n) sorts and lookups instead of the insertion
/// sorts and scans it uses for short ones, and the two must agree.
/// </summary>
public sealed class ManyInterfacesTests
{
    private static readonly ConnectionRequest DualStack = new("www.example.com", 443)
    {
        DestinationAddresses = [IPAddress.Parse("2001:db8:ff::80"), IPAddress.Parse("192.0.2.80")],
    };

    /// <summary>
    /// Fifteen kinds of interface (kind × address × history), planned alone, and 20 copies of each planned together:
    /// every copy scores what its kind scored alone, and the candidates come best score first, name order among equals.
    /// </summary>
    [Fact]
    public void Three_hundred_interfaces_score_and_rank_as_their_fifteen_kinds_do_alone()
    {
        var groups = new (InterfaceKind Kind, string Address)[]
        {
            (InterfaceKind.Cellular, "2001:db8:1::{0}"),  // global IPv6: RFC 6724's best pair
            (InterfaceKind.Wifi, "198.51.100.{0}"),       // IPv4 only
            (InterfaceKind.Ethernet, "fd00:1::{0}"),      // ULA source to a global destination: a lower class
            (InterfaceKind.Vpn, "2001:db8:2::{0}"),
            (InterfaceKind.Wifi, "2001:db8:3::{0}"),
        };
        var rtts = new[] { 50, 150, 250 };

        InterfaceFacts Make(string name, int group, int n) =>
            new(name, groups[group].Kind) { Addresses = [Addr(string.Format(System.Globalization.CultureInfo.InvariantCulture, groups[group].Address, (n % 250) + 1))] };

        PathHistory History(string name, int variant) =>
            new(name, RecentFailures: variant == 2 ? 1 : 0, SmoothedRtt: TimeSpan.FromMilliseconds(rtts[variant]));

        var kinds = new List<(string Name, int Group, int Variant)>();
        for (var g = 0; g < groups.Length; g++)
        {
            for (var v = 0; v < rtts.Length; v++)
            {
                kinds.Add(($"k{g}{v}", g, v));
            }
        }

        var alone = Plan(HeMifPolicy.Empty, [.. kinds.Select(k => Make(k.Name, k.Group, 0))], DualStack,
            history: [.. kinds.Select(k => History(k.Name, k.Variant))]);
        var scoreOf = alone.Candidates.ToDictionary(c => c.Interface, c => c.Score);
        Assert.True(scoreOf.Values.Distinct().Count() > 5, "the kinds must score differently for the test to mean something");

        // Listed in a scrambled order: the plan must not depend on it.
        var random = new Random(7);
        var many = Enumerable.Range(0, 20).SelectMany(copy => kinds.Select(k => (Name: $"{k.Name}-{copy:00}", k.Group, k.Variant, Kind: k.Name)))
            .OrderBy(_ => random.Next()).ToList();
        var plan = Plan(HeMifPolicy.Empty, [.. many.Select((m, i) => Make(m.Name, m.Group, i))], DualStack,
            history: [.. many.Select(m => History(m.Name, m.Variant))]);

        Assert.Equal(300, plan.Candidates.Count);
        var kindOf = many.ToDictionary(m => m.Name, m => m.Kind);
        foreach (var c in plan.Candidates)
        {
            Assert.True(scoreOf[kindOf[c.Interface]] == c.Score, $"{c.Interface} scored {c.Score}, its kind alone {scoreOf[kindOf[c.Interface]]}");
        }

        var expected = plan.Candidates.OrderByDescending(c => c.Score).ThenBy(c => c.Interface, StringComparer.Ordinal).Select(c => c.Interface);
        Assert.Equal(expected, plan.Order());
        Assert.Equal(scoreOf.Values.Distinct().Count(), plan.Candidates.Select(c => c.Rank).Distinct().Count());
    }
}
