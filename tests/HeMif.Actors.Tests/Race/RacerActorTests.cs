using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.Engine;
using HeMif.Actors.Tests.TestKit;
using HeMif.Engine;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// One <see cref="RacerActor"/> on its own: it carries out its <see cref="RacePlanner"/>'s commands (resolutions,
/// attempts, the planner's timers) through a resolver and a transport that tell a probe each call and answer when the
/// test says so, reports through the <see cref="RaceJob"/>'s completion, closes every connection but the winner's,
/// tells each interface's supervisor (a probe) what it learned, and stops once decided with nothing outstanding.
/// The candidates carry IPv6 only, so each interface is one resolution and one attempt per address.
/// </summary>
public sealed class RacerActorTests : VirtualTimeTestKit
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private static readonly Destination Server = new("www.example.com", 443);
    private static readonly TimeSpan Resolve = TimeSpan.FromMilliseconds(5);
    private static readonly RaceSettings Settings = new();
    private static readonly RaceCandidate Wifi = new("wlan0", Rank: 1, IPv6: true, IPv4: false);
    private static readonly RaceCandidate Cellular = new("rmnet0", Rank: 2, IPv6: true, IPv4: false);

    private readonly TestProbe _calls;
    private readonly TestProbe _wifiSupervisor;
    private readonly TestProbe _cellularSupervisor;
    private readonly RaceNetwork _network;
    private readonly TaskCompletionSource<RaceResult> _completion = new();

    public RacerActorTests()
    {
        _calls = CreateTestProbe("network");
        _wifiSupervisor = CreateTestProbe("wlan0");
        _cellularSupervisor = CreateTestProbe("rmnet0");
        _network = new RaceNetwork(Clock, _calls.Ref) { ResolveDelay = Resolve };
    }

    /// <summary>What the racer put in the job's completion; fails the test when the race is not decided yet.</summary>
    private RaceResult Decided => Completed(_completion.Task);

    private RaceReport Report => Decided.Report;

    [Fact]
    public void The_preferred_interface_alone_resolves_and_connects_and_its_connection_goes_to_the_caller()
    {
        var racer = StartRacer(Wifi, Cellular);

        ExpectResolving("wlan0", at: TimeSpan.Zero);
        _calls.ExpectNoMsg(TimeSpan.Zero);
        Advance(Resolve);
        var attempt = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        Advance(TimeSpan.FromMilliseconds(15));
        Assert.False(_completion.Task.IsCompleted);

        var connection = attempt.Connect();
        Idle();

        var result = Decided;
        Assert.Equal(RaceOutcome.Connected, result.Report.Outcome);
        Assert.Equal("wlan0", result.Report.Winner!.Interface);
        Assert.Equal(TimeSpan.FromMilliseconds(20), result.Report.TimeToConnect);
        Assert.Same(connection, result.Connection);
        Assert.False(connection.Closed);
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, true, TimeSpan.FromMilliseconds(15)) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Won)] }, _wifiSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
        _cellularSupervisor.ExpectNoMsg(TimeSpan.Zero);
        _calls.ExpectNoMsg(TimeSpan.Zero); // cellular was never touched
        ExpectTerminated(racer);
    }

    /// <summary>
    /// Draft §5.2.3: "After making a connection attempt on the preferred pairs and failing to establish a connection
    /// within a certain time period (see Section 7.2), a HE-MIF implementation will decide to initiate connection attempt
    /// using rest of interfaces in parallel." No attempt on cellular within the 2 s fallback delay, counted from the
    /// connection attempt on Wi-Fi ("After making a connection attempt on the preferred pairs"); then at once.
    /// </summary>
    [Fact]
    public void No_attempt_on_cellular_within_the_fallback_delay_and_cellular_joins_the_moment_it_passes()
    {
        StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve); // and it never answers

        Advance(Settings.InterfaceFallbackDelay - TimeSpan.FromTicks(1));
        _calls.ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromTicks(1));
        ExpectResolving("rmnet0", at: Resolve + Settings.InterfaceFallbackDelay);
        Advance(Resolve);
        var cellular = ExpectAttempt("rmnet0", FakeNetwork.ServerV6, at: Settings.InterfaceFallbackDelay + Resolve + Resolve);
        Advance(TimeSpan.FromMilliseconds(60));
        cellular.Connect();
        Idle();

        Assert.Equal("rmnet0", Report.Winner!.Interface);
        Assert.Equal(TimeSpan.FromMilliseconds(2070), Report.TimeToConnect);
        Assert.Equal(Resolve + Settings.InterfaceFallbackDelay, Report.Fallback!.At);
        Assert.Equal(Resolve, Report.Timings.FallbackTimerStart);
        Assert.True(wifi.CancelRequested);
        Assert.Equal(["cancelled", "won"], Report.Attempts.Select(a => a.Result));
        // Wi-Fi had its whole fallback delay and did not connect, its attempt silent: a soft failure for its history
        // (draft §5.2.3), per address family (RFC 8305 §4).
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, false, null) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Silent)], Silent = true }, _wifiSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, true, TimeSpan.FromMilliseconds(60)) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Won)] }, _cellularSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
    }

    /// <summary>Draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process."</summary>
    [Fact]
    public void A_hard_error_on_the_preferred_interface_starts_the_others_at_once()
    {
        StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        Advance(TimeSpan.FromMilliseconds(15));

        wifi.Refuse();
        Idle();

        ExpectResolving("rmnet0", at: TimeSpan.FromMilliseconds(20));
        Advance(Resolve);
        ExpectAttempt("rmnet0", FakeNetwork.ServerV6, at: TimeSpan.FromMilliseconds(25)).Connect();
        Idle();
        Assert.Equal("rmnet0", Report.Winner!.Interface);
        Assert.Contains(Report.Events, e => e.Kind == "attempt-failed" && e.Detail.Contains("connection refused (hard error)", StringComparison.Ordinal));
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, false, null) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Failed)] }, _wifiSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
    }

    /// <summary>
    /// RFC 8305 §5: the next address is tried when the Connection Attempt Delay has passed ("250 milliseconds") — a
    /// timer of the planner's that the racer arms on HeMif's clock.
    /// </summary>
    [Fact]
    public void The_next_address_is_tried_when_the_connection_attempt_delay_passes()
    {
        var second = IPAddress.Parse("2001:db8:ff::2");
        _network.Answers["wlan0"] = [FakeNetwork.ServerV6, second];
        StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);

        Advance(Settings.ConnectionAttemptDelay - TimeSpan.FromTicks(1));
        _calls.ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromTicks(1));
        ExpectAttempt("wlan0", second, at: Resolve + Settings.ConnectionAttemptDelay);
    }

    /// <summary>
    /// The winner's connection goes to the caller; every other one is closed, also one that connects after the race was
    /// decided (a transport that finished its handshake as the cancellation arrived). Until that late result is in, the
    /// racer stays to own it; then it stops.
    /// </summary>
    [Fact]
    public void A_loser_that_connects_after_the_race_was_decided_is_closed_and_only_then_the_racer_stops()
    {
        _network.HonoursCancellation = false;
        var racer = StartRacer(Wifi, Cellular with { Rank = 1 }); // equal ranks: both start together (draft §5.2.3)
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        ExpectResolving("rmnet0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        var cellular = ExpectAttempt("rmnet0", FakeNetwork.ServerV6, at: Resolve);
        Advance(TimeSpan.FromMilliseconds(15));

        var won = wifi.Connect();
        Idle();
        Assert.Equal("wlan0", Report.Winner!.Interface);
        Assert.True(cellular.CancelRequested);
        ExpectNoMsg(TimeSpan.Zero); // the racer still owns the attempt on cellular

        Advance(TimeSpan.FromMilliseconds(40));
        var late = cellular.Connect();
        Idle();

        Assert.True(late.Closed);
        Assert.False(won.Closed);
        Assert.Same(won, Decided.Connection);
        ExpectTerminated(racer);
        // Cellular started with Wi-Fi and was cancelled by Wi-Fi's win 15 ms later: that proves nothing about cellular.
        _wifiSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>();
        _cellularSupervisor.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void Cancelling_or_losing_an_interface_after_the_race_was_decided_changes_nothing()
    {
        _network.HonoursCancellation = false;
        var racer = StartRacer(Wifi, Cellular with { Rank = 1 });
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        ExpectResolving("rmnet0", at: TimeSpan.Zero);
        Advance(Resolve);
        ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        ExpectAttempt("rmnet0", FakeNetwork.ServerV6, at: Resolve);
        var won = _network.Attempts[0].Connect();
        Idle();
        var decided = Decided;

        racer.Tell(new RaceMessages.CancelRace("the caller cancelled"));
        racer.Tell(new RaceMessages.InterfaceLost("wlan0", "Down: link down"));
        Idle();

        Assert.Same(decided, Decided);
        Assert.False(won.Closed);
        Assert.DoesNotContain(Report.Events, e => e.Kind == "note" && e.Detail.Contains("lost", StringComparison.Ordinal));
    }

    /// <summary>
    /// An interface that stops being usable mid-race (link down, captive portal found) is dropped at once: its attempts
    /// are cancelled and, if it was the preferred one, the others start without waiting for the fallback delay.
    /// </summary>
    [Fact]
    public void A_lost_interface_has_its_attempts_cancelled_and_the_others_start_at_once()
    {
        var racer = StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        Advance(TimeSpan.FromMilliseconds(495));

        racer.Tell(new RaceMessages.InterfaceLost("wlan0", "Down: link down"));
        Idle();

        Assert.True(wifi.CancelRequested);
        ExpectResolving("rmnet0", at: TimeSpan.FromMilliseconds(500));
        Advance(Resolve);
        ExpectAttempt("rmnet0", FakeNetwork.ServerV6, at: TimeSpan.FromMilliseconds(505)).Connect();
        Idle();
        Assert.Equal("rmnet0", Report.Winner!.Interface);
        Assert.Equal("interface lost: Down: link down", Report.Attempts[0].Error);
        Assert.Contains(Report.Events, e => e.Kind == "note" && e.Detail == "wlan0 was lost: the other interfaces start now");
    }

    [Fact]
    public void A_cancelled_race_fails_saying_so_cancels_its_attempts_records_no_outcome_and_stops()
    {
        var racer = StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);

        racer.Tell(new RaceMessages.CancelRace("the caller cancelled"));
        Idle();

        Assert.Equal(RaceOutcome.Failed, Report.Outcome);
        Assert.Equal("cancelled: the caller cancelled", Report.Failure);
        Assert.True(wifi.CancelRequested);
        _wifiSupervisor.ExpectNoMsg(TimeSpan.Zero);
        _cellularSupervisor.ExpectNoMsg(TimeSpan.Zero);
        ExpectTerminated(racer);
    }

    [Fact]
    public void A_race_that_nobody_answers_fails_at_the_race_timeout_with_its_attempts_cancelled()
    {
        var racer = StartRacer(Wifi, Cellular);

        Advance(Settings.RaceTimeout - TimeSpan.FromTicks(1));
        Assert.False(_completion.Task.IsCompleted);
        Advance(TimeSpan.FromTicks(1));

        Assert.Equal($"no connection within the race timeout of {Settings.RaceTimeout.TotalMilliseconds} ms", Report.Failure);
        Assert.All(_network.Attempts, a => Assert.True(a.CancelRequested));
        Assert.Equal(["cancelled", "cancelled"], Report.Attempts.Select(a => a.Result));
        // Both had longer than the fallback delay and did not connect.
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, false, null) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Silent)], Silent = true }, _wifiSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
        Assert.Equal(new ValidateMessages.RecordOutcome(Server, false, null) { Attempts = [new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Silent)], Silent = true }, _cellularSupervisor.ExpectMsg<ValidateMessages.RecordOutcome>());
        ExpectTerminated(racer);
    }

    /// <summary>Draft §5.2.1: interfaces that are not validated "should not join the sort process"; with none left, the race fails at once, naming them.</summary>
    [Fact]
    public void A_race_without_candidates_fails_at_once_naming_the_excluded_interfaces_and_stops()
    {
        var excluded = new ExcludedInterface("wlan0", [new ExclusionReason(new RuleReference("builtin:validation", RuleSource.BuiltIn, PreferenceLevel.Prohibit), "not validated: CaptivePortal")]);
        var racer = StartRacer(Job([], [excluded]));

        Assert.Equal(RaceOutcome.Failed, Report.Outcome);
        Assert.StartsWith("no interface is a candidate for this request", Report.Failure, StringComparison.Ordinal);
        Assert.EndsWith("; not used: wlan0 [built-in check 'builtin:validation' (Prohibit): not validated: CaptivePortal]", Report.Failure, StringComparison.Ordinal);
        _calls.ExpectNoMsg(TimeSpan.Zero);
        ExpectTerminated(racer);
    }

    /// <summary>A racer stopped before its race is decided (the engine is shutting down) answers so, never leaving its caller waiting, and cancels what it started.</summary>
    [Fact]
    public void A_racer_stopped_mid_race_answers_that_the_engine_stopped_and_cancels_its_attempts()
    {
        var racer = StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);

        Sys.Stop(racer);
        Idle();

        Assert.Equal(HeMifEngine.EngineStoppedReason, Report.Failure);
        Assert.True(wifi.CancelRequested);
        ExpectTerminated(racer);
    }

    /// <summary>
    /// A racer stopped from outside (the engine shutting down, or its request actor after a bug) cannot wait for the
    /// attempts it cancelled; a handshake that completes anyway after it stopped must still be closed, not leaked.
    /// </summary>
    [Fact]
    public void A_connection_that_completes_after_the_racer_was_stopped_is_closed()
    {
        _network.HonoursCancellation = false;
        var racer = StartRacer(Wifi, Cellular);
        ExpectResolving("wlan0", at: TimeSpan.Zero);
        Advance(Resolve);
        var wifi = ExpectAttempt("wlan0", FakeNetwork.ServerV6, at: Resolve);
        Sys.Stop(racer);
        Idle();
        ExpectTerminated(racer);

        var orphan = wifi.Connect();
        Idle();

        Assert.True(orphan.Closed);
        Assert.Equal(HeMifEngine.EngineStoppedReason, Report.Failure);
    }

    private IActorRef StartRacer(params RaceCandidate[] candidates) => StartRacer(Job(candidates, []));

    private IActorRef StartRacer(RaceJob job)
    {
        var racer = Start(Props.Create(() => new RacerActor(job)), "racer");
        Watch(racer);
        return racer;
    }

    private RaceJob Job(IReadOnlyList<RaceCandidate> candidates, IReadOnlyList<ExcludedInterface> excluded)
    {
        var plan = new ConnectionPlan([.. candidates.Select(c => new PlanCandidate(c.Interface, c.Rank, 0, []))], excluded, []);
        var facts = new Dictionary<string, InterfaceFacts> { ["wlan0"] = FakeNetwork.Wifi, ["rmnet0"] = FakeNetwork.Cellular };
        var supervisors = new Dictionary<string, IActorRef> { ["wlan0"] = _wifiSupervisor.Ref, ["rmnet0"] = _cellularSupervisor.Ref };
        return new RaceJob(Request, plan, candidates, facts, supervisors, excluded, Settings, AddressOrdering.PreferIPv6,
            _network.Resolver, new TransportRegistry([_network], [TransportName.Tcp]), Publish: _ => { }, _completion, Clock);
    }

    private void ExpectResolving(string iface, TimeSpan at) =>
        Assert.Equal(new RaceNetwork.Resolving(iface, AddressFamily.InterNetworkV6, at), _calls.ExpectMsg<RaceNetwork.Resolving>());

    private RaceNetwork.PendingAttempt ExpectAttempt(string iface, IPAddress address, TimeSpan at)
    {
        var connecting = _calls.ExpectMsg<RaceNetwork.Connecting>();
        Assert.Equal(new RaceNetwork.Connecting(iface, new IPEndPoint(address, 443), at), connecting);
        return _network.Attempts.Single(a => a.Interface == iface && a.Remote.Equals(connecting.Remote) && a.At == at);
    }
}

