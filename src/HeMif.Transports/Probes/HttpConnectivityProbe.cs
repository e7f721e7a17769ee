using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HeMif.Interfaces;
using HeMif.Race;
using HeMif.Resolve;
using HeMif.Validate;

namespace HeMif.Transports.Probes;

/// <summary>What the HTTP connectivity check asks and expects.</summary>
internal sealed record HttpProbeOptions
{
    /// <summary>
    /// The check URL. The default is the common platform check (Android's): a GET that must answer 204 with no body.
    /// Deployments point it at their own endpoint.
    /// </summary>
    public Uri Url { get; init; } = new("http://connectivitycheck.gstatic.com/generate_204");

    /// <summary>The status that validates; any other answer is judged as below.</summary>
    public int ExpectedStatus { get; init; } = 204;

    /// <summary>How long the whole check (resolution, connection, answer) may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Draft §5.2.1: "trying to reach a dedicated web server (see Section 3.1.2 [RFC6419]). If anything is abnormal, it
/// assumes there is a proxy on the path. This status detection is recommended to be used in HE-MIF to detect DNS
/// interception or an HTTP proxy that forces a login or a click-through." The check runs over the interface itself:
/// its own resolver, a socket pinned to it. The expected status (default 204, empty body) validates; a redirect, or a
/// page where the check expects none, is a captive portal (its URL is recorded); anything else is no connectivity.
/// </summary>
internal sealed class HttpConnectivityProbe(IInterfaceResolver resolver, IAttemptTransport tcp, HttpProbeOptions options, TimeProvider time) : IConnectivityProbe
{
    /// <summary>RFC 8305 §5: "the recommended value for a default delay is 250 milliseconds".</summary>
    private static readonly TimeSpan AttemptDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>The most of an answer the check reads: its head, which is all the verdict needs.</summary>
    internal const int MaxHead = 16 * 1024;

    public async Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var progress = new Progress();
        try
        {
            return await CheckAsync(networkInterface, progress, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A server that drips its answer a byte at a time is told apart from silence: both end here, at the timeout.
            var within = options.Timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
            return new ValidationResult(ValidationState.NoConnectivity,
                !progress.Connected ? $"the check {options.Url} got no connection to its server within {within} ms"
                : progress.Received > 0 ? $"the check {options.Url} sent only {progress.Received} bytes of its answer head within {within} ms"
                : $"the check {options.Url} got no answer within {within} ms");
        }
    }

    /// <summary>Judges an HTTP answer to the check.</summary>
    /// <remarks>
    /// A redirect is never followed: one answer decides, so a redirect loop (even one back to the check URL itself)
    /// costs one request. <paramref name="bodyLength"/> is the larger of what arrived after the head and what the head
    /// declared.
    /// </remarks>
    internal static ValidationResult Judge(int status, string? location, long bodyLength, int expectedStatus, Uri url)
    {
        if (status == expectedStatus && (status != 204 || bodyLength == 0))
        {
            return new ValidationResult(ValidationState.Validated, $"the check answered {status}");
        }

        if (status is >= 300 and < 400)
        {
            Uri.TryCreate(url, location ?? "", out var portal);
            var to = location is null ? "(no Location)" : HttpAnswerHeadReader.Truncate(location);
            return portal is not null && portal == url
                ? new ValidationResult(ValidationState.CaptivePortal, $"the check was redirected to itself ({to}): a redirect loop, not followed", portal)
                : new ValidationResult(ValidationState.CaptivePortal, $"the check was redirected to {to}", portal);
        }

        if (status is >= 200 and < 300)
        {
            var page = bodyLength == long.MaxValue ? "a page of more than 2^63 bytes" : $"a {bodyLength}-byte page";
            return new ValidationResult(ValidationState.CaptivePortal, $"the check answered {status} with {page} instead of {expectedStatus}", url);
        }

        return new ValidationResult(ValidationState.NoConnectivity, $"the check answered {status}, expected {expectedStatus}");
    }

    private async Task<ValidationResult> CheckAsync(InterfaceFacts facts, Progress progress, CancellationToken ct)
    {
        var url = options.Url;
        var port = url.Port > 0 ? url.Port : 80;
        var addresses = new List<IPAddress>();
        var resolveErrors = new List<string>();
        if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var literal))
        {
            addresses.Add(literal);
        }
        else
        {
            foreach (var family in new[] { AddressFamily.InterNetworkV6, AddressFamily.InterNetwork })
            {
                var answer = await resolver.ResolveAsync(facts, url.Host, family, ct).ConfigureAwait(false);
                addresses.AddRange(answer.Addresses);
                if (answer.Error is { } e)
                {
                    resolveErrors.Add(e);
                }
            }
        }

        if (addresses.Count == 0)
        {
            return new ValidationResult(ValidationState.NoConnectivity,
                $"the check host {url.Host} did not resolve on {facts.Name}{(resolveErrors.Count > 0 ? ": " + string.Join(", ", resolveErrors) : "")}");
        }

        var failures = new List<string>();
        var path = await ConnectFirstAsync(facts, addresses, port, failures, ct).ConfigureAwait(false);

