using System.Net;
using HeMif.Engine;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>The whole engine (supervisors, policy, request and racer actors) on a scripted network, in virtual time.</summary>
public sealed class EngineTests : IAsyncLifetime
{
    private static readonly InterfaceFacts Wifi = FakeNetwork.Wifi;

    private static readonly InterfaceFacts Cellular = FakeNetwork.Cellular;

    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly List<InterfaceStateChanged> _states = [];
    private readonly List<string> _actorFailures = [];
    private HeMifEngine _engine = null!;
    private EngineDriver _driver = null!;

    public EngineTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    [Fact]
    public async Task Healthy_Wi_Fi_wins_with_exactly_one_attempt_in_total()
    {
        await StartAsync();
        var result = await RaceAsync();

        Assert.True(RaceOutcome.Connected == result.Report.Outcome, result.Report.Failure + string.Join("\n", _states) + _clock.Elapsed);
        Assert.Equal("wlan0", result.Report.Winner!.Interface);
        Assert.Equal("ipv6", result.Report.Winner.Family);
        Assert.Single(result.Report.Attempts);
        Assert.Equal(TimeSpan.FromMilliseconds(25), result.Report.TimeToConnect); // 5 ms DNS + 20 ms handshake
        Assert.Equal(1, _network.OpenConnections);
        await result.Connection!.DisposeAsync();
        Assert.Equal(0, _network.OpenConnections);
    }

    /// <summary>
    /// Draft §3.1 "WiFi is broken": "If no connection can be made it will fall back to attempting the connection over a
    /// 3GPP mobile network path" — after the fallback delay (§7.2).
    /// </summary>
    [Fact]
    public async Task When_Wi_Fi_blackholes_cellular_wins_after_the_fallback_delay_and_every_loser_is_closed()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();
        var probes = _network.ProbeCalls;
        var result = await RaceAsync();

