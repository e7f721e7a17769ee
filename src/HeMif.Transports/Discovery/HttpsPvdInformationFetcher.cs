using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Discovery;

/// <summary>
/// Fetches a PvD's Additional Information (RFC 8801 §4.1: "an HTTP-over-TLS GET request to
/// https://&lt;PvD-ID&gt;/.well-known/pvd") the way attempts are made: the PvD ID resolved through the PvD's own DNS
/// servers on its interface (<see cref="InterfaceResolver"/>), the TCP socket bound to that interface
/// (<c>SO_BINDTODEVICE</c>, as <see cref="TcpTransport"/> binds attempts), no proxy, no redirect, no connection reuse.
/// Bounded: the whole fetch takes at most its timeout on HeMif's clock, and a body larger than
/// <see cref="PvdAdditionalInformation.MaxDocumentBytes"/> is refused before it is all read. The server's certificate
/// is checked by the system against the PvD ID unless a validation callback is given (a private or test CA). Never
/// throws: every failure is a <see cref="PvdFetchResult"/> with its reason.
/// </summary>
internal sealed class HttpsPvdInformationFetcher(InterfaceResolver resolver, Func<string, InterfaceFacts?> factsOf, TimeProvider time, TimeSpan timeout,
    RemoteCertificateValidationCallback? certificateValidation)
    : IPvdInformationFetcher
{
    /// <summary>The default bound on one fetch.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public async Task<PvdFetchResult> FetchAsync(string interfaceName, string pvdId, IReadOnlyList<IPAddress> dnsServers, CancellationToken cancellationToken)
    {
        var url = PvdInformationKeeper.Url(pvdId);
        using var bounded = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bounded.Token);
        var token = linked.Token;
        try
        {
            // The interface as HeMif knows it (its addresses: queries and the connection leave from it), asking the PvD's own servers.
            var known = factsOf(interfaceName) ?? new InterfaceFacts(interfaceName, InterfaceKind.Other);
            var facts = dnsServers.Count == 0 ? known : known with { DnsServers = dnsServers, Sources = known.Sources with { DnsServers = FactSource.RouterAdvertisement } };
            var addresses = new List<IPAddress>();
            string? resolveError = null;
            foreach (var family in (AddressFamily[])[AddressFamily.InterNetworkV6, AddressFamily.InterNetwork])
            {
                var result = await resolver.ResolveAsync(facts, pvdId, family, token).ConfigureAwait(false);
                addresses.AddRange(result.Addresses);
                resolveError ??= result.Error;
            }

            if (addresses.Count == 0)
            {
                return Failed(PvdInformationProblem.FetchFailed, url, $"{pvdId} did not resolve through {(dnsServers.Count == 0 ? "the interface's resolver" : "the PvD's DNS servers " + string.Join(", ", dnsServers))} on {interfaceName}{(resolveError is null ? "" : ": " + resolveError)}");
            }

            using var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.Zero,
                ConnectCallback = (context, ct) => ConnectAsync(interfaceName, addresses, context.DnsEndPoint.Port, ct),
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = certificateValidation },
            };
            using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/pvd+json"));
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return Failed(PvdInformationProblem.FetchFailed, url, $"the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength > PvdAdditionalInformation.MaxDocumentBytes)
            {
                return Failed(PvdInformationProblem.TooLarge, url, $"the document is {response.Content.Headers.ContentLength} octets; at most {PvdAdditionalInformation.MaxDocumentBytes} are read");
            }

            var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[PvdAdditionalInformation.MaxDocumentBytes + 1];
                var length = 0;
                int read;
                while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), token).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }

                return length > PvdAdditionalInformation.MaxDocumentBytes
                    ? Failed(PvdInformationProblem.TooLarge, url, $"the document is larger than {PvdAdditionalInformation.MaxDocumentBytes} octets")
                    : PvdFetchResult.Ok(buffer[..length]);
            }
        }
        catch (OperationCanceledException) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Failed(PvdInformationProblem.FetchTimedOut, url, $"the fetch did not finish within {timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException auth)
        {
            return Failed(PvdInformationProblem.CertificateRejected, url, $"the server's certificate was not accepted for {pvdId}: {auth.Message}");
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
        {
            return Failed(PvdInformationProblem.FetchFailed, url, e.GetBaseException().Message);
        }
    }

    /// <summary>Connects to the first address that answers, from a socket bound to the interface.</summary>
    private static async ValueTask<Stream> ConnectAsync(string interfaceName, IReadOnlyList<IPAddress> addresses, int port, CancellationToken cancellationToken)
    {
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                TcpTransport.BindToDevice(socket, interfaceName); // where the kernel allows (root or CAP_NET_RAW), as attempts do
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new HttpRequestException($"no address of the PvD ID answered on port {port} over {interfaceName} ({string.Join(", ", addresses)}): {last?.Message}", last);
    }

    private static PvdFetchResult Failed(PvdInformationProblem problem, string url, string message) => PvdFetchResult.Failed(problem, url, message);
}
