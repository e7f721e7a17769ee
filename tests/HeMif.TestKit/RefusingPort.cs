using System.Net;
using System.Net.Sockets;

namespace HeMif.TestKit;

/// <summary>
/// A loopback TCP port that refuses connections (Linux answers a SYN to a bound, non-listening socket with RST) and
/// stays reserved while this object lives. Closing the socket first would free the port number for another test's
/// listener running in parallel, and a "refused" connect would then succeed.
/// </summary>
public sealed class RefusingPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>Binds a free loopback port without listening on it.</summary>
    public RefusingPort() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    /// <summary>The endpoint; connecting to it is refused.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The port number.</summary>
    public int Port => EndPoint.Port;

    /// <summary>Releases the port.</summary>
    public void Dispose() => _socket.Dispose();
}
