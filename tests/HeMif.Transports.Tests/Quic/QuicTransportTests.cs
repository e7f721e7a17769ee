using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Simulation;
using HeMif.Transports.Quic;
using HeMif.Transports.Tests.Support;

namespace HeMif.Transports.Tests.Quic;

/// <summary>
/// The QUIC transport: where the host has no QUIC (these machines: no libmsquic) it says so and never throws anything
/// but an attempt failure; where it has, a real handshake over loopback with a self-signed certificate.
/// </summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("windows")]
public sealed class QuicTransportTests
{
    internal const string Alpn = "hemif-test";

    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
    };

    /// <summary>Issue 6: "It checks QuicConnection.IsSupported"; the reason reads like the simulator's.</summary>
    [Fact]
    public void Without_libmsquic_the_transport_says_why_in_the_simulators_words()
    {
        var transport = new QuicTransport(supported: false);
        Assert.Equal((TransportName.Quic, true), (transport.Name, transport.RunsOverUdp));
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(SimulatedNetwork.QuicUnsupportedReason, transport.UnsupportedReason);
        }

        Assert.StartsWith("QUIC unsupported on this host", transport.UnsupportedReason, StringComparison.Ordinal);
        Assert.Equal(QuicConnection.IsSupported, new QuicTransport().UnsupportedReason is null);
    }

    /// <summary>Never an exception beyond an attempt failure, never a hang: a direct call fails at once, soft.</summary>
    [Fact]
    public async Task Without_libmsquic_an_attempt_fails_at_once_as_an_attempt_failure()
    {
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() =>
            new QuicTransport(supported: false).ConnectAsync(Loopback, new IPEndPoint(IPAddress.Loopback, 443), CancellationToken.None));
        Assert.Equal(AttemptFailureKind.Soft, error.Kind);
        Assert.Contains("QUIC unsupported on this host", error.Message, StringComparison.Ordinal);
        Assert.Contains("on lo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_before_the_attempt_is_told_apart_from_a_failure()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new QuicTransport(supported: false).ConnectAsync(Loopback, new IPEndPoint(IPAddress.Loopback, 443), cts.Token));
    }

    /// <summary>Draft §7.2's hard errors for QUIC: a refused handshake, no common version, a failed TLS validation, ICMP unreachable.</summary>
    [Fact]
    public void Failures_are_classified_hard_or_soft()
    {
        Assert.Equal(AttemptFailureKind.Hard, QuicTransport.Classify(new QuicException(QuicError.ConnectionRefused, null, "refused"))!.Value.Kind);
        Assert.Equal(AttemptFailureKind.Hard, QuicTransport.Classify(new QuicException(QuicError.VersionNegotiationError, null, "vn"))!.Value.Kind);
        Assert.Equal(AttemptFailureKind.Hard, QuicTransport.Classify(new AuthenticationException("bad certificate"))!.Value.Kind);
        Assert.Equal(AttemptFailureKind.Hard, QuicTransport.Classify(new SocketException((int)SocketError.HostUnreachable))!.Value.Kind);
        Assert.Equal(AttemptFailureKind.Soft, QuicTransport.Classify(new QuicException(QuicError.ConnectionTimeout, null, "timeout"))!.Value.Kind);
        Assert.Equal(AttemptFailureKind.Soft, QuicTransport.Classify(new QuicException(QuicError.ConnectionIdle, null, "idle"))!.Value.Kind);
        Assert.Null(QuicTransport.Classify(new InvalidOperationException("a bug")));
    }

    /// <summary>
    /// Where QUIC runs: a real handshake over loopback against a QuicListener with a self-signed certificate, pinned to
    /// the interface's address; the winner's stream is a bidirectional QUIC stream that carries bytes both ways.
    /// </summary>
    [QuicFact]
    public async Task Where_QUIC_runs_a_handshake_over_loopback_hands_over_a_working_stream()
    {
        using var certificate = SelfSigned();
        await using var listener = await Listen(certificate);
        var echo = EchoOnceAsync(listener);
        var transport = new QuicTransport((_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString());

        await using var path = await transport.ConnectAsync(Loopback, listener.LocalEndPoint, CancellationToken.None, "localhost", [Alpn])
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(IPAddress.Loopback, path.LocalEndPoint!.Address);
        Assert.Null(path.Socket);
        Assert.IsType<QuicStream>(path.Stream);
        await path.Stream!.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await path.Stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("ping"u8.ToArray(), buffer);
        await echo.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Where QUIC runs: a certificate the validation rejects is a hard failure, and nothing is left open.</summary>
    [QuicFact]
    public async Task Where_QUIC_runs_a_rejected_certificate_is_a_hard_failure()
    {
        using var certificate = SelfSigned();
        await using var listener = await Listen(certificate);
        var transport = new QuicTransport((_, _, _, _) => false);
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() =>
            transport.ConnectAsync(Loopback, listener.LocalEndPoint, CancellationToken.None, "localhost", [Alpn]).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
    }

    /// <summary>Where QUIC runs: through the public connector, QUIC only, the connection exposes its QuicConnection.</summary>
    [QuicFact]
    public async Task Where_QUIC_runs_the_connector_connects_over_QUIC_and_exposes_the_QuicConnection()
    {
        using var certificate = SelfSigned();
        await using var listener = await Listen(certificate);
        var echo = EchoOnceAsync(listener);
        await using var connector = HeMifConnector.Create(new HeMifConnectorOptions
        {
            Interfaces = [Loopback],
            DisableValidation = true,
            QuicCertificateValidation = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate.GetCertHashString(),
        });
        await using var connection = await connector.ConnectAsync("127.0.0.1", listener.LocalEndPoint.Port,
            new ConnectOptions { Transport = TransportPreference.Quic, ApplicationProtocols = [Alpn] });

        Assert.Equal("quic", connection.Transport);
        Assert.NotNull(connection.QuicConnection);
        await connection.Stream.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        await connection.Stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await echo.WaitAsync(TimeSpan.FromSeconds(30));
    }

    internal static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // msquic (OpenSSL) wants the key in an exportable form: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    internal static async Task<QuicListener> Listen(X509Certificate2 certificate) =>
        await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [new SslApplicationProtocol(Alpn)],
            ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(new QuicServerConnectionOptions
            {
                DefaultCloseErrorCode = 0,
                DefaultStreamErrorCode = 0,
                ServerAuthenticationOptions = new SslServerAuthenticationOptions
                {
                    ApplicationProtocols = [new SslApplicationProtocol(Alpn)],
                    ServerCertificate = certificate,
                },
            }),
        });

    private static async Task EchoOnceAsync(QuicListener listener)
    {
        await using var connection = await listener.AcceptConnectionAsync();
        await using var stream = await connection.AcceptInboundStreamAsync();
        var buffer = new byte[4];
        await stream.ReadExactlyAsync(buffer);
        await stream.WriteAsync(buffer);
        await stream.FlushAsync();
    }
}
