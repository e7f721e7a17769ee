namespace HeMif.Validate;

/// <summary>What a QUIC path probe found on one interface.</summary>
public enum QuicPathState
{
    /// <summary>The server answered the probe's Initial with a valid Version Negotiation packet: UDP/QUIC gets through.</summary>
    Reachable,

    /// <summary>No valid answer within the probe's timeout, or an ICMP unreachable: UDP/QUIC does not get through.</summary>
    Blocked,

    /// <summary>The probe could not ask (the name did not resolve, no address of a usable family, link down): nothing learned.</summary>
    Unknown,
}

/// <summary>
/// Whether UDP/QUIC gets through on one interface to one destination (RFC 9000 §6: an Initial with a reserved
/// version must be answered by Version Negotiation). Cached per interface and destination like any outcome
/// (draft §5.2.3); a blocked path gets no QUIC attempts until the entry ages out or the interface changes.
/// </summary>
/// <param name="Interface">The interface the probe ran on.</param>
/// <param name="State">Reachable, blocked, or unknown.</param>
/// <param name="Detail">In words: who answered with which versions, or why it counts as blocked.</param>
/// <param name="Rtt">From the first Initial to the valid answer, when reachable.</param>
/// <param name="Remote">The server endpoint that answered, when reachable.</param>
public sealed record QuicPathVerdict(string Interface, QuicPathState State, string Detail, TimeSpan? Rtt = null, string? Remote = null);
