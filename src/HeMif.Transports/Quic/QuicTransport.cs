using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Authentication;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Quic;

/// <summary>
/// One QUIC attempt over <c>System.Net.Quic</c> (docs/architecture.md §6): <see cref="QuicConnection.ConnectAsync"/> with one
/// resolved endpoint (one resolved IPEndPoint per attempt, never a host name), its local
/// endpoint pinned to the interface's RFC 6724 source address for that destination, the request's ALPN list and the
/// host as TLS server name. Success is the completed handshake (HEv3: a QUIC attempt "succeeds" when its handshake
/// does). msquic owns the UDP socket, so <c>SO_BINDTODEVICE</c> cannot be set: the source address alone pins it (with
/// the per-source routing a multi-network host has). Failures are classified for the planner like TCP's: ICMP
/// unreachable, a refused handshake and a failed TLS validation are hard errors, timeouts soft.
/// <para>
/// Where the host cannot do QUIC (<see cref="QuicConnection.IsSupported"/> is false: no libmsquic on Linux)
/// <see cref="UnsupportedReason"/> says so, and the engine plans no QUIC attempt at all.
/// </para>
/// </summary>
internal sealed class QuicTransport : AttemptTransport
{
    /// <summary>Why QUIC cannot be used on a Linux or macOS host where it is unsupported (the simulator's words too).</summary>
    public const string NoLibMsQuic = "QUIC unsupported on this host (no libmsquic)";

    /// <summary>RFC 9114 §8.1: H3_NO_ERROR, for closing an HTTP/3 connection that is no longer needed.</summary>
    private const long Http3NoError = 0x100;

    private readonly RemoteCertificateValidationCallback? _certificateValidation;
    private readonly bool _supported;

    /// <summary>Creates the transport.</summary>
    /// <param name="certificateValidation">Validates the server's certificate; null: the system's validation.</param>
    /// <param name="supported">Tests force the host's QUIC support either way; null: <see cref="QuicConnection.IsSupported"/>.</param>
    public QuicTransport(RemoteCertificateValidationCallback? certificateValidation = null, bool? supported = null)
    {
        _certificateValidation = certificateValidation;
        _supported = supported ?? QuicConnection.IsSupported;
    }

    public override TransportName Name => TransportName.Quic;

    /// <summary>QUIC runs over UDP: tried before TCP (HEv3), and not where UDP/QUIC is known blocked.</summary>
    public override bool RunsOverUdp => true;

    public override string? UnsupportedReason => _supported ? null
        : OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? NoLibMsQuic
        : OperatingSystem.IsWindows() ? "QUIC unsupported on this host (this Windows has no QUIC with TLS 1.3)"
        : "QUIC unsupported on this host (System.Net.Quic does not run on this OS)";

    public override async Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var networkInterface = context.Interface;
        var remote = context.Remote;
        var options = context;
        if (!_supported || !QuicConnection.IsSupported)
        {
            // The engine never plans QUIC here; a direct call fails like any attempt, never with a platform exception.
            throw new AttemptFailedException(AttemptFailureKind.Soft, $"{UnsupportedReason ?? NoLibMsQuic} ({remote} on {networkInterface.Name})");
        }

        if (options.ApplicationProtocols.Count == 0)
        {
            throw new ArgumentException("QUIC needs at least one ALPN protocol ID (RFC 9001 §8.1).", nameof(context));
        }

        var source = context.SourceAddress;
        if (source is null && networkInterface.Addresses.Count > 0)
        {
            throw new AttemptFailedException(AttemptFailureKind.Hard,
                $"{networkInterface.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address to connect to {remote} from");
        }

