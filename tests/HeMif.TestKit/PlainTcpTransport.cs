using System.Net;
using System.Net.Sockets;

namespace HeMif.TestKit;

/// <summary>
/// TCP through a plain <see cref="Socket"/> under a name of the test's choosing (default <c>plain</c>): a transport
/// written against the public ports only, as an application would, for tests that register a transport of their own
/// (the composition builder, DI). Not pinned to the interface: loopback only. A refused or unreachable connect is hard.
/// </summary>
public sealed class PlainTcpTransport(string name = "plain") : AttemptTransport
{
    private int _attempts;

    /// <summary>How many attempts were asked of it.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <inheritdoc/>
    public override TransportName Name { get; } = new(name);

    /// <inheritdoc/>
    public override async Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _attempts);
        var socket = new Socket(context.Remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(context.Remote, cancellationToken).ConfigureAwait(false);
            return new Path(socket);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new AttemptFailedException(AttemptFailureKind.Hard, $"{Name} to {context}: {e.SocketErrorCode}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The connected socket, as a stream.</summary>
    public sealed class Path : ConnectedPath
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;

        internal Path(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: true);
        }

        /// <inheritdoc/>
        public override IPEndPoint? LocalEndPoint => (IPEndPoint?)_socket.LocalEndPoint;

        /// <inheritdoc/>
        public override IPEndPoint RemoteEndPoint => (IPEndPoint)_socket.RemoteEndPoint!;

        /// <inheritdoc/>
        public override Stream Stream => _stream;

        /// <inheritdoc/>
        public override Socket? Socket => _socket;

        /// <inheritdoc/>
        public override ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
