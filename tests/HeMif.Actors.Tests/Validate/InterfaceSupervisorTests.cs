using System.Net;
using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.Engine;
using HeMif.Actors.Tests.TestKit;
using HeMif.Interfaces;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Validate;

/// <summary>
/// One <see cref="InterfaceSupervisor"/> on its own, its state changes reported to a probe given as <c>reportTo</c>
/// and its probe child's failures to another. Draft §5.2.1: "a PVD-aware node shall perform connectivity tests and,
/// only after validation of the PVD, consider using it to serve application connections requests … Unexamined PVDs or
/// interfaces should be accounted as 'unconnected'." Restart backoffs have no jitter here, so their times are exact.
/// </summary>
public sealed class InterfaceSupervisorTests : VirtualTimeTestKit
{
    private static readonly InterfaceFacts Wifi = FakeNetwork.Wifi;
    private static readonly Destination Server = new("www.example.com", 443);
    private static readonly TimeSpan ProbeRtt = TimeSpan.FromMilliseconds(20);

    /// <summary>The defaults, but a backoff without jitter (and a seeded random source all the same).</summary>
    private readonly ValidationSettings _settings = new()
    {
        Period = TimeSpan.FromMinutes(5),
        ProbeTimeout = TimeSpan.FromSeconds(10),
        ProbeRestartBackoff = new RestartBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), Factor: 2, Jitter: 0),
        ProbeRestartBudget = 5,
        ProbeRestartWindow = TimeSpan.FromMinutes(10),
        Random = new Random(7),
    };

    private readonly TestProbe _reportTo;
    private readonly TestProbe _failures;
    private readonly ScriptedProbe _probe;

    public InterfaceSupervisorTests()
    {
        _reportTo = CreateTestProbe("engine");
        _failures = CreateTestProbe("failures");
        _probe = new ScriptedProbe(Clock);
    }

    [Fact]
    public void A_new_interface_is_Validating_at_once_and_Validated_when_its_probe_passes()
    {
        var supervisor = StartSupervisor();

        ExpectState(ValidationState.Validating, "first examination", at: TimeSpan.Zero);
        Assert.Equal(ValidationState.Validating, Snapshot(supervisor).State); // §5.2.1: not usable before its verdict
        Advance(ProbeRtt - TimeSpan.FromTicks(1));
        _reportTo.ExpectNoMsg(TimeSpan.Zero);

        Advance(TimeSpan.FromTicks(1));
        ExpectState(ValidationState.Validated, "scripted: Validated", at: ProbeRtt);
        Assert.Equal([TimeSpan.Zero], _probe.Calls);
        _failures.ExpectNoMsg(TimeSpan.Zero);
    }

    /// <summary>
    /// §5.2.1: the status detection "is recommended to be used in HE-MIF to detect DNS interception or an HTTP proxy that
    /// forces a login or a click-through".
    /// </summary>
    [Theory]
    [InlineData(ValidationState.NoConnectivity)]
    [InlineData(ValidationState.CaptivePortal)]
    [InlineData(ValidationState.DnsIntercepted)]
    public void A_probe_that_finds_the_path_broken_is_reported_with_its_verdict(ValidationState verdict)
    {
        _probe.Then(ScriptedProbe.Answer(verdict, ProbeRtt));
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);

        Advance(ProbeRtt);
        // A captive portal's detail also says when it is looked at again (issue 14: "re-examined often").
        ExpectState(verdict, $"scripted: {verdict}" + (verdict == ValidationState.CaptivePortal ? "; examined again every 15 s" : ""), at: ProbeRtt);
        Assert.Equal(verdict, Snapshot(supervisor).State);
    }

    [Fact]
    public void A_link_that_goes_down_is_Down_at_once_and_the_answer_of_a_probe_started_before_is_ignored()
    {
        _probe.Then(ScriptedProbe.Answer(ValidationState.Validated, TimeSpan.FromSeconds(1)));
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        Advance(TimeSpan.FromMilliseconds(500));

        supervisor.Tell(new ValidateMessages.UpdateFacts(Wifi with { IsUp = false }));
        Idle();
        ExpectState(ValidationState.Down, "link down", at: TimeSpan.FromMilliseconds(500));

        Advance(TimeSpan.FromSeconds(1)); // the probe of the link that was up answers "Validated" now
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(ValidationState.Down, Snapshot(supervisor).State);
    }

    /// <summary>
    /// A re-examination does not withdraw a verdict: until the probe answers, the interface stays Validated, so a
    /// working Wi-Fi is not left for cellular for as long as every periodic probe takes.
    /// </summary>
    [Fact]
    public void A_periodic_re_examination_keeps_Validated_until_the_probe_answers_otherwise()
    {
        _probe.Then(ScriptedProbe.Answer(ValidationState.Validated, ProbeRtt), ScriptedProbe.Answer(ValidationState.NoConnectivity, TimeSpan.FromSeconds(1)));
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        Advance(ProbeRtt);
        ExpectState(ValidationState.Validated);

        Advance(_settings.Period - ProbeRtt);
        Assert.Equal([TimeSpan.Zero, _settings.Period], _probe.Calls);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromSeconds(1) - TimeSpan.FromTicks(1));
        Assert.Equal(ValidationState.Validated, Snapshot(supervisor).State);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);

        Advance(TimeSpan.FromTicks(1));
        ExpectState(ValidationState.NoConnectivity, "scripted: NoConnectivity", at: _settings.Period + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_periodic_re_examination_that_passes_again_reports_nothing()
    {
        StartSupervisor();
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);

        Advance(_settings.Period * 2);
        Assert.Equal([TimeSpan.Zero, _settings.Period, _settings.Period * 2], _probe.Calls);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
    }

    /// <summary>
    /// RFC 8305 §4: history "SHOULD be flushed whenever a device changes the network to which it is attached"; a new
    /// network is also unexamined (§5.2.1) until its probe passes.
    /// </summary>
    [Fact]
    public void New_addresses_flush_the_history_and_start_a_new_examination_of_the_new_facts()
    {
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, Succeeded: true, TimeSpan.FromMilliseconds(30)));
        Assert.Equal(TimeSpan.FromMilliseconds(30), Snapshot(supervisor).History?.SmoothedRtt);

        var moved = Wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:9::10"), 64)] };
        supervisor.Tell(new ValidateMessages.UpdateFacts(moved));
        Idle();

        ExpectState(ValidationState.Validating, "the interface changed (link, addresses, PvD or network)");
        var snapshot = Snapshot(supervisor);
        Assert.Null(snapshot.History);
        Assert.Equal(moved, snapshot.Facts);
        Assert.Equal(moved, _probe.Facts[^1]);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
    }

    /// <summary>
    /// Issue 14: "The per-interface DNS cache is flushed when the interface's network, addresses or PvD change" (draft
    /// §7.3: "A DNS answer may be only valid for a specific provisioning domain"): the resolver hears of it when the
    /// outcome cache is flushed, before the new examination resolves anything; and when the interface is gone. New facts
    /// that leave the network as it was (a cost flag) are no reason. A resolver that throws is reported, not a crash.
    /// </summary>
    [Fact]
    public void The_resolver_forgets_the_interfaces_answers_when_its_network_changes_or_it_is_gone()
    {
        var resolver = new ForgettingResolver { ProbeCount = () => _probe.Calls.Count };
        var supervisor = StartSupervisor(resolver: resolver);
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        Assert.Empty(resolver.Changed);

        supervisor.Tell(new ValidateMessages.UpdateFacts(Wifi with { Metered = true }));
        Idle();
        Assert.Empty(resolver.Changed);

        var moved = Wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:9::10"), 64)] };
        supervisor.Tell(new ValidateMessages.UpdateFacts(moved));
        Idle();
        Assert.Equal([moved], resolver.Changed);
        Assert.Equal(1, resolver.ProbesBeforeLastChange); // forgotten before the new examination's probe ran
        ExpectState(ValidationState.Validating, "the interface changed (link, addresses, PvD or network)");

        var pvd = moved with { PvdId = "pvd.example.net" };
        supervisor.Tell(new ValidateMessages.UpdateFacts(pvd));
        Idle();
        Assert.Equal(pvd, resolver.Changed[^1]);

        resolver.Throw = true;
        supervisor.Tell(new ValidateMessages.Retire(TimeSpan.FromSeconds(30)));
        Idle();
        Assert.Equal("wlan0", resolver.Changed[^1].Name);
        Assert.Empty(resolver.Changed[^1].Addresses);
        var failure = _failures.ExpectMsg<ActorFailure>();
        Assert.Contains("ForgettingResolver.OnInterfaceChanged(wlan0) threw InvalidOperationException", failure.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(Directive.Resume, failure.Directive);
    }

    /// <summary>A resolver that records what it is told to forget (and how many probes ran by then).</summary>
    private sealed class ForgettingResolver : InterfaceResolver
    {
        public List<InterfaceFacts> Changed { get; } = [];

        public bool Throw { get; set; }

        public Func<int>? ProbeCount { get; set; }

        public int ProbesBeforeLastChange { get; private set; }

        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, System.Net.Sockets.AddressFamily family, CancellationToken cancellationToken) =>
            Task.FromResult(new ResolveResult([]));

        public override void OnInterfaceChanged(InterfaceFacts networkInterface)
        {
            Changed.Add(networkInterface);
            ProbesBeforeLastChange = ProbeCount?.Invoke() ?? 0;
            if (Throw)
            {
                throw new InvalidOperationException("resolver bug");
            }
        }
    }

    [Fact]
    public void New_facts_that_leave_the_network_as_it_was_keep_the_verdict_and_the_history()
    {
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, Succeeded: true, TimeSpan.FromMilliseconds(30)));

        supervisor.Tell(new ValidateMessages.UpdateFacts(Wifi with { Metered = true }));
        Idle();

        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        var snapshot = Snapshot(supervisor);
        Assert.True(snapshot.Facts.Metered);
        Assert.Equal(ValidationState.Validated, snapshot.State);
        Assert.NotNull(snapshot.History);
        Assert.Single(_probe.Calls);
    }

    /// <summary>
    /// An interface gone from the host says Down once, takes no more examinations, and answers snapshots (as Down) for
    /// its linger, so that a request that asked just before the removal still gets its answer; then it stops.
    /// </summary>
    [Fact]
    public void A_retired_interface_says_Down_once_answers_snapshots_while_it_lingers_then_stops()
    {
        var linger = TimeSpan.FromSeconds(30);
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        Watch(supervisor);

        supervisor.Tell(new ValidateMessages.Retire(linger));
        supervisor.Tell(new ValidateMessages.Retire(linger));
        Idle();
        ExpectState(ValidationState.Down, "the interface is gone from the host", at: ProbeRtt);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);

        supervisor.Tell(ValidateMessages.Revalidate.Instance);
        supervisor.Tell(new ValidateMessages.UpdateFacts(Wifi));
        Advance(linger - TimeSpan.FromTicks(1));
        var snapshot = Snapshot(supervisor);
        Assert.Equal(ValidationState.Down, snapshot.State);
        Assert.False(snapshot.Facts.IsUp);
        Assert.Empty(snapshot.Facts.Addresses);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Assert.Single(_probe.Calls);
        ExpectNoMsg(TimeSpan.Zero); // still there

        Advance(TimeSpan.FromTicks(1));
        ExpectTerminated(supervisor);
    }

    /// <summary>
    /// A probe that throws (or whose task faults) instead of returning a verdict has a bug: Akka's supervision restarts
    /// it, and the examination in flight runs again after <see cref="ValidationSettings.ProbeRestartBackoff"/>:
    /// 1 s, 2 s, 4 s, 8 s (n restarts so far: 1 s · 2ⁿ). Every restart is reported with its directive.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_crashing_probe_is_restarted_and_run_again_after_1_2_4_and_8_s(bool faults)
    {
        var crash = faults ? ScriptedProbe.Fault() : ScriptedProbe.Throw();
        _probe.Then(crash, crash, crash, crash);
        StartSupervisor();
        ExpectState(ValidationState.Validating);

        Advance(TimeSpan.FromSeconds(15) + ProbeRtt);

        Assert.Equal([0, 1, 3, 7, 15], _probe.Calls.Select(c => c.TotalSeconds));
        ExpectState(ValidationState.Validated, at: TimeSpan.FromSeconds(15) + ProbeRtt); // nothing in between
        for (var i = 0; i < 4; i++)
        {
            var failure = _failures.ExpectMsg<ActorFailure>();
            Assert.Equal(Directive.Restart, failure.Directive);
            Assert.Equal("/user/wlan0/probe-1", failure.Actor);
            var crashed = Assert.IsType<ProbeCrashedException>(failure.Exception);
            Assert.Equal("scripted probe bug", crashed.InnerException!.Message);
        }

        _failures.ExpectNoMsg(TimeSpan.Zero);
    }

    /// <summary>
    /// Over its budget (<see cref="ValidationSettings.ProbeRestartBudget"/> restarts within
    /// <see cref="ValidationSettings.ProbeRestartWindow"/>, on HeMif's clock) the probe is stopped, and the interface is
    /// "unconnected" (§5.2.1) instead of Validating for ever.
    /// </summary>
    [Fact]
    public void A_probe_that_crashes_past_its_restart_budget_is_stopped_and_the_interface_has_no_connectivity()
    {
        _probe.Always(ScriptedProbe.Throw());
        StartSupervisor(_settings with { ProbeRestartBudget = 2 });
        ExpectState(ValidationState.Validating);

        Advance(TimeSpan.FromSeconds(3) - TimeSpan.FromTicks(1));
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromTicks(1));

        Assert.Equal([0, 1, 3], _probe.Calls.Select(c => c.TotalSeconds));
        var given = ExpectState(ValidationState.NoConnectivity, at: TimeSpan.FromSeconds(3));
        Assert.Contains("given up after its restart budget", given.Detail, StringComparison.Ordinal);
        Assert.Equal([Directive.Restart, Directive.Restart, Directive.Stop], [_failures.ExpectMsg<ActorFailure>().Directive, _failures.ExpectMsg<ActorFailure>().Directive, _failures.ExpectMsg<ActorFailure>().Directive]);
        Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, _probe.Calls.Count); // stopped: nothing runs it again until the next examination
    }

    [Fact]
    public void After_a_probe_was_given_up_the_next_periodic_examination_starts_a_fresh_one()
    {
        _probe.Then(ScriptedProbe.Throw(), ScriptedProbe.Throw(), ScriptedProbe.Throw());
        var supervisor = StartSupervisor(_settings with { ProbeRestartBudget = 2 });
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.NoConnectivity, after: TimeSpan.FromSeconds(3));

        Advance(_settings.Period - TimeSpan.FromSeconds(3));
        ExpectState(ValidationState.Validating, "periodic re-examination", at: _settings.Period);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        Assert.Equal(_settings.Period, _probe.Calls[^1]);
        Assert.Equal(ValidationState.Validated, Snapshot(supervisor).State);
    }

    /// <summary>The budget's window slides on HeMif's clock: restarts older than it no longer count, and the backoff starts again from its minimum.</summary>
    [Fact]
    public void Restarts_older_than_the_window_no_longer_count_against_the_budget_or_the_backoff()
    {
        _probe.Always(ScriptedProbe.Throw());
        StartSupervisor(_settings with { ProbeRestartBudget = 2, ProbeRestartWindow = TimeSpan.FromSeconds(2) });
        ExpectState(ValidationState.Validating);

        Advance(TimeSpan.FromSeconds(10));

        // Restarts at 0 s (wait 1 s) and 1 s (wait 2 s); at 3 s both are 2 s old or more, so it starts over.
        Assert.Equal([0, 1, 3, 4, 6, 7, 9, 10], _probe.Calls.Select(c => c.TotalSeconds));
        _reportTo.ExpectNoMsg(TimeSpan.Zero); // still Validating: never given up
    }

    /// <summary>A probe that does not answer within <see cref="ValidationSettings.ProbeTimeout"/> counts as no connectivity, and is cancelled.</summary>
    [Fact]
    public void A_probe_that_never_answers_times_out_at_the_probe_timeout_as_no_connectivity()
    {
        _probe.Then(ScriptedProbe.Silence());
        StartSupervisor();
        ExpectState(ValidationState.Validating);

        Advance(_settings.ProbeTimeout - TimeSpan.FromTicks(1));
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(0, _probe.Cancelled);

        Advance(TimeSpan.FromTicks(1));
        ExpectState(ValidationState.NoConnectivity, "the connectivity probe got no answer within 10000 ms", at: _settings.ProbeTimeout);
        Assert.Equal(1, _probe.Cancelled);
        _failures.ExpectNoMsg(TimeSpan.Zero);
    }

    /// <summary>
    /// §5.2.1: the status detection is "to detect DNS interception or an HTTP proxy that forces a login or a
    /// click-through". Behind a captive portal, the interface is examined again every 15 s (not after the 5-minute
    /// period), so a user who logs in gets Wi-Fi back within that time; it stays CaptivePortal (not Validating) meanwhile.
    /// </summary>
    [Fact]
    public void A_captive_portal_is_examined_again_often_and_a_user_who_logs_in_gets_the_interface_back()
    {
        var portal = TimeSpan.FromSeconds(15);
        _probe.Then(ScriptedProbe.Answer(ValidationState.CaptivePortal, ProbeRtt), ScriptedProbe.Answer(ValidationState.CaptivePortal, ProbeRtt));
        var supervisor = StartSupervisor(_settings with { CaptivePortalPeriod = portal });
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.CaptivePortal, after: ProbeRtt);

        Advance(portal); // the second examination: still the portal, nothing to report
        Assert.Equal([TimeSpan.Zero, ProbeRtt + portal], _probe.Calls);
        _reportTo.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(ValidationState.CaptivePortal, Snapshot(supervisor).State);

        // The user logs in: the next examination (the script's default) passes.
        Advance(portal + ProbeRtt);
        ExpectState(ValidationState.Validated, "scripted: Validated", at: ProbeRtt + portal + portal + ProbeRtt);
        Advance(portal * 4); // validated: back to the 5-minute period
        Assert.Equal(3, _probe.Calls.Count);
    }

    /// <summary>
    /// §3.1: "a node might assume that because a valid IP address has been allocated, the WiFi link provides connectivity
    /// ... However, this might not be the case". A validated interface whose attempts stayed silent in a race is examined
    /// again at once, at most once per 10 s; a hard error (an answer) is no reason to.
    /// </summary>
    [Fact]
    public void Silence_in_a_race_examines_a_validated_interface_again_at_once_at_most_once_per_interval()
    {
        var supervisor = StartSupervisor();
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        Advance(TimeSpan.FromSeconds(1));

        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, false, null) { Silent = true });
        Idle();
        Assert.Equal(2, _probe.Calls.Count);
        Advance(ProbeRtt);
        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, false, null) { Silent = true }); // within 10 s: not again
        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, false, null)); // a hard failure: not a reason
        Idle();
        Assert.Equal(2, _probe.Calls.Count);
        _reportTo.ExpectNoMsg(TimeSpan.Zero); // it passed again: Validated all along

        Advance(TimeSpan.FromSeconds(10));
        supervisor.Tell(new ValidateMessages.RecordOutcome(Server, false, null) { Silent = true });
        Idle();
        Assert.Equal(3, _probe.Calls.Count);
    }

    /// <summary>
    /// "Cache entries would be flushed periodically" (§5.2.3): 100,000 destinations recorded over an hour of virtual time,
    /// none ever looked up again, leave the interface's outcome cache bounded (at most what ten minutes wrote, and never
    /// above its capacity).
    /// </summary>
    [Fact]
    public void The_outcome_cache_stays_bounded_through_100000_destinations()
    {
        var supervisor = StartSupervisor(_settings with { OutcomeCapacity = 4096 });
        ExpectState(ValidationState.Validating);
        ExpectState(ValidationState.Validated, after: ProbeRtt);
        var asker = CreateTestProbe();
        var most = 0;
        for (var i = 0; i < 100_000; i++)
        {
            supervisor.Tell(new ValidateMessages.RecordOutcome(new Destination($"host{i}.example", 443), true, TimeSpan.FromMilliseconds(30)));
            if (i % 1000 == 999)
            {
                Advance(TimeSpan.FromSeconds(36)); // 100 rounds of 36 s: an hour
                asker.Send(supervisor, ValidateMessages.GetCacheSize.Instance);
                Idle();
                most = Math.Max(most, asker.ExpectMsg<int>());
            }
        }

        Assert.InRange(most, 1000, 4096);
    }

    private IActorRef StartSupervisor(ValidationSettings? settings = null, InterfaceResolver? resolver = null)
    {
        var failures = _failures.Ref;
        Action<ActorFailure> report = failure => failures.Tell(failure);
        var props = Props.Create(() => new InterfaceSupervisor(Wifi, _probe, settings ?? _settings, Clock, _reportTo.Ref, report, null, resolver));
        return Start(props, "wlan0");
    }

    private ValidateMessages.InterfaceSnapshot Snapshot(IActorRef supervisor)
    {
        var asker = CreateTestProbe();
        asker.Send(supervisor, new ValidateMessages.GetSnapshot(Server));
        Idle();
        return asker.ExpectMsg<ValidateMessages.InterfaceSnapshot>();
    }

    /// <summary>Moves the clock by <paramref name="after"/>, then expects the next state change.</summary>
    private InterfaceStateChanged ExpectState(ValidationState state, TimeSpan after)
    {
        Advance(after);
        return ExpectState(state, at: Elapsed);
    }

    /// <summary>The next state change reported to the engine; <paramref name="at"/>: the virtual time it carries.</summary>
    private InterfaceStateChanged ExpectState(ValidationState state, string? detail = null, TimeSpan? at = null)
    {
        var change = _reportTo.ExpectMsg<InterfaceStateChanged>();
        Assert.Equal("wlan0", change.Interface);
        Assert.Equal(state, change.State);
        if (detail is not null)
        {
            Assert.Equal(detail, change.Detail);
        }

        if (at is { } t)
        {
            Assert.Equal(HeMif.Simulation.VirtualClock.DefaultStart + t, change.At);
        }

        return change;
    }
}

