using System.Net;
using System.Net.Quic;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography.X509Certificates;
using HeMif.TestKit;
using HeMif.TestKit.Contracts;
using HeMif.Transports.Mptcp;
using HeMif.Transports.Quic;
using HeMif.Transports.Tcp;
using HeMif.Transports.Tests.Quic;

namespace HeMif.Transports.Tests.Contracts;

/// <summary>Issue 13: HeMif's TCP transport passes the transport contract (<see cref="AttemptTransportContract"/>).</summary>
[Collection(Resolve.FileDescriptorCounting.Name)] // the contract counts the whole process's descriptors
public sealed class TcpTransportContract : TcpFamilyTransportContract
{
    protected override AttemptTransport CreateTransport() => new TcpTransport();
}

/// <summary>
/// Issue 13: the MPTCP transport passes the transport contract. The echo peer is plain TCP, so every connection falls
/// back to TCP (RFC 8684 §3.7) where the kernel does MPTCP, and is TCP from the start where it does not: both are the
/// transport's normal paths.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
public sealed class MptcpTransportContract : TcpFamilyTransportContract
{
    protected override AttemptTransport CreateTransport() => new MptcpTransport(new TcpTransport());
}

/// <summary>
/// Issue 13: the QUIC transport passes the transport contract. On a host without libmsquic (as these machines are) the
/// contract holds it, in every case, to what an unsupported transport owes: each attempt fails with
/// <see cref="AttemptFailedException"/> saying "QUIC unsupported on this host (no libmsquic)", a cancelled token is
/// still a cancellation, nothing is left open. Where QUIC runs, the peer is a <see cref="QuicListener"/> with a
/// self-signed certificate that echoes, a refused port answers ICMP port unreachable, and a silent one is a UDP socket
/// that never reads.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("windows")]
public sealed class QuicTransportContract : AttemptTransportContract
{
    /// <summary>The peer's certificate, the one the transport accepts.</summary>
    private static readonly Lazy<X509Certificate2> Certificate = new(QuicTransportTests.SelfSigned);

    /// <summary>QuicTransportTests' listener's ALPN.</summary>
    protected override IReadOnlyList<string> ApplicationProtocols { get; } = ["hemif-test"];

    protected override AttemptTransport CreateTransport() =>
        new QuicTransport((_, cert, _, _) => cert is not null && cert.GetCertHashString() == Certificate.Value.GetCertHashString());

    protected override ContractPeer StartPeer() =>
        QuicListener.IsSupported ? QuicEchoPeer.Start() : throw new InvalidOperationException("QuicListener is not supported on this host");

    protected override (IPEndPoint EndPoint, IDisposable Owner) Refusing()
    {
        var port = new RefusingUdpPort();
        return (port.EndPoint, port);
    }

    protected override (IPEndPoint EndPoint, IDisposable Owner) Silent()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!, socket);
    }

    /// <summary>A QUIC server on loopback that echoes each connection's first stream until the client closes it.</summary>
    private sealed class QuicEchoPeer : ContractPeer
    {
        private readonly QuicListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private QuicEchoPeer(QuicListener listener)
        {
            _listener = listener;
            _loop = Task.Run(AcceptLoopAsync);
        }

        public override IPEndPoint EndPoint => _listener.LocalEndPoint;

        public static QuicEchoPeer Start()
        {
            return new QuicEchoPeer(QuicTransportTests.Listen(Certificate.Value).GetAwaiter().GetResult());
        }

        public override async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _listener.DisposeAsync();
            try
            {
                await _loop;
            }
            catch (Exception e) when (e is OperationCanceledException or QuicException or ObjectDisposedException)
            {
            }

            _stop.Dispose();
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var connection = await _listener.AcceptConnectionAsync(_stop.Token);
                OnAccepted();
                _ = Task.Run(() => EchoAsync(connection));
            }
        }

        private async Task EchoAsync(QuicConnection connection)
        {
            await using (connection)
            {
                try
                {
                    await using var stream = await connection.AcceptInboundStreamAsync(_stop.Token);
                    var buffer = new byte[4096];
                    while (await stream.ReadAsync(buffer, _stop.Token) is var read and > 0)
                    {
                        await stream.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                    }
                }
                catch (QuicException)
                {
                    // closed by the client (connection or stream aborted): closed too
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                OnClosedByClient();
            }
        }
    }
}
