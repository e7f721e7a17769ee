using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Multipath;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>The connector with <see cref="ConnectOptions.Multipath"/> on loopback: MPTCP chosen, the plan applied, the fallback said.</summary>
public sealed class MultipathConnectorTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private static IHeMifConnector Create() => HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true });

    /// <summary>One interface: it is the primary and the connection's own address, so the path manager adds nothing.</summary>
    [MptcpFact]
    public async Task An_MPTCP_peer_gives_an_MPTCP_connection_with_its_plan_and_its_subflow_on_lo()
    {
        using var listener = MptcpSupport.Listen(IPAddress.Loopback);
        await using var connector = Create();

        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port, new ConnectOptions { Multipath = MultipathMode.Aggregate });
        using var accepted = await listener.AcceptAsync();

        var multipath = Assert.IsType<MultipathInfo>(connection.Multipath);
        Assert.Equal((MptcpStatus.Mptcp, "MPTCP", MultipathMode.Aggregate), (multipath.Status, multipath.Description, multipath.Mode));
        var primary = Assert.Single(Assert.IsType<SubflowPlan>(multipath.Plan).Subflows);
        Assert.Equal(("lo", SubflowRole.Primary), (primary.Interface, primary.Role));
        Assert.DoesNotContain(multipath.PathManagerLog, l => l.StartsWith("ip ", StringComparison.Ordinal));
        var subflow = Assert.Single(multipath.GetSubflows());
        Assert.Equal(("lo", connection.LocalEndPoint), (subflow.Interface, subflow.Local));
        Assert.Equal(1, multipath.GetCounters()!.Subflows);
        Assert.Equal("mptcp", connection.Report.Winner!.Transport); // the report names the socket the attempt used
        Assert.All(connection.Report.Attempts, a => Assert.Equal("mptcp", a.Transport));
        Assert.Contains(connection.Report.Events, e => e.Kind == "attempt" && e.Detail.Contains(": MPTCP 127.0.0.1:", StringComparison.Ordinal));
    }

    [MptcpFact]
    public async Task A_TCP_peer_gives_a_TCP_connection_that_says_the_peer_does_not_do_MPTCP()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = Create();

        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, new ConnectOptions { Multipath = MultipathMode.Handover });
        using var accepted = await listener.AcceptSocketAsync();

        var multipath = Assert.IsType<MultipathInfo>(connection.Multipath);
        Assert.Equal(MptcpStatus.TcpFallback, multipath.Status);
        Assert.Equal("TCP (peer does not support MPTCP)", multipath.Description);
        Assert.Equal("before connecting", multipath.Plan!.Trigger); // applied before the race, undone once the winner turned out TCP
        Assert.Contains("no subflows to plan: the connection is TCP (peer does not support MPTCP)", multipath.PathManagerLog);
        Assert.Empty(multipath.GetSubflows());
    }

    [Fact]
    public async Task Without_Multipath_the_connection_has_no_multipath_side()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = Create();

        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);

        Assert.Null(connection.Multipath);
        Assert.Equal("tcp", connection.Report.Winner!.Transport);
        Assert.Equal(ProtocolType.Tcp, connection.Socket!.ProtocolType);
    }
}
