using System.Net;
using System.Net.Sockets;

namespace HeMif.TestKit.Contracts;

/// <summary>
/// A peer on loopback for <see cref="AttemptTransportContract"/>: accepts the transport's connections, echoes what it
/// reads, and counts the connections whose client closed them (end of stream or reset), which is how the suite sees
/// that a path was really closed, not just forgotten.
/// </summary>
public abstract class ContractPeer : IAsyncDisposable
{
    private int _accepted;
    private int _closed;

    /// <summary>Where the transport connects to.</summary>
    public abstract IPEndPoint EndPoint { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections the client has closed so far.</summary>
    public int ClosedByClient => Volatile.Read(ref _closed);

    /// <summary>Stops the peer.</summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>A subclass calls it when it accepts a connection.</summary>
    protected void OnAccepted() => Interlocked.Increment(ref _accepted);

    /// <summary>A subclass calls it when a client closed its connection.</summary>
    protected void OnClosedByClient() => Interlocked.Increment(ref _closed);
}

/// <summary>The TCP peer: a listener on 127.0.0.1 that echoes each connection until its client closes it.</summary>
public sealed class TcpEchoPeer : ContractPeer
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Starts listening.</summary>
    public TcpEchoPeer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    /// <inheritdoc/>
    public override IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <inheritdoc/>
    public override async ValueTask DisposeAsync()
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
            OnAccepted();
            _ = Task.Run(() => EchoAsync(client));
        }
    }

    private async Task EchoAsync(Socket client)
    {
        using (client)
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var read = await client.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    await client.SendAsync(buffer.AsMemory(0, read), _stop.Token).ConfigureAwait(false);
                }
            }
            catch (SocketException)
            {
                // reset by the client: closed too
            }
            catch (OperationCanceledException)
            {
                return; // the peer stops: not the client's doing
            }

            OnClosedByClient();
        }
    }
}
