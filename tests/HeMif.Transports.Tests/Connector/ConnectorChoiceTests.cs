using System.Net;
using System.Net.Sockets;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Transports.Tests.Connector;

/// <summary>
/// <see cref="ConnectOptions.Choice"/> on the real connector over loopback (two interfaces: lo and a second loopback
/// address given as Ethernet): the choice decides which one carries the connection, never lifts a policy Prohibit, and
/// a failure names the rule.
/// </summary>
public sealed class ConnectorChoiceTests
{
    private static readonly InterfaceFacts Lo = new("lo", InterfaceKind.Loopback) { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] };

    private static IHeMifConnector Create(HeMifPolicy? policy = null) => HeMifConnector.Create(new HeMifConnectorOptions
    {
        Interfaces = [Lo],
        DisableValidation = true,
        Policy = policy ?? HeMifPolicy.Empty,
    });

    [Fact]
    public async Task A_pinned_interface_carries_the_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = Create();
        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port,
            new ConnectOptions { Choice = new InterfaceChoice { Interface = "lo", ProhibitKinds = [InterfaceKind.Cellular] } });
        Assert.Equal("lo", connection.Interface);
    }

    [Fact]
    public async Task A_pin_to_an_interface_the_host_does_not_have_fails_naming_the_choice()
    {
        await using var connector = Create();
        var error = await Assert.ThrowsAsync<HeMifConnectException>(() => connector.ConnectAsync("127.0.0.1", 9,
            new ConnectOptions { Choice = new InterfaceChoice { Interface = "wlan9" } }));
        Assert.Contains("not used: lo: the request's choice 'request:interface' (Require)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A user Prohibit stays: the request's pin does not lift it, and the failure names the user's rule.</summary>
    [Fact]
    public async Task A_pin_never_lifts_a_user_Prohibit()
    {
        await using var connector = Create(new HeMifPolicy { UserRules = [new PolicyRule("no-lo", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Names = ["lo"] } }] });
        var error = await Assert.ThrowsAsync<HeMifConnectException>(() => connector.ConnectAsync("127.0.0.1", 9,
            new ConnectOptions { Choice = new InterfaceChoice { Interface = "lo" } }));
        Assert.Contains("not used: lo: user rule 'no-lo' (Prohibit)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("interface")]
    [InlineData("kind")]
    [InlineData("pvds")]
    public async Task A_malformed_choice_is_refused_saying_what(string what)
    {
        await using var connector = Create();
        var choice = what switch
        {
            "interface" => new InterfaceChoice { Interface = "" },
            "kind" => new InterfaceChoice { ProhibitKinds = [(InterfaceKind)42] },
            _ => new InterfaceChoice { ProhibitPvds = [null!] },
        };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => connector.ConnectAsync("127.0.0.1", 9, new ConnectOptions { Choice = choice }));
        Assert.Contains("ConnectOptions.Choice", error.Message, StringComparison.Ordinal);
    }
}