        Assert.Equal("rmnet0", result.Report.Winner!.Interface);
        // 5 ms DNS on Wi-Fi, then its attempt starts the fallback timer (draft §5.2.3: "After making a connection attempt
        // on the preferred pairs"): + 2000 ms fallback + 5 ms DNS + 60 ms handshake on cellular.
        Assert.Equal(TimeSpan.FromMilliseconds(2070), result.Report.TimeToConnect);
        Assert.Equal(TimeSpan.FromMilliseconds(5), result.Report.Timings.FallbackTimerStart);
        Assert.All(result.Report.Attempts.Where(a => a.Interface == "wlan0"), a => Assert.Equal("cancelled", a.Result));
        Assert.Contains(result.Report.Events, e => e.Kind == "note" && e.Detail.Contains("fallback delay of 2000 ms passed", StringComparison.Ordinal));
        Assert.Equal(1, _network.OpenConnections);
        // Wi-Fi stayed silent although validated: it is examined again at once (draft §3.1: "this might not be the case").
        Assert.Equal(probes + 1, _network.ProbeCalls);
        _driver.Advance(TimeSpan.FromSeconds(1)); // that examination ends
        Assert.Equal(0, _clock.ArmedTimerCount - PeriodicTimers); // no blackholed attempt left waiting
    }

    /// <summary>§7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process".</summary>
    [Fact]
    public async Task When_Wi_Fi_rejects_cellular_wins_well_before_the_fallback_delay()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "reject", IPv4 = "reject" };
        await StartAsync();
        var result = await RaceAsync();

        Assert.Equal("rmnet0", result.Report.Winner!.Interface);
        Assert.True(result.Report.TimeToConnect < TimeSpan.FromMilliseconds(200), $"took {result.Report.TimeToConnect}");
    }

    /// <summary>§5.2.1: a proxy "that forces a login or a click-through" fails validation: no attempt ever uses the interface.</summary>
    [Fact]
    public async Task A_captive_Wi_Fi_is_excluded_by_validation_and_never_used()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { Probe = ValidationState.CaptivePortal };
        await StartAsync();
        var result = await RaceAsync();

        Assert.Equal("rmnet0", result.Report.Winner!.Interface);
        var excluded = Assert.Single(result.Report.Excluded);
        Assert.Equal("wlan0", excluded.Interface);
        Assert.Contains("not validated: CaptivePortal", excluded.Reasons.Single().Fact, StringComparison.Ordinal);
        Assert.DoesNotContain(_network.Log, l => l.Contains("wlan0", StringComparison.Ordinal));
    }

    /// <summary>§5.2.3: "The node would cache information regarding the outcome of each connection attempt."</summary>
    [Fact]
    public async Task With_a_warm_cache_the_second_request_goes_straight_to_cellular()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();
        var first = await RaceAsync();
        await first.Connection!.DisposeAsync();

        var second = await RaceAsync();
        Assert.Equal("rmnet0", second.Report.Winner!.Interface);
        Assert.Equal(TimeSpan.FromMilliseconds(65), second.Report.TimeToConnect);
        Assert.DoesNotContain(second.Report.Attempts, a => a.Interface == "wlan0");
    }

    /// <summary>RFC 8305 §4: history "SHOULD be flushed whenever a device changes the network to which it is attached".</summary>
    [Fact]
    public async Task A_changed_interface_loses_its_history_and_is_examined_again()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();
        await (await RaceAsync()).Connection!.DisposeAsync();

        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "ok", IPv4 = "ok" };
        _driver.Await(_engine.UpdateInterfaceAsync(Wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:9::10"), 64)] }));
        await DriveAsync(() => _engine.CurrentStates["wlan0"].State == ValidationState.Validated);

        var after = await RaceAsync();
        Assert.True(after.Report.Winner!.Interface == "wlan0", string.Join("\n", after.Report.Events.Select(e => $"{e.At.TotalMilliseconds} {e.Kind} {e.Interface} {e.Detail}")));
        Assert.Contains(_states, s => s.Interface == "wlan0" && s.State == ValidationState.Validating && s.Detail.Contains("changed", StringComparison.Ordinal));
    }

    /// <summary>
    /// The draft's aim ("never strand the user"): when the preferred interface goes down mid-race its attempts are
    /// cancelled and the others start at once, not after the fallback delay.
    /// </summary>
    [Fact]
    public async Task An_interface_that_goes_down_mid_race_is_dropped_and_the_others_start_at_once()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();
        var (completion, _) = _engine.Start(Request);
        await DriveAsync(() => _network.Log.Count >= 1); // Wi-Fi's first attempt is hanging
        _driver.Await(_engine.UpdateInterfaceAsync(Wifi with { IsUp = false }));
        await DriveAsync(() => completion.IsCompleted);
        var race = (await completion).Report;

        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.True(race.TimeToConnect < TimeSpan.FromMilliseconds(200), $"took {race.TimeToConnect}: it waited for the fallback delay");
        Assert.All(race.Attempts.Where(a => a.Interface == "wlan0"), a => Assert.Contains("interface lost", a.Error, StringComparison.Ordinal));
        Assert.Contains(race.Events, e => e.Kind == "note" && e.Detail.Contains("wlan0 was lost", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_crashing_probe_is_restarted_with_backoff_and_the_interface_validates_once_it_works()
    {
        _network.Paths["wlan0"].ProbeThrows = true;
        await StartEngineAsync();
        _driver.Idle();
        Assert.Equal(ValidationState.Validating, _engine.CurrentStates["wlan0"].State);
        var callsBefore = _network.ProbeCalls;

        _network.Paths["wlan0"].ProbeThrows = false;
        await DriveAsync(() => _engine.CurrentStates["wlan0"].State == ValidationState.Validated);
        Assert.True(_network.ProbeCalls > callsBefore);
        Assert.True(_clock.Elapsed >= TimeSpan.FromSeconds(1), "the restart waited its backoff (1 s minimum)");
    }

    [Fact]
    public async Task A_policy_update_applies_to_the_next_request()
    {
        await StartAsync();
        _driver.Await(_engine.UpdatePolicyAsync(new HeMifPolicy
        {
            UserRules = [new PolicyRule("no-wifi", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Kinds = [InterfaceKind.Wifi] } }],
        }));
        var result = await RaceAsync();
        Assert.Equal("rmnet0", result.Report.Winner!.Interface);
        Assert.Contains(result.Report.Excluded, e => e.Interface == "wlan0" && e.Reasons.Any(r => r.Rule.Name == "no-wifi"));
    }

    [Fact]
    public async Task Caller_cancellation_ends_the_race_with_OperationCanceledException_and_nothing_left_open()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        _network.Paths["rmnet0"] = _network.Paths["rmnet0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();
        using var cts = new CancellationTokenSource();
        var connect = _engine.ConnectAsync(Request, cts.Token);
        await DriveAsync(() => _network.Log.Count >= 1);
        await cts.CancelAsync();

        _driver.Idle(); // the race ends at this virtual instant; ConnectAsync then resumes on the thread pool
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(TimeSpan.FromSeconds(30)));
        _driver.Idle();
        Assert.Equal(0, _network.OpenConnections);
        Assert.Equal(PeriodicTimers, _clock.ArmedTimerCount);
    }

    [Fact]
    public async Task Disposing_the_engine_completes_its_streams()
    {
        await StartAsync();
        var completed = 0;
        using var a = _engine.InterfaceStates.Subscribe(_ => { }, () => Interlocked.Increment(ref completed));
        using var b = _engine.RaceEvents.Subscribe(_ => { }, () => Interlocked.Increment(ref completed));
        await _engine.DisposeAsync();
        Assert.Equal(2, completed);
        Assert.Throws<ObjectDisposedException>(() => _engine.Start(Request));
    }

    /// <summary>
    /// A periodic re-examination does not withdraw a verdict: while its probe is in flight the interface stays
    /// Validated and new requests still use it; only the probe's answer can change that.
    /// </summary>
    [Fact]
    public async Task A_periodic_re_examination_keeps_a_validated_interface_in_use_until_its_probe_answers()
    {
        await StartAsync();
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { ProbeDelay = TimeSpan.FromSeconds(10), Probe = ValidationState.NoConnectivity };
        var calls = _network.ProbeCalls;
        _driver.Advance(TimeSpan.FromMinutes(5)); // the period: both interfaces are probed again
        Assert.True(_network.ProbeCalls >= calls + 2, "the periodic re-examination did not start");
        Assert.Equal(ValidationState.Validated, _engine.CurrentStates["wlan0"].State);
        lock (_states)
        {
            Assert.DoesNotContain(_states, s => s.Interface == "wlan0" && s.Detail.Contains("periodic", StringComparison.Ordinal));
        }

        var during = await RaceAsync();
        Assert.Equal("wlan0", during.Report.Winner!.Interface);
        await during.Connection!.DisposeAsync();

        await DriveAsync(() => _engine.CurrentStates["wlan0"].State == ValidationState.NoConnectivity);
        var after = await RaceAsync();
        Assert.Equal("rmnet0", after.Report.Winner!.Interface);
    }

    /// <summary>
    /// Issue 6: subflow suggestions "are published as an IObservable and re-issued when interface state changes (Wi-Fi
    /// lost: move to cellular; Wi-Fi back: return)"; a re-examination that changes nothing issues nothing.
    /// </summary>
    [Fact]
    public async Task Subflow_suggestions_move_to_cellular_when_Wi_Fi_is_lost_and_return_when_it_is_back()
    {
        await StartAsync();
        var seen = new List<SubflowPlan>();
        var global = new List<SubflowPlan>();
        var completed = false;
        using var all = _engine.SubflowSuggestions.Subscribe(p => { lock (global) { global.Add(p); } });
        using var watch = _engine.WatchSubflows(Request, MultipathMode.Handover)
            .Subscribe(p => { lock (seen) { seen.Add(p); } }, () => completed = true);
        int Count() { lock (seen) { return seen.Count; } }

        await DriveAsync(() => Count() == 1);
        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)], seen[0].Subflows.Select(s => (s.Interface, s.Role)));
        Assert.Equal("first plan", seen[0].Trigger);

        _driver.Await(_engine.UpdateInterfaceAsync(Wifi with { IsUp = false }));
        await DriveAsync(() => Count() == 2);
        Assert.Equal([("rmnet0", SubflowRole.Primary)], seen[1].Subflows.Select(s => (s.Interface, s.Role)));
        Assert.Contains("wlan0 is Down", seen[1].Trigger, StringComparison.Ordinal);
        Assert.Contains(seen[1].Excluded, e => e.Interface == "wlan0" && e.Reason.Contains("down", StringComparison.OrdinalIgnoreCase));

        _driver.Await(_engine.UpdateInterfaceAsync(Wifi));
        await DriveAsync(() => Count() == 3);
        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)], seen[2].Subflows.Select(s => (s.Interface, s.Role)));

        // A periodic re-examination (Validating, then Validated again) changes no role: nothing new is issued.
        var validations = _network.ProbeCalls;
        Assert.True(_driver.RunUntil(() => _network.ProbeCalls >= validations + 2 && _engine.AllExamined, TimeSpan.FromMinutes(6)));
        _driver.Idle();
        Assert.Equal(3, Count());
        lock (global)
        {
            Assert.Equal(seen, global);
        }

        await _engine.DisposeAsync();
        Assert.True(completed);
    }

    [Fact]
    public async Task A_subflow_plan_uses_the_same_policy_as_a_race()
    {
        await StartAsync();
        _driver.Await(_engine.UpdatePolicyAsync(new HeMifPolicy
        {
            UserRules = [new PolicyRule("no-cellular", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Names = ["rmnet0"] } }],
        }));

        var plan = _driver.Await(_engine.PlanSubflowsAsync(Request, MultipathMode.Aggregate, "test"));

        Assert.Equal(["wlan0"], plan.Subflows.Select(s => s.Interface));
        Assert.Contains("no-cellular", Assert.Single(plan.Excluded).Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// An interface that comes up after start (the modem of §3.1's 3GPP path) is examined first and raced once
    /// validated (draft §5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'"); subflow watches
    /// already running take it in too.
    /// </summary>
    [Fact]
    public async Task An_interface_added_after_start_is_examined_then_raced_and_planned_for()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "reject", IPv4 = "reject" };
        await StartEngineAsync([Wifi]);
        await DriveAsync(() => _engine.AllExamined);
        var seen = new List<SubflowPlan>();
        using var watch = _engine.WatchSubflows(Request, MultipathMode.Aggregate).Subscribe(p => { lock (seen) { seen.Add(p); } });
        int Count() { lock (seen) { return seen.Count; } }
        await DriveAsync(() => Count() == 1);

        var before = await RaceAsync();
        Assert.Equal(RaceOutcome.Failed, before.Report.Outcome);
        Assert.Equal(["wlan0"], before.Report.Attempts.Select(a => a.Interface).Distinct());

        var adding = _engine.AddInterfaceAsync(Cellular);
        _driver.Until(() => adding.IsCompleted);
        Assert.False(_engine.AllExamined, "the new interface is examined first");
        await DriveAsync(() => _engine.AllExamined && Count() >= 2);
        Assert.Equal(ValidationState.Validated, _engine.CurrentStates["rmnet0"].State);
        Assert.Equal(["rmnet0", "wlan0"], seen[^1].Subflows.Select(s => s.Interface).Order(StringComparer.Ordinal)); // aggregate: all allowed

        var after = await RaceAsync();
        Assert.Equal("rmnet0", after.Report.Winner!.Interface);
        await after.Connection!.DisposeAsync();

        var duplicate = Assert.Throws<ArgumentException>(() => _driver.Await(_engine.AddInterfaceAsync(Cellular)));
        Assert.Contains("'rmnet0' is already known", duplicate.Message, StringComparison.Ordinal);
        await _engine.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _engine.AddInterfaceAsync(Cellular with { Name = "wwan1" }));
    }

    /// <summary>
    /// An interface that is gone from the host leaves the engine: said Down once (races and subflow watches drop it),
    /// gone from the current states, its supervisor stopped once it has answered whoever asked just before; the same
    /// name can come back later and starts afresh. Nothing piles up on a host that creates and deletes interfaces.
    /// </summary>
    [Fact]
    public async Task An_interface_removed_from_the_engine_is_dropped_everywhere_and_can_come_back()
    {
        await StartEngineAsync([Wifi]);
        await DriveAsync(() => _engine.AllExamined);
        var actorsWithWifiOnly = LiveChildren;
        _driver.Await(_engine.AddInterfaceAsync(Cellular));
        await DriveAsync(() => _engine.AllExamined);
        var seen = new List<SubflowPlan>();
        using var watch = _engine.WatchSubflows(Request, MultipathMode.Aggregate).Subscribe(p => { lock (seen) { seen.Add(p); } });
        int Count() { lock (seen) { return seen.Count; } }
        await DriveAsync(() => Count() == 1);
        Assert.Equal(["rmnet0", "wlan0"], seen[0].Subflows.Select(s => s.Interface).Order(StringComparer.Ordinal));

        _driver.Await(_engine.RemoveInterfaceAsync("rmnet0"));
        await DriveAsync(() => Count() == 2);
        Assert.Equal(["wlan0"], seen[1].Subflows.Select(s => s.Interface));
        lock (_states)
        {
            Assert.Contains(_states, s => s is { Interface: "rmnet0", State: ValidationState.Down } && s.Detail.Contains("gone", StringComparison.Ordinal));
        }

        Assert.False(_engine.CurrentStates.ContainsKey("rmnet0"));
        Assert.True(_engine.AllExamined);
        var race = await RaceAsync();
        Assert.DoesNotContain(race.Report.Attempts, a => a.Interface == "rmnet0");
        await race.Connection!.DisposeAsync();

        _driver.Advance(TimeSpan.FromSeconds(31)); // past the linger (the internal ask timeout)
        await DriveAsync(() => LiveChildren <= actorsWithWifiOnly + 1); // + the subflow watcher
        Assert.Throws<ArgumentException>(() => _driver.Await(_engine.RemoveInterfaceAsync("rmnet0")));

        _driver.Await(_engine.AddInterfaceAsync(Cellular)); // back, under the same name
        await DriveAsync(() => _engine.AllExamined);
        Assert.Equal(ValidationState.Validated, _engine.CurrentStates["rmnet0"].State);
    }

    /// <summary>
    /// No hang: a request the engine had not yet planned when it shut down ends with a failed race that says why,
    /// instead of waiting forever (the connector turns it into a HeMifConnectException).
    /// </summary>
    [Fact]
    public async Task A_request_still_being_planned_when_the_engine_shuts_down_fails_and_does_not_hang()
    {
        await StartEngineAsync(); // validation still in flight: the request waits for snapshots and a plan
        var (completion, _) = _engine.Start(Request);
        await _engine.DisposeAsync();

        var result = await completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RaceOutcome.Failed, result.Report.Outcome);
        Assert.Null(result.Connection);
        Assert.Equal(HeMifEngine.EngineStoppedReason, result.Report.Failure);
    }

    /// <summary>A request to an engine whose actors have already stopped fails at once, saying so.</summary>
    [Fact]
    public async Task A_request_after_the_engine_actor_stopped_fails_at_once_saying_so()
    {
        await StartAsync();
        _engine.System.Stop(_engine.Actor); // as when the application's actor system shuts HeMif down
        _driver.Idle();

        var (completion, _) = _engine.Start(Request);
        Assert.True(completion.IsCompleted, "the request waited for an engine that has stopped");
        Assert.Equal(HeMifEngine.EngineStoppedReason, (await completion).Report.Failure);
    }

    /// <summary>The periodic revalidation timers (one per interface) stay armed while the engine runs.</summary>
    private const int PeriodicTimers = 2;

    private async Task StartEngineAsync(IReadOnlyList<InterfaceFacts>? interfaces = null)
    {
        _engine = new HeMifEngine(_network.Options(_clock, interfaces));
        _driver = new EngineDriver(_engine, _clock);
        _engine.InterfaceStates.Subscribe(s => { lock (_states) { _states.Add(s); } });
        _engine.Failures.Subscribe(f => { lock (_actorFailures) { _actorFailures.Add($"{f.Actor}: {f.Exception} -> {f.Directive}"); } });
        await Task.CompletedTask;
    }

    private async Task StartAsync()
    {
        await StartEngineAsync();
        await DriveAsync(() => _engine.AllExamined);
    }

    private async Task<RaceResult> RaceAsync()
    {
        var (completion, _) = _engine.Start(Request);
        await DriveAsync(() => completion.IsCompleted);
        lock (_actorFailures)
        {
            Assert.True(_actorFailures.Count == 0 || _network.Paths.Values.Any(p => p.ProbeThrows), string.Join("\n", _actorFailures));
        }

        return await completion;
    }

    /// <summary>The engine actor's children now: the policy actor, the supervisors, requests and watchers.</summary>
    private int LiveChildren => ((Akka.Actor.ActorRefWithCell)_engine.Actor).Children.Count();

    private Task DriveAsync(Func<bool> done)
    {
        Assert.True(_driver.RunUntil(done), "virtual time ran out before the condition held");
        return Task.CompletedTask;
    }
}