        if (path is null)
        {
            return new ValidationResult(ValidationState.NoConnectivity, $"the check server was not reachable: {string.Join("; ", failures)}");
        }

        progress.Connected = true;
        await using (path.ConfigureAwait(false))
        {
            var stream = path.Stream ?? throw new InvalidOperationException("The TCP transport returned no stream.");
            var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: HeMif-connectivity-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct).ConfigureAwait(false);
            return await ReadAnswerAsync(stream, url, options.ExpectedStatus, progress, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The check needs Happy Eyeballs too (RFC 8305 §5): a dropped SYN never fails, so trying the addresses one after
    /// another would spend the whole timeout on a blackholed IPv6 and call an interface whose IPv4 works unconnected
    /// (seen in the lab with IPv6 broken). The next address starts after the Connection Attempt Delay or at once when the
    /// previous one fails; the first connection wins and every other is cancelled or closed.
    /// </summary>
    private async Task<IConnectedPath?> ConnectFirstAsync(InterfaceFacts facts, List<IPAddress> addresses, int port, List<string> failures, CancellationToken ct)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = new List<Task<IConnectedPath>>();
        var next = 0;
        IConnectedPath? winner = null;
        try
        {
            while (winner is null && (next < addresses.Count || pending.Count > 0))
            {
                if (next < addresses.Count && (pending.Count == 0 || next == 0))
                {
                    pending.Add(tcp.ConnectAsync(facts, new IPEndPoint(addresses[next++], port), race.Token));
                }

                var waits = new List<Task>(pending);
                var delay = next < addresses.Count ? Task.Delay(AttemptDelay, time, race.Token) : null;
                if (delay is not null)
                {
                    waits.Add(delay);
                }

                var done = await Task.WhenAny(waits).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                if (done == delay)
                {
                    pending.Add(tcp.ConnectAsync(facts, new IPEndPoint(addresses[next++], port), race.Token));
                    continue;
                }

                var attempt = (Task<IConnectedPath>)done;
                pending.Remove(attempt);
                try
                {
                    winner = await attempt.ConfigureAwait(false);
                }
                catch (AttemptFailedException e)
                {
                    failures.Add(e.Message);
                }
            }
        }
        finally
        {
            await race.CancelAsync().ConfigureAwait(false);
            foreach (var loser in pending)
            {
                try
                {
                    await (await loser.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or AttemptFailedException)
                {
                    // cancelled or failed: nothing to close
                }
            }
        }

        return winner;
    }

    /// <summary>
    /// Reads the answer's head only, into one buffer of <see cref="MaxHead"/> bytes, and judges it: the verdict never
    /// depends on the body (RFC 9112 §6.3: a 204 "is always terminated by the first empty line after the header fields";
    /// any other status is judged by its code, its Location and its declared length). So an answer whose body never
    /// ends, drips, or declares a huge Content-Length costs no more than its head; a head longer than the buffer, or
    /// a first line that cannot be HTTP, ends the check at once.
    /// </summary>
    private static async Task<ValidationResult> ReadAnswerAsync(Stream stream, Uri url, int expectedStatus, Progress progress, CancellationToken ct)
    {
        var buffer = new byte[MaxHead];
        var filled = 0;
        var headEnd = -1;
        while (headEnd < 0)
        {
            if (filled == MaxHead)
            {
                return new ValidationResult(ValidationState.NoConnectivity, $"the check's answer head is longer than {MaxHead} bytes");
            }

            var read = await stream.ReadAsync(buffer.AsMemory(filled, MaxHead - filled), ct).ConfigureAwait(false);
            if (read == 0)
            {
                return new ValidationResult(ValidationState.NoConnectivity, filled == 0 ? "the check server closed without answering" : "the check's answer ended inside its head");
            }

            // Only the new bytes and the three before them can complete the empty line: the search stays linear
            // however the answer is cut into reads.
            var from = Math.Max(0, filled - 3);
            filled += read;
            progress.Received = filled;
            if (!HttpAnswerHeadReader.CouldBeHttp(buffer.AsSpan(0, filled)))
            {
                var firstLine = buffer.AsSpan(0, filled);
                var cr = firstLine.IndexOfAny((byte)'\r', (byte)'\n');
                return new ValidationResult(ValidationState.NoConnectivity,
                    $"the check's answer is not HTTP: '{HttpAnswerHeadReader.Truncate(Encoding.ASCII.GetString(cr < 0 ? firstLine : firstLine[..cr]))}'");
            }

            var end = HttpAnswerHeadReader.HeadEnd(buffer.AsSpan(from, filled - from));
            headEnd = end < 0 ? -1 : from + end;
        }

        if (HttpAnswerHeadReader.Parse(buffer.AsSpan(0, headEnd), out var error) is not { } head)
        {
            return new ValidationResult(ValidationState.NoConnectivity, error!);
        }

        var afterHead = filled - (headEnd + 4);
        return Judge(head.Status, head.Location, Math.Max(afterHead, head.ContentLength ?? 0), expectedStatus, url);
    }

    /// <summary>How far the check got, for the message when its time runs out.</summary>
    private sealed class Progress
    {
        public bool Connected { get; set; }

        public int Received { get; set; }
    }

}
