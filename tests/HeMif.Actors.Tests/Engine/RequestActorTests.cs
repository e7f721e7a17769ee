using Akka.Actor;
using Akka.TestKit;
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

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// One <see cref="RequestActor"/> on its own, as a child of a probe standing for the engine actor: its interfaces'
/// supervisors are probes that answer snapshots in the states the test sets, the policy is the real
/// <see cref="PolicyActor"/>, and its racer child runs on the scripted <see cref="FakeNetwork"/>. What the request adds
/// to the racer: only validated interfaces join the race, the caller is always answered (a guard on HeMif's clock, a
/// cancellation before the race, a refused plan, a racer that throws, a stop from outside), and its report goes back
/// to the engine as it ends.
/// </summary>
public sealed class RequestActorTests : VirtualTimeTestKit
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);

    private readonly Dictionary<string, ValidationState> _states = new(StringComparer.Ordinal) { ["wlan0"] = ValidationState.Validated, ["rmnet0"] = ValidationState.Validated };
    private readonly FakeNetwork _network;
    private readonly TestProbe _engine;
    private readonly TestProbe _failures;
    private readonly TaskCompletionSource<RaceResult> _completion = new();
    private readonly Dictionary<string, IActorRef> _supervisors = new(StringComparer.Ordinal);
    private IActorRef _policy;
    private Action<RaceEvent> _publish = _ => { };

    public RequestActorTests()
    {
        _network = FakeNetwork.WifiAndCellular(Clock);
        _engine = CreateTestProbe("engine");
        _failures = CreateTestProbe("failures");
        _supervisors["wlan0"] = Supervisor(FakeNetwork.Wifi).Ref;
        _supervisors["rmnet0"] = Supervisor(FakeNetwork.Cellular).Ref;
        _policy = Start(Props.Create(() => new PolicyActor(HeMifPolicy.Empty)), "policy");
    }

    private RaceReport Report => Completed(_completion.Task).Report;

    /// <summary>
    /// Draft §5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'. It should not join the sort
    /// process." Wi-Fi, still Validating, is excluded with that reason, and nothing is resolved or tried on it.
    /// </summary>
    [Fact]
    public void An_interface_not_validated_yet_does_not_join_the_race_and_is_reported_as_excluded()
    {
        _states["wlan0"] = ValidationState.Validating;
        var request = StartRequest();

        Advance(TimeSpan.FromMilliseconds(65));

        Assert.Equal("rmnet0", Report.Winner!.Interface);
        var excluded = Assert.Single(Report.Excluded);
        Assert.Equal("wlan0", excluded.Interface);
        Assert.StartsWith("not validated: Validating", Assert.Single(excluded.Reasons).Fact, StringComparison.Ordinal);
        Assert.DoesNotContain(_network.Log, l => l.Contains("wlan0", StringComparison.Ordinal));
        var decided = _engine.ExpectMsg<EngineMessages.RequestEnded>(); // from the racer, before the caller has the result
        Assert.Equal((1L, Report), (decided.Id, decided.Report)); // kept for GetLastRaceReport
        ExpectTerminated(request);
        Assert.Equal(new EngineMessages.RequestEnded(1, null), _engine.ExpectMsg<EngineMessages.RequestEnded>()); // the request says it ended (not death-watched)
    }

    /// <summary>
    /// HEv3 coalescing of cold starts: with nothing known about the destination on any interface, the request asks the
    /// engine first; told to wait, it plans nothing until the running race's verdict comes, then looks at the interfaces
    /// again (their outcome caches now hold what that race learned) and races, saying so in its timeline.
    /// </summary>
    [Fact]
    public void A_cold_request_asks_the_engine_and_waits_for_the_running_races_verdict()
    {
        var request = StartRequest(_network.Options(Clock) with { VirtualTime = false });
        var cold = _engine.ExpectMsg<EngineMessages.ColdStart>();
        Assert.Equal((1L, new Destination("www.example.com", 443)), (cold.Id, cold.Destination));

        _engine.Reply(EngineMessages.ColdStartWait.Instance);
        Idle();
        Advance(TimeSpan.FromMilliseconds(500));
        Assert.Empty(_network.Log); // nothing resolved or tried while waiting

        request.Tell(EngineMessages.ColdStartVerdict.Instance, _engine.Ref);
        Advance(TimeSpan.FromMilliseconds(25));
        Assert.Equal("wlan0", Report.Winner!.Interface);
        Assert.Contains(Report.Events, e => e.Detail.Contains("starts from its verdict (HEv3 coalescing of cold starts)", StringComparison.Ordinal));
        Assert.Equal(1L, _engine.ExpectMsg<EngineMessages.RequestEnded>().Id);
    }

    /// <summary>Our own actors answer at once; if one never does (a wiring bug), the caller gets an error at the internal ask timeout, on HeMif's clock, instead of a hang.</summary>
    [Fact]
    public void A_request_whose_supervisor_never_answers_fails_at_the_internal_ask_timeout()
    {
        var options = Options();
        _supervisors["rmnet0"] = CreateTestProbe("silent").Ref;
        var request = StartRequest(options);

        Advance(options.InternalAskTimeout - TimeSpan.FromTicks(1));
        Assert.False(_completion.Task.IsCompleted);
        Advance(TimeSpan.FromTicks(1));

        var timeout = Assert.IsType<TimeoutException>(_completion.Task.Exception?.InnerException);
        Assert.Equal("The engine's own actors did not answer within 00:00:30 for www.example.com:443.", timeout.Message);
        ExpectTerminated(request);
    }

    [Fact]
    public void A_request_cancelled_before_its_race_started_is_cancelled_and_stops()
    {
        _supervisors["rmnet0"] = CreateTestProbe("silent").Ref;
        var request = StartRequest();

        request.Tell(new RaceMessages.CancelRace("the caller cancelled"));
        Idle();

        Assert.True(_completion.Task.IsCanceled);
        ExpectTerminated(request);
    }

    [Fact]
    public void A_plan_the_policy_refuses_fails_the_request_with_the_policys_error()
    {
        var policy = CreateTestProbe("policy");
        policy.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new Status.Failure(new ArgumentException("Two interfaces are named 'wlan0'.")));
            return AutoPilot.KeepRunning;
        }));
        _policy = policy.Ref;
        var request = StartRequest();

        Assert.Equal("Two interfaces are named 'wlan0'.", Assert.IsType<ArgumentException>(_completion.Task.Exception?.InnerException).Message);
        ExpectTerminated(request);
    }

    /// <summary>
    /// A racer that throws is a bug (here: a subscriber of the race events that throws): its attempts cannot be rebuilt,
    /// so it is stopped, the failure is reported with that directive, and the caller gets the cause at once rather than
    /// a vague "stopped".
    /// </summary>
    [Fact]
    public void A_racer_that_throws_is_stopped_and_the_caller_gets_the_cause_at_once()
    {
        _publish = e =>
        {
            if (e.Kind == "attempt")
            {
                throw new InvalidOperationException("a race event subscriber threw");
            }
        };
        var request = StartRequest();

        Advance(TimeSpan.FromMilliseconds(5)); // resolved: the racer starts its first attempt, and says so

        var failure = Assert.IsType<InvalidOperationException>(_completion.Task.Exception?.InnerException);
        Assert.Equal("The race for www.example.com:443 failed inside HeMif (InvalidOperationException: a race event subscriber threw).", failure.Message);
        var reported = _failures.ExpectMsg<ActorFailure>();
        Assert.Equal((Directive.Stop, request.Path.ToStringWithoutAddress() + "/racer"), (reported.Directive, reported.Actor));
        ExpectTerminated(request);
        Assert.Empty(_network.Log); // no attempt was opened
    }

    /// <summary>Stopped before its race ends (the engine is shutting down), a request answers with a failed race that says so, never a wait without end.</summary>
    [Fact]
    public void A_request_stopped_mid_race_answers_with_a_failed_report_saying_the_engine_stopped()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        var request = StartRequest();
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.NotEmpty(_network.Log);

        Sys.Stop(request);
        Idle();

        Assert.Equal(RaceOutcome.Failed, Report.Outcome);
        Assert.Equal(HeMifEngine.EngineStoppedReason, Report.Failure);
        // No race was decided: there is no report for GetLastRaceReport to keep, only the registry to tidy.
        Assert.Equal(new EngineMessages.RequestEnded(1, null), _engine.ExpectMsg<EngineMessages.RequestEnded>());
        _engine.ExpectNoMsg(TimeSpan.Zero);
        ExpectTerminated(request);
    }

    [Fact]
    public void A_QUIC_only_request_on_a_host_without_QUIC_fails_at_once_saying_why()
    {
        var events = new List<RaceEvent>();
        _publish = events.Add;

        StartRequest(request: Request with { Transports = [TransportName.Quic] });

        Assert.Equal("QUIC only was asked for, and QUIC unsupported: no transport named 'quic' is registered (registered: tcp)", Report.Failure);
        Assert.Equal([Report.Events[0]], events);
        Assert.Equal(TimeSpan.Zero, Elapsed);
    }

    /// <summary>The engine's options; no coalescing of cold starts (the engine probe does not answer it) except where a test asks.</summary>
    private EngineOptions Options() => _network.Options(Clock) with { VirtualTime = false, Race = new RaceSettings { ColdStartWait = TimeSpan.Zero } };

    private IActorRef StartRequest(EngineOptions? options = null, ConnectionRequest? request = null)
    {
        var failures = _failures.Ref;
        var context = new RequestContext(options ?? Options(), _supervisors, _policy, _publish, failure => failures.Tell(failure), _engine.Ref);
        var asked = request ?? Request;
        var actor = _engine.ChildActorOf(Props.Create(() => new RequestActor(1, asked, context, _completion)), "request-1");
        Idle();
        Watch(actor);
        return actor;
    }

    /// <summary>A supervisor probe that answers every snapshot request with <paramref name="facts"/> in the state the test set.</summary>
    private TestProbe Supervisor(InterfaceFacts facts)
    {
        var probe = CreateTestProbe(facts.Name);
        probe.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new ValidateMessages.InterfaceSnapshot(facts, _states[facts.Name], $"{_states[facts.Name]} by the test", History: null));
            return AutoPilot.KeepRunning;
        }));
        return probe;
    }
}
