using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HeMif.CustomTransport;

/// <summary>
/// A tiny SOCKS5 proxy on 127.0.0.1 for the demo and its tests: RFC 1928 CONNECT with "NO AUTHENTICATION REQUIRED",
/// IPv4 and IPv6 destinations, nothing else. Its route (a constructor argument) stands for the proxy's own network (it may reach a
/// destination the host cannot reach directly); <see cref="HoldReplies"/> makes it a slow proxy that answers no CONNECT.
/// It counts the tunnels whose client closed them, so a test sees a losing attempt really closed.
/// </summary>
public sealed class Socks5Server : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<IPEndPoint, IPEndPoint> _route;
    private readonly Task _loop;
    private int _requests;
    private int _closedByClient;

    /// <summary>Starts the proxy.</summary>
    /// <param name="route">Where a CONNECT to a destination really goes (default: the destination itself).</param>
    public Socks5Server(Func<IPEndPoint, IPEndPoint>? route = null)
    {
        _route = route ?? (static destination => destination);
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where clients reach the proxy.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>While true, a CONNECT request is read but never answered (a slow proxy).</summary>
    public bool HoldReplies { get; set; }

    /// <summary>CONNECT requests received so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Tunnels (or held requests) whose client closed them.</summary>
    public int ClosedByClient => Volatile.Read(ref _closedByClient);

    /// <summary>Stops the proxy and every tunnel.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                if (await ReadConnectAsync(client).ConfigureAwait(false) is not { } destination)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                // The client sends nothing more until it has the reply: a read that ends now means it closed the tunnel.
                var watch = new byte[1];
                var clientGone = client.ReceiveAsync(watch, _stop.Token).AsTask();
                // Whichever way this tunnel ends, the watch's own end is observed (never an unobserved task exception).
                _ = clientGone.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                if (HoldReplies)
                {
                    await clientGone.ConfigureAwait(false);
                    Interlocked.Increment(ref _closedByClient);
                    return;
                }

                using var target = new Socket(destination.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                var connect = target.ConnectAsync(_route(destination), giveUp.Token).AsTask();
                if (await Task.WhenAny(connect, clientGone).ConfigureAwait(false) == clientGone)
                {
                    await giveUp.CancelAsync().ConfigureAwait(false);
                    await Quietly(connect).ConfigureAwait(false);
                    Interlocked.Increment(ref _closedByClient);
                    return;
                }

                var reply = await Quietly(connect).ConfigureAwait(false) switch
                {
                    null => (byte)0,
                    SocketException { SocketErrorCode: SocketError.ConnectionRefused } => (byte)5,
                    SocketException { SocketErrorCode: SocketError.NetworkUnreachable } => (byte)3,
                    SocketException { SocketErrorCode: SocketError.HostUnreachable } => (byte)4,
                    _ => (byte)1,
                };
                // RFC 1928 §6: VER, REP, RSV, ATYP X'01', BND.ADDR 0.0.0.0, BND.PORT 0.
                await client.SendAsync(new byte[] { 5, reply, 0, 1, 0, 0, 0, 0, 0, 0 }, _stop.Token).ConfigureAwait(false);
                if (reply != 0)
                {
                    return;
                }

                await RelayAsync(client, target, clientGone, watch).ConfigureAwait(false);
                Interlocked.Increment(ref _closedByClient);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // the proxy stops, or a peer reset: the tunnel ends
            }
        }
    }

    /// <summary>Reads the greeting and the CONNECT request; null when it is not one this proxy serves (it says so first).</summary>
    private async Task<IPEndPoint?> ReadConnectAsync(Socket client)
    {
        var greeting = await ReadAsync(client, 2).ConfigureAwait(false);
        var methods = await ReadAsync(client, greeting[1]).ConfigureAwait(false);
        if (greeting[0] != 5 || !methods.Contains((byte)0))
        {
            await client.SendAsync(new byte[] { 5, 0xff }, _stop.Token).ConfigureAwait(false); // X'FF' NO ACCEPTABLE METHODS
            return null;
        }

        await client.SendAsync(new byte[] { 5, 0 }, _stop.Token).ConfigureAwait(false);
        var head = await ReadAsync(client, 4).ConfigureAwait(false);
        var length = head[3] switch { 1 => 4, 4 => 16, _ => 0 };
        if (head[1] != 1 || length == 0)
        {
            await client.SendAsync(new byte[] { 5, head[1] != 1 ? (byte)7 : (byte)8, 0, 1, 0, 0, 0, 0, 0, 0 }, _stop.Token).ConfigureAwait(false);
            return null;
        }

        var address = await ReadAsync(client, length).ConfigureAwait(false);
        var port = await ReadAsync(client, 2).ConfigureAwait(false);
        return new IPEndPoint(new IPAddress(address), BinaryPrimitives.ReadUInt16BigEndian(port));
    }

    /// <summary>Copies both ways until the client closes; the byte the watch read first (if any) goes first.</summary>
    private async Task RelayAsync(Socket client, Socket target, Task<int> watched, byte[] watch)
    {
        using var clientStream = new NetworkStream(client, ownsSocket: false);
        using var targetStream = new NetworkStream(target, ownsSocket: false);
        var back = targetStream.CopyToAsync(clientStream, _stop.Token);
        try
        {
            if (await watched.ConfigureAwait(false) > 0)
            {
                await targetStream.WriteAsync(watch, _stop.Token).ConfigureAwait(false);
                await clientStream.CopyToAsync(targetStream, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // reset by the client: closed too
        }

        target.Shutdown(SocketShutdown.Send);
        await Quietly(back).ConfigureAwait(false);
    }

    private async Task<byte[]> ReadAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        for (var read = 0; read < count;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), _stop.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            read += n;
        }

        return buffer;
    }

    private static async Task<Exception?> Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
