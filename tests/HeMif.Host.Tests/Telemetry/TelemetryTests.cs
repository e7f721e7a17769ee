using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using HeMif.Filter;
using HeMif.Host.Tests.Support;
using HeMif.Hosting;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HeMif.Host.Tests.Telemetry;

/// <summary>
/// Metrics (meter HeMif), logs (stable event IDs, Information only for operator decisions) and one activity per race,
/// seen the way an OpenTelemetry exporter sees them: MeterListener, an in-memory logger provider, ActivityListener.
/// </summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_HTTP_request_is_measured_logged_and_traced()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        var (host, logs) = TestHosts.Create();
        using var _ = host;
        using var metrics = new Measurements(host.Services.GetRequiredService<IMeterFactory>());
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "HeMif",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await host.StartAsync().WaitAsync(Bound);
        using (var response = await host.Client().GetAsync(server.Http1).WaitAsync(Bound))
        {
            response.EnsureSuccessStatusCode();
        }

        await host.StopAsync().WaitAsync(Bound);

        var duration = Assert.Single(metrics.Of("hemif.connect.duration"));
        Assert.Equal("loopback", duration.Tags["hemif.interface.kind"]);
        Assert.Equal("tcp", duration.Tags["hemif.transport"]);
        Assert.True(duration.Value >= 0);
        var attempt = Assert.Single(metrics.Of("hemif.attempts"));
        Assert.Equal(("won", 1.0), (attempt.Tags["hemif.attempt.result"], attempt.Value));
        Assert.Equal("connected", Assert.Single(metrics.Of("hemif.races")).Tags["hemif.outcome"]);
        // The first verdict may come before the hosted connector subscribes (the engine starts validating as it is
        // made): it is still counted and logged, once.
        Assert.Equal("validated", Assert.Single(metrics.Of("hemif.validations")).Tags["hemif.validation.state"]);
        Assert.Empty(metrics.Of("hemif.fallbacks"));

        // Information is for decisions an operator cares about; the connection itself is Debug, the timeline Trace.
        var validated = Assert.Single(logs.HeMif, e => e.EventId.Id == 10);
        Assert.Equal(LogLevel.Information, validated.Level);
        Assert.StartsWith("Interface lo validated", validated.Message, StringComparison.Ordinal);
        var connected = Assert.Single(logs.HeMif, e => e.EventId.Id == 20);
        Assert.Equal(LogLevel.Debug, connected.Level);
        Assert.Contains($"Connected to 127.0.0.1:{server.Http1Port} over lo (Loopback), tcp ipv4", connected.Message, StringComparison.Ordinal);
        Assert.Contains(logs.HeMif, e => e.EventId.Id == 23 && e.Level == LogLevel.Debug && e.Message.Contains("attempt #0 tcp", StringComparison.Ordinal));
        Assert.Contains(logs.HeMif, e => e.EventId.Id == 25 && e.Level == LogLevel.Trace && e.Message.Contains(" won ", StringComparison.Ordinal));
        Assert.All(logs.HeMif.Where(e => e.Level == LogLevel.Information), e => Assert.True(e.EventId.Id is 1 or 10, e.Message));

        var race = Assert.Single(activities, a => a.GetTagItem("server.port") is int p && p == server.Http1Port);
        Assert.Equal("hemif.connect", race.OperationName);
        Assert.Equal("lo", race.GetTagItem("hemif.interface"));
        Assert.Equal("loopback", race.GetTagItem("hemif.interface.kind"));
        Assert.Equal("connected", race.GetTagItem("hemif.outcome"));
        var attemptEvent = Assert.Single(race.Events, e => e.Name == "hemif.attempt");
        Assert.Contains(attemptEvent.Tags, t => t.Key == "hemif.attempt.result" && (string?)t.Value == "won");
        Assert.Contains(attemptEvent.Tags, t => t.Key == "hemif.interface" && (string?)t.Value == "lo");
    }

    /// <summary>
    /// A race with a fallback, a policy exclusion and an unvalidated interface, as the engine reports it: the fallback
    /// is counted and logged at Information, the policy exclusion counted by its rule's source, the validation
    /// exclusion not counted as policy, and each attempt becomes an event of the race's activity.
    /// </summary>
    [Fact]
    public void A_report_with_a_fallback_and_exclusions_is_counted_by_kind()
    {
        using var t = new Harness();
        var (telemetry, logs, metrics, activity) = (t.Telemetry, t.Logs, t.Metrics, t.Activity);
        telemetry.RaceFinished(WifiBrokenReport(), activity);

        Assert.Equal(1, Assert.Single(metrics.Of("hemif.fallbacks")).Value);
        var exclusion = Assert.Single(metrics.Of("hemif.policy.exclusions"));
        Assert.Equal("user", exclusion.Tags["hemif.rule.source"]);
        Assert.Equal(["cancelled", "won"], metrics.Of("hemif.attempts").Select(m => (string)m.Tags["hemif.attempt.result"]!).Order());
        Assert.Equal(2, metrics.Of("hemif.attempt.duration").Count);
        var duration = Assert.Single(metrics.Of("hemif.connect.duration"));
        Assert.Equal((2120.0, "cellular"), (duration.Value, duration.Tags["hemif.interface.kind"]));

        var fallback = Assert.Single(logs.HeMif, e => e.EventId.Id == 21);
        Assert.Equal(LogLevel.Information, fallback.Level);
        Assert.Contains("fallback delay of 2000 ms passed", fallback.Message, StringComparison.Ordinal);
        Assert.Equal(2, logs.HeMif.Count(e => e.EventId.Id == 24 && e.Level == LogLevel.Debug));

        Assert.Equal(2, activity.Events.Count(e => e.Name == "hemif.attempt"));
        Assert.Equal(activity.StartTimeUtc + TimeSpan.FromMilliseconds(2060), activity.Events.Last(e => e.Name == "hemif.attempt").Timestamp.UtcDateTime);
        Assert.Equal(true, activity.GetTagItem("hemif.fallback"));
        Assert.Equal("rmnet0", activity.GetTagItem("hemif.interface"));
    }

    [Fact]
    public void A_failed_race_marks_the_activity_as_an_error_and_logs_at_Information()
    {
        using var t = new Harness();
        var (telemetry, logs, metrics, activity) = (t.Telemetry, t.Logs, t.Metrics, t.Activity);

        var failed = WifiBrokenReport() with { Outcome = RaceOutcome.Failed, Winner = null, TimeToConnect = null, Failure = "every interface failed" };
        telemetry.RaceFinished(failed, activity);

        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        Assert.Equal("every interface failed", activity.StatusDescription);
        Assert.Equal("failed", Assert.Single(metrics.Of("hemif.races")).Tags["hemif.outcome"]);
        Assert.Empty(metrics.Of("hemif.connect.duration"));
        Assert.Equal(LogLevel.Information, Assert.Single(logs.HeMif, e => e.EventId.Id == 22).Level);
    }

    /// <summary>A failure inside HeMif's actors is rare and worth a look: Warning, event 30, with what the kernel said.</summary>
    [Fact]
    public void An_internal_failure_is_logged_at_Warning_as_event_30()
    {
        using var t = new Harness();
        t.Telemetry.InternalFailure("hemif/user/request-7: InvalidOperationException: QUIC transport bug (restarting)");

        var entry = Assert.Single(t.Logs.HeMif, e => e.EventId.Id == 30);
        Assert.Equal((LogLevel.Warning, "InternalFailure"), (entry.Level, entry.EventId.Name));
        Assert.Equal("HeMif failure inside hemif/user/request-7: InvalidOperationException: QUIC transport bug (restarting)", entry.Message);
    }

    [Theory]
    [InlineData(ValidationState.Validated, 10, "validated")]
    [InlineData(ValidationState.CaptivePortal, 11, "captive_portal")]
    [InlineData(ValidationState.DnsIntercepted, 12, "dns_intercepted")]
    [InlineData(ValidationState.NoConnectivity, 13, "no_connectivity")]
    [InlineData(ValidationState.Down, 14, "down")]
    public void Each_validation_result_is_logged_at_Information_with_its_own_event_and_counted_by_state(ValidationState state, int eventId, string tag)
    {
        using var t = new Harness();
        var (telemetry, logs, metrics) = (t.Telemetry, t.Logs, t.Metrics);

        telemetry.InterfaceChanged(new InterfaceStateChanged("wlan0", ValidationState.Validating, "probing", DateTimeOffset.UnixEpoch));
        telemetry.InterfaceChanged(new InterfaceStateChanged("wlan0", state, "the check said so", DateTimeOffset.UnixEpoch));

        var line = Assert.Single(logs.HeMif, e => e.Level == LogLevel.Information);
        Assert.Equal(eventId, line.EventId.Id);
        Assert.Contains("wlan0", line.Message, StringComparison.Ordinal);
        Assert.Equal(LogLevel.Debug, Assert.Single(logs.HeMif, e => e.EventId.Id == 15).Level);
        Assert.Equal(tag, Assert.Single(metrics.Of("hemif.validations")).Tags["hemif.validation.state"]);
    }

    /// <summary>§3.1 "WiFi is broken" as the engine reports it (the fallback is the report's own field).</summary>
    private static RaceReport WifiBrokenReport()
    {
        var fallback = new RaceEvent(TimeSpan.FromSeconds(2), "note", "fallback delay of 2000 ms passed without a connection: the other interfaces start now (draft §5.2.3)");
        var userRule = new RuleReference("no-vpn", RuleSource.User, PreferenceLevel.Prohibit);
        var validation = new RuleReference("builtin:validation", RuleSource.BuiltIn, PreferenceLevel.Prohibit);
        return new RaceReport(
            "www.example.com", 443, RaceOutcome.Connected,
            new WinnerReport("rmnet0", InterfaceKind.Cellular, "tcp", "ipv6", "[2001:db8:ffff::80]:443"),
            TimeSpan.FromMilliseconds(2120),
            new RaceTimings(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(50)),
            [
                new AttemptReport(0, "wlan0", "tcp", "ipv6", "[2001:db8:ffff::80]:443", TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(2120), "cancelled", "lost to #1"),
                new AttemptReport(1, "rmnet0", "tcp", "ipv6", "[2001:db8:ffff::80]:443", TimeSpan.FromMilliseconds(2060), TimeSpan.FromMilliseconds(2120), "won", null),
            ],
            [
                new ExcludedInterface("tun0", [new ExclusionReason(userRule, "kind Vpn")]),
                new ExcludedInterface("eth1", [new ExclusionReason(validation, "not validated: NoConnectivity")]),
            ],
            [
                new RaceEvent(TimeSpan.Zero, "note", "wlan0 first; the others join after 2000 ms (draft §7.2) or on a hard error"),
                fallback,
                new RaceEvent(TimeSpan.FromMilliseconds(2120), "won", "#1", "rmnet0"),
            ],
            null)
        {
            Fallback = fallback,
        };
    }

    /// <summary>HeMif's telemetry alone, with its logs, its measurements and an activity of a source of its own.</summary>
    private sealed class Harness : IDisposable
    {
        private readonly ServiceProvider _provider;
        private readonly ActivitySource _source = new("HeMif.Tests." + Guid.NewGuid().ToString("N"));
        private readonly ActivityListener _listener;

        public Harness()
        {
            var services = new ServiceCollection();
            services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
            services.AddMetrics();
            services.AddSingleton<HeMifTelemetry>();
            _provider = services.BuildServiceProvider();
            Telemetry = _provider.GetRequiredService<HeMifTelemetry>();
            Metrics = new Measurements(_provider.GetRequiredService<IMeterFactory>());
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s == _source,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(_listener);
            Activity = _source.StartActivity("race")!;
        }

        public MemoryLoggerProvider Logs { get; } = new();

        public HeMifTelemetry Telemetry { get; }

        public Measurements Metrics { get; }

        public Activity Activity { get; }

        public void Dispose()
        {
            Activity.Dispose();
            _listener.Dispose();
            _source.Dispose();
            Metrics.Dispose();
            _provider.Dispose();
        }
    }

    /// <summary>Everything the meters of one IMeterFactory measure (parallel tests have their own factories).</summary>
    private sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _seen = new();

        public Measurements(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "HeMif" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public List<(double Value, Dictionary<string, object?> Tags)> Of(string instrument) =>
            [.. _seen.Where(m => m.Instrument == instrument).Select(m => (m.Value, m.Tags))];

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (var t in tags)
            {
                copy[t.Key] = t.Value;
            }

            _seen.Enqueue((instrument.Name, value, copy));
        }
    }
}