/// <summary>
/// A connectivity probe the test scripts call by call (answer after a delay on the virtual clock, throw, fault, never
/// answer); after the script, <see cref="Always"/>'s step, by default "Validated after 20 ms". Records the virtual time
/// and the facts of each call, and how many calls were cancelled.
/// </summary>
internal sealed class ScriptedProbe(TimeProvider clock) : ConnectivityProbe
{
    private readonly Queue<Step> _script = new();
    private readonly long _start = clock.GetTimestamp();
    private Step _always = Answer(ValidationState.Validated, TimeSpan.FromMilliseconds(20));

    /// <summary>One call's behaviour.</summary>
    public delegate Task<ValidationResult> Step(TimeProvider clock, CancellationToken cancellationToken, Action cancelled);

    public List<TimeSpan> Calls { get; } = [];

    public List<InterfaceFacts> Facts { get; } = [];

    public int Cancelled { get; private set; }

    public static Step Answer(ValidationState state, TimeSpan after) =>
        (clock, token, _) => FakeTimers.After(clock, after, () => new ValidationResult(state, $"scripted: {state}"), token);

    public static Step Throw() => (_, _, _) => throw new InvalidOperationException("scripted probe bug");

    public static Step Fault() => (_, _, _) => Task.FromException<ValidationResult>(new InvalidOperationException("scripted probe bug"));

    public static Step Silence() => (_, token, cancelled) =>
    {
        var never = new TaskCompletionSource<ValidationResult>();
        token.Register(() =>
        {
            cancelled();
            never.TrySetCanceled(token);
        });
        return never.Task;
    };

    /// <summary>The next calls, in order.</summary>
    public void Then(params Step[] steps)
    {
        foreach (var step in steps)
        {
            _script.Enqueue(step);
        }
    }

    /// <summary>Every call after the script.</summary>
    public void Always(Step step) => _always = step;

    public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        Calls.Add(clock.GetElapsedTime(_start));
        Facts.Add(networkInterface);
        var step = _script.Count > 0 ? _script.Dequeue() : _always;
        return step(clock, cancellationToken, () => Cancelled++);
    }
}
