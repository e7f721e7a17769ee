using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Parents and children, stopping a subtree, watch and Terminated.</summary>
public sealed class HierarchyTests : KernelTest
{
    [Fact]
    public async Task A_child_lives_under_its_parents_path_and_sees_its_parent()
    {
        var parent = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            var child = a.Context.ActorOf(LambdaActor.Props((c, _) => c.Reply(c.Context.Parent.Path)), "kid");
            Probe.Tell(child.Path);
            child.Tell("who is your parent?", Probe);
        }), "mum");
        parent.Tell("go");

        await Probe.ExpectMsgAsync("/user/mum/kid");
        await Probe.ExpectMsgAsync("/user/mum");
    }

    [Fact]
    public async Task Stopping_a_parent_stops_its_children_first_then_the_parent()
    {
        var order = new List<string>();
        Action<LambdaActor> record = a => { lock (order) { order.Add(a.Self.Path); } };
        var parent = System.ActorOf(LambdaActor.Props(
            (_, _) => { },
            preStart: a =>
            {
                var child = a.Context.ActorOf(LambdaActor.Props((_, _) => { }, preStart: c => c.Context.ActorOf(LambdaActor.Props((_, _) => { }, postStop: record), "grandchild"), postStop: record), "child");
                Probe.Tell(child);
            },
            postStop: record), "parent");
        var child = await Probe.ExpectMsgAsync<IActorRef>();
        Probe.Watch(child);

        System.Stop(parent);
        await Probe.ExpectTerminatedAsync(child);
        await Probe.ExpectTerminatedAsync(parent);
        lock (order)
        {
            Assert.Equal(["/user/parent/child/grandchild", "/user/parent/child", "/user/parent"], order);
        }
    }

    [Fact]
    public async Task A_watcher_gets_Terminated_and_one_that_watches_a_dead_actor_gets_it_at_once()
    {
        var target = System.ActorOf(LambdaActor.Props((_, _) => { }), "target");
        var watcher = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is IActorRef toWatch)
            {
                a.Context.Watch(toWatch);
            }
            else
            {
                Probe.Tell(m);
            }
        }), "watcher");
        watcher.Tell(target);
        await System.WhenIdleAsync();

        System.Stop(target);
        var terminated = await Probe.ExpectMsgAsync<Terminated>();
        Assert.Same(target, terminated.Actor);

        watcher.Tell(target); // already dead: Terminated at once
        Assert.Same(target, (await Probe.ExpectMsgAsync<Terminated>()).Actor);
    }

    [Fact]
    public async Task Unwatch_means_no_Terminated()
    {
        var target = System.ActorOf(LambdaActor.Props((_, _) => { }));
        var watcher = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            if (m is "watch")
            {
                a.Context.Watch(target);
                a.Context.Unwatch(target);
            }
            else
            {
                Probe.Tell(m);
            }
        }));
        watcher.Tell("watch");
        await System.WhenIdleAsync();
        System.Stop(target);
        await new TestProbe(System).ExpectTerminatedAsync(target);
        await Probe.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task A_taken_or_malformed_child_name_is_rejected_with_a_clear_error()
    {
        var parent = System.ActorOf(LambdaActor.Props((a, m) =>
        {
            try
            {
                a.Context.ActorOf(LambdaActor.Props((_, _) => { }), (string)m);
                Probe.Tell("created");
            }
            catch (InvalidActorNameException e)
            {
                Probe.Tell(e.Message);
            }
        }));
        parent.Tell("twin");
        await Probe.ExpectMsgAsync("created");
        parent.Tell("twin");
        await Probe.ExpectMsgAsync<string>(s => s.Contains("'twin' is already taken", StringComparison.Ordinal));
        parent.Tell("a/b");
        await Probe.ExpectMsgAsync<string>(s => s.Contains("contain no '/'", StringComparison.Ordinal));
        parent.Tell("$x");
        await Probe.ExpectMsgAsync<string>(s => s.Contains("not start with '$'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_actor_may_stop_itself_or_its_children_but_not_a_stranger()
    {
        var stranger = System.ActorOf(LambdaActor.Props((_, _) => { }), "stranger");
        var actor = System.ActorOf(LambdaActor.Props((a, _) =>
        {
            var error = Record.Exception(() => a.Context.Stop(stranger));
            Probe.Tell(error?.Message ?? "no error");
        }));
        actor.Tell("go");
        await Probe.ExpectMsgAsync<string>(s => s.Contains("can stop only itself or its own children", StringComparison.Ordinal));
    }

    [Fact]
    public void Creating_an_actor_with_new_outside_the_kernel_fails_clearly()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new LambdaActor((_, _) => { }));
        Assert.Contains("create it with ActorSystem.ActorOf", error.Message, StringComparison.Ordinal);
    }
}
