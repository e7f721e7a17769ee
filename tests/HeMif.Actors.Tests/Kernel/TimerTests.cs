using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Timers post to self and run only on the injected clock; cancelling is exact.</summary>
public sealed class TimerTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly ActorSystem _system;
    private readonly TestProbe _probe;

    public TimerTests()
    {
        _system = TestSystems.Create(_time);
        _probe = new TestProbe(_system);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.ShutdownAsync();

    [Fact]
    public async Task ScheduleOnce_posts_the_message_to_self_when_the_delay_has_passed_and_not_before()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleOnce("t", "tick", TimeSpan.FromMilliseconds(250));
            }
            else
            {
                _probe.Tell(m, a.Sender);
            }
        }));
        actor.Tell("start");
        await _system.WhenIdleAsync();

        _time.AdvanceMilliseconds(249);
        await _probe.ExpectNoMsgAsync("249 ms is before the 250 ms delay");

        _time.AdvanceMilliseconds(1);
        await _probe.ExpectMsgAsync("tick");
        _time.AdvanceMilliseconds(1000);
        await _probe.ExpectNoMsgAsync("a single timer fires once");
    }

    [Fact]
    public async Task ScheduleRepeatedly_posts_after_the_initial_delay_and_then_every_interval()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleRepeatedly("t", "tick", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(40));
            }
            else
            {
                _probe.Tell($"{m}@{_time.Elapsed.TotalMilliseconds}");
            }
        }));
        actor.Tell("start");
        await _system.WhenIdleAsync();

        foreach (var at in new[] { 100, 140, 180 })
        {
            _time.AdvanceMilliseconds(at == 100 ? 100 : 40);
            await _probe.ExpectMsgAsync($"tick@{at}");
        }
    }

    [Fact]
    public async Task CancelTimer_is_exact_even_when_the_timer_already_fired_and_its_message_is_queued()
    {
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var actor = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            switch (m)
            {
                case "start":
                    a.Context.ScheduleOnce("t", "tick", TimeSpan.FromMilliseconds(100));
                    break;
                case "block-then-cancel":
                    entered.Set();
                    gate.Wait(TestProbe.DefaultTimeout);
                    a.Context.CancelTimer("t");
                    _probe.Tell($"active after cancel: {a.Context.IsTimerActive("t")}");
                    break;
                default:
                    _probe.Tell(m);
                    break;
            }
        }));
        actor.Tell("start");
        await _system.WhenIdleAsync();
        actor.Tell("block-then-cancel");
        Assert.True(entered.Wait(TestProbe.DefaultTimeout));

        _time.AdvanceMilliseconds(100); // fires while the actor is busy: the tick is queued behind the handler
        gate.Set();

        await _probe.ExpectMsgAsync("active after cancel: False");
        await _probe.ExpectNoMsgAsync("the queued tick of a cancelled timer must be dropped");
    }

    [Fact]
    public async Task Scheduling_again_with_the_same_key_replaces_the_previous_timer()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is string s && s.StartsWith("set ", StringComparison.Ordinal))
            {
                a.Context.ScheduleOnce("t", s[4..], TimeSpan.FromMilliseconds(100));
            }
            else
            {
                _probe.Tell(m);
            }
        }));
        actor.Tell("set first");
        await _system.WhenIdleAsync();
        _time.AdvanceMilliseconds(50);
        actor.Tell("set second");
        await _system.WhenIdleAsync();

        _time.AdvanceMilliseconds(50);
        await _probe.ExpectNoMsgAsync("the first timer was replaced");
        _time.AdvanceMilliseconds(50);
        await _probe.ExpectMsgAsync("second");
        await _probe.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task Timers_are_cancelled_when_the_actor_stops()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) => a.Context.ScheduleRepeatedly("t", "tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))));
        actor.Tell("start");
        await _system.WhenIdleAsync();
        Assert.True(_time.ArmedTimerCount >= 1);
        var armedBefore = _time.ArmedTimerCount;

        _system.Stop(actor);
        await _probe.ExpectTerminatedAsync(actor);
        Assert.Equal(armedBefore - 1, _time.ArmedTimerCount);
    }

    [Fact]
    public async Task Nothing_fires_without_the_injected_clock_moving()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleOnce("t", "tick", TimeSpan.FromMilliseconds(1));
            }
            else
            {
                _probe.Tell(m);
            }
        }));
        actor.Tell("start");
        await _probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200), "wall-clock time passing must not fire a virtual-time timer");
    }
}
