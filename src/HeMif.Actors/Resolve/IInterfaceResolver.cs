using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.Resolve;

/// <summary>One resolution's answer: addresses (possibly none: NODATA), or an error in words (NXDOMAIN, SERVFAIL, timeout).</summary>
internal sealed record ResolveResult(IReadOnlyList<IPAddress> Addresses, string? Error = null)
{
    /// <summary>
    /// Where the answer came from, when that is worth a line in the timeline: the system resolver standing in for
    /// unknown interface DNS servers, servers that failed before one answered; null when unremarkable.
    /// </summary>
    public string? Note { get; init; }

    public static ResolveResult Failure(string error) => new([], error);
}

/// <summary>
/// Resolves through one interface's own DNS servers (draft §7.3: "A DNS answer may be only valid for a specific
/// provisioning domain"), so an answer learned on one interface is only ever used on that interface. Failures are
/// results, not exceptions.
/// </summary>
internal interface IInterfaceResolver
{
    Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken);
}