/// <summary>
/// A resolver and a TCP transport for the racer's tests: each call is told to a probe (with the virtual time it was
/// made at); resolutions answer after <see cref="ResolveDelay"/> on the clock; attempts wait until the test connects,
/// refuses or lets them time out, and end cancelled when the racer cancels them (unless <see cref="HonoursCancellation"/>
/// is off: a handshake that completes as the cancellation arrives).
/// </summary>
internal sealed class RaceNetwork : AttemptTransport
{
    private readonly TimeProvider _clock;
    private readonly IActorRef _calls;
    private readonly long _start;

    public RaceNetwork(TimeProvider clock, IActorRef calls)
    {
        _clock = clock;
        _calls = calls;
        _start = clock.GetTimestamp();
        Resolver = new ResolverPort(this);
    }

    /// <summary>The network as the racer's resolver.</summary>
    public InterfaceResolver Resolver { get; }

    public TimeSpan ResolveDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The AAAA answer per interface (default: <see cref="FakeNetwork.ServerV6"/>).</summary>
    public Dictionary<string, IReadOnlyList<IPAddress>> Answers { get; } = [];

    public bool HonoursCancellation { get; set; } = true;

    public List<PendingAttempt> Attempts { get; } = [];

    public override TransportName Name => TransportName.Tcp;

