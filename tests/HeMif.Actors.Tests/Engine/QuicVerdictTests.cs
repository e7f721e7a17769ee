using System.Net;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Simulation;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// The QUIC verdict loop in virtual time (docs/architecture.md §6: "the per-interface verdict is cached like any
/// outcome", and issue 6: "the planner uses it (no QUIC attempts where QUIC is known blocked)"): a request
/// that may use QUIC starts a path probe in the background where nothing is known, without waiting for it; the
/// verdict lands in the interface's outcome cache; the next request plans no QUIC attempt where QUIC is blocked.
/// </summary>
public sealed class QuicVerdictTests : IAsyncLifetime
{
    private static readonly InterfaceFacts Wifi = FakeNetwork.Wifi;

    private static readonly InterfaceFacts Cellular = FakeNetwork.Cellular;

    private static readonly ConnectionRequest Quic = new("www.example.com", 443) { Transports = [TransportName.Quic, TransportName.Tcp] };

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly FakeQuic _quic;
    private readonly FakeQuicProbe _probe;
    private HeMifEngine _engine = null!;
    private EngineDriver _driver = null!;

    public QuicVerdictTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        _quic = new FakeQuic(_clock);
        _probe = new FakeQuicProbe(_clock);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    /// <summary>
    /// The whole loop: Wi-Fi drops UDP. The first request tries QUIC there (nothing is known yet) and wins on TCP behind
    /// it, long before the probe's verdict; the probe's "blocked" is cached; the second request plans no QUIC attempt on
    /// Wi-Fi and its timeline says why; a third starts no new probe (the verdict is still fresh).
    /// </summary>
    [Fact]
    public async Task A_blocked_verdict_from_the_background_probe_keeps_the_next_request_off_QUIC_on_that_interface()
    {
        WifiDropsUdp();
        await StartAsync();

        var first = await RaceAsync(Quic);
        Assert.Equal(("wlan0", "tcp"), (first.Report.Winner!.Interface, first.Report.Winner.Transport));
        Assert.Contains(first.Report.Attempts, a => a.Interface == "wlan0" && a.Transport == "quic");
        // The race never waited for the probe: it was decided before the probe could answer.
        Assert.True(first.Report.TimeToConnect < FakeQuicProbe.Delay, $"took {first.Report.TimeToConnect}");
        Assert.Equal(["rmnet0", "wlan0"], _probe.Started.Order(StringComparer.Ordinal));
        await first.Connection!.DisposeAsync();

        await DriveAsync(() => _probe.Finished == 2);
        var second = await RaceAsync(Quic);
        Assert.Equal("wlan0", second.Report.Winner!.Interface);
        Assert.All(second.Report.Attempts.Where(a => a.Interface == "wlan0"), a => Assert.Equal("tcp", a.Transport));
        Assert.Contains(second.Report.Events, e => e is { Kind: "note", Interface: "wlan0" } && e.Detail == "QUIC known blocked on this interface: TCP only");
        Assert.Equal(TimeSpan.FromMilliseconds(25), second.Report.TimeToConnect); // straight to TCP: no attempt delay behind a dead QUIC
        await second.Connection!.DisposeAsync();

        await (await RaceAsync(Quic)).Connection!.DisposeAsync();
        Assert.Equal(2, _probe.Started.Count);
    }

    /// <summary>A reachable verdict keeps QUIC in the plan: QUIC first, and it wins.</summary>
    [Fact]
    public async Task A_reachable_verdict_keeps_QUIC_first()
    {
        _probe.Verdicts["wlan0"] = QuicPathState.Reachable;
        _probe.Verdicts["rmnet0"] = QuicPathState.Reachable;
        await StartAsync();
        await (await RaceAsync(Quic)).Connection!.DisposeAsync();
        await DriveAsync(() => _probe.Finished == 2);

        var second = await RaceAsync(Quic);
        Assert.Equal(("wlan0", "quic"), (second.Report.Winner!.Interface, second.Report.Winner.Transport));
        Assert.DoesNotContain(second.Report.Events, e => e.Detail.Contains("known blocked", StringComparison.Ordinal));
        await second.Connection!.DisposeAsync();
    }

    /// <summary>
    /// A completed QUIC handshake is a verdict too: Wi-Fi's probe learns nothing (unknown is not cached), yet the next
    /// request starts no probe there, because QUIC just connected over it.
    /// </summary>
    [Fact]
    public async Task A_QUIC_win_records_the_path_as_reachable_so_no_probe_is_needed_next_time()
    {
        _probe.Verdicts["wlan0"] = QuicPathState.Unknown;
        _probe.Verdicts["rmnet0"] = QuicPathState.Reachable;
        await StartAsync();
        var first = await RaceAsync(Quic);
        Assert.Equal(("wlan0", "quic"), (first.Report.Winner!.Interface, first.Report.Winner.Transport));
        await first.Connection!.DisposeAsync();
        await DriveAsync(() => _probe.Finished == 2);

        await (await RaceAsync(Quic)).Connection!.DisposeAsync();
        Assert.Single(_probe.Started, i => i == "wlan0");
    }

