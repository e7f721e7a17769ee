using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using HeMif.Continuity;
using HeMif.Host.Tests.Support;
using HeMif.Hosting;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Report;
using HeMif.Transports.Tcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HeMif.Host.Tests.Http;

/// <summary>
/// Issue 16, "UseHeMif() acts on it for HTTP" (draft §7.4, session continuity): pooled HTTP/1.1 and HTTP/2 connections
/// on a path that is no longer viable are not reused; when a better path appears, idle pooled connections on the worse
/// path are retired so that the next request races again, while requests in flight finish where they are. A connector
/// that makes real loopback TCP connections and lets the test raise each connection's path events; a real Kestrel server
/// that counts the connections it sees open and close.
/// </summary>
public sealed class ConnectionRetirementTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Protocols => ["1.1", "2"];

    public static TheoryData<string, string> ProtocolsAndPhases => new()
    {
        { "1.1", "headers" },
        { "1.1", "body" },
        { "2", "headers" },
        { "2", "body" },
    };

    /// <summary>
    /// "When a better path appears, idle pooled connections on the worse path are retired so that the next request
    /// races again": the server sees the idle connection close, and the next request opens a new one (a new race).
    /// </summary>
    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_better_path_closes_the_idle_connection_and_the_next_request_races_again(string protocol)
    {
        await using var server = await LoopbackWebServer.StartAsync();
        await using var connector = new PathConnector();
        using var client = Client(connector, out var handler);

        var first = await GetAsync(client, server, protocol, "connection");
        Assert.Single(connector.Connections);

        connector.Raise(0, BetterPath("wlan0", "eth0"));
        await server.WaitForClosedAsync(1, Bound);

        var second = await GetAsync(client, server, protocol, "connection");
        Assert.Equal(2, connector.Connections.Count);
        Assert.NotEqual(first.Body, second.Body);
        Assert.True(second.Raced, "the request after the event did not open a connection of its own");
        Assert.Equal(1, handler.CurrentGeneration);
    }

    /// <summary>
    /// "Pooled connections on a path that is no longer viable are not reused", and "requests in flight finish where they
    /// are (no request fails because of this)": a request waiting for its response headers, or reading its body, when
    /// the event arrives completes with its whole body; a request sent after the event goes over a new connection; the
    /// old connection closes once the request in flight is done.
    /// </summary>
    [Theory]
    [MemberData(nameof(ProtocolsAndPhases))]
    public async Task A_request_in_flight_when_the_path_is_lost_finishes_and_the_next_goes_over_a_new_connection(string protocol, string phase)
    {
        await using var server = await LoopbackWebServer.StartAsync();
        await using var connector = new PathConnector();
        using var client = Client(connector, out _);

        using var slowRequest = Request(server, protocol, "slow?phase=" + phase);
        var slow = client.SendAsync(slowRequest, HttpCompletionOption.ResponseHeadersRead);
        await server.SlowArrived.WaitAsync(Bound);
        HttpResponseMessage? slowResponse = null;
        if (phase == "body")
        {
            slowResponse = await slow.WaitAsync(Bound); // the headers are here, the body is half sent
        }

        connector.Raise(0, NotViable("wlan0"));

        var next = await GetAsync(client, server, protocol, "connection");
        Assert.True(next.Raced, "the request after the event went over the connection whose path was lost");
        Assert.Equal(2, connector.Connections.Count);
        Assert.Equal(0, server.Closed); // the first connection still carries the request in flight

        server.Release();
        slowResponse ??= await slow.WaitAsync(Bound);
        using (slowResponse)
        {
            Assert.Equal(HttpStatusCode.OK, slowResponse.StatusCode);
            Assert.Equal(phase == "body" ? "first half;second half" : "second half", await slowResponse.Content.ReadAsStringAsync().WaitAsync(Bound));
        }

        // The retired pool is closed once its request is done; the new connection stays.
        await server.WaitForClosedAsync(1, Bound);
        Assert.Single(server.Open);
        Assert.Equal(2, server.Opened);
    }

    /// <summary>"Viable again" is good news for the connection: nothing is retired and the pooled connection is reused.</summary>
    [Fact]
    public async Task Viable_again_retires_nothing()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        await using var connector = new PathConnector();
        using var client = Client(connector, out var handler);

        var first = await GetAsync(client, server, "1.1", "connection");
        connector.Raise(0, new PathEvent(PathEventKind.ViableAgain, PathEventReason.Recovered, "wlan0", "wlan0 is up and validated again", DateTimeOffset.UnixEpoch));
        var second = await GetAsync(client, server, "1.1", "connection");

        Assert.Equal(first.Body, second.Body);
        Assert.False(second.Raced);
        Assert.Single(connector.Connections);
        Assert.Equal(0, handler.CurrentGeneration);
    }

    /// <summary>HeMif:RetireHttpConnections=false (read at each event): the event changes nothing; the connection is reused.</summary>
    [Fact]
    public async Task Turned_off_a_lost_path_retires_nothing()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        await using var connector = new PathConnector();
        using var client = Client(connector, out var handler, enabled: false);

        var first = await GetAsync(client, server, "1.1", "connection");
        connector.Raise(0, NotViable("wlan0"));
        var second = await GetAsync(client, server, "1.1", "connection");

        Assert.Equal(first.Body, second.Body);
        Assert.Single(connector.Connections);
        Assert.Equal(0, handler.CurrentGeneration);
    }

    /// <summary>
    /// Each retired connection is counted (hemif.http.connections.retired, by reason and interface) and logged (event 40):
    /// the connection on the lost path as not viable, one on another interface that shared its pool as such. A second
    /// event from the retired pool retires nothing more.
    /// </summary>
    [Fact]
    public async Task Each_retired_connection_is_counted_and_logged_with_its_reason_and_interface()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        await using var connector = new PathConnector("wlan0", "rmnet0");
        var logs = new MemoryLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddMetrics();
        services.AddSingleton<HeMifTelemetry>();
        await using var provider = services.BuildServiceProvider();
        using var retired = new RetiredCounter(provider.GetRequiredService<IMeterFactory>());
        using var client = Client(connector, out _, telemetry: provider.GetRequiredService<HeMifTelemetry>());

        // Two requests at once on HTTP/1.1: two connections, over wlan0 and rmnet0.
        using var slowRequest = Request(server, "1.1", "slow?phase=headers");
        var slow = client.SendAsync(slowRequest);
        await server.SlowArrived.WaitAsync(Bound);
        await GetAsync(client, server, "1.1", "connection");
        server.Release();
        (await slow.WaitAsync(Bound)).Dispose();
        Assert.Equal(2, connector.Connections.Count);

        connector.Raise(0, NotViable("wlan0"));
        connector.Raise(1, BetterPath("rmnet0", "eth0")); // from the retired pool: nothing more
        await server.WaitForClosedAsync(2, Bound);

        var seen = retired.Seen.OrderBy(m => m.Interface, StringComparer.Ordinal).ToList();
        Assert.Equal([("rmnet0", "shared_pool"), ("wlan0", "not_viable")], seen.Select(m => (m.Interface, m.Reason)));
        var lines = logs.HeMif.Where(e => e.EventId.Id == 40).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(LogLevel.Information, l.Level));
        Assert.Contains(lines, l => l.Message.Contains("over wlan0 retired (not_viable)", StringComparison.Ordinal) && l.Message.Contains("NotViable on wlan0", StringComparison.Ordinal));
    }

    /// <summary>Every public setting of SocketsHttpHandler reaches the later generations (a new .NET setting fails this until it is copied).</summary>
    [Fact]
    public void A_new_generation_has_every_setting_of_the_clients_handler()
    {
        using var template = new SocketsHttpHandler
        {
            ActivityHeadersPropagator = System.Diagnostics.DistributedContextPropagator.CreateNoOutputPropagator(),
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.GZip,
            ConnectTimeout = TimeSpan.FromSeconds(7),
            CookieContainer = new CookieContainer(),
            Credentials = new NetworkCredential("u", "p"),
            DefaultProxyCredentials = new NetworkCredential("pu", "pp"),
            EnableMultipleHttp2Connections = true,
            EnableMultipleHttp3Connections = true,
            Expect100ContinueTimeout = TimeSpan.FromSeconds(3),
            InitialHttp2StreamWindowSize = 1 << 20,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingTimeout = TimeSpan.FromSeconds(9),
            MaxAutomaticRedirections = 4,
            MaxConnectionsPerServer = 5,
            MaxResponseDrainSize = 1234,
            MaxResponseHeadersLength = 99,
            MeterFactory = new EmptyMeterFactory(),
            PlaintextStreamFilter = (c, _) => ValueTask.FromResult(c.PlaintextStream),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(11),
            PooledConnectionLifetime = TimeSpan.FromSeconds(12),
            PreAuthenticate = true,
            Proxy = new WebProxy("http://192.0.2.1:8080"),
            RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
            ResponseDrainTimeout = TimeSpan.FromSeconds(13),
            ResponseHeaderEncodingSelector = (_, _) => System.Text.Encoding.Latin1,
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "example.com" },
            UseCookies = false,
            UseProxy = false,
        };
        template.Properties["k"] = "v";

        using var copy = RetiringHttpHandler.Clone(template);

        var settings = typeof(SocketsHttpHandler).GetProperties().Where(p => p.CanRead && p.CanWrite && p.GetMethod!.IsPublic && !p.GetMethod.IsStatic).ToList();
        Assert.Contains(settings, p => p.Name == nameof(SocketsHttpHandler.PooledConnectionLifetime));
        foreach (var p in settings.Where(p => p.Name != nameof(SocketsHttpHandler.ConnectCallback)))
        {
            Assert.True(Equals(p.GetValue(template), p.GetValue(copy)), $"{p.Name} is not copied to a new generation");
            Assert.False(Equals(p.GetValue(new SocketsHttpHandler()), p.GetValue(template)), $"the test does not set {p.Name} to a value of its own");
        }

        Assert.Equal("v", copy.Properties["k"]);
    }

    /// <summary>
    /// Through DI: UseHeMif() wraps the client's SocketsHttpHandler, with the settings the application gives after it;
    /// UseHeMif(options, retireOnPathChange: false) leaves it as it is; HeMif:RetireHttpConnections is read strictly.
    /// </summary>
    [Fact]
    public void UseHeMif_retires_by_default_keeps_later_handler_settings_and_a_client_may_opt_out()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IHeMifConnector>(new PathConnector());
        services.AddHttpClient("on").UseHeMif().UseSocketsHttpHandler((h, _) => h.PooledConnectionLifetime = TimeSpan.FromSeconds(42));
        services.AddHttpClient("off").UseHeMif(null, retireOnPathChange: false);
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<System.Net.Http.IHttpMessageHandlerFactory>();

        var on = Primary(factory.CreateHandler("on"));
        var retiring = Assert.IsType<RetiringHttpHandler>(on);
        Assert.Equal(0, retiring.CurrentGeneration);
        Assert.Equal(TimeSpan.FromSeconds(42), RetiringHttpHandler.Clone(TemplateOf(retiring)).PooledConnectionLifetime);
        Assert.IsType<SocketsHttpHandler>(Primary(factory.CreateHandler("off")));
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("true", true)]
    [InlineData(null, true)]
    public void The_setting_is_read_from_configuration(string? value, bool expected)
    {
        var (host, _) = TestHosts.Create(value is null ? null : new Dictionary<string, string?> { ["HeMif:RetireHttpConnections"] = value });
        using var _ = host;
        var options = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HeMifOptions>>().Value;
        Assert.Equal(expected, options.RetireHttpConnections);
    }

    [Fact]
    public void A_bad_value_of_the_setting_names_the_key()
    {
        var (host, _) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:RetireHttpConnections"] = "sometimes" });
        using var _ = host;
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HeMifOptions>>().Value);
        Assert.Contains("HeMif:RetireHttpConnections", e.Message, StringComparison.Ordinal);
        Assert.Contains("sometimes", e.Message, StringComparison.Ordinal);
    }

    private static HttpMessageHandler Primary(HttpMessageHandler handler)
    {
        while (handler is DelegatingHandler d)
        {
            handler = d.InnerHandler!;
        }

        return handler;
    }

    private static SocketsHttpHandler TemplateOf(RetiringHttpHandler handler) =>
        (SocketsHttpHandler)typeof(RetiringHttpHandler).GetField("_template", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(handler)!;

    private static HttpClient Client(PathConnector connector, out RetiringHttpHandler handler, bool enabled = true, HeMifTelemetry? telemetry = null)
    {
        handler = new RetiringHttpHandler(new SocketsHttpHandler(), new HeMifConnectCallback(connector) { RetireOnPathChange = true }, () => enabled, telemetry);
        return new HttpClient(handler) { Timeout = Bound };
    }

    private static HttpRequestMessage Request(LoopbackWebServer server, string protocol, string path) =>
        protocol == "2"
            ? new HttpRequestMessage(HttpMethod.Get, new Uri(server.Http2, path)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact }
            : new HttpRequestMessage(HttpMethod.Get, new Uri(server.Http1, path));

    private static async Task<(string Body, bool Raced)> GetAsync(HttpClient client, LoopbackWebServer server, string protocol, string path)
    {
        using var request = Request(server, protocol, path);
        using var response = await client.SendAsync(request).WaitAsync(Bound);
        response.EnsureSuccessStatusCode();
        Assert.Equal(protocol == "2" ? HttpVersion.Version20 : HttpVersion.Version11, response.Version);
        return (await response.Content.ReadAsStringAsync(), request.Options.TryGetValue(HeMifConnectCallback.RaceReportKey, out _));
    }

    private static PathEvent NotViable(string iface) =>
        new(PathEventKind.NotViable, PathEventReason.ValidationLost, iface, $"{iface} lost validation: CaptivePortal", DateTimeOffset.UnixEpoch);

    private static PathEvent BetterPath(string iface, string better) =>
        new(PathEventKind.BetterPathAvailable, PathEventReason.HigherRankedInterface, iface, $"{better} now ranks first", DateTimeOffset.UnixEpoch) { BetterInterface = better };

    /// <summary>
    /// Connects for real to 127.0.0.1 and says the connection went over the next of <c>interfaces</c> (the last one
    /// repeats); each connection's path events are a subject the test raises with <see cref="Raise"/>.
    /// </summary>
    private sealed class PathConnector(params string[] interfaces) : IHeMifConnector
    {
        private readonly string[] _interfaces = interfaces.Length == 0 ? ["wlan0"] : interfaces;

        public ConcurrentQueue<(HeMifConnection Connection, Subject<PathEvent> Events)> Connections { get; } = new();

        public IObservable<InterfaceStateChanged> InterfaceStates => Observable.Never<InterfaceStateChanged>();

        public IObservable<RaceEvent> RaceEvents => Observable.Never<RaceEvent>();

        public IObservable<SubflowPlan> SubflowSuggestions => Observable.Never<SubflowPlan>();

        public void Raise(int connection, PathEvent e) => Connections.ElementAt(connection).Events.OnNext(e);

        public async Task<HeMifConnection> ConnectAsync(string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            var iface = _interfaces[Math.Min(Connections.Count, _interfaces.Length - 1)];
            var report = new RaceReport(host, port, RaceOutcome.Connected, new WinnerReport(iface, InterfaceKind.Wifi, "tcp", "ipv4", $"127.0.0.1:{port}"),
                TimeSpan.Zero, new RaceTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero), [], [], [], null);
            var events = new Subject<PathEvent>();
            var connection = new HeMifConnection(new TcpConnectedPath(socket), report, pathEvents: events);
            Connections.Enqueue((connection, events));
            return connection;
        }

        public Task<SubflowPlan> PlanSubflowsAsync(string host, int port, MultipathMode mode, ConnectOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<Validate.QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IObservable<SubflowPlan> WatchSubflows(string host, int port, MultipathMode mode, ConnectOptions? options = null) => Observable.Never<SubflowPlan>();

        public async ValueTask DisposeAsync()
        {
            foreach (var (connection, events) in Connections)
            {
                await connection.DisposeAsync();
                events.Dispose();
            }
        }
    }

    /// <summary>The hemif.http.connections.retired measurements of one meter factory.</summary>
    private sealed class RetiredCounter : IDisposable
    {
        private readonly MeterListener _listener = new();

        public RetiredCounter(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "HeMif" && ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "hemif.http.connections.retired")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
            {
                var d = new Dictionary<string, object?>();
                foreach (var t in tags)
                {
                    d[t.Key] = t.Value;
                }

                for (var i = 0; i < v; i++)
                {
                    Seen.Enqueue(((string)d["hemif.interface"]!, (string)d["hemif.retire.reason"]!));
                }
            });
            _listener.Start();
        }

        public ConcurrentQueue<(string Interface, string Reason)> Seen { get; } = new();

        public void Dispose() => _listener.Dispose();
    }

    private sealed class EmptyMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
