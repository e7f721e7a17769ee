using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Parents and children, stopping a subtree, watch and Terminated.</summary>
public sealed class HierarchyTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _time = new();
    private readonly ActorSystem _system;
    private readonly TestProbe _probe;

    public HierarchyTests()
    {
        _system = TestSystems.Create(_time);
        _probe = new TestProbe(_system);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.ShutdownAsync();

    [Fact]
    public async Task A_child_lives_under_its_parents_path_and_sees_its_parent()
    {
        var parent = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            var child = a.Context.ActorOf(LambdaActor.Props((c, _) => c.Reply(c.Context.Parent.Path)), "kid");
            _probe.Tell(child.Path);
            child.Tell("who is your parent?", _probe);
        }), "mum");
        parent.Tell("go");

        await _probe.ExpectMsgAsync("/user/mum/kid");
        await _probe.ExpectMsgAsync("/user/mum");
    }

    [Fact]
    public async Task Stopping_a_parent_stops_its_children_first_then_the_parent()
    {
        var order = new List<string>();
        Action<LambdaActor> record = a => { lock (order) { order.Add(a.Self.Path); } };
        var parent = _system.ActorOf(LambdaActor.Props(
            (_, _) => { },
            preStart: a =>
            {
                var child = a.Context.ActorOf(LambdaActor.Props((_, _) => { }, preStart: c => c.Context.ActorOf(LambdaActor.Props((_, _) => { }, postStop: record), "grandchild"), postStop: record), "child");
                _probe.Tell(child);
            },
            postStop: record), "parent");
        var child = await _probe.ExpectMsgAsync<IActorRef>();
        _probe.Watch(child);

        _system.Stop(parent);
        await _probe.ExpectTerminatedAsync(child);
        await _probe.ExpectTerminatedAsync(parent);
        lock (order)
        {
            Assert.Equal(["/user/parent/child/grandchild", "/user/parent/child", "/user/parent"], order);
        }
    }

    [Fact]
    public async Task A_watcher_gets_Terminated_and_one_that_watches_a_dead_actor_gets_it_at_once()
    {
        var target = _system.ActorOf(LambdaActor.Props((_, _) => { }), "target");
        var watcher = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is IActorRef toWatch)
            {
                a.Context.Watch(toWatch);
            }
            else
            {
                _probe.Tell(m);
            }
        }), "watcher");
        watcher.Tell(target);
        await _system.WhenIdleAsync();

        _system.Stop(target);
        var terminated = await _probe.ExpectMsgAsync<Terminated>();
        Assert.Same(target, terminated.Actor);

        watcher.Tell(target); // already dead: Terminated at once
        Assert.Same(target, (await _probe.ExpectMsgAsync<Terminated>()).Actor);
    }

    [Fact]
    public async Task Unwatch_means_no_Terminated()
    {
        var target = _system.ActorOf(LambdaActor.Props((_, _) => { }));
        var watcher = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "watch")
            {
                a.Context.Watch(target);
                a.Context.Unwatch(target);
            }
            else
            {
                _probe.Tell(m);
            }
        }));
        watcher.Tell("watch");
        await _system.WhenIdleAsync();
        _system.Stop(target);
        await new TestProbe(_system).ExpectTerminatedAsync(target);
        await _probe.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task A_taken_or_malformed_child_name_is_rejected_with_a_clear_error()
    {
        var parent = _system.ActorOf(LambdaActor.Props((a, m) =>
        {
            try
            {
                a.Context.ActorOf(LambdaActor.Props((_, _) => { }), (string)m);
                _probe.Tell("created");
            }
            catch (InvalidActorNameException e)
            {
                _probe.Tell(e.Message);
            }
        }));
        parent.Tell("twin");
        await _probe.ExpectMsgAsync("created");
        parent.Tell("twin");
        await _probe.ExpectMsgAsync<string>(s => s.Contains("'twin' is already taken", StringComparison.Ordinal));
        parent.Tell("a/b");
        await _probe.ExpectMsgAsync<string>(s => s.Contains("contain no '/'", StringComparison.Ordinal));
        parent.Tell("$x");
        await _probe.ExpectMsgAsync<string>(s => s.Contains("not start with '$'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_actor_may_stop_itself_or_its_children_but_not_a_stranger()
    {
        var stranger = _system.ActorOf(LambdaActor.Props((_, _) => { }), "stranger");
        var actor = _system.ActorOf(LambdaActor.Props((a, _) =>
        {
            var error = Record.Exception(() => a.Context.Stop(stranger));
            _probe.Tell(error?.Message ?? "no error");
        }));
        actor.Tell("go");
        await _probe.ExpectMsgAsync<string>(s => s.Contains("can stop only itself or its own children", StringComparison.Ordinal));
    }

    [Fact]
    public void Creating_an_actor_with_new_outside_the_kernel_fails_clearly()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new LambdaActor((_, _) => { }));
        Assert.Contains("create it with ActorSystem.ActorOf", error.Message, StringComparison.Ordinal);
    }
}