    /// <summary>No probe where QUIC is not wanted, and none where the host cannot do QUIC.</summary>
    [Fact]
    public async Task No_probe_for_a_TCP_request_nor_where_the_host_lacks_QUIC()
    {
        await StartAsync();
        await (await RaceAsync(Quic with { Transports = [TransportName.Tcp] })).Connection!.DisposeAsync();
        Assert.Empty(_probe.Started);
        await _engine.DisposeAsync();

        _quic.Unsupported = SimulatedNetwork.QuicUnsupportedReason;
        await StartAsync();
        var race = await RaceAsync(Quic);
        await race.Connection!.DisposeAsync();
        Assert.Empty(_probe.Started);
        Assert.Equal("tcp", race.Report.Winner!.Transport);
    }

    /// <summary>
    /// Issue 6: where QUIC is unsupported "the race proceeds on TCP, and the timeline says 'QUIC unsupported on this
    /// host' once — never an exception, never a hang", also when several interfaces race.
    /// </summary>
    [Fact]
    public async Task Where_the_host_lacks_QUIC_the_race_runs_on_TCP_and_says_so_once()
    {
        _quic.Unsupported = SimulatedNetwork.QuicUnsupportedReason;
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" }; // both interfaces race
        await StartAsync();
        var race = await RaceAsync(Quic);

        Assert.Equal(("rmnet0", "tcp"), (race.Report.Winner!.Interface, race.Report.Winner.Transport));
        Assert.All(race.Report.Attempts, a => Assert.Equal("tcp", a.Transport));
        Assert.Single(race.Report.Events, e => e.Detail.Contains("QUIC unsupported on this host", StringComparison.Ordinal));
        Assert.Empty(_quic.Log);
        await race.Connection!.DisposeAsync();
    }

    /// <summary>QUIC only, on a host without QUIC: the request fails at once, saying why, with no resolution and no attempt.</summary>
    [Fact]
    public async Task QUIC_only_where_the_host_lacks_QUIC_fails_at_once_saying_why()
    {
        _quic.Unsupported = SimulatedNetwork.QuicUnsupportedReason;
        await StartAsync();
        var before = _clock.Elapsed;
        var race = await RaceAsync(Quic with { Transports = [TransportName.Quic] });

        Assert.Equal(RaceOutcome.Failed, race.Report.Outcome);
        Assert.Equal("QUIC only was asked for, and QUIC unsupported on this host (no libmsquic)", race.Report.Failure);
        Assert.Empty(race.Report.Attempts);
        Assert.Equal(before, _clock.Elapsed);
        Assert.Empty(_network.Log);
    }

    /// <summary>QUIC only: no TCP attempt behind QUIC, and an interface where QUIC is known blocked gets nothing at all.</summary>
    [Fact]
    public async Task QUIC_only_makes_no_TCP_attempt_and_skips_an_interface_where_QUIC_is_known_blocked()
    {
        WifiDropsUdp();
        await StartAsync();
        var verdicts = await ProbeNowAsync();
        Assert.Equal([QuicPathState.Reachable, QuicPathState.Blocked], verdicts.Select(v => v.State));

        var race = await RaceAsync(Quic with { Transports = [TransportName.Quic] });
        Assert.Equal(("rmnet0", "quic"), (race.Report.Winner!.Interface, race.Report.Winner.Transport));
        Assert.DoesNotContain(race.Report.Attempts, a => a.Interface == "wlan0" || a.Transport == "tcp");
        Assert.Contains(race.Report.Events, e => e is { Kind: "note", Interface: "wlan0" } && e.Detail.Contains("QUIC only was asked for, and QUIC known blocked", StringComparison.Ordinal));
        Assert.Empty(_network.Log);
        await race.Connection!.DisposeAsync();
    }

