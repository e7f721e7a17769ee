using System.Net;
using HeMif.Host.Tests.Support;
using HeMif.Hosting;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using HeMif.Report;
using HeMif.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HeMif.Host.Tests.Hosting;

/// <summary>
/// A host made as an application makes one: HeMif from configuration, HttpClient through the connect callback to a
/// real Kestrel server on loopback, start and stop.
/// </summary>
public sealed class HostingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_host_starts_serves_HTTP_1_1_and_HTTP_2_through_the_connect_callback_and_stops_cleanly()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        var (host, logs) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:RaceTimeout"] = "00:00:20" });
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var client = host.Client();

            using var http1 = await client.GetAsync(server.Http1).WaitAsync(Bound);
            Assert.Equal(HttpStatusCode.OK, http1.StatusCode);
            Assert.Equal("hello over HTTP/1.1", await http1.Content.ReadAsStringAsync());
            Assert.True(http1.RequestMessage!.Options.TryGetValue(HeMifConnectCallback.RaceReportKey, out var report1));
            Assert.Equal("lo", report1.Winner!.Interface);

            using var request = new HttpRequestMessage(HttpMethod.Get, server.Http2) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var http2 = await client.SendAsync(request).WaitAsync(Bound);
            Assert.Equal(HttpVersion.Version20, http2.Version);
            Assert.Equal("hello over HTTP/2", await http2.Content.ReadAsStringAsync());
            Assert.True(request.Options.TryGetValue(HeMifConnectCallback.RaceReportKey, out var report2));
            Assert.Equal(RaceOutcome.Connected, report2.Outcome);

            // A second request on the pooled connection does not race again.
            using var again = await client.GetAsync(server.Http1).WaitAsync(Bound);
            Assert.False(again.RequestMessage!.Options.TryGetValue(HeMifConnectCallback.RaceReportKey, out _));

            await host.StopAsync().WaitAsync(Bound);
        }

        Assert.Contains(logs.HeMif, e => e.EventId.Id == 1 && e.Level == LogLevel.Information && e.Message.Contains("1 of 1 interfaces validated", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task A_race_that_connects_nowhere_is_an_HttpRequestException_with_the_reports_message()
    {
        using var refusing = new RefusingPort();
        var (host, logs) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => host.Client().GetAsync(new Uri($"http://127.0.0.1:{refusing.Port}/")).WaitAsync(Bound));
            var inner = Assert.IsType<HeMifConnectException>(error.InnerException);
            Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
            Assert.StartsWith(inner.Message, error.Message, StringComparison.Ordinal);
            Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
            Assert.Contains($"attempt #0 tcp 127.0.0.1:{refusing.Port} on lo", error.Message, StringComparison.Ordinal);
            await host.StopAsync().WaitAsync(Bound);
        }

        var failed = Assert.Single(logs.HeMif, e => e.EventId.Id == 22);
        Assert.Equal(LogLevel.Information, failed.Level);
    }

    [Fact]
    public async Task Bad_configuration_fails_start_up_with_a_message_naming_the_key_and_the_range()
    {
        var (host, _) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:RaceTimeout"] = "00:00:00" });
        using (host)
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));
            Assert.Contains("HeMif:RaceTimeout must be between 00:00:01 and 00:10:00; got 00:00:00", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_bad_policy_in_configuration_fails_start_up_with_the_policy_readers_path()
    {
        var (host, _) = TestHosts.Create(new Dictionary<string, string?>
        {
            ["HeMif:userRules:0:name"] = "no-cellular",
            ["HeMif:userRules:0:level"] = "Forbid",
        });
        using (host)
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));
            Assert.Contains("HeMif:userRules:0:level", error.Message, StringComparison.Ordinal);
            Assert.Contains("\"Forbid\"", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_engine_that_cannot_be_made_logs_Critical_stops_the_application_and_fails_start()
    {
        var overrides = Path.Combine(Path.GetTempPath(), $"hemif-host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(overrides, """{ "interfaces": [ { "name": "wlan9", "kind": "Wifi" } ] }""");
        try
        {
            var (host, logs) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:OverridesFile"] = overrides });
            using (host)
            {
                var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
                var error = await Assert.ThrowsAsync<HeMif.Configuration.HeMifConfigurationException>(() => host.StartAsync().WaitAsync(Bound));
                Assert.Equal($"{overrides}: $.interfaces[0].name: expected the name of an interface this host has (lo); found \"wlan9\"", error.Message);
                Assert.True(lifetime.ApplicationStopping.IsCancellationRequested, "StopApplication was called");
                AssertStartupFailedOnce(logs, overrides);
            }
        }
        finally
        {
            File.Delete(overrides);
        }
    }

    /// <summary>
    /// Issue 11: "A bad override file surfaces as a bare ArgumentException from GetRequiredService (hosted app) … Hosted
    /// start-up failures log the documented Critical event 3 (StartupFailed) naming the key or file." An application
    /// service that takes IHeMifEvents in its constructor (the worker sample's does) makes the connector while the host
    /// creates its hosted services, before HeMif's own hosted service starts: the failure is logged there, once.
    /// </summary>
    [Fact]
    public async Task A_bad_override_file_met_by_an_application_service_logs_StartupFailed_once_naming_the_key_and_the_file()
    {
        var overrides = Path.Combine(Path.GetTempPath(), $"hemif-host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(overrides, """{ "interfaces": [ { "name": "wlan9", "kind": "Wifi" } ] }""");
        try
        {
            var (host, logs) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:OverridesFile"] = overrides },
                services: s => s.AddHostedService<ServiceThatWatchesInterfaces>());
            using (host)
            {
                var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
                var error = await Assert.ThrowsAsync<HeMif.Configuration.HeMifConfigurationException>(() => host.StartAsync().WaitAsync(Bound));
                Assert.Contains("$.interfaces[0].name", error.Message, StringComparison.Ordinal);
                Assert.True(lifetime.ApplicationStopping.IsCancellationRequested, "StopApplication was called");
                AssertStartupFailedOnce(logs, overrides);
            }
        }
        finally
        {
            File.Delete(overrides);
        }
    }

    /// <summary>A policy file that is a device (or a FIFO, or too large) fails start-up naming the key and what the file is, without reading it.</summary>
    [Fact]
    public async Task A_policy_file_that_is_not_a_regular_file_fails_start_naming_the_key()
    {
        var (host, _) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:PolicyFile"] = "/dev/zero" });
        using (host)
        {
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bound));
            Assert.Contains("HeMif:PolicyFile must name a readable policy file: /dev/zero: expected a readable JSON file; found not a regular file (a character device)", error.Message, StringComparison.Ordinal);
        }
    }

    private static void AssertStartupFailedOnce(MemoryLoggerProvider logs, string file)
    {
        var critical = Assert.Single(logs.HeMif, e => e.Level == LogLevel.Critical);
        Assert.Equal(3, critical.EventId.Id);
        Assert.Equal("StartupFailed", critical.EventId.Name);
        Assert.StartsWith($"HeMif could not start; the application is stopping: HeMif:OverridesFile: {file}: $.interfaces[0].name: ", critical.Message, StringComparison.Ordinal);
        Assert.Contains("\"wlan9\"", critical.Message, StringComparison.Ordinal);
        Assert.Null(critical.Exception); // the user's input, not a bug: no stack trace in the log
    }

    /// <summary>Like the worker sample's worker: takes HeMif's events in its constructor.</summary>
    private sealed class ServiceThatWatchesInterfaces(IHeMifEvents events) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => events.InterfaceStates.FirstAsync().ToTask(stoppingToken);
    }

    /// <summary>
    /// The wait for the first examination is bounded: a check server that accepts and never answers does not hold
    /// start-up (HeMif:StartupTimeout 0 here), and the log says start-up went on without it.
    /// </summary>
    [Fact]
    public async Task Start_up_waits_for_the_first_examination_only_as_long_as_configured()
    {
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var (host, logs) = TestHosts.Create(ValidatingAgainstSilentCheck(port));
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var warning = Assert.Single(logs.HeMif, e => e.EventId.Id == 2);
            Assert.Equal(LogLevel.Warning, warning.Level);
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    /// <summary>
    /// An app with validation on, on a host whose check server does not answer (offline), still reaches a local
    /// service: loopback has no network behind it to validate (draft §5.2.1), so it is validated by definition.
    /// </summary>
    [Fact]
    public async Task With_validation_on_a_local_service_is_reached_over_loopback_without_a_check()
    {
        using var service = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        service.Start();
        using var nobody = new HeMif.TestKit.RefusingPort();
        var (host, logs) = TestHosts.Create(new Dictionary<string, string?>
        {
            ["HeMif:DisableValidation"] = "false",
            ["HeMif:ProbeUrl"] = $"http://127.0.0.1:{nobody.Port}/generate_204",
        }, probeLoopback: false);
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var connector = host.Services.GetRequiredService<IHeMifConnector>();
            await using (var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)service.LocalEndpoint).Port).WaitAsync(Bound))
            {
                Assert.Equal("lo", connection.Interface);
            }

            Assert.Contains(logs.HeMif, e => e.EventId.Id == 10 && e.Message.Contains("loopback reaches only this host", StringComparison.Ordinal));
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    /// <summary>Stopping the host while a request waits: the request fails cleanly (no hang, no stray exception).</summary>
    [Fact]
    public async Task A_request_pending_when_the_host_stops_fails_cleanly()
    {
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var (host, _) = TestHosts.Create(ValidatingAgainstSilentCheck(port));
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);

            // The first request waits for the interface's first examination, which the silent server never completes.
            var connector = host.Services.GetRequiredService<IHeMifConnector>();
            var pending = connector.ConnectAsync("127.0.0.1", port);
            var viaHttp = host.Client().GetAsync(new Uri($"http://127.0.0.1:{port}/"));
            await host.StopAsync().WaitAsync(Bound);

            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(Bound));
            var http = await Assert.ThrowsAsync<HttpRequestException>(() => viaHttp.WaitAsync(Bound));
            Assert.IsType<ObjectDisposedException>(http.InnerException);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => connector.ConnectAsync("127.0.0.1", port));
        }
    }

    [Fact]
    public void AddHeMif_twice_registers_everything_once_and_applies_both_configurations()
    {
        var services = new ServiceCollection();
        services.AddHeMif(b => b.UseTransport(TransportPreference.Any));
        services.AddHeMif(b => b.UseInterfaces([TestHosts.Loopback]));
        services.AddHttpClient("x").UseHeMif();

        // HeMif's own hosted service, and Akka.Hosting's for the actor system AddHeMif brings (once, like the system).
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(HeMifHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(Akka.Hosting.AkkaHostedService));
        Assert.Single(services, d => d.ServiceType == typeof(Akka.Hosting.AkkaConfigurationBuilder));
        Assert.Single(services, d => d.ServiceType == typeof(IHeMifConnector));
        Assert.Single(services, d => d.ServiceType == typeof(IHeMifEvents));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<HeMifOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<HeMifOptions>>().Value;
        Assert.Equal(TransportPreference.Any, options.Transport);
        Assert.Equal("lo", Assert.Single(options.Interfaces!).Name);
    }

    [Fact]
    public async Task A_connector_registered_before_AddHeMif_is_the_one_used_and_hosted()
    {
        var services = new ServiceCollection();
        await using var own = HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [TestHosts.Loopback], DisableValidation = true });
        services.AddSingleton(own);
        services.AddLogging();
        services.AddSingleton<IHostApplicationLifetime, Lifetime>();
        services.AddHeMif();
        await using var provider = services.BuildServiceProvider();

        Assert.Same(own, provider.GetRequiredService<IHeMifConnector>());
        var events = provider.GetRequiredService<IHeMifEvents>();
        Assert.IsType<ConnectorEvents>(events);
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None).WaitAsync(Bound);
            await hosted.StopAsync(CancellationToken.None).WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task The_TimeProvider_comes_from_DI()
    {
        var clock = new FixedClock(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddHeMif(b => b.UseInterfaces([TestHosts.Loopback]).DisableValidation());
        await using var provider = services.BuildServiceProvider();
        var events = provider.GetRequiredService<IHeMifEvents>();
        var first = await events.InterfaceStates.FirstAsync(s => s.State == Validate.ValidationState.Validated).ToTask().WaitAsync(Bound);
        Assert.Equal(clock.GetUtcNow(), first.At);
    }

    /// <summary>
    /// Validation on, against a check server that accepts and never answers (the first examination never ends on its
    /// own), and no start-up wait.
    /// </summary>
    private static Dictionary<string, string?> ValidatingAgainstSilentCheck(int port) => new()
    {
        ["HeMif:DisableValidation"] = "false",
        ["HeMif:ProbeUrl"] = $"http://127.0.0.1:{port}/generate_204",
        ["HeMif:StartupTimeout"] = "00:00:00",
    };

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => throw new InvalidOperationException("nothing failed, so nothing should stop the application");
    }

    /// <summary>A clock whose date is far from today's: a state stamped with it can only have come from this clock.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
