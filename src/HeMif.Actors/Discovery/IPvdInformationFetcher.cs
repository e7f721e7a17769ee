using System.Net;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>
/// Fetches a PvD's Additional Information document (RFC 8801 §4.1: <c>https://&lt;PvD-ID&gt;/.well-known/pvd</c>)
/// over the PvD's own interface, resolving the PvD ID through the PvD's own DNS servers. The port the RA listener uses
/// (HeMif.Transports has the HTTPS one; tests give their own). It never throws: a failure is a
/// <see cref="PvdFetchResult"/> with the reason; its time and the body size are bounded by the implementation.
/// </summary>
internal interface IPvdInformationFetcher
{
    /// <summary>Fetches the document of <paramref name="pvdId"/> over <paramref name="interfaceName"/>.</summary>
    /// <param name="interfaceName">The interface the PvD was learned on: the request is bound to it.</param>
    /// <param name="pvdId">The PvD ID (an FQDN): the host name of the URL.</param>
    /// <param name="dnsServers">The PvD's own RDNSS servers (valid now); empty: the interface's resolver.</param>
    /// <param name="cancellationToken">Stops the fetch (the listener stopped).</param>
    Task<PvdFetchResult> FetchAsync(string interfaceName, string pvdId, IReadOnlyList<IPAddress> dnsServers, CancellationToken cancellationToken);
}

/// <summary>A fetch's outcome: the document's bytes, or why there are none.</summary>
/// <param name="Body">The body (at most <see cref="PvdAdditionalInformation.MaxDocumentBytes"/> octets), when the fetch succeeded.</param>
/// <param name="Error">Why it failed (<see cref="PvdInformationProblem.FetchFailed"/>, <see cref="PvdInformationProblem.FetchTimedOut"/>, …).</param>
internal sealed record PvdFetchResult(byte[]? Body, PvdInformationError? Error)
{
    public static PvdFetchResult Ok(byte[] body) => new(body, null);

    public static PvdFetchResult Failed(PvdInformationProblem problem, string url, string message) => new(null, new PvdInformationError(problem, url, message));
}
