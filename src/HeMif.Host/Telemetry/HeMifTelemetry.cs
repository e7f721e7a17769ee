using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.Logging;

namespace HeMif.Hosting;

/// <summary>
/// Turns the connector's streams and reports into logs, metrics (meter <c>HeMif</c>) and one activity per race
/// (source <c>HeMif</c>), so OpenTelemetry users see HeMif by adding the meter and source names and nothing else.
/// Names and tags: docs/hosting.md.
/// </summary>
internal sealed class HeMifTelemetry
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "HeMif";

    /// <summary>The activity source of every race.</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(HeMifTelemetry).Assembly.GetName().Version?.ToString());

    private readonly ILogger _logger;
    private readonly Histogram<double> _connectDuration;
    private readonly Histogram<double> _attemptDuration;
    private readonly Counter<long> _races;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _exclusions;
    private readonly Counter<long> _validations;
    private readonly Counter<long> _retired;

    public HeMifTelemetry(IMeterFactory meters, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(loggers);
        _logger = loggers.CreateLogger(Name);
        var meter = meters.Create(Name);
        _connectDuration = meter.CreateHistogram<double>("hemif.connect.duration", "ms", "Time to connect: from the request to the winning handshake (race time).");
        _attemptDuration = meter.CreateHistogram<double>("hemif.attempt.duration", "ms", "How long each finished attempt ran.");
        _races = meter.CreateCounter<long>("hemif.races", "{race}", "Races, by outcome.");
        _attempts = meter.CreateCounter<long>("hemif.attempts", "{attempt}", "Attempts, by result (won, failed, cancelled).");
        _fallbacks = meter.CreateCounter<long>("hemif.fallbacks", "{race}", "Races in which the other interfaces were started behind the preferred one (draft §7.2).");
        _exclusions = meter.CreateCounter<long>("hemif.policy.exclusions", "{interface}", "Interfaces the hard set excluded from a race, by the source of the rule.");
        _validations = meter.CreateCounter<long>("hemif.validations", "{result}", "Interface validation results (draft §5.2.1), by state.");
        _retired = meter.CreateCounter<long>("hemif.http.connections.retired", "{connection}",
            "Pooled HTTP connections of UseHeMif() clients retired because a path changed (draft §7.4), by reason and interface.");
    }

    public ILogger Logger => _logger;

    /// <summary>Starts the race's activity (null when nobody listens).</summary>
    public static Activity? StartRace(string host, int port)
    {
        var activity = ActivitySource.StartActivity("hemif.connect", ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("server.address", host);
            activity.SetTag("server.port", port);
        }

        return activity;
    }

    /// <summary>Logs, counts and annotates one finished race.</summary>
    public void RaceFinished(RaceReport report, Activity? activity)
    {
        ArgumentNullException.ThrowIfNull(report);
        var connected = report.Outcome == RaceOutcome.Connected && report.Winner is not null;
        _races.Add(1, new KeyValuePair<string, object?>("hemif.outcome", connected ? "connected" : "failed"));

        if (connected)
        {
            var w = report.Winner!;
            var ms = (report.TimeToConnect ?? TimeSpan.Zero).TotalMilliseconds;
            _connectDuration.Record(ms, new("hemif.interface.kind", Lower(w.Kind.ToString())), new("hemif.transport", w.Transport));
            Log.Connected(_logger, report.Host, report.Port, w.Interface, w.Kind, w.Transport, w.Family, w.Remote, ms);
        }
        else
        {
            Log.RaceFailed(_logger, report.Host, report.Port, report.Failure ?? "no attempt connected");
        }

        foreach (var a in report.Attempts)
        {
            _attempts.Add(1, new("hemif.attempt.result", a.Result), new("hemif.transport", a.Transport));
            if (a.End is { } end)
            {
                _attemptDuration.Record((end - a.Start).TotalMilliseconds, new("hemif.attempt.result", a.Result), new("hemif.transport", a.Transport));
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.Attempt(_logger, report.Host, report.Port, a.Id, a.Transport, a.Remote, a.Interface, a.Result, a.Error ?? "");
            }
        }

        foreach (var x in report.Excluded)
        {
            // Validation (step 2) is counted by hemif.validations; this counts the hard set (step 1).
            var policy = x.Reasons.FirstOrDefault(r => r.Rule.Name != "builtin:validation");
            if (policy is not null)
            {
                _exclusions.Add(1, new KeyValuePair<string, object?>("hemif.rule.source", Lower(policy.Rule.Source.ToString())));
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var reasons = string.Join("; ", x.Reasons);
                Log.InterfaceExcluded(_logger, report.Host, report.Port, x.Interface, reasons);
            }
        }

        var fallback = report.Fallback;
        if (fallback is not null)
        {
            _fallbacks.Add(1);
            Log.FallbackTaken(_logger, report.Host, report.Port, fallback.Detail);
        }

        if (activity is { IsAllDataRequested: true })
        {
            Annotate(activity, report, connected, fallback);
        }
    }

    /// <summary>Logs and counts one interface state change.</summary>
    public void InterfaceChanged(InterfaceStateChanged change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.State is not (ValidationState.Unknown or ValidationState.Validating))
        {
            _validations.Add(1, new KeyValuePair<string, object?>("hemif.validation.state", StateTag(change.State)));
        }

        switch (change.State)
        {
            case ValidationState.Validated:
                Log.InterfaceValidated(_logger, change.Interface, change.Detail);
                break;
            case ValidationState.CaptivePortal:
                Log.InterfaceCaptivePortal(_logger, change.Interface, change.Detail);
                break;
            case ValidationState.DnsIntercepted:
                Log.InterfaceDnsIntercepted(_logger, change.Interface, change.Detail);
                break;
            case ValidationState.NoConnectivity:
                Log.InterfaceNoConnectivity(_logger, change.Interface, change.Detail);
                break;
            case ValidationState.Down:
                Log.InterfaceDown(_logger, change.Interface, change.Detail);
                break;
            case ValidationState.Excluded:
                Log.InterfaceExcludedByPolicy(_logger, change.Interface, change.Detail);
                break;
            default:
                Log.InterfaceExamining(_logger, change.Interface, change.Detail);
                break;
        }
    }

    /// <summary>
    /// Counts and logs one pooled HTTP connection retired by a <c>UseHeMif()</c> client (docs/continuity.md):
    /// <paramref name="reason"/> for this connection, <paramref name="trigger"/> the path event that retired its pool.
    /// </summary>
    public void HttpConnectionRetired(string host, int port, string @interface, HttpRetireReason reason, Continuity.PathEvent trigger)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        var tag = RetireTag(reason);
        _retired.Add(1, new("hemif.retire.reason", tag), new("hemif.interface", @interface));
        Log.HttpConnectionRetired(_logger, host, port, @interface, tag, trigger);
    }

    /// <summary>The metric tag of a retirement reason: snake_case, as OpenTelemetry names values.</summary>
    internal static string RetireTag(HttpRetireReason reason) => reason switch
    {
        HttpRetireReason.NotViable => "not_viable",
        HttpRetireReason.BetterPath => "better_path",
        _ => "shared_pool",
    };

    /// <summary>A failure inside HeMif's actors (a bug, or a probe that throws), at Warning: rare, and worth a look.</summary>
    public void InternalFailure(string failure) => Log.InternalFailure(_logger, failure);

    /// <summary>One timeline event, at Trace.</summary>
    public void RaceEvent(RaceEvent e)
    {
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            Log.RaceEvent(_logger, e.At.TotalMilliseconds, e.Kind, e.Interface ?? "-", e.Detail);
        }
    }

    /// <summary>The metric tag of a validation state: snake_case, as OpenTelemetry names values.</summary>
    internal static string StateTag(ValidationState state) => state switch
    {
        ValidationState.Validated => "validated",
        ValidationState.CaptivePortal => "captive_portal",
        ValidationState.DnsIntercepted => "dns_intercepted",
        ValidationState.NoConnectivity => "no_connectivity",
        ValidationState.Down => "down",
        ValidationState.Excluded => "excluded",
        ValidationState.Validating => "validating",
        _ => "unknown",
    };

    private static void Annotate(Activity activity, RaceReport report, bool connected, RaceEvent? fallback)
    {
        // Race time zero is when the request started, which is when the activity started.
        var start = activity.StartTimeUtc;
        foreach (var a in report.Attempts)
        {
            var tags = new ActivityTagsCollection
            {
                ["hemif.attempt.id"] = (long)a.Id,
                ["hemif.interface"] = a.Interface,
                ["hemif.transport"] = a.Transport,
                ["network.type"] = a.Family,
                ["hemif.remote"] = a.Remote,
                ["hemif.attempt.result"] = a.Result,
            };
            if (a.End is { } end)
            {
                tags["hemif.attempt.duration_ms"] = (end - a.Start).TotalMilliseconds;
            }

            if (a.Error is not null)
            {
                tags["hemif.attempt.error"] = a.Error;
            }

            activity.AddEvent(new ActivityEvent("hemif.attempt", new DateTimeOffset(start + a.Start, TimeSpan.Zero), tags));
        }

        foreach (var x in report.Excluded)
        {
            activity.AddEvent(new ActivityEvent("hemif.excluded", new DateTimeOffset(start, TimeSpan.Zero), new ActivityTagsCollection
            {
                ["hemif.interface"] = x.Interface,
                ["hemif.reasons"] = string.Join("; ", x.Reasons),
            }));
        }

        if (fallback is not null)
        {
            activity.SetTag("hemif.fallback", true);
            activity.AddEvent(new ActivityEvent("hemif.fallback", new DateTimeOffset(start + fallback.At, TimeSpan.Zero), new ActivityTagsCollection { ["hemif.detail"] = fallback.Detail }));
        }

        activity.SetTag("hemif.outcome", connected ? "connected" : "failed");
        activity.SetTag("hemif.attempts", report.Attempts.Count);
        if (connected)
        {
            var w = report.Winner!;
            activity.SetTag("hemif.interface", w.Interface);
            activity.SetTag("hemif.interface.kind", Lower(w.Kind.ToString()));
            activity.SetTag("hemif.transport", w.Transport);
            activity.SetTag("network.type", w.Family);
            activity.SetTag("hemif.remote", w.Remote);
            activity.SetTag("hemif.time_to_connect_ms", (report.TimeToConnect ?? TimeSpan.Zero).TotalMilliseconds);
        }
        else
        {
            activity.SetTag("error.type", "hemif.race_failed");
            activity.SetStatus(ActivityStatusCode.Error, report.Failure);
        }
    }

    private static string Lower(string s) => s.ToLower(CultureInfo.InvariantCulture);
}
