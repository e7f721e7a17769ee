using System.Net;

namespace HeMif;

/// <summary>One resolution's answer: addresses (possibly none: NODATA), or an error in words (NXDOMAIN, SERVFAIL, timeout).</summary>
/// <param name="Addresses">The addresses of the family asked for; empty for a negative answer.</param>
/// <param name="Error">Why there is no answer, or null when there is one.</param>
public sealed record ResolveResult(IReadOnlyList<IPAddress> Addresses, string? Error = null)
{
    /// <summary>
    /// Where the answer came from, when that is worth a line in the timeline: the system resolver standing in for
    /// unknown interface DNS servers, servers that failed before one answered; null when unremarkable.
    /// </summary>
    public string? Note { get; init; }

    /// <summary>A failed resolution: no addresses, and why.</summary>
    public static ResolveResult Failure(string error) => new([], error);
}
