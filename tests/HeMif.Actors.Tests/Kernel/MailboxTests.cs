using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Mailbox semantics: Tell never blocks or throws, per-sender order, one message at a time, dead letters.</summary>
public sealed class MailboxTests : KernelTest
{
    [Fact]
    public async Task Messages_from_one_sender_arrive_in_the_order_they_were_told()
    {
        var echo = System.ActorOf(LambdaActor.Props((_, m) => Probe.Tell(m)), "echo");
        for (var i = 0; i < 1000; i++)
        {
            echo.Tell(i);
        }

        for (var i = 0; i < 1000; i++)
        {
            await Probe.ExpectMsgAsync(i);
        }
    }

    [Fact]
    public async Task An_actor_handles_one_message_at_aTime_even_with_many_concurrent_senders()
    {
        var inside = 0;
        var maxInside = 0;
        var handled = 0;
        var actor = System.ActorOf(LambdaActor.Props((_, _) =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref maxInside, now);
            Thread.SpinWait(200);
            Interlocked.Decrement(ref inside);
            Interlocked.Increment(ref handled);
        }));

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                actor.Tell(i);
            }
        })));
        await System.WhenIdleAsync();

        Assert.Equal(8000, handled);
        Assert.Equal(1, maxInside);
    }

    [Fact]
    public async Task Tell_to_a_stopped_actor_does_not_throw_and_the_message_becomes_a_dead_letter()
    {
        var letters = new List<DeadLetter>();
        using var subscription = System.DeadLetterStream.Subscribe(l => { lock (letters) { letters.Add(l); } });
        var actor = System.ActorOf(LambdaActor.Props((_, _) => { }), "short-lived");
        System.Stop(actor);
        await Probe.ExpectTerminatedAsync(actor);

        actor.Tell("too late", Probe);

        lock (letters)
        {
            var letter = Assert.Single(letters, l => Equals(l.Message, "too late"));
            Assert.Same(actor, letter.Recipient);
            Assert.Same(Probe, letter.Sender);
            Assert.Equal("recipient stopped", letter.Reason);
        }
    }

    [Fact]
    public async Task A_message_the_actor_does_not_handle_is_published_as_unhandled()
    {
        var letter = System.DeadLetterStream.FirstAsync().ToTask();
        var actor = System.ActorOf(LambdaActor.Props((a, m) => a.Unhandled(m)));
        actor.Tell(42);

        var seen = await letter.WaitAsync(TestProbe.DefaultTimeout);
        Assert.Equal(42, seen.Message);
        Assert.Equal("unhandled", seen.Reason);
    }

    [Fact]
    public async Task Sender_is_the_reference_the_message_was_told_with()
    {
        var actor = System.ActorOf(LambdaActor.Props((a, m) => a.Reply($"re: {m}")));
        Probe.Send(actor, "hello");
        await Probe.ExpectMsgAsync("re: hello");
        Assert.Same(actor, Probe.LastSender);
    }

    [Fact]
    public async Task PoisonPill_stops_the_actor_after_the_messages_queued_before_it()
    {
        var actor = System.ActorOf(LambdaActor.Props((_, m) => Probe.Tell(m)));
        actor.Tell(1);
        actor.Tell(2);
        actor.Tell(PoisonPill.Instance);
        actor.Tell(3);

        await Probe.ExpectMsgAsync(1);
        await Probe.ExpectMsgAsync(2);
        await Probe.ExpectTerminatedAsync(actor);
        await Probe.ExpectNoMsgAsync("3 was queued after the pill: it must go to dead letters, not to the actor");
    }

    [Fact]
    public async Task Stop_takes_effect_after_the_current_message_and_the_rest_of_the_queue_goes_to_dead_letters()
    {
        using var gate = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var letters = new List<object>();
        using var subscription = System.DeadLetterStream.Subscribe(l => { lock (letters) { letters.Add(l.Message); } });
        var actor = System.ActorOf(LambdaActor.Props((_, m) =>
        {
            if (m is "block")
            {
                entered.Set();
                gate.Wait(TestProbe.DefaultTimeout);
            }

            Probe.Tell(m);
        }));

        actor.Tell("block");
        Assert.True(entered.Wait(TestProbe.DefaultTimeout));
        actor.Tell("queued-1");
        actor.Tell("queued-2");
        System.Stop(actor);
        gate.Set();

        await Probe.ExpectMsgAsync("block");
        await Probe.ExpectTerminatedAsync(actor);
        lock (letters)
        {
            Assert.Equal(["queued-1", "queued-2"], letters.OfType<string>());
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
