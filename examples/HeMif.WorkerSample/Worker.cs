using System.Globalization;
using HeMif.Hosting;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HeMif.WorkerSample;

/// <summary>The worker's settings (section <c>Worker</c>).</summary>
internal sealed class WorkerOptions
{
    /// <summary>The endpoint to call; empty: the self-test endpoint.</summary>
    public string? Url { get; set; }

    /// <summary>How often.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many requests, then stop (0: until stopped).</summary>
    public int Count { get; set; }

    /// <summary>
    /// Print one result line on stdout per request (--once): a new connection's interface, transport, family and
    /// remote, or "pooled"; with the first line of a short text answer as <c>body=</c>.
    /// </summary>
    public bool PrintResult { get; set; }
}

/// <summary>
/// Calls the endpoint every few seconds through HttpClient + HeMif and logs which interface carried it. It reacts to
/// interface events: when an interface stops being usable (captive portal, no connectivity, down), it says so and
/// calls again at once, so the log shows where the traffic goes now.
/// </summary>
internal sealed partial class Worker(
    IHttpClientFactory clients,
    IHeMifEvents events,
    IOptions<WorkerOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<Worker> logger) : BackgroundService
{
    public const string ClientName = "hemif";

    private readonly SemaphoreSlim _wake = new(0);
    private readonly Dictionary<string, ValidationState> _states = new(StringComparer.Ordinal);

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var url = new Uri(settings.Url ?? throw new InvalidOperationException("Worker:Url is not set."));
        using var states = events.InterfaceStates.Subscribe(OnInterfaceState);
        var client = clients.CreateClient(ClientName);
        var failed = false;
        for (var n = 1; !stoppingToken.IsCancellationRequested && (settings.Count == 0 || n <= settings.Count); n++)
        {
            failed = !await CallAsync(client, url, settings.PrintResult, stoppingToken);
            if (settings.Count != 0 && n == settings.Count)
            {
                break;
            }

            try
            {
                await _wake.WaitAsync(settings.Interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Environment.ExitCode = failed ? 3 : 0;
        lifetime.StopApplication();
    }

    private async Task<bool> CallAsync(HttpClient client, Uri url, bool print, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await client.GetAsync(url, cancellationToken);
            var status = (int)response.StatusCode;
            // The first line of a short text answer (a server may say which address the request came from).
            var body = print ? FirstLine(await response.Content.ReadAsStringAsync(cancellationToken)) : "";
            if (response.RequestMessage?.Options.TryGetValue(HeMifConnectCallback.RaceReportKey, out var report) == true && report.Winner is { } w)
            {
                var ms = (report.TimeToConnect ?? TimeSpan.Zero).TotalMilliseconds;
                LogNewConnection(logger, url, status, w.Interface, w.Kind, w.Transport, w.Family, w.Remote, ms);
                if (print)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"result: status={status} interface={w.Interface} kind={w.Kind} transport={w.Transport} family={w.Family} remote={w.Remote} timeToConnectMs={ms:F1}{body}"));
                }
            }
            else
            {
                LogPooledConnection(logger, url, status);
                if (print)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"result: status={status} pooled{body}"));
                }
            }

            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException e)
        {
            // The message is the race's report: every attempt and every excluded interface, with the reason.
            LogFailed(logger, url, e.Message);
            if (print)
            {
                Console.Out.WriteLine("result: failed " + e.Message.ReplaceLineEndings(" | "));
            }

            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>" body=LINE" for the first line of a short text body, or nothing.</summary>
    private static string FirstLine(string body)
    {
        var line = body.Split('\n', 2)[0].Trim();
        return line.Length is > 0 and <= 100 ? " body=" + line : "";
    }

    /// <summary>
    /// The stream first replays where each interface stands, then every change; react to changes of a usable interface
    /// (Validated to anything but a re-examination, and back).
    /// </summary>
    private void OnInterfaceState(InterfaceStateChanged change)
    {
        if (change.State == ValidationState.Validating)
        {
            return;
        }

        var known = _states.TryGetValue(change.Interface, out var before);
        _states[change.Interface] = change.State;
        if (known && before == ValidationState.Validated && change.State != ValidationState.Validated)
        {
            LogInterfaceLost(logger, change.Interface, change.State, change.Detail);
            _wake.Release();
        }
        else if (known && before != ValidationState.Validated && change.State == ValidationState.Validated)
        {
            LogInterfaceBack(logger, change.Interface, change.Detail);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "GET {Url}: {Status} over a new connection on {Interface} ({Kind}), {Transport} {Family} to {Remote}, raced in {Milliseconds:F1} ms")]
    private static partial void LogNewConnection(ILogger logger, Uri url, int status, string @interface, HeMif.Interfaces.InterfaceKind kind, string transport, string family, string remote, double milliseconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "GET {Url}: {Status} over a pooled connection")]
    private static partial void LogPooledConnection(ILogger logger, Uri url, int status);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "GET {Url} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Interface {Interface} is {State} ({Detail}): calling again now")]
    private static partial void LogInterfaceLost(ILogger logger, string @interface, ValidationState state, string detail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Interface {Interface} is usable again ({Detail}): new connections may race on it")]
    private static partial void LogInterfaceBack(ILogger logger, string @interface, string detail);
}
