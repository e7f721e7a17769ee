using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif;

/// <summary>
/// Checks whether UDP/QUIC reaches a destination through one interface, without TLS (RFC 9000 §6: an Initial with a
/// reserved version must be answered by Version Negotiation). The verdict is cached per interface and destination like
/// any outcome (draft §5.2.3); where UDP/QUIC is blocked, transports that run over UDP
/// (<see cref="AttemptTransport.RunsOverUdp"/>) are not tried until the entry ages out or the interface changes.
/// <para>
/// What the engine expects: a network
/// failure is a verdict (<see cref="QuicPathState.Blocked"/> or <see cref="QuicPathState.Unknown"/>), never an
/// exception; cancellation ends it with <see cref="OperationCanceledException"/> and leaves no socket open.
/// </para>
/// </summary>
public abstract class QuicPathProbe
{
    /// <summary>Probes <paramref name="host"/>:<paramref name="port"/> (UDP) through <paramref name="networkInterface"/>.</summary>
    public abstract Task<QuicPathVerdict> ProbeAsync(InterfaceFacts networkInterface, string host, int port, CancellationToken cancellationToken);
}
