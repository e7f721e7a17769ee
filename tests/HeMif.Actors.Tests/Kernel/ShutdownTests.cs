using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>
/// Orderly shutdown discards: actors stop after their current message, queued messages become dead letters, every
/// pending Ask fails, timers are cancelled, and no actor loop is left running.
/// </summary>
public sealed class ShutdownTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task Shutdown_stops_every_actor_children_first_and_leaves_no_loop_running()
    {
        var system = TestSystems.Create(_time);
        var stopped = new List<string>();
        Action<LambdaActor> record = a => { lock (stopped) { stopped.Add(a.Self.Path); } };
        for (var i = 0; i < 3; i++)
        {
            system.ActorOf(LambdaActor.Props((_, _) => { }, preStart: a => a.Context.ActorOf(LambdaActor.Props((_, _) => { }, postStop: record), "child"), postStop: record), $"top-{i}");
        }

        await system.WhenIdleAsync();
        Assert.Equal(7, system.LiveActorCount); // guardian + 3 + 3

        await system.ShutdownAsync();

        Assert.Equal(0, system.LiveActorCount);
        lock (stopped)
        {
            Assert.Equal(6, stopped.Count);
            for (var i = 0; i < 3; i++)
            {
                Assert.True(stopped.IndexOf($"/user/top-{i}/child") < stopped.IndexOf($"/user/top-{i}"), "a child stops before its parent");
            }
        }
    }

    [Fact]
    public async Task Shutdown_fails_every_pending_Ask_with_a_clear_error()
    {
        var system = TestSystems.Create(_time);
        var silent = system.ActorOf(LambdaActor.Props((_, _) => { }), "silent");
        var probe = new TestProbe(system, "outsider");
        var toActor = silent.Ask<string>("hello?", TimeSpan.FromMinutes(1));
        var toProbe = probe.Ask<string>("hello?", TimeSpan.FromMinutes(1));
        await system.WhenIdleAsync();

        await system.ShutdownAsync();

        var stopped = await Assert.ThrowsAsync<ActorStoppedException>(() => toActor);
        Assert.Contains("/user/silent", stopped.Message, StringComparison.Ordinal);
        var shutDown = await Assert.ThrowsAsync<ActorSystemShutdownException>(() => toProbe);
        Assert.Contains("shut down before a reply arrived", shutDown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_still_queued_at_shutdown_are_published_as_dead_letters()
    {
        var system = TestSystems.Create(_time);
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var letters = new List<object>();
        using var subscription = system.DeadLetterStream.Subscribe(l => { lock (letters) { letters.Add(l.Message); } });
        var busy = system.ActorOf(LambdaActor.Props((_, m) =>
        {
            if (m is "block")
            {
                entered.Set();
                gate.Wait(TestProbe.DefaultTimeout);
            }
        }));
        busy.Tell("block");
        Assert.True(entered.Wait(TestProbe.DefaultTimeout));
        busy.Tell("left-1");
        busy.Tell("left-2");

        var shutdown = system.ShutdownAsync();
        // The stop travels down from the guardian; release the handler only once it has reached the busy actor.
        Assert.True(SpinWait.SpinUntil(() => ((ActorCell)busy).StopRequested, TestProbe.DefaultTimeout));
        gate.Set();
        await shutdown;

        lock (letters)
        {
            Assert.Equal(["left-1", "left-2"], letters.OfType<string>());
        }
    }

    [Fact]
    public async Task Shutdown_cancels_timers_completes_the_streams_and_refuses_new_actors()
    {
        var system = TestSystems.Create(_time);
        var deadLettersCompleted = false;
        var failuresCompleted = false;
        using var a = system.DeadLetterStream.Subscribe(_ => { }, () => deadLettersCompleted = true);
        using var b = system.Failures.Subscribe(_ => { }, () => failuresCompleted = true);
        var ticking = system.ActorOf(LambdaActor.Props((x, _) => x.Context.ScheduleRepeatedly("t", "tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))));
        ticking.Tell("start");
        await system.WhenIdleAsync();
        Assert.Equal(1, _time.ArmedTimerCount);

        await system.ShutdownAsync();

        Assert.Equal(0, _time.ArmedTimerCount);
        Assert.True(deadLettersCompleted);
        Assert.True(failuresCompleted);
        var error = Assert.Throws<InvalidOperationException>(() => system.ActorOf(LambdaActor.Props((_, _) => { })));
        Assert.Contains("shutting down", error.Message, StringComparison.Ordinal);
        Assert.Same(system.ShutdownAsync(), system.ShutdownAsync());
    }
}
