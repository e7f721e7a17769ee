using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.Engine;
using HeMif.Actors.Tests.TestKit;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Multipath;

/// <summary>
/// One <see cref="SubflowWatcher"/> on its own: its interfaces' supervisors and the policy actor are probes (the
/// supervisors answer snapshots from the states the test sets; the policy answers with the real planner), and its
/// observer tells a probe what it got. Draft §5.2.3: "for a node implementing multipath transports (for example,
/// Multipath TCP (MPTCP) [RFC6182]), the interfaces could be treated as valid to perform subsequent multipath process,
/// such as starting subflow"; §7.6: "each connection could be performed consistently with user/operator's preference
/// and corresponding provisioning domain information."
/// </summary>
public sealed class SubflowWatcherTests : VirtualTimeTestKit
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private static readonly ConnectionPlanner Planner = new(HeMifPolicy.Empty);

    private readonly Dictionary<string, ValidationState> _states = new(StringComparer.Ordinal) { ["wlan0"] = ValidationState.Validated, ["rmnet0"] = ValidationState.Validated };
    private readonly TestProbe _wifi;
    private readonly TestProbe _cellular;
    private readonly TestProbe _policy;
    private readonly TestProbe _observer;
    private readonly List<SubflowPlan> _published = [];

    public SubflowWatcherTests()
    {
        _wifi = Supervisor(FakeNetwork.Wifi);
        _cellular = Supervisor(FakeNetwork.Cellular);
        _policy = CreateTestProbe("policy");
        _policy.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            sender.Tell(Plan(message));
            return AutoPilot.KeepRunning;
        }));
        _observer = CreateTestProbe("observer");
    }

    [Fact]
    public void The_first_plan_is_issued_at_once_from_the_snapshots_and_the_policys_plan()
    {
        StartWatcher();

        Assert.Equal(new ValidateMessages.GetSnapshot(new Destination("www.example.com", 443)), _wifi.ExpectMsg<ValidateMessages.GetSnapshot>());
        _cellular.ExpectMsg<ValidateMessages.GetSnapshot>();
        var asked = _policy.ExpectMsg<PolicyMessages.MakePlan>();
        Assert.Equal(["rmnet0", "wlan0"], asked.Interfaces.Select(i => i.Name)); // name order, whatever order the snapshots came in
        var plan = _observer.ExpectMsg<SubflowPlan>();
        Assert.Equal("first plan", plan.Trigger);
        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)], Roles(plan));
        Assert.Equal([plan], _published); // on the engine's stream too, before the observer
        Assert.Equal(TimeSpan.Zero, Elapsed);
    }

    /// <summary>Wi-Fi lost: the connection's subflows move to cellular; Wi-Fi back: they return.</summary>
    [Fact]
    public void An_interface_change_that_alters_a_role_issues_a_new_suggestion_with_the_change_as_trigger()
    {
        var watcher = StartWatcher();
        _observer.ExpectMsg<SubflowPlan>();

        Change(watcher, "wlan0", ValidationState.NoConnectivity, "probe timed out");
        var moved = _observer.ExpectMsg<SubflowPlan>();
        Assert.Equal([("rmnet0", SubflowRole.Primary)], Roles(moved));
        Assert.Equal("wlan0 is NoConnectivity: probe timed out", moved.Trigger);
        Assert.Contains(moved.Excluded, e => e.Interface == "wlan0" && e.Reason.StartsWith("not validated: NoConnectivity", StringComparison.Ordinal));

        Change(watcher, "wlan0", ValidationState.Validated, "probe passed");
        Assert.Equal([("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)], Roles(_observer.ExpectMsg<SubflowPlan>()));
    }

    [Fact]
    public void A_change_that_alters_no_role_is_planned_for_but_issues_no_duplicate_suggestion()
    {
        var watcher = StartWatcher();
        _observer.ExpectMsg<SubflowPlan>();
        _policy.ExpectMsg<PolicyMessages.MakePlan>();

        Change(watcher, "rmnet0", ValidationState.Validated, "periodic re-examination passed");

        _policy.ExpectMsg<PolicyMessages.MakePlan>(); // planned again...
        _observer.ExpectNoMsg(TimeSpan.Zero); // ...to the same roles
        Assert.Single(_published);
    }

    /// <summary>A re-examination in progress changes nothing yet (the interface keeps its verdict until the probe answers); its result will.</summary>
    [Fact]
    public void Validating_is_ignored()
    {
        var watcher = StartWatcher();
        _observer.ExpectMsg<SubflowPlan>();
        _wifi.ExpectMsg<ValidateMessages.GetSnapshot>();
        _policy.ExpectMsg<PolicyMessages.MakePlan>();

        Change(watcher, "wlan0", ValidationState.Validating, "periodic re-examination");

        _wifi.ExpectNoMsg(TimeSpan.Zero);
        _policy.ExpectNoMsg(TimeSpan.Zero);
        _observer.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void An_interface_added_since_the_last_plan_is_asked_and_planned_for()
    {
        var watcher = StartWatcher();
        _observer.ExpectMsg<SubflowPlan>();
        var ethernet = new InterfaceFacts("eth0", InterfaceKind.Ethernet) { Addresses = FakeNetwork.Wifi.Addresses };
        _states["eth0"] = ValidationState.Validated;
        var wired = Supervisor(ethernet);

        watcher.Tell(new SubflowMessages.InterfaceChanged(StateChange("eth0", ValidationState.Validated, "probe passed"), [_wifi.Ref, _cellular.Ref, wired.Ref]));
        Idle();

        wired.ExpectMsg<ValidateMessages.GetSnapshot>();
        Assert.Equal([("eth0", SubflowRole.Primary), ("wlan0", SubflowRole.Backup), ("rmnet0", SubflowRole.Backup)], Roles(_observer.ExpectMsg<SubflowPlan>()));
    }

    /// <summary>One plan at a time: changes that arrive while one is being made fold into one more plan, with the latest as its trigger.</summary>
    [Fact]
    public void Changes_that_arrive_while_a_plan_is_made_fold_into_one_more_plan_with_the_latest_trigger()
    {
        _policy.SetAutoPilot(NoAutoPilot.Instance); // the test answers the policy's part by hand
        var watcher = StartWatcher();
        var first = _policy.ExpectMsg<PolicyMessages.MakePlan>();

        _states["wlan0"] = ValidationState.CaptivePortal;
        watcher.Tell(new SubflowMessages.InterfaceChanged(StateChange("wlan0", ValidationState.NoConnectivity, "first change"), [_wifi.Ref, _cellular.Ref]));
        watcher.Tell(new SubflowMessages.InterfaceChanged(StateChange("wlan0", ValidationState.CaptivePortal, "second change"), [_wifi.Ref, _cellular.Ref]));
        Idle();
        _policy.ExpectNoMsg(TimeSpan.Zero);

        _policy.Send(watcher, Plan(first));
        Idle();
        Assert.Equal("first plan", _observer.ExpectMsg<SubflowPlan>().Trigger);
        var second = _policy.ExpectMsg<PolicyMessages.MakePlan>();
        _policy.Send(watcher, Plan(second));
        Idle();

        var folded = _observer.ExpectMsg<SubflowPlan>();
        Assert.Equal("wlan0 is CaptivePortal: second change", folded.Trigger);
        Assert.Equal([("rmnet0", SubflowRole.Primary)], Roles(folded));
        _policy.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void Stopping_the_watcher_completes_its_observer()
    {
        var watcher = StartWatcher();
        _observer.ExpectMsg<SubflowPlan>();

        Sys.Stop(watcher);
        Idle();

        _observer.ExpectMsg<ObserverCompleted>();
        ExpectTerminated(watcher);
    }

    [Fact]
    public void A_plan_the_policy_refuses_ends_the_observer_with_the_error_not_a_completion_and_stops_the_watcher()
    {
        _policy.SetAutoPilot(new DelegateAutoPilot((sender, _) =>
        {
            sender.Tell(new Status.Failure(new ArgumentException("bad request")));
            return AutoPilot.KeepRunning;
        }));

        var watcher = StartWatcher();

        Assert.Equal("bad request", _observer.ExpectMsg<ObserverFailed>().Error.Message);
        ExpectTerminated(watcher);
        _observer.ExpectNoMsg(TimeSpan.Zero);
    }

    private IActorRef StartWatcher()
    {
        var watch = new SubflowWatch(Request, MultipathMode.Handover, "first plan", new ProbeObserver(_observer.Ref));
        var context = new SubflowWatchContext([_wifi.Ref, _cellular.Ref], _policy.Ref, _published.Add, Clock);
        var watcher = Start(Props.Create(() => new SubflowWatcher(watch, context)), "subflows");
        Watch(watcher);
        return watcher;
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

    /// <summary>The engine tells the watcher that <paramref name="iface"/> changed (after its supervisor's state did).</summary>
    private void Change(IActorRef watcher, string iface, ValidationState state, string detail)
    {
        _states[iface] = state;
        watcher.Tell(new SubflowMessages.InterfaceChanged(StateChange(iface, state, detail), [_wifi.Ref, _cellular.Ref]));
        Idle();
    }

    private InterfaceStateChanged StateChange(string iface, ValidationState state, string detail) => new(iface, state, detail, Clock.GetUtcNow());

    private static ConnectionPlan Plan(object message)
    {
        var ask = (PolicyMessages.MakePlan)message;
        return Planner.Plan(ask.Interfaces, ask.Request, ask.Now, ask.History);
    }

    private static List<(string, SubflowRole)> Roles(SubflowPlan plan) => [.. plan.Subflows.Select(s => (s.Interface, s.Role))];

    private sealed record ObserverCompleted;

    private sealed record ObserverFailed(Exception Error);

    /// <summary>Tells a probe each suggestion, the error or the completion (on the watcher's turn, as the engine's observers are called).</summary>
    private sealed class ProbeObserver(IActorRef probe) : IObserver<SubflowPlan>
    {
        public void OnNext(SubflowPlan value) => probe.Tell(value);

        public void OnError(Exception error) => probe.Tell(new ObserverFailed(error));

        public void OnCompleted() => probe.Tell(new ObserverCompleted());
    }
}
