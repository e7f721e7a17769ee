using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace HeMif.Transports.Tests.Support;

/// <summary>
/// A check server on 127.0.0.1 that misbehaves on purpose: for each connection it reads the request head, then hands
/// the socket to the test's <see cref="Script"/>, which writes whatever it likes (endless headers, a body that never
/// ends, bytes dripped when the test says). It counts the connections and the bytes the scripts got into the socket.
/// Disposing it closes everything.
/// </summary>
internal sealed class HostileHttpServer : IAsyncDisposable
{
    /// <summary>What a script may write at most, so that even a client that reads forever ends.</summary>
    public const long MaxOffered = 64L * 1024 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<byte[]> _drip = Channel.CreateUnbounded<byte[]>();
    private readonly Task _loop;
    private long _offered;
    private int _connections;

    public HostileHttpServer(Func<HostileHttpServer, Socket, CancellationToken, Task> script)
    {
        Script = script;
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Func<HostileHttpServer, Socket, CancellationToken, Task> Script { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Bytes the scripts got into their sockets (accepted by the kernel) so far.</summary>
    public long Offered => Interlocked.Read(ref _offered);

    /// <summary>Connections accepted (one per request: the check never follows a redirect).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Writes <paramref name="text"/> at once.</summary>
    public static Func<HostileHttpServer, Socket, CancellationToken, Task> Send(string text) =>
        (server, socket, ct) => server.WriteAsync(socket, Encoding.ASCII.GetBytes(text), ct);

    /// <summary>Writes <paramref name="head"/>, then <paramref name="unit"/> again and again until the client goes or <see cref="MaxOffered"/> is reached.</summary>
    public static Func<HostileHttpServer, Socket, CancellationToken, Task> Endless(string head, string unit) => async (server, socket, ct) =>
    {
        await server.WriteAsync(socket, Encoding.ASCII.GetBytes(head), ct);
        var chunk = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(unit, Math.Max(1, 8192 / unit.Length))));
        while (server.Offered < MaxOffered)
        {
            await server.WriteAsync(socket, chunk, ct);
        }
    };

    /// <summary>Writes what the test drips in with <see cref="Drip"/>, as it comes, and never ends by itself.</summary>
    public static Func<HostileHttpServer, Socket, CancellationToken, Task> Dripped() => async (server, socket, ct) =>
    {
        await foreach (var bytes in server._drip.Reader.ReadAllAsync(ct))
        {
            await server.WriteAsync(socket, bytes, ct);
        }
    };

    /// <summary>Has a <see cref="Dripped"/> script write <paramref name="text"/> now.</summary>
    public void Drip(string text) => _drip.Writer.TryWrite(Encoding.ASCII.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task WriteAsync(Socket socket, byte[] bytes, CancellationToken ct)
    {
        for (var sent = 0; sent < bytes.Length;)
        {
            var n = await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, ct);
            sent += n;
            Interlocked.Add(ref _offered, n);
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptSocketAsync(_stop.Token);
            Interlocked.Increment(ref _connections);
            await HttpRequestHead.ReadAsync(client, _stop.Token);

            try
            {
                await Script(this, client, _stop.Token);
            }
            catch (SocketException)
            {
                // The check hung up on us: what a hostile server must expect.
            }
        }
    }
}
