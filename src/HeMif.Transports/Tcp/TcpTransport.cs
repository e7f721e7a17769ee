using System.Net;
using System.Net.Sockets;
using System.Text;
using HeMif.Interfaces;

namespace HeMif.Transports.Tcp;

/// <summary>
/// One TCP attempt = one socket pinned to its interface: bound to the interface's source address for the destination
/// (RFC 6724 §5) and, on Linux, to the device itself (<c>SO_BINDTODEVICE</c>; it needs root or CAP_NET_RAW, so when the
/// kernel refuses it the attempt goes on with the address binding alone, and <see cref="DeviceBindingRefused"/> says
/// so). Failures are classified for the planner: RST and ICMP unreachable/prohibited are hard errors (draft §7.2),
/// timeouts and the rest soft. The socket is disposed on every path but success, where the caller owns it.
/// </summary>
internal sealed class TcpTransport : AttemptTransport
{
    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;
    private int _deviceBindingRefused;

    public override TransportName Name => TransportName.Tcp;

    /// <summary>Whether the kernel refused SO_BINDTODEVICE at least once (attempts then used address binding only).</summary>
    public bool DeviceBindingRefused => Volatile.Read(ref _deviceBindingRefused) != 0;

    public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ConnectSocketAsync(context, static family => new Socket(family, SocketType.Stream, ProtocolType.Tcp), pinToDevice: true,
            static socket => new TcpConnectedPath(socket), cancellationToken);
    }

    /// <summary>
    /// One attempt on a socket some transport makes (plain TCP here; an MPTCP socket for <c>MptcpTransport</c>): the
    /// interface's source address, the device pin when <paramref name="pinToDevice"/>, the connect, the failure
    /// classification, and the hand-over of the connected socket to <paramref name="handOver"/>. The socket is disposed
    /// on every path but success.
    /// </summary>
    internal async Task<ConnectedPath> ConnectSocketAsync(AttemptContext context, Func<AddressFamily, Socket> createSocket,
        bool pinToDevice, Func<Socket, ConnectedPath> handOver, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(createSocket);
        ArgumentNullException.ThrowIfNull(handOver);
        cancellationToken.ThrowIfCancellationRequested();
        var networkInterface = context.Interface;
        var remote = context.Remote;
        var source = context.SourceAddress;
        if (source is null && networkInterface.Addresses.Count > 0)
        {
            throw new AttemptFailedException(AttemptFailureKind.Hard,
                $"{networkInterface.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address to connect to {remote} from");
        }

        var socket = createSocket(remote.AddressFamily);
        try
        {
            socket.NoDelay = true;
            if (pinToDevice)
            {
                PinToDevice(socket, networkInterface.Name);
            }

            if (source is not null)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            return handOver(socket);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new AttemptFailedException(Classify(e.SocketErrorCode), $"{Describe(e.SocketErrorCode)} ({remote} on {networkInterface.Name})", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Hard errors end the path at once (draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger
    /// for the fallback process"): RST, ICMP unreachable (host, network, port) and administratively prohibited.
    /// </summary>
    internal static AttemptFailureKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.HostUnreachable or SocketError.NetworkUnreachable
            or SocketError.HostDown or SocketError.NetworkDown or SocketError.AccessDenied or SocketError.AddressNotAvailable => AttemptFailureKind.Hard,
        _ => AttemptFailureKind.Soft,
    };

    internal static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.ConnectionReset => "connection reset",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostDown => "host down",
        SocketError.NetworkDown => "network down",
        SocketError.AccessDenied => "administratively prohibited",
        SocketError.AddressNotAvailable => "source address not available",
        SocketError.TimedOut => "timed out",
        _ => error.ToString(),
    };

    /// <summary>RFC 6724 §5 source address selection among the interface's own addresses of the destination's family.</summary>
    internal static IPAddress? SourceAddress(InterfaceFacts facts, IPAddress destination) => SourceAddressSelection.For(facts, destination);

    private void PinToDevice(Socket socket, string device)
    {
        if (Volatile.Read(ref _deviceBindingRefused) == 0 && !BindToDevice(socket, device))
        {
            Interlocked.Exchange(ref _deviceBindingRefused, 1); // address binding alone from now on, and say so
        }
    }

    /// <summary>
    /// <c>SO_BINDTODEVICE</c> on Linux (nothing elsewhere). False when the kernel refuses it for want of root or
    /// CAP_NET_RAW (EPERM): the caller then binds the source address alone. A device the host lacks (ENODEV: facts from
    /// an override file) is no refusal: this socket goes on with its address binding alone.
    /// </summary>
    internal static bool BindToDevice(Socket socket, string device)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        try
        {
            socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(device + "\0"));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            return false;
        }
        catch (SocketException)
        {
            // ENODEV and the like: no such device on this host; address binding alone.
        }

        return true;
    }
}

/// <summary>A connected TCP socket, handed to the caller: the stream owns the socket.</summary>
internal sealed class TcpConnectedPath(Socket socket) : ConnectedPath
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly IPEndPoint _remote = (IPEndPoint)socket.RemoteEndPoint!;

    public override IPEndPoint? LocalEndPoint => socket.LocalEndPoint as IPEndPoint;

    public override IPEndPoint RemoteEndPoint => _remote;

    public override Stream Stream => _stream;

    public override Socket? Socket => socket;

    public override ValueTask DisposeAsync() => _stream.DisposeAsync();
}
