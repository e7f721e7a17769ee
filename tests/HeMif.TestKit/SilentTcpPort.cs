using System.Net;
using System.Net.Sockets;

namespace HeMif.TestKit;

/// <summary>
/// A loopback TCP port that never answers a SYN, without root or a firewall rule: a listener with a backlog of zero
/// whose accept queue is filled and never drained. Linux then drops every further SYN (tcp_conn_request: "if the accept
/// queue is full … drop"), so a connect to it waits, retransmitting its SYN, as toward a blackholed address: the
/// silence a soft failure is made of.
/// </summary>
public sealed class SilentTcpPort : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _fillers = [];
    private readonly List<Socket> _accepted = [];
    private Task? _answering;

    /// <summary>Listens with a backlog of zero and fills the accept queue (at most a few connections, bounded waits).</summary>
    public SilentTcpPort()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        for (var i = 0; i < 8; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _fillers.Add(filler);
            // A filler that does not connect within a second found the queue full: the port is silent now.
            var connect = filler.ConnectAsync(EndPoint);
            if (!connect.Wait(TimeSpan.FromSeconds(1)))
            {
                // It ends when the filler is disposed: observed here, never an unobserved task exception.
                _ = connect.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return;
            }
        }

        throw new TestKitException("SilentTcpPort: the listener kept accepting connections into a full backlog; this kernel does not drop SYNs to a full accept queue.");
    }

    /// <summary>The endpoint; a connect to it gets no answer.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>
    /// From now on the port answers: it accepts (and holds) every queued and later connection, so the accept queue has
    /// room and a connect that was retransmitting its SYN gets through at its next retransmission (a path that was
    /// silent comes back).
    /// </summary>
    public void StartAnswering() => _answering ??= Task.Run(async () =>
    {
        try
        {
            while (true)
            {
                var accepted = await _listener.AcceptAsync().ConfigureAwait(false);
                lock (_accepted)
                {
                    _accepted.Add(accepted);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // disposed
        }
    });

    /// <summary>Releases the port, its fillers and what it accepted.</summary>
    public void Dispose()
    {
        lock (_accepted)
        {
            foreach (var accepted in _accepted)
            {
                accepted.Dispose();
            }
        }

        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
