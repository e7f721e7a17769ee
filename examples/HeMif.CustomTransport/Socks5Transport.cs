using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HeMif.CustomTransport;

/// <summary>
/// TCP through a SOCKS5 proxy (RFC 1928: CONNECT, method "NO AUTHENTICATION REQUIRED"), the proxy reached over the
/// attempt's interface: the tunnel leaves from <see cref="AttemptContext.SourceAddress"/>, so HeMif's race decides which
/// network carries it, as it does for TCP. Written with HeMif's public API only.
/// <para>
/// Hard or soft (what the race needs to know, draft §7.2): the proxy refusing our connection, or answering that the
/// destination refused, is unreachable or is not allowed, is hard (the next attempt starts at once); a general proxy
/// failure, an expired TTL or an answer that is not SOCKS5 is soft.
/// </para>
/// </summary>
public sealed class Socks5Transport : AttemptTransport
{
    /// <summary>RFC 1928 §3: "The VER field is set to X'05' for this version of the protocol".</summary>
    private const byte Version = 5;

    private readonly IPEndPoint _proxy;

    /// <summary>Creates the transport.</summary>
    /// <param name="proxy">The SOCKS5 proxy.</param>
    /// <param name="name">The name it is registered and reported under (default <c>socks5</c>).</param>
    public Socks5Transport(IPEndPoint proxy, string name = "socks5")
    {
        ArgumentNullException.ThrowIfNull(proxy);
        _proxy = proxy;
        Name = new TransportName(name);
    }

    /// <inheritdoc/>
    public override TransportName Name { get; }

    /// <inheritdoc/>
    public override async Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var socket = new Socket(_proxy.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Over the attempt's interface: its own address toward the proxy (null where it has none of the proxy's family).
            if (SourceFor(context) is { } source)
            {
                socket.Bind(new IPEndPoint(source, 0));
            }

            try
            {
                await socket.ConnectAsync(_proxy, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new AttemptFailedException(Kind(e.SocketErrorCode), $"SOCKS5 proxy {_proxy} for {context}: {e.SocketErrorCode}", e);
            }

            await HandshakeAsync(socket, context, cancellationToken).ConfigureAwait(false);
            return new Socks5Path(socket, context.Remote);
        }
        catch
        {
            socket.Dispose(); // every failure and cancellation: nothing left open
            throw;
        }
    }

    private IPAddress? SourceFor(AttemptContext context) =>
        _proxy.AddressFamily == context.Remote.AddressFamily ? context.SourceAddress
        : context.Interface.Addresses.Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == _proxy.AddressFamily && !a.IsIPv6LinkLocal);

    private static AttemptFailureKind Kind(SocketError error) => error is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable
        ? AttemptFailureKind.Hard
        : AttemptFailureKind.Soft;

    private async Task HandshakeAsync(Socket socket, AttemptContext context, CancellationToken cancellationToken)
    {
        // RFC 1928 §3: VER, NMETHODS, METHODS; "X'00' NO AUTHENTICATION REQUIRED".
        await socket.SendAsync(new byte[] { Version, 1, 0 }, cancellationToken).ConfigureAwait(false);
        var choice = await ReceiveExactlyAsync(socket, 2, context, cancellationToken).ConfigureAwait(false);
        if (choice[0] != Version || choice[1] != 0)
        {
            throw new AttemptFailedException(AttemptFailureKind.Soft, $"SOCKS5 proxy {_proxy} for {context}: no acceptable method (answered {choice[0]:x2} {choice[1]:x2})");
        }

        // RFC 1928 §4: VER, CMD (X'01' CONNECT), RSV, ATYP (X'01' IPv4, X'04' IPv6), DST.ADDR, DST.PORT (network order).
        var address = context.Remote.Address.GetAddressBytes();
        var request = new byte[4 + address.Length + 2];
        request[0] = Version;
        request[1] = 1;
        request[3] = address.Length == 4 ? (byte)1 : (byte)4;
        address.CopyTo(request, 4);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4 + address.Length), (ushort)context.Remote.Port);
        await socket.SendAsync(request, cancellationToken).ConfigureAwait(false);

        // RFC 1928 §6: VER, REP, RSV, ATYP, BND.ADDR, BND.PORT.
        var reply = await ReceiveExactlyAsync(socket, 4, context, cancellationToken).ConfigureAwait(false);
        if (reply[0] != Version)
        {
            throw new AttemptFailedException(AttemptFailureKind.Soft, $"SOCKS5 proxy {_proxy} for {context}: not a SOCKS5 reply");
        }

        if (reply[1] != 0)
        {
            throw new AttemptFailedException(ReplyKind(reply[1]), $"SOCKS5 proxy {_proxy} for {context}: {ReplyText(reply[1])}");
        }

        var bound = reply[3] switch
        {
            1 => 4,
            4 => 16,
            3 => (await ReceiveExactlyAsync(socket, 1, context, cancellationToken).ConfigureAwait(false))[0],
            _ => throw new AttemptFailedException(AttemptFailureKind.Soft, $"SOCKS5 proxy {_proxy} for {context}: unknown address type {reply[3]}"),
        };
        await ReceiveExactlyAsync(socket, bound + 2, context, cancellationToken).ConfigureAwait(false);
    }

    private async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count, AttemptContext context, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        for (var read = 0; read < count;)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new AttemptFailedException(AttemptFailureKind.Soft, $"SOCKS5 proxy {_proxy} for {context}: {e.SocketErrorCode}", e);
            }

            if (n == 0)
            {
                throw new AttemptFailedException(AttemptFailureKind.Soft, $"SOCKS5 proxy {_proxy} for {context}: closed during the handshake");
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>RFC 1928 §6's replies: refused, unreachable and not allowed are the destination's hard errors.</summary>
    private static AttemptFailureKind ReplyKind(byte reply) => reply is 2 or 3 or 4 or 5 ? AttemptFailureKind.Hard : AttemptFailureKind.Soft;

    private static string ReplyText(byte reply) => reply switch
    {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => $"reply {reply}",
    };

    /// <summary>The tunnel: the socket to the proxy, carrying the destination's bytes.</summary>
    private sealed class Socks5Path(Socket socket, IPEndPoint remote) : ConnectedPath
    {
        private readonly NetworkStream _stream = new(socket, ownsSocket: true);

        public override IPEndPoint? LocalEndPoint => (IPEndPoint?)socket.LocalEndPoint;

        public override IPEndPoint RemoteEndPoint => remote;

        public override Stream Stream => _stream;

        public override ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
