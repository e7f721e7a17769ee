using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HeMif.Interfaces;
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
internal sealed class HttpConnectivityProbe(InterfaceResolver resolver, AttemptTransport tcp, HttpProbeOptions options, TimeProvider time) : ConnectivityProbe
{
    /// <summary>RFC 8305 §5: "the recommended value for a default delay is 250 milliseconds".</summary>
    private static readonly TimeSpan AttemptDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>The check is plain HTTP over TCP: no ALPN to offer.</summary>
    private static readonly IReadOnlyList<string> NoAlpn = [];

    private const int MaxHead = 16 * 1024;
    private const int MaxBody = 4 * 1024;

    public override async Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await CheckAsync(networkInterface, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ValidationResult(ValidationState.NoConnectivity, $"the check {options.Url} got no answer within {options.Timeout.TotalMilliseconds:0} ms");
        }
    }

    /// <summary>Judges an HTTP answer to the check.</summary>
    internal static ValidationResult Judge(int status, string? location, int bodyLength, int expectedStatus, Uri url)
    {
        if (status == expectedStatus && (status != 204 || bodyLength == 0))
        {
            return new ValidationResult(ValidationState.Validated, $"the check answered {status}");
        }

        if (status is >= 300 and < 400)
        {
            Uri.TryCreate(url, location ?? "", out var portal);
            return new ValidationResult(ValidationState.CaptivePortal, $"the check was redirected to {location ?? "(no Location)"}", portal);
        }

        if (status is >= 200 and < 300)
        {
            return new ValidationResult(ValidationState.CaptivePortal, $"the check answered {status} with a {bodyLength}-byte page instead of {expectedStatus}", url);
        }

        return new ValidationResult(ValidationState.NoConnectivity, $"the check answered {status}, expected {expectedStatus}");
    }

    private async Task<ValidationResult> CheckAsync(InterfaceFacts facts, CancellationToken ct)
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

        await using (path.ConfigureAwait(false))
        {
            var stream = path.Stream ?? throw new InvalidOperationException("The TCP transport returned no stream.");
            var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: HeMif-connectivity-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct).ConfigureAwait(false);
            return await ReadAnswerAsync(stream, url, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The check needs Happy Eyeballs too (RFC 8305 §5): a dropped SYN never fails, so trying the addresses one after
    /// another would spend the whole timeout on a blackholed IPv6 and call an interface whose IPv4 works unconnected
    /// (seen in the lab with IPv6 broken). The next address starts after the Connection Attempt Delay or at once when the
    /// previous one fails; the first connection wins and every other is cancelled or closed.
    /// </summary>
    private async Task<ConnectedPath?> ConnectFirstAsync(InterfaceFacts facts, List<IPAddress> addresses, int port, List<string> failures, CancellationToken ct)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = new List<Task<ConnectedPath>>();
        var next = 0;
        ConnectedPath? winner = null;
        try
        {
            while (winner is null && (next < addresses.Count || pending.Count > 0))
            {
                if (next < addresses.Count && (pending.Count == 0 || next == 0))
                {
                    pending.Add(tcp.ConnectAsync(new AttemptContext(facts, new IPEndPoint(addresses[next++], port), options.Url.IdnHost, NoAlpn), race.Token));
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
                    pending.Add(tcp.ConnectAsync(new AttemptContext(facts, new IPEndPoint(addresses[next++], port), options.Url.IdnHost, NoAlpn), race.Token));
                    continue;
                }

                var attempt = (Task<ConnectedPath>)done;
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

    private async Task<ValidationResult> ReadAnswerAsync(Stream stream, Uri url, CancellationToken ct)
    {
        var buffer = new byte[MaxHead + MaxBody];
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

            filled += read;
            headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
        }

        var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
        var lines = head.Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        if (statusParts.Length < 2 || !statusParts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) ||
            !int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 599)
        {
            return new ValidationResult(ValidationState.NoConnectivity, $"the check's answer is not HTTP: '{Truncate(lines[0])}'");
        }

        string? location = null;
        int? contentLength = null;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Location", StringComparison.OrdinalIgnoreCase))
            {
                location = value;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                contentLength = length;
            }
        }

        // The body only matters as "empty or not": count what arrives, up to a small limit.
        var body = filled - (headEnd + 4);
        while (body < MaxBody && (contentLength is null || body < contentLength))
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length - filled, MaxBody - body)), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
            body += read;
        }

        return Judge(status, location, Math.Max(body, contentLength ?? 0), options.ExpectedStatus, url);
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
