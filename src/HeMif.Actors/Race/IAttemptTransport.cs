using System.Net;
using System.Net.Sockets;
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
/// Opens one attempt: one handshake from one interface to one remote endpoint (CONVENTIONS.md: "give QUIC one resolved
/// IPEndPoint per attempt, never a host name"). Fails with <see cref="AttemptFailedException"/>, whose kind tells the
/// planner a hard error (RST, ICMP unreachable) from a soft one; cancellation ends it with
/// <see cref="OperationCanceledException"/> and releases everything it held.
/// </summary>
internal interface IAttemptTransport
{
    TransportProtocol Protocol { get; }

    /// <summary>Null when this host can open such connections; otherwise why not (for the timeline, said once).</summary>
    string? UnsupportedReason { get; }

    Task<IConnectedPath> ConnectAsync(InterfaceFacts networkInterface, IPEndPoint remote, CancellationToken cancellationToken);
}

/// <summary>An attempt failed; <see cref="Kind"/> says whether it was a hard error.</summary>
internal sealed class AttemptFailedException : Exception
{
    public AttemptFailedException(AttemptFailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public AttemptFailureKind Kind { get; }
}
