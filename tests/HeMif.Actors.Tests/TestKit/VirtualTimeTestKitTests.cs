using Akka.Actor;
using Akka.TestKit;
using HeMif.Runtime;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>
/// The actor tests' kit itself: probes see exactly what the actors sent by the virtual instant the test moved the
/// clock to, expectations never wait on the wall clock, and a test's system ends cleanly on the pump.
/// </summary>
public sealed class VirtualTimeTestKitTests : VirtualTimeTestKit
{
    [Fact]
    public void A_timer_message_reaches_the_probe_at_its_due_virtual_time_and_not_a_tick_before()
    {
        var probe = CreateTestProbe();
        Start(Props.Create(() => new Reminder(probe.Ref, TimeSpan.FromSeconds(2))));

        Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        probe.ExpectNoMsg(TimeSpan.Zero);

        Advance(TimeSpan.FromTicks(1));
        Assert.Equal(TimeSpan.FromSeconds(2), probe.ExpectMsg<Reminded>().At);
    }

    [Fact]
    public void A_reply_to_a_probe_is_there_once_the_pump_is_idle_and_not_before()
    {
        var probe = CreateTestProbe();
        var echo = Start(Props.Create(() => new Echo()));

        probe.Send(echo, "ping");
        probe.ExpectNoMsg(TimeSpan.Zero); // queued on the pump, not run yet
        Idle();
        probe.ExpectMsg("ping");
        Assert.Equal(echo, probe.LastSender);
    }

    [Fact]
    public void The_test_actor_is_the_implicit_sender_also_after_the_pump_ran_actors_on_the_test_thread()
    {
        var echo = Start(Props.Create(() => new Echo()));

        echo.Tell("one");
        Idle();
        ExpectMsg("one");
        echo.Tell("two");
        Idle();
        ExpectMsg("two");
    }

    [Fact]
    public void An_expectation_without_a_timeout_looks_now_instead_of_waiting_on_the_wall_clock()
    {
        Assert.Equal(TimeSpan.Zero, TestKitSettings.SingleExpectDefault);
        Assert.Equal(TimeSpan.Zero, TestKitSettings.ExpectNoMessageDefault);
    }

    [Fact]
    public void AdvanceUntil_stops_at_the_virtual_instant_the_condition_holds()
    {
        var probe = CreateTestProbe();
        Start(Props.Create(() => new Reminder(probe.Ref, TimeSpan.FromMilliseconds(1500))));

        AdvanceUntil(() => probe.HasMessages);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Elapsed);
    }

    [Fact]
    public void The_scheduler_of_the_system_is_HeMifs_on_the_kits_clock()
    {
        var scheduler = Assert.IsType<TimeProviderScheduler>(Sys.Scheduler);
        Assert.Same(Clock, scheduler.Clock);
        Assert.Same(Pump, scheduler.Pump);
    }

    /// <summary>Tells <c>target</c> a <see cref="Reminded"/> after <c>delay</c>, on the actor's timer.</summary>
    private sealed class Reminder : ReceiveActor, IWithTimers
    {
        private readonly TimeSpan _delay;

        public Reminder(IActorRef target, TimeSpan delay)
        {
            _delay = delay;
            var clock = ((TimeProviderScheduler)Context.System.Scheduler).Clock;
            var start = clock.GetTimestamp();
            Receive<string>(_ => target.Tell(new Reminded(clock.GetElapsedTime(start))));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartSingleTimer("remind", "now", _delay);
    }

    private sealed record Reminded(TimeSpan At);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }
}

/// <summary>A test's actor system from start to dispose, seen from outside the kit.</summary>
public sealed class VirtualTimeTestKitLifecycleTests
{
    [Fact]
    public void At_dispose_every_actor_stops_on_the_pump_the_system_terminates_and_its_clock_is_unregistered()
    {
        var kit = new Kit();
        var key = kit.Sys.Settings.Config.GetString(ClockRegistry.ConfigKey);
        Assert.NotNull(ClockRegistry.Find(key));
        var stopped = new List<string>();
        kit.StartSilent(stopped);

        kit.Dispose();

        Assert.True(kit.Sys.WhenTerminated.IsCompleted);
        Assert.Equal(["stopped"], stopped);
        Assert.Null(ClockRegistry.Find(key));
    }

    [Fact]
    public void Work_that_reaches_the_pump_from_another_thread_fails_the_test_at_dispose()
    {
        var kit = new Kit();
        var actor = kit.StartSilent([]);
        var other = new Thread(() => actor.Tell("from another thread"));
        other.Start();
        other.Join();

        var failure = Assert.Throws<InvalidOperationException>(kit.Dispose);
        Assert.Contains("from outside its driver's thread", failure.Message, StringComparison.Ordinal);
        Assert.True(kit.Sys.WhenTerminated.IsCompleted);
    }

    private sealed class Kit : VirtualTimeTestKit
    {
        public IActorRef StartSilent(List<string> stopped) => Start(Props.Create(() => new Silent(stopped)));
    }

    private sealed class Silent : ReceiveActor
    {
        private readonly List<string> _stopped;

        public Silent(List<string> stopped)
        {
            _stopped = stopped;
            ReceiveAny(_ => { });
        }

        protected override void PostStop() => _stopped.Add("stopped");
    }
}
