using System.Net;
using System.Net.Sockets;

namespace HeMif;

/// <summary>
/// An established connection: what an <see cref="AttemptTransport"/> hands back and the race's winner gives to the
/// caller. Disposing it closes it (and releases whatever the transport holds for it: the socket, a QUIC connection, a
/// proxy's tunnel). Disposing twice does nothing the second time.
/// </summary>
public abstract class ConnectedPath : IAsyncDisposable
{
    /// <summary>The local endpoint, on the attempt's interface, when the transport knows it.</summary>
    public abstract IPEndPoint? LocalEndPoint { get; }

    /// <summary>The remote endpoint the attempt connected to.</summary>
    public abstract IPEndPoint RemoteEndPoint { get; }

    /// <summary>The byte stream the application reads and writes.</summary>
    public abstract Stream Stream { get; }

    /// <summary>The socket, for transports built on one the application may use directly; null by default.</summary>
    public virtual Socket? Socket => null;

    /// <summary>Closes the connection.</summary>
    public abstract ValueTask DisposeAsync();
}
