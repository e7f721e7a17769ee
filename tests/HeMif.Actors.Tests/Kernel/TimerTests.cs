using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Timers post to self and run only on the injected clock; cancelling is exact.</summary>
public sealed class TimerTests : KernelTest
{
    [Fact]
    public async Task ScheduleOnce_posts_the_message_to_self_when_the_delay_has_passed_and_not_before()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleOnce("t", "tick", TimeSpan.FromMilliseconds(250));
            }
            else
            {
                Probe.Tell(m, a.Sender);
            }
        }));
        actor.Tell("start");
        await System.WhenIdleAsync();

        Time.AdvanceMilliseconds(249);
        await Probe.ExpectNoMsgAsync("249 ms is before the 250 ms delay");

        Time.AdvanceMilliseconds(1);
        await Probe.ExpectMsgAsync("tick");
        Time.AdvanceMilliseconds(1000);
        await Probe.ExpectNoMsgAsync("a single timer fires once");
    }

    [Fact]
    public async Task ScheduleRepeatedly_posts_after_the_initial_delay_and_then_every_interval()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleRepeatedly("t", "tick", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(40));
            }
            else
            {
                Probe.Tell($"{m}@{Time.Elapsed.TotalMilliseconds}");
            }
        }));
        actor.Tell("start");
        await System.WhenIdleAsync();

        foreach (var at in new[] { 100, 140, 180 })
        {
            Time.AdvanceMilliseconds(at == 100 ? 100 : 40);
            await Probe.ExpectMsgAsync($"tick@{at}");
        }
    }

    [Fact]
    public async Task CancelTimer_is_exact_even_when_theTimer_already_fired_and_its_message_is_queued()
    {
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var actor = System.ActorOf(LambdaActor.Props((a, m) =>
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
                    Probe.Tell($"active after cancel: {a.Context.IsTimerActive("t")}");
                    break;
                default:
                    Probe.Tell(m);
                    break;
            }
        }));
        actor.Tell("start");
        await System.WhenIdleAsync();
        actor.Tell("block-then-cancel");
        Assert.True(entered.Wait(TestProbe.DefaultTimeout));

        Time.AdvanceMilliseconds(100); // fires while the actor is busy: the tick is queued behind the handler
        gate.Set();

        await Probe.ExpectMsgAsync("active after cancel: False");
        await Probe.ExpectNoMsgAsync("the queued tick of a cancelled timer must be dropped");
    }

    [Fact]
    public async Task Scheduling_again_with_the_same_key_replaces_the_previousTimer()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is string s && s.StartsWith("set ", StringComparison.Ordinal))
            {
                a.Context.ScheduleOnce("t", s[4..], TimeSpan.FromMilliseconds(100));
            }
            else
            {
                Probe.Tell(m);
            }
        }));
        actor.Tell("set first");
        await System.WhenIdleAsync();
        Time.AdvanceMilliseconds(50);
        actor.Tell("set second");
        await System.WhenIdleAsync();

        Time.AdvanceMilliseconds(50);
        await Probe.ExpectNoMsgAsync("the first timer was replaced");
        Time.AdvanceMilliseconds(50);
        await Probe.ExpectMsgAsync("second");
        await Probe.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task Timers_are_cancelled_when_the_actor_stops()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) => a.Context.ScheduleRepeatedly("t", "tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))));
        actor.Tell("start");
        await System.WhenIdleAsync();
        Assert.True(Time.ArmedTimerCount >= 1);
        var armedBefore = Time.ArmedTimerCount;

        System.Stop(actor);
        await Probe.ExpectTerminatedAsync(actor);
        Assert.Equal(armedBefore - 1, Time.ArmedTimerCount);
    }

    [Fact]
    public async Task Nothing_fires_without_the_injected_clock_moving()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "start")
            {
                a.Context.ScheduleOnce("t", "tick", TimeSpan.FromMilliseconds(1));
            }
            else
            {
                Probe.Tell(m);
            }
        }));
        actor.Tell("start");
        await Probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200), "wall-clock time passing must not fire a virtual-time timer");
    }
}
