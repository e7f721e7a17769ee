using System.Net;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Actors.Tests.Sort;

/// <summary>
/// Issue 15: "Whatever source a fact came from is shown (hemif interfaces, below, and the plan's explanation)". A score
/// line resting on a learned fact names its source; one resting on a fact the application gave says nothing more.
/// </summary>
public sealed class FactSourceInPlanTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_route_learned_from_a_Router_Advertisement_and_an_OS_kind_say_so_in_the_plan()
    {
        var cellular = new InterfaceFacts("rmnet0", InterfaceKind.Cellular)
        {
            Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:2::2"), 64)],
            Routes = [new RouteInformation(IPNetwork.Parse("2001:db8:100::/48"), RoutePreference.Medium, TimeSpan.FromHours(1)) { Source = FactSource.RouterAdvertisement }],
            Sources = InterfaceFactSources.OperatingSystem,
        };
        var plan = new ConnectionPlanner(HeMifPolicy.Empty).Plan([cellular], new ConnectionRequest("2001:db8:100::10", 443), Now);

        var breakdown = Assert.Single(plan.Candidates).Breakdown;
        var route = Assert.Single(breakdown, c => c.Factor == SoftFactor.NextHop);
        Assert.Equal(FactSource.RouterAdvertisement, route.Source);
        Assert.EndsWith("2001:db8:100::/48 (Medium) (from a Router Advertisement)", route.Reason, StringComparison.Ordinal);
        var kind = Assert.Single(breakdown, c => c.Factor == SoftFactor.CommonPractice);
        Assert.Equal(FactSource.OperatingSystem, kind.Source);
        Assert.EndsWith("(from the operating system)", kind.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Facts_the_application_gave_add_nothing_to_the_line()
    {
        var wifi = new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:1::2"), 64)] };
        var plan = new ConnectionPlanner(HeMifPolicy.Empty).Plan([wifi], new ConnectionRequest("2001:db8:100::10", 443), Now);

        Assert.All(Assert.Single(plan.Candidates).Breakdown, c =>
        {
            Assert.Null(c.Source);
            Assert.DoesNotContain("(from ", c.Reason, StringComparison.Ordinal);
        });
    }
}
