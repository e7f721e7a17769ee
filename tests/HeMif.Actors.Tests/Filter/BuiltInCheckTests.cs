using System.Net;
using HeMif.Interfaces;
using HeMif.Planning;
using static HeMif.Actors.Tests.Planning.Facts;

namespace HeMif.Actors.Tests.Filter;

/// <summary>The built-in checks the hard set always applies, besides the operator's and the user's rules.</summary>
public sealed class BuiltInCheckTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback) { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] };

    [Fact]
    public void A_destination_on_this_host_is_reached_only_over_the_loopback_interface()
    {
        var plan = Plan(HeMifPolicy.Empty, [Loopback, Wifi(), Ethernet()], Request("127.0.0.1") with { DestinationAddresses = [IPAddress.Loopback] });
        Assert.Equal(["lo"], plan.Candidates.Select(c => c.Interface));
        Assert.All(plan.Excluded, x => Assert.Contains(x.Reasons, r => r.Rule.Name == "builtin:this-host" && r.Fact.Contains("only the loopback interface", StringComparison.Ordinal)));

        var localhost = Plan(HeMifPolicy.Empty, [Loopback, Wifi()], Request("localhost"));
        Assert.Equal(["lo"], localhost.Candidates.Select(c => c.Interface));
    }

    [Fact]
    public void A_remote_destination_never_uses_the_loopback_interface_and_a_mixed_one_keeps_both()
    {
        var remote = Plan(HeMifPolicy.Empty, [Loopback, Wifi()], Request("www.example.com"));
        Assert.Equal(["wlan0"], remote.Candidates.Select(c => c.Interface));
        Assert.Contains(remote.Excluded.Single(x => x.Interface == "lo").Reasons, r => r.Rule.Name == "builtin:loopback");

        var mixed = Plan(HeMifPolicy.Empty, [Loopback, Wifi()], Request("mixed.example") with { DestinationAddresses = [IPAddress.Loopback, IPAddress.Parse("192.0.2.80")] });
        Assert.Equal(2, mixed.Candidates.Count);
    }
}
