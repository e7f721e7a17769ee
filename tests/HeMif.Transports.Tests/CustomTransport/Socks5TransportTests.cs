using System.Net;
using HeMif.CustomTransport;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.TestKit.Contracts;

namespace HeMif.Transports.Tests.CustomTransport;

/// <summary>
/// Issue 13: "examples/HeMif.CustomTransport: a transport written with the public API only …, raced beside TCP; a test
/// shows it winning and losing races and being closed when it loses." The SOCKS5 tunnel is registered through the
/// builder beside HeMif's TCP; every request may use both (TCP first, the tunnel one attempt delay later).
/// </summary>
public sealed class Socks5TransportTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static IHeMifConnector Connector(Socks5Transport socks5) => HeMifConnector.CreateBuilder()
        .UseOptions(new HeMifConnectorOptions
        {
            Interfaces = [new InterfaceFacts("lo", InterfaceKind.Loopback) { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] }],
            DisableValidation = true,
        })
        .AddTransport(socks5)
        .UseDefaultTransports(TransportName.Tcp, socks5.Name)
        .Build();

    [Fact]
    public async Task The_tunnel_wins_when_direct_TCP_is_refused()
    {
        await using var service = new TcpEchoPeer();
        using var refusing = new RefusingPort();
        // The proxy's own network reaches the service behind the port the host's direct path is refused on.
        await using var proxy = new Socks5Server(d => d.Port == refusing.Port ? service.EndPoint : d);
        await using var connector = Connector(new Socks5Transport(proxy.EndPoint));

        await using var connection = await connector.ConnectAsync("127.0.0.1", refusing.Port).WaitAsync(Bound);

        Assert.Equal("socks5", connection.Transport);
        Assert.Equal(["tcp", "socks5"], connection.Report.Attempts.Select(a => a.Transport));
        Assert.Contains("connection refused", connection.Report.Attempts[0].Error, StringComparison.Ordinal);
        await connection.Stream.WriteAsync("ping"u8.ToArray());
        var echo = new byte[4];
        await connection.Stream.ReadExactlyAsync(echo).AsTask().WaitAsync(Bound);
        Assert.Equal("ping"u8.ToArray(), echo);
    }

    [Fact]
    public async Task Direct_TCP_wins_when_it_is_faster()
    {
        await using var service = new TcpEchoPeer();
        await using var proxy = new Socks5Server();
        await using var connector = Connector(new Socks5Transport(proxy.EndPoint));

        await using var connection = await connector.ConnectAsync("127.0.0.1", service.EndPoint.Port).WaitAsync(Bound);

        Assert.Equal("tcp", connection.Transport);
        Assert.Equal("tcp", connection.Report.Winner!.Transport);
    }

    /// <summary>
    /// The tunnel's attempt is under way (the proxy holds its CONNECT) when direct TCP, silent so far, gets through: TCP
    /// wins, and the race cancels the tunnel, which closes its connection to the proxy (the proxy sees it closed).
    /// </summary>
    [Fact]
    public async Task The_tunnel_is_closed_when_it_loses()
    {
        using var direct = new SilentTcpPort();
        await using var proxy = new Socks5Server { HoldReplies = true };
        await using var connector = Connector(new Socks5Transport(proxy.EndPoint));

        var connecting = connector.ConnectAsync("127.0.0.1", direct.EndPoint.Port);
        await Until(() => proxy.Requests == 1, "the tunnel's CONNECT reached the proxy");
        direct.StartAnswering(); // TCP's next SYN retransmission gets through
        await using var connection = await connecting.WaitAsync(Bound);

        Assert.Equal("tcp", connection.Transport);
        await Until(() => proxy.ClosedByClient == 1, "the proxy sees the losing tunnel closed");
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), what);
    }
}

/// <summary>
/// Issue 13: the example's SOCKS5 transport passes the transport contract (<see cref="AttemptTransportContract"/>),
/// through a proxy of its own per case: the proxy refused by the destination answers "connection refused" (hard), a
/// silent destination leaves the CONNECT unanswered.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
public sealed class Socks5TransportContract : TcpFamilyTransportContract, IAsyncLifetime
{
    private readonly Socks5Server _proxy = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _proxy.DisposeAsync().AsTask();

    protected override AttemptTransport CreateTransport() => new Socks5Transport(_proxy.EndPoint);
}
