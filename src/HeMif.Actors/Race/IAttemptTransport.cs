using System.Net;
using System.Net.Sockets;
using HeMif.Filter;
using HeMif.Interfaces;

namespace HeMif.Race;

/// <summary>An established connection: what the winner hands to the caller. Disposing it closes it.</summary>
internal interface IConnectedPath : IAsyncDisposable
{
    IPEndPoint? LocalEndPoint { get; }

    IPEndPoint RemoteEndPoint { get; }

    /// <summary>The byte stream, where the transport has one.</summary>
    Stream? Stream { get; }

    /// <summary>The socket, for transports built on one.</summary>
    Socket? Socket { get; }
}

/// <summary>
/// Opens one attempt: one handshake from one interface to one remote endpoint (one resolved IPEndPoint per attempt,
/// never a host name, QUIC included). Fails with <see cref="AttemptFailedException"/>, whose kind tells the
/// planner a hard error (RST, ICMP unreachable) from a soft one; cancellation ends it with
/// <see cref="OperationCanceledException"/> and releases everything it held.
/// </summary>
internal interface IAttemptTransport
{
    TransportProtocol Protocol { get; }

    /// <summary>
    /// The transport's name in reports (timeline, JSON, metric tags): "tcp" or "quic" by default; a TCP-family
    /// transport with a socket of its own says so ("mptcp").
    /// </summary>
    string Name => DefaultName(Protocol);

    /// <summary>The report name of a <paramref name="protocol"/> attempt when its transport says nothing more.</summary>
    static string DefaultName(TransportProtocol protocol) => protocol == TransportProtocol.Quic ? "quic" : "tcp";

    /// <summary>Null when this host can open such connections; otherwise why not (for the timeline, said once).</summary>
    string? UnsupportedReason { get; }

    Task<IConnectedPath> ConnectAsync(InterfaceFacts networkInterface, IPEndPoint remote, CancellationToken cancellationToken);

    /// <summary>
    /// The same, with what the request says about the attempt beyond the endpoint (the host name for TLS's SNI, ALPN).
    /// Transports that need nothing of it (TCP) keep this default.
    /// </summary>
    Task<IConnectedPath> ConnectAsync(InterfaceFacts networkInterface, IPEndPoint remote, AttemptOptions options, CancellationToken cancellationToken) =>
        ConnectAsync(networkInterface, remote, cancellationToken);
}

/// <summary>What an attempt may need from its request besides the endpoint.</summary>
/// <param name="Host">The host the application asked for (a name, or an IP literal): TLS's server name for QUIC.</param>
/// <param name="ApplicationProtocols">The ALPN protocol IDs to offer (QUIC requires at least one; RFC 9001 §8.1).</param>
internal sealed record AttemptOptions(string Host, IReadOnlyList<string> ApplicationProtocols)
{
    /// <summary>
    /// The RFC 6724 policy table the policy configures (its §2.1 default when none): the source address an attempt binds
    /// follows it (§5 Rule 6, "Prefer matching label", reads it), as the sort's §4.2.4 does.
    /// </summary>
    public Sort.AddressSelectionPolicyTable SourceTable { get; init; } = Sort.AddressSelectionPolicyTable.Default;
}

/// <summary>An attempt failed; <see cref="Kind"/> says whether it was a hard error.</summary>
internal sealed class AttemptFailedException : Exception
{
    public AttemptFailedException(AttemptFailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public AttemptFailureKind Kind { get; }
}
