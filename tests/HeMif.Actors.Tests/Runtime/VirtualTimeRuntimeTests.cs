using Akka.Actor;
using HeMif.Runtime;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Runtime;

/// <summary>
/// The runtime under every actor of HeMif: Akka's scheduler over a TimeProvider, one pump for every dispatcher in
/// virtual time, and asks whose timeouts follow the same clock (docs/architecture.md §3, "One clock").
/// </summary>
public sealed class VirtualTimeRuntimeTests : IAsyncLifetime
{
    private readonly VirtualClock _clock = new();
    private readonly VirtualTimePump _pump = new();
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = HeMifActorSystem.Create("runtime-test", _clock, _pump);
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => HeMifActorSystem.TerminateVirtualAsync(_system, _pump, _clock, TimeSpan.FromMinutes(1));

    [Fact]
    public void An_actor_timer_fires_at_its_virtual_time_exactly_and_not_before()
    {
        var fired = new List<TimeSpan>();
        _system.ActorOf(Props.Create(() => new TimerActor(TimeSpan.FromMilliseconds(250), () => fired.Add(_clock.Elapsed))));

        VirtualTimeDriver.Advance(_pump, _clock, TimeSpan.FromMilliseconds(249));
        Assert.Empty(fired);
        VirtualTimeDriver.Advance(_pump, _clock, TimeSpan.FromMilliseconds(1));
        Assert.Equal([TimeSpan.FromMilliseconds(250)], fired);
    }

    [Fact]
    public void The_scheduler_tells_the_virtual_time()
    {
        Assert.Equal(_clock.GetUtcNow(), _system.Scheduler.Now);
        _clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(_clock.GetUtcNow(), _system.Scheduler.Now);
    }

    [Fact]
    public void An_ask_that_gets_no_answer_times_out_on_the_virtual_clock()
    {
        var silent = _system.ActorOf(Props.Create(() => new SilentActor()));
        var asked = silent.AskOnClock<string>("hello?", TimeSpan.FromSeconds(5), _clock, _pump);

        VirtualTimeDriver.Advance(_pump, _clock, TimeSpan.FromMilliseconds(4999));
        Assert.False(asked.IsCompleted);
        Assert.True(VirtualTimeDriver.RunUntil(_pump, _clock, () => asked.IsCompleted, TimeSpan.FromSeconds(1)));
        var error = Assert.Throws<AskTimeoutException>(() => asked.GetAwaiter().GetResult());
        Assert.Contains("within 5000 ms", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(5), _clock.Elapsed);
    }

    [Fact]
    public async Task An_answered_ask_completes_on_the_pump_where_the_driver_sees_it()
    {
        var echo = _system.ActorOf(Props.Create(() => new EchoActor()));
        var asked = echo.AskOnClock<string>("ping", TimeSpan.FromSeconds(5), _clock, _pump);

        Assert.True(VirtualTimeDriver.RunUntil(_pump, _clock, () => asked.IsCompleted, TimeSpan.Zero)); // no clock move needed
        Assert.Equal("ping", await asked);
    }

    /// <summary>Strict mode: work that reaches the pump from another thread (the thread pool, a socket) would make the run depend on timing.</summary>
    [Fact]
    public void Work_that_arrives_from_another_thread_fails_the_driver_naming_it()
    {
        var echo = _system.ActorOf(Props.Create(() => new EchoActor()));
        VirtualTimeDriver.Advance(_pump, _clock, TimeSpan.Zero);

        // A thread of its own (a thread-pool thread could be the test's own, which is the driver).
        var other = new Thread(() => echo.Tell("from another thread"));
        other.Start();
        other.Join();

        var error = Assert.Throws<InvalidOperationException>(() => VirtualTimeDriver.RunUntil(_pump, _clock, () => true, TimeSpan.Zero));
        Assert.Contains("from outside its driver's thread", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_terminated_system_leaves_no_clock_registered()
    {
        var clock = new VirtualClock();
        var pump = new VirtualTimePump();
        var system = HeMifActorSystem.Create("short-lived", clock, pump);
        var key = system.Settings.Config.GetString(ClockRegistry.ConfigKey);
        Assert.NotNull(ClockRegistry.Find(key));

        await HeMifActorSystem.TerminateVirtualAsync(system, pump, clock, TimeSpan.FromMinutes(1));

        Assert.Null(ClockRegistry.Find(key));
    }

    private sealed class TimerActor : ReceiveActor, IWithTimers
    {
        public TimerActor(TimeSpan delay, Action fired)
        {
            Receive<string>(_ => fired());
            Delay = delay;
        }

        public ITimerScheduler Timers { get; set; } = null!;

        private TimeSpan Delay { get; }

        protected override void PreStart() => Timers.StartSingleTimer("t", "tick", Delay);
    }

    private sealed class SilentActor : ReceiveActor
    {
        public SilentActor() => ReceiveAny(_ => { });
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => Receive<string>(s => Sender.Tell(s));
    }
}
