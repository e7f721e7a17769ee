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

    /// <summary>Releases the port and its fillers.</summary>
    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }

        _listener.Dispose();
    }
}
