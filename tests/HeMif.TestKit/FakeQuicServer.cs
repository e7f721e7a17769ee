using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
namespace HeMif.TestKit;

/// <summary>
/// A tiny UDP responder on loopback for the QUIC path probe: it records every datagram it gets and answers each one
/// with whatever <see cref="Reply"/> crafts from it (nothing: silence). Its port is 0-bound, so tests never assume a
/// free port. It reads Initials with its own few lines (RFC 8999 §5.1), not with the code under test.
/// </summary>
public sealed class FakeQuicServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
    private readonly Task _loop;

    public FakeQuicServer(IPAddress address, Func<byte[], IEnumerable<byte[]>>? reply = null)
    {
        Reply = reply ?? (_ => []);
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        _loop = Task.Run(LoopAsync);
    }

    public Func<byte[], IEnumerable<byte[]>> Reply { get; set; }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The next datagram the responder received (bounded wait: a test never hangs).</summary>
    public async Task<byte[]> NextAsync(TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>A Version Negotiation packet (RFC 9000 §17.2.1), as a server writes it, or as a test breaks it.</summary>
    public static byte[] VersionNegotiation(byte[] dcid, byte[] scid, uint[] versions, byte firstByte = 0x80 | 0x2a, uint version = 0)
    {
        ArgumentNullException.ThrowIfNull(dcid);
        ArgumentNullException.ThrowIfNull(scid);
        ArgumentNullException.ThrowIfNull(versions);
        var packet = new byte[7 + dcid.Length + scid.Length + (4 * versions.Length)];
        packet[0] = firstByte;
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(1), version);
        packet[5] = (byte)dcid.Length;
        dcid.CopyTo(packet, 6);
        packet[6 + dcid.Length] = (byte)scid.Length;
        scid.CopyTo(packet, 7 + dcid.Length);
        for (var i = 0; i < versions.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(7 + dcid.Length + scid.Length + (4 * i)), versions[i]);
        }

        return packet;
    }

    /// <summary>The answer a QUIC v1 server gives to an Initial of a version it does not know: both IDs echoed.</summary>
    public static byte[] ValidAnswer(byte[] initial)
    {
        var (dcid, scid) = ConnectionIds(initial);
        return VersionNegotiation(scid, dcid, [0x00000001, 0x6b3343cf]);
    }

    /// <summary>The connection IDs of a long-header packet (RFC 8999 §5.1): destination, then source.</summary>
    public static (byte[] Destination, byte[] Source) ConnectionIds(byte[] packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var dcidLength = packet[5];
        var scidLength = packet[6 + dcidLength];
        return (packet[6..(6 + dcidLength)], packet[(7 + dcidLength)..(7 + dcidLength + scidLength)]);
    }

    /// <summary>The version field of a long-header packet.</summary>
    public static uint Version(byte[] packet) => BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(1));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopping
        }

        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            var from = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            var got = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token);
            var datagram = buffer.AsSpan(0, got.ReceivedBytes).ToArray();
            _received.Writer.TryWrite(datagram);
            foreach (var answer in Reply(datagram))
            {
                await _socket.SendToAsync(answer, SocketFlags.None, got.RemoteEndPoint, _stop.Token);
            }
        }
    }
}
