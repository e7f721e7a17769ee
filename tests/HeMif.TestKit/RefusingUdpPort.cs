using System.Net;
using System.Net.Sockets;

namespace HeMif.TestKit;

/// <summary>
/// A loopback UDP port that answers every datagram with ICMP port unreachable, reserved while this object lives: a
/// UDP socket bound to it and connected elsewhere (to port 9) holds the port, and Linux delivers a connected socket
/// only its peer's datagrams, so anyone else's datagram finds no socket and is refused. (Binding and closing would
/// free the number for another test running in parallel.)
/// </summary>
public sealed class RefusingUdpPort : IDisposable
{
    private readonly Socket _socket;

    /// <summary>Reserves a refusing port on <paramref name="address"/> (default 127.0.0.1).</summary>
    public RefusingUdpPort(IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        _socket.Connect(new IPEndPoint(address, 9));
    }

    /// <summary>The endpoint; a datagram to it is refused.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The port number.</summary>
    public int Port => EndPoint.Port;

    /// <summary>Releases the port.</summary>
    public void Dispose() => _socket.Dispose();
}
