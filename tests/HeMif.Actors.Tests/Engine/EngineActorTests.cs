using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.TestKit;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// HeMif's top actor on its own (its children are the real ones, on the scripted <see cref="FakeNetwork"/>: Wi-Fi
/// validates after 20 ms, cellular after 60 ms), asked by probes the way an application's actors ask it through the
/// public <see cref="HeMifActor"/> protocol, and as the registry of interfaces and requests.
/// </summary>
public sealed class EngineActorTests : VirtualTimeTestKit
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);

    private readonly FakeNetwork _network;
    private readonly EngineShared _shared;
    private readonly List<InterfaceStateChanged> _published = [];
    private readonly TestProbe _app;
    private readonly IActorRef _engine;

    public EngineActorTests()
    {
        _network = FakeNetwork.WifiAndCellular(Clock);
        _shared = new EngineShared(_network.Options(Clock) with { VirtualTime = false });
        _shared.InterfaceStates.Subscribe(_published.Add);
        _app = CreateTestProbe("app");
        _engine = Start(Props.Create(() => new EngineActor(_shared)), "hemif");
    }

    [Fact]
    public void GetInterfaceStates_answers_the_latest_state_of_every_interface_in_name_order()
    {
        Assert.Equal([("rmnet0", ValidationState.Validating), ("wlan0", ValidationState.Validating)], States());

        Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal([("rmnet0", ValidationState.Validating), ("wlan0", ValidationState.Validated)], States());

        Advance(TimeSpan.FromMilliseconds(40));
        _app.Send(_engine, HeMifActor.GetInterfaceStates.Instance);
        Idle();
        var answer = _app.ExpectMsg<HeMifActor.InterfaceStates>();
        Assert.Equal(["rmnet0", "wlan0"], answer.States.Select(s => s.Interface));
        Assert.All(answer.States, s => Assert.Equal(ValidationState.Validated, s.State));
        Assert.Equal(HeMif.Simulation.VirtualClock.DefaultStart + TimeSpan.FromMilliseconds(60), answer.States[0].At);
    }

    [Fact]
    public void GetLastRaceReport_answers_null_before_a_race_and_that_race_s_report_after_it()
    {
        Advance(TimeSpan.FromMilliseconds(60));
        Assert.Null(LastReport("www.example.com", 443));

        var completion = StartRequest();
        AdvanceUntil(() => completion.Task.IsCompleted);
        Idle();

        var report = LastReport("www.example.com", 443);
        Assert.NotNull(report);
        Assert.Same(Completed(completion.Task).Report, report);
        Assert.Equal("wlan0", report.Winner!.Interface);
        Assert.Null(LastReport("www.example.com", 8443)); // another destination
    }

    /// <summary>An application that watches HeMif's actor sees it stop; a request still racing is answered with a failed race that says why, never left waiting.</summary>
    [Fact]
    public void A_request_in_flight_is_answered_with_a_failed_report_when_the_engine_actor_stops()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        Advance(TimeSpan.FromMilliseconds(60));
        var completion = StartRequest();
        Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(completion.Task.IsCompleted);
        _app.Watch(_engine);

        Sys.Stop(_engine);
        Idle();

        var report = Completed(completion.Task).Report;
        Assert.Equal(RaceOutcome.Failed, report.Outcome);
        Assert.Equal(HeMifEngine.EngineStoppedReason, report.Failure);
        Assert.True(_shared.Stopped.IsCancellationRequested);
        _app.ExpectTerminated(_engine);
    }

    /// <summary>
    /// An interface gone from the host says Down once (races and watches hear it), leaves the engine's states at once,
    /// and its supervisor answers late askers for the internal ask timeout before it stops.
    /// </summary>
    [Fact]
    public void A_removed_interface_says_Down_once_leaves_the_states_and_its_supervisor_stops_after_the_linger()
    {
        Advance(TimeSpan.FromMilliseconds(60));
        var supervisor = Children().Single(c => c.Path.Name == "interface-1-wlan0"); // the first listed
        Watch(supervisor);
        _published.Clear();

        _app.Send(_engine, new EngineMessages.RemoveInterface("wlan0"));
        Idle();

        _app.ExpectMsg<EngineMessages.Done>();
        var down = Assert.Single(_published);
        Assert.Equal(("wlan0", ValidationState.Down), (down.Interface, down.State));
        Assert.Equal([("rmnet0", ValidationState.Validated)], States());
        Advance(_shared.Options.InternalAskTimeout - TimeSpan.FromTicks(1));
        ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromTicks(1));
        ExpectTerminated(supervisor);
    }

    public static TheoryData<string, string> WrongNames => new()
    {
        { "add wlan0", "Interface 'wlan0' is already known; new facts for it go to UpdateInterface." },
        { "remove eth9", "Unknown interface 'eth9'; known: rmnet0, wlan0." },
        { "update eth9", "Unknown interface 'eth9'; known: rmnet0, wlan0 (a new one goes to AddInterface)." },
    };

    [Theory]
    [MemberData(nameof(WrongNames))]
    public void A_change_naming_an_interface_the_wrong_way_is_answered_with_a_failure_saying_so(string change, string error)
    {
        var eth9 = new InterfaceFacts("eth9", InterfaceKind.Ethernet);
        object message = change switch
        {
            "add wlan0" => new EngineMessages.AddInterface(FakeNetwork.Wifi),
            "remove eth9" => new EngineMessages.RemoveInterface("eth9"),
            _ => new EngineMessages.UpdateInterface(eth9),
        };

        _app.Send(_engine, message);
        Idle();

        Assert.Equal(error, Assert.IsType<ArgumentException>(_app.ExpectMsg<Status.Failure>().Cause).Message);
        Assert.Equal(["rmnet0", "wlan0"], States().Select(s => s.Item1));
    }

    private TaskCompletionSource<RaceResult> StartRequest()
    {
        var completion = new TaskCompletionSource<RaceResult>();
        _engine.Tell(new EngineMessages.StartRequest(1, Request, completion));
        Idle();
        return completion;
    }

    private List<(string, ValidationState)> States()
    {
        _app.Send(_engine, HeMifActor.GetInterfaceStates.Instance);
        Idle();
        return [.. _app.ExpectMsg<HeMifActor.InterfaceStates>().States.Select(s => (s.Interface, s.State))];
    }

    private RaceReport? LastReport(string host, int port)
    {
        _app.Send(_engine, new HeMifActor.GetLastRaceReport(host, port));
        Idle();
        var answer = _app.ExpectMsg<HeMifActor.LastRaceReport>();
        Assert.Equal((host, port), (answer.Host, answer.Port));
        return answer.Report;
    }

    private IEnumerable<IActorRef> Children() => ((ActorRefWithCell)_engine).Children;
}