    /// <summary>On demand (the CLI's <c>hemif probe quic</c>): every interface, or one; the verdicts are cached like background ones.</summary>
    [Fact]
    public async Task An_on_demand_probe_answers_per_interface_and_its_verdict_is_used_by_the_next_request()
    {
        WifiDropsUdp();
        await StartAsync();

        var one = await ProbeNowAsync("wlan0");
        Assert.Equal("wlan0", Assert.Single(one).Interface);
        Assert.Equal(QuicPathState.Blocked, one[0].State);

        var race = await RaceAsync(Quic);
        Assert.DoesNotContain(race.Report.Attempts, a => a.Interface == "wlan0" && a.Transport == "quic");
        await race.Connection!.DisposeAsync();
        Assert.Equal(["wlan0", "rmnet0"], _probe.Started); // the request probed only rmnet0, where nothing was known

        var error = Assert.Throws<ArgumentException>(() => _driver.Await(_engine.ProbeQuicAsync("www.example.com", 443, "eth9")));
        Assert.Contains("eth9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_QUIC_probe_an_on_demand_probe_is_refused_clearly()
    {
        await StartAsync(withProbe: false);
        var error = Assert.Throws<InvalidOperationException>(() => _driver.Await(_engine.ProbeQuicAsync("www.example.com", 443)));
        Assert.Contains("no QUIC path probe", error.Message, StringComparison.Ordinal);
    }

    /// <summary>RFC 8305 §4: history "SHOULD be flushed whenever a device changes the network": the QUIC verdict too.</summary>
    [Fact]
    public async Task A_changed_interface_forgets_its_QUIC_verdict_and_is_probed_again()
    {
        WifiDropsUdp();
        await StartAsync();
        await ProbeNowAsync();

        _quic.Blackholed.Clear();
        _probe.Verdicts["wlan0"] = QuicPathState.Reachable;
        _driver.Await(_engine.UpdateInterfaceAsync(Wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:9::10"), 64)] }));
        await DriveAsync(() => _engine.CurrentStates["wlan0"].State == ValidationState.Validated);

        var race = await RaceAsync(Quic);
        Assert.Equal(("wlan0", "quic"), (race.Report.Winner!.Interface, race.Report.Winner.Transport));
        await race.Connection!.DisposeAsync();
        Assert.Equal(2, _probe.Started.Count(i => i == "wlan0"));
    }

    /// <summary>
    /// Issue 16: a UDP exchange's outcomes are shared with the QUIC path probe's verdicts where both are about the same
    /// path: the same interface identity (the verdict goes when the interface's network changes) and the same
    /// destination host and port, over UDP. The probe found UDP/QUIC blocked on Wi-Fi to www.example.com:443, so an
    /// exchange with www.example.com:443 is not tried there (the timeline says why) and cellular answers at once.
    /// </summary>
    [Fact]
    public async Task A_blocked_QUIC_verdict_on_the_same_path_keeps_an_exchange_off_that_interface()
    {
        WifiDropsUdp();
        await StartAsync();
        await ProbeNowAsync();

        var exchange = await RaceAsync(Exchange(443));
        Assert.Equal(("rmnet0", "udp"), (exchange.Report.Winner!.Interface, exchange.Report.Winner.Transport));
        Assert.DoesNotContain(exchange.Report.Attempts, a => a.Interface == "wlan0");
        Assert.Contains(exchange.Report.Events, e => e.Interface == "wlan0" && e.Detail.Contains("UDP known blocked on this interface", StringComparison.Ordinal));
    }

    /// <summary>Another port is another path: the verdict about :443 says nothing of an exchange with :123, which goes to Wi-Fi first.</summary>
    [Fact]
    public async Task A_QUIC_verdict_about_another_port_does_not_touch_an_exchange()
    {
        WifiDropsUdp();
        await StartAsync();
        await ProbeNowAsync();

        var exchange = await RaceAsync(Exchange(123));
        Assert.Equal("wlan0", exchange.Report.Winner!.Interface);
    }

    /// <summary>
    /// The other way: an answered exchange with www.example.com:443 over Wi-Fi proves UDP gets through there (as a QUIC
    /// handshake would), so the next QUIC request starts no path probe on Wi-Fi. The exchange itself starts none: a QUIC
    /// Initial to a server of another protocol would only be noise to it, and its silence would wrongly say "blocked".
    /// </summary>
    [Fact]
    public async Task An_answered_exchange_says_UDP_gets_through_so_no_QUIC_probe_follows_and_it_starts_none_itself()
    {
        await StartAsync();
        var probedBefore = _probe.Started.Count;

        var exchange = await RaceAsync(Exchange(443));
        Assert.Equal("wlan0", exchange.Report.Winner!.Interface);
        Assert.Equal(probedBefore, _probe.Started.Count);

        await (await RaceAsync(Quic)).Connection!.DisposeAsync();
        Assert.DoesNotContain("wlan0", _probe.Started.Skip(probedBefore));
    }

    private static ConnectionRequest Exchange(int port) => new("www.example.com", port)
    {
        Transports = [TransportName.Udp],
        Exchange = new DatagramExchange(new byte[] { 1, 2, 3 }, _ => true),
    };

    /// <summary>Wi-Fi drops UDP (QUIC attempts there never answer, its probe says blocked); cellular lets it through.</summary>
    private void WifiDropsUdp()
    {
        _quic.Blackholed.Add("wlan0");
        _probe.Verdicts["wlan0"] = QuicPathState.Blocked;
        _probe.Verdicts["rmnet0"] = QuicPathState.Reachable;
    }

    private async Task StartAsync(bool withProbe = true)
    {
        _engine = new HeMifEngine(_network.Options(_clock) with
        {
            Transports = new TransportRegistry([new FakeNetwork.TcpPort(_network), _quic, new FakeUdp(_clock)], [TransportName.Tcp]),
            QuicProbe = withProbe ? _probe : null,
        });
        _driver = new EngineDriver(_engine, _clock);
        await DriveAsync(() => _engine.AllExamined);
    }

    private async Task<RaceResult> RaceAsync(ConnectionRequest request)
    {
        var (completion, _) = _engine.Start(request);
        await DriveAsync(() => completion.IsCompleted);
        return await completion;
    }

    private async Task<IReadOnlyList<QuicPathVerdict>> ProbeNowAsync(string? iface = null)
    {
        // The answer reaches the caller through an Ask promise, whose continuation runs on the thread pool: drive until
        // the probes have answered (the verdicts are then with the promise), and only then wait, boundedly, for the task.
        var finished = _probe.Finished + (iface is null ? 2 : 1);
        var probing = _engine.ProbeQuicAsync(Quic.Host, Quic.Port, iface);
        await DriveAsync(() => _probe.Finished >= finished);
        _driver.Idle();
        return await probing.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private Task DriveAsync(Func<bool> done)
    {
        Assert.True(_driver.RunUntil(done), "virtual time ran out before the condition held");
        return Task.CompletedTask;
    }

    /// <summary>A QUIC transport on the virtual clock: 20 ms handshakes, or none at all on blackholed interfaces.</summary>
    private sealed class FakeQuic(TimeProvider clock) : AttemptTransport
    {
        public HashSet<string> Blackholed { get; } = [];

        public List<string> Log { get; } = [];

        public override TransportName Name => TransportName.Quic;

        public override bool RunsOverUdp => true;

        public override string? UnsupportedReason => Unsupported;

        public string? Unsupported { get; set; }

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
        {
            var (networkInterface, remote) = (context.Interface, context.Remote);
            lock (Log)
            {
                Log.Add($"quic {networkInterface.Name} {remote}");
            }

            return Blackholed.Contains(networkInterface.Name)
                ? FakeTimers.After<ConnectedPath>(clock, Timeout.InfiniteTimeSpan, () => throw new InvalidOperationException("never"), cancellationToken)
                : FakeTimers.After<ConnectedPath>(clock, TimeSpan.FromMilliseconds(20), () => new Connected(remote), cancellationToken);
        }

        private sealed class Connected(IPEndPoint remote) : ConnectedPath
        {
            public override IPEndPoint? LocalEndPoint => null;

            public override IPEndPoint RemoteEndPoint => remote;

            public override Stream Stream => Stream.Null;

            public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>UDP exchanges on the virtual clock: every request is answered (an echo) 20 ms after it is sent.</summary>
    private sealed class FakeUdp(TimeProvider clock) : AttemptTransport
    {
        public override TransportName Name => TransportName.Udp;

        public override bool RunsOverUdp => true;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken) =>
            FakeTimers.After<ConnectedPath>(clock, TimeSpan.FromMilliseconds(20),
                () => new DatagramAnswer(context.Exchange!.Request.ToArray(), null, context.Remote, 1, 0, ""), cancellationToken);
    }

    /// <summary>A QUIC path probe that answers a scripted verdict per interface after <see cref="Delay"/> of virtual time.</summary>
    private sealed class FakeQuicProbe(TimeProvider clock) : QuicPathProbe
    {
        public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
        private int _finished;

        public Dictionary<string, QuicPathState> Verdicts { get; } = [];

        public List<string> Started { get; } = [];

        public int Finished => Volatile.Read(ref _finished);

        public override Task<QuicPathVerdict> ProbeAsync(InterfaceFacts networkInterface, string host, int port, CancellationToken cancellationToken)
        {
            lock (Started)
            {
                Started.Add(networkInterface.Name);
            }

            var state = Verdicts.GetValueOrDefault(networkInterface.Name, QuicPathState.Unknown);
            return FakeTimers.After(clock, Delay, () =>
            {
                Interlocked.Increment(ref _finished);
                return new QuicPathVerdict(networkInterface.Name, state, $"fake probe: {state}");
            }, cancellationToken);
        }
    }
}
