using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using HeMif.Continuity;
using HeMif.Interfaces;

namespace HeMif.Transports.Tests.Connector;

/// <summary>
/// Session continuity on the public connector, over a real loopback connection (draft §7.4; docs/continuity.md): a
/// connection's <see cref="HeMifConnection.PathEvents"/> follow its interface, and <see cref="IHeMifConnector.MoveAsync"/>
/// races a new connection while the old one stays open.
/// </summary>
public sealed class ContinuityTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30); // a hang guard, not a speed check

    /// <summary>
    /// The host says loopback went down (a watcher re-read): the connection's path events say not viable, naming the
    /// interface and why; it comes back: viable again. Disposing the connection completes the stream.
    /// </summary>
    [Fact]
    public async Task A_connections_path_events_follow_its_interface_down_and_back()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        IReadOnlyList<InterfaceFacts> host = [Loopback];
        await using var connector = HeMifConnector.Create(new HeMifConnectorOptions { Discover = () => host, DisableValidation = true });
        var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        var events = connection.PathEvents.Replay();
        using var connect = events.Connect();
        var notViable = events.FirstAsync(e => e.Kind == PathEventKind.NotViable).ToTask();
        var viableAgain = events.FirstAsync(e => e.Kind == PathEventKind.ViableAgain).ToTask();
        var completed = events.LastOrDefaultAsync().ToTask();

        host = [Loopback with { IsUp = false }];
        ((IHeMifConnectorControl)connector).RefreshInterfaces();
        var down = await notViable.WaitAsync(Guard);
        Assert.Equal(("lo", PathEventReason.InterfaceDown), (down.Interface, down.Reason));

        host = [Loopback];
        ((IHeMifConnectorControl)connector).RefreshInterfaces();
        var back = await viableAgain.WaitAsync(Guard);
        Assert.Equal(("lo", PathEventReason.Recovered), (back.Interface, back.Reason));

        await connection.DisposeAsync();
        await completed.WaitAsync(Guard); // the stream ends with the connection
    }

    /// <summary>
    /// A move races a new connection to the same destination while the old one stays open (the application drains it);
    /// the new race's report says it was a move, from where and why, and its timeline starts with that note.
    /// </summary>
    [Fact]
    public async Task A_move_hands_over_a_new_connection_and_leaves_the_old_one_open()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var old = await connector.ConnectAsync("127.0.0.1", port);
        using var oldPeer = await listener.AcceptSocketAsync();

        await using var moved = await connector.MoveAsync(old, "better path: test");
        using var newPeer = await listener.AcceptSocketAsync();

        Assert.Null(old.Report.Move);
        Assert.Equal(new HeMif.Report.ConnectionMove("lo", old.RemoteEndPoint.ToString(), "better path: test"), moved.Report.Move);
        Assert.Equal("note", moved.Report.Events[0].Kind);
        Assert.Contains("a move of the connection over lo", moved.Report.Events[0].Detail, StringComparison.Ordinal);
        Assert.NotEqual(old.LocalEndPoint, moved.LocalEndPoint); // a second connection, not the old one handed back

        // Both are open: each carries bytes to its own peer.
        await old.Stream.WriteAsync("old"u8.ToArray());
        await moved.Stream.WriteAsync("new"u8.ToArray());
        var buffer = new byte[3];
        Assert.Equal(3, await oldPeer.ReceiveAsync(buffer));
        Assert.Equal("old"u8.ToArray(), buffer);
        Assert.Equal(3, await newPeer.ReceiveAsync(buffer));
        Assert.Equal("new"u8.ToArray(), buffer);
    }

    /// <summary>A move that cannot connect fails like a connect, and the old connection is untouched.</summary>
    [Fact]
    public async Task A_move_that_cannot_connect_fails_and_leaves_the_old_connection_working()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true });
        await using var old = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        using var peer = await listener.AcceptSocketAsync();
        listener.Stop(); // the destination stops accepting: the new race is refused

        await Assert.ThrowsAsync<HeMifConnectException>(() => connector.MoveAsync(old, "test"));
        await old.Stream.WriteAsync("ok"u8.ToArray());
        var buffer = new byte[2];
        Assert.Equal(2, await peer.ReceiveAsync(buffer));
        await Assert.ThrowsAsync<ArgumentException>(() => connector.MoveAsync(old, " "));
    }
}
