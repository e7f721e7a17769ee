using System.Net;
using System.Net.Sockets;
using HeMif.Multipath;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Mptcp;

/// <summary>
/// One MPTCP attempt (RFC 8684): an MPTCP socket, pinned and connected exactly as a <see cref="TcpTransport"/>
/// attempt (the same source address, device pin, failure classification and hand-over), so the race treats it as a
/// TCP attempt. MPTCP is negotiated inside the TCP handshake (MP_CAPABLE), so it costs no extra round trip, and falls
/// back to TCP in two ways, both said on the connection: the kernel refuses the socket (a plain TCP socket is used
/// instead) or the peer does not answer MP_CAPABLE (the kernel carries on as TCP, RFC 8684 §3.7).
/// </summary>
internal sealed class MptcpTransport(TcpTransport tcp, MptcpSocketFactory? createMptcp = null) : AttemptTransport
{
    private readonly MptcpSocketFactory _createMptcp = createMptcp ?? MptcpNative.TryCreate;

    /// <summary>"mptcp": its attempts are MPTCP sockets (whether the peer then speaks MPTCP is the connection's <c>Multipath</c>).</summary>
    public override TransportName Name => TransportName.Mptcp;

    /// <summary>Never unsupported: where MPTCP is not, the attempt falls back to TCP and says so.</summary>
    public override string? UnsupportedReason => null;

    public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string? refusal = null;
        return tcp.ConnectSocketAsync(context,
            family => _createMptcp(family, out refusal) ?? new Socket(family, SocketType.Stream, ProtocolType.Tcp),
            pinToDevice: true,
            socket => MptcpConnectedPath.Create(socket, refusal),
            cancellationToken);
    }
}

/// <summary>Makes an MPTCP socket, or returns null with why the kernel refused one (<see cref="MptcpNative.TryCreate"/>; tests inject refusals).</summary>
internal delegate Socket? MptcpSocketFactory(AddressFamily family, out string? refusal);

/// <summary>A connected socket from <see cref="MptcpTransport"/>: an MPTCP connection or a TCP fallback, and which.</summary>
internal sealed class MptcpConnectedPath : ConnectedPath
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private int _disposed;

    private MptcpConnectedPath(Socket socket, MptcpStatus status, string description)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Status = status;
        Description = description;
    }

    public MptcpStatus Status { get; }

    public string Description { get; }

    public override IPEndPoint? LocalEndPoint => _socket.LocalEndPoint as IPEndPoint;

    public override IPEndPoint RemoteEndPoint => (IPEndPoint)_socket.RemoteEndPoint!;

    public override Stream Stream => _stream;

    public override Socket? Socket => _socket;

    /// <summary>
    /// What the connected socket is: <paramref name="kernelRefusal"/> set means it is a plain TCP socket because the
    /// kernel refused MPTCP; otherwise <c>MPTCP_INFO</c> tells MPTCP from a fallback (it fails on a fallen-back socket,
    /// or sets <c>MPTCP_INFO_FLAG_FALLBACK</c>).
    /// </summary>
    public static MptcpConnectedPath Create(Socket socket, string? kernelRefusal) =>
        kernelRefusal is not null ? new MptcpConnectedPath(socket, MptcpStatus.KernelRefused, $"TCP (kernel refused MPTCP: {kernelRefusal})")
        : MptcpInfoReader.IsMptcp(socket) ? new MptcpConnectedPath(socket, MptcpStatus.Mptcp, "MPTCP")
        : new MptcpConnectedPath(socket, MptcpStatus.TcpFallback, "TCP (peer does not support MPTCP)");

    public MptcpCounters? ReadCounters() => Status == MptcpStatus.Mptcp && Volatile.Read(ref _disposed) == 0 ? MptcpInfoReader.ReadCounters(_socket) : null;

    public IReadOnlyList<RawSubflow> ReadSubflows() => Status == MptcpStatus.Mptcp && Volatile.Read(ref _disposed) == 0 ? MptcpInfoReader.ReadSubflows(_socket) : [];

    public override ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        return _stream.DisposeAsync();
    }
}
