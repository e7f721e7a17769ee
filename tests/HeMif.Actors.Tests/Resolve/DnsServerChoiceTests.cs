using System.Net;
using HeMif.Interfaces;
using HeMif.Resolve;

namespace HeMif.Actors.Tests.Resolve;

/// <summary>
/// RFC 6731 through draft §4.2.2: a selection option names "a DNS server ... that is to be used for resolving names in
/// the listed domains"; the resolver asks that server for a name in its namespace, before the interface's own servers.
/// </summary>
public sealed class DnsServerChoiceTests
{
    private static readonly IPAddress Own = IPAddress.Parse("192.0.2.53");
    private static readonly IPAddress Corp = IPAddress.Parse("198.51.100.53");
    private static readonly IPAddress Lab = IPAddress.Parse("203.0.113.53");

    private static InterfaceFacts Wifi(params DnsServerSelection[] selections) => new("wlan0", InterfaceKind.Wifi)
    {
        DnsServers = [Own],
        DnsSelection = selections,
    };

    [Fact]
    public void A_name_inside_a_selected_namespace_asks_the_selected_server_first_then_the_interface_servers()
    {
        var order = DnsServerChoice.For(Wifi(new DnsServerSelection(Corp, RoutePreference.Medium, ["corp.example"])), "intranet.corp.example");

        Assert.Equal([Corp, Own], order.Servers);
        Assert.Equal("RFC 6731: 198.51.100.53 selected for corp.example", order.Note);
    }

    [Fact]
    public void A_name_outside_every_namespace_asks_only_the_interface_servers()
    {
        var order = DnsServerChoice.For(Wifi(new DnsServerSelection(Corp, RoutePreference.High, ["corp.example"])), "www.example.com");

        Assert.Equal([Own], order.Servers);
        Assert.Null(order.Note);
    }

    /// <summary>The zone match is by whole labels: "notcorp.example" is not inside "corp.example".</summary>
    [Fact]
    public void The_namespace_matches_whole_labels_only()
    {
        var order = DnsServerChoice.For(Wifi(new DnsServerSelection(Corp, RoutePreference.Medium, ["corp.example"])), "notcorp.example");

        Assert.Equal([Own], order.Servers);
    }

    [Fact]
    public void The_higher_preference_goes_first_then_the_more_specific_domain()
    {
        var facts = Wifi(
            new DnsServerSelection(Corp, RoutePreference.Medium, ["corp.example"]),
            new DnsServerSelection(Lab, RoutePreference.Medium, ["lab.corp.example"]),
            new DnsServerSelection(Own, RoutePreference.Low, ["host.lab.corp.example"]));

        Assert.Equal([Lab, Corp, Own], DnsServerChoice.For(facts, "host.lab.corp.example").Servers);

        var high = facts with { DnsSelection = [.. facts.DnsSelection, new DnsServerSelection(IPAddress.Parse("192.0.2.99"), RoutePreference.High, ["example"])] };
        Assert.Equal(IPAddress.Parse("192.0.2.99"), DnsServerChoice.For(high, "host.lab.corp.example").Servers[0]);
    }

    /// <summary>The option names its server: it is asked even when the interface has no DNS servers of its own.</summary>
    [Fact]
    public void A_selected_server_is_asked_even_when_the_interface_has_no_servers()
    {
        var facts = Wifi(new DnsServerSelection(Corp, RoutePreference.Medium, ["corp.example"])) with { DnsServers = [] };

        Assert.Equal([Corp], DnsServerChoice.For(facts, "intranet.corp.example.").Servers);
        Assert.Empty(DnsServerChoice.For(facts, "www.example.com").Servers);
    }

    [Fact]
    public void A_server_both_selected_and_listed_is_asked_once()
    {
        var facts = Wifi(new DnsServerSelection(Own, RoutePreference.Medium, ["corp.example"])) with { DnsServers = [Lab, Own] };

        Assert.Equal([Own, Lab], DnsServerChoice.For(facts, "a.corp.example").Servers);
    }
}
