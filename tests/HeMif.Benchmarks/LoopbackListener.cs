using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.Benchmarks;

/// <summary>
/// The loopback TCP listener the loopback, scale and soak benchmarks connect to: it accepts and closes every connection,
/// until disposed. <see cref="CreateConnector"/> makes the connector an application would make for a host with only the
/// loopback interface (validation on, as by default; loopback is validated by definition).
/// </summary>
internal sealed class LoopbackListener : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    /// <param name="backlog">The listen backlog: at least the connections the benchmark has in flight.</param>
    public LoopbackListener(int backlog)
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(backlog);
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>Where it listens (127.0.0.1, an ephemeral port).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>A connector for a host whose only interface is loopback.</summary>
    public static IHeMifConnector CreateConnector() => HeMifConnector.Create(new HeMifConnectorOptions
    {
        Interfaces =
        [
            new InterfaceFacts("lo", InterfaceKind.Loopback)
            {
                Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
            },
        ],
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Close();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the listener was closed under its accept
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var accepted = await _socket.AcceptAsync(_stop.Token);
            accepted.Dispose();
        }
    }
}