        var closeCode = options.ApplicationProtocols[0] == "h3" ? Http3NoError : 0;
        var connectionOptions = new QuicClientConnectionOptions
        {
            RemoteEndPoint = remote,
            LocalEndPoint = source is null ? null : new IPEndPoint(source, 0),
            DefaultCloseErrorCode = closeCode,
            DefaultStreamErrorCode = closeCode,
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                // The name the application asked for: SNI and certificate validation (an IP literal is sent as no SNI).
                TargetHost = options.Host.Trim('[', ']'),
                ApplicationProtocols = [.. options.ApplicationProtocols.Select(p => new SslApplicationProtocol(p))],
                RemoteCertificateValidationCallback = _certificateValidation,
            },
        };

        QuicConnection? connection = null;
        try
        {
            connection = await QuicConnection.ConnectAsync(connectionOptions, cancellationToken).ConfigureAwait(false);
            // The handshake is complete: the attempt has succeeded (HEv3). The winner is handed over as a byte stream
            // like every other transport's, so open the first bidirectional stream now. QUIC has no connection-wide
            // byte stream, and opening one sends nothing until the caller writes; the connection itself stays
            // reachable (HeMifConnection.QuicConnection) for callers that want more streams.
            var stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken).ConfigureAwait(false);
            return new QuicConnectedPath(connection, stream);
        }
        catch (OperationCanceledException)
        {
            await CloseQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
        catch (Exception e) when (Classify(e) is { } failure)
        {
            await CloseQuietlyAsync(connection).ConfigureAwait(false);
            throw new AttemptFailedException(failure.Kind, $"{failure.What} ({remote} on {networkInterface.Name})", e);
        }
        catch
        {
            await CloseQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// What a failed QUIC attempt means for the race. Hard (draft §7.2: "a hard error … could serve as a trigger for the
    /// fallback process"): ICMP unreachable (msquic reports it as a socket error), a handshake the server refused or
    /// could not agree a version on, a TLS
    /// validation failure (a middlebox or the wrong server on this path). Soft: timeouts and the rest. Null for
    /// exceptions that are not the network's answer (bugs, cancellation).
    /// </summary>
    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    [SupportedOSPlatform("windows")]
    internal static (AttemptFailureKind Kind, string What)? Classify(Exception error) => error switch
    {
        QuicException { QuicError: QuicError.ConnectionRefused } => (AttemptFailureKind.Hard, "the server refused the QUIC handshake"),
        QuicException { QuicError: QuicError.VersionNegotiationError } => (AttemptFailureKind.Hard, "no common QUIC version"),
        QuicException { QuicError: QuicError.ConnectionTimeout } => (AttemptFailureKind.Soft, "the QUIC handshake timed out"),
        QuicException e => (AttemptFailureKind.Soft, $"QUIC {e.QuicError}: {e.Message}"),
        AuthenticationException e => (AttemptFailureKind.Hard, $"the TLS handshake failed: {e.Message}"),
        SocketException e => (TcpTransport.Classify(e.SocketErrorCode), TcpTransport.Describe(e.SocketErrorCode)),
        _ => null,
    };

    [SupportedOSPlatform("linux")]
    [SupportedOSPlatform("macos")]
    [SupportedOSPlatform("windows")]
    private static async ValueTask CloseQuietlyAsync(QuicConnection? connection)
    {
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is QuicException or ObjectDisposedException or OperationCanceledException)
        {
            // closing a failed attempt: nothing left to tell anyone
        }
    }
}

/// <summary>
/// A QUIC connection that won, handed to the caller with its first bidirectional stream. Disposing it closes the
/// stream, then the connection (with its default close code).
/// </summary>
[SupportedOSPlatform("linux")]
[SupportedOSPlatform("macos")]
[SupportedOSPlatform("windows")]
internal sealed class QuicConnectedPath(QuicConnection connection, QuicStream stream) : ConnectedPath
{
    public QuicConnection Connection => connection;

    public override IPEndPoint? LocalEndPoint => connection.LocalEndPoint;

    public override IPEndPoint RemoteEndPoint => connection.RemoteEndPoint;

    public override Stream Stream => stream;

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