    private TimeSpan Now => _clock.GetElapsedTime(_start);

    public Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
    {
        _calls.Tell(new Resolving(networkInterface.Name, family, Now));
        var answer = Answers.GetValueOrDefault(networkInterface.Name) ?? [FakeNetwork.ServerV6];
        return FakeTimers.After(_clock, ResolveDelay, () => new ResolveResult([.. answer.Where(a => a.AddressFamily == family)]), cancellationToken);
    }

    public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        var (networkInterface, remote) = (context.Interface, context.Remote);
        var attempt = new PendingAttempt(this, networkInterface.Name, remote, Now, cancellationToken);
        Attempts.Add(attempt);
        _calls.Tell(new Connecting(networkInterface.Name, remote, Now));
        return attempt.Task;
    }

    private sealed class ResolverPort(RaceNetwork network) : InterfaceResolver
    {
        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            network.ResolveAsync(networkInterface, host, family, cancellationToken);
    }

    public sealed record Resolving(string Interface, AddressFamily Family, TimeSpan At);

    public sealed record Connecting(string Interface, IPEndPoint Remote, TimeSpan At);

    /// <summary>
    /// One attempt in flight; the test decides how it ends. It ends without a <see cref="SynchronizationContext"/> (the
    /// test thread has xunit's), so that the racer's continuation runs on the test's thread as the driver would run it,
    /// not on the thread pool.
    /// </summary>
    public sealed class PendingAttempt
    {
        private readonly TaskCompletionSource<ConnectedPath> _result = new();

        public PendingAttempt(RaceNetwork network, string iface, IPEndPoint remote, TimeSpan at, CancellationToken cancellationToken)
        {
            Interface = iface;
            Remote = remote;
            At = at;
            cancellationToken.Register(() =>
            {
                CancelRequested = true;
                if (network.HonoursCancellation)
                {
                    _result.TrySetCanceled(cancellationToken);
                }
            });
        }

        public string Interface { get; }

        public IPEndPoint Remote { get; }

        public TimeSpan At { get; }

        public bool CancelRequested { get; private set; }

        public Task<ConnectedPath> Task => _result.Task;

        /// <summary>The handshake completes: the racer gets a connection (which the test can check for being closed).</summary>
        public FakeConnection Connect()
        {
            var connection = new FakeConnection(Remote);
            using (VirtualTimePump.WithoutContext())
            {
                _result.SetResult(connection);
            }

            return connection;
        }

        /// <summary>A TCP RST or ICMP unreachable: a hard error (draft §7.2).</summary>
        public void Refuse()
        {
            using (VirtualTimePump.WithoutContext())
            {
                _result.SetException(new AttemptFailedException(AttemptFailureKind.Hard, "connection refused"));
            }
        }
    }

    public sealed class FakeConnection(IPEndPoint remote) : ConnectedPath
    {
        public bool Closed { get; private set; }

        public override IPEndPoint? LocalEndPoint => null;

        public override IPEndPoint RemoteEndPoint => remote;

        public override Stream Stream => Stream.Null;

        public override ValueTask DisposeAsync()
        {
            Closed = true;
            return ValueTask.CompletedTask;
        }
    }
}
