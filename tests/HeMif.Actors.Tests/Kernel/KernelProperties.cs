using FsCheck.Fluent;
using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Kernel invariants over generated cases (FsCheck).</summary>
public sealed class KernelProperties
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(1);

    private enum Behaviour
    {
        Reply,
        ReplyTwice,
        Silent,
        StopBeforeReplying,
        ReplyFailure,
        ReplyWrongType,
        CallerCancels,
    }

    /// <summary>
    /// No message is lost or duplicated between live actors, and each sender's messages arrive in the order sent,
    /// whatever the number of senders and messages.
    /// </summary>
    [Fact]
    public void Between_live_actors_no_message_is_lost_or_duplicated_and_each_senders_order_holds()
    {
        var counts = Gen.ListOf(Gen.Choose(0, 300)).Where(l => l.Count is > 0 and <= 5).Select(l => l.ToArray());
        PropertyCheck.ForAll(counts, perSender =>
        {
            var system = TestSystems.Create(new ManualTimeProvider());
            try
            {
                var log = new List<(int Sender, int Seq)>();
                var receiver = system.ActorOf(LambdaActor.Props((_, m) => log.Add(((int, int))m)), "receiver");
                var senders = perSender.Select((n, id) => system.ActorOf(LambdaActor.Props((_, _) =>
                {
                    for (var seq = 0; seq < n; seq++)
                    {
                        receiver.Tell((id, seq));
                    }
                }))).ToList();
                senders.ForEach(s => s.Tell("go"));
                system.WhenIdleAsync().Wait(TestProbe.DefaultTimeout);

                // The receiver's log is touched only by its own loop; the system is idle, so reading it is safe.
                return log.Count == perSender.Sum()
                       && perSender.Select((n, id) => log.Where(e => e.Sender == id).Select(e => e.Seq).SequenceEqual(Enumerable.Range(0, n))).All(ok => ok);
            }
            finally
            {
                system.ShutdownAsync().Wait(TestProbe.DefaultTimeout);
            }
        }, maxTest: 60);
    }

    /// <summary>
    /// Every Ask completes exactly once, with the outcome its target's behaviour calls for, whatever mix of replies,
    /// silences, stops, failures, wrong types and cancellations it meets.
    /// </summary>
    [Fact]
    public void Every_Ask_completes_exactly_once_with_the_outcome_its_target_calls_for()
    {
        var behaviours = Gen.ListOf(Gen.Elements(Enum.GetValues<Behaviour>())).Where(l => l.Count is > 0 and <= 25).Select(l => l.ToArray());
        PropertyCheck.ForAll(behaviours, plan =>
        {
            var time = new ManualTimeProvider();
            var system = TestSystems.Create(time);
            try
            {
                var completions = new int[plan.Length];
                var asks = new Task<string>[plan.Length];
                var cancellations = new List<CancellationTokenSource>();
                for (var i = 0; i < plan.Length; i++)
                {
                    var behaviour = plan[i];
                    var target = system.ActorOf(LambdaActor.Props((a, _) => Act(a, behaviour)));
                    var ct = CancellationToken.None;
                    if (plan[i] == Behaviour.CallerCancels)
                    {
                        var source = new CancellationTokenSource();
                        cancellations.Add(source);
                        ct = source.Token;
                    }

                    var index = i;
                    asks[i] = target.Ask<string>("question", AskTimeout, ct);
                    asks[i].ContinueWith(_ => Interlocked.Increment(ref completions[index]), TaskScheduler.Default);
                }

                system.WhenIdleAsync().Wait(TestProbe.DefaultTimeout);
                cancellations.ForEach(c => c.Cancel());
                time.Advance(AskTimeout);
                Task.WhenAll(asks.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).Wait(TestProbe.DefaultTimeout);
                cancellations.ForEach(c => c.Dispose());
                SpinWait.SpinUntil(() => completions.All(c => c >= 1), TestProbe.DefaultTimeout);

                return completions.All(c => c == 1) && plan.Select((b, i) => Matches(b, asks[i])).All(ok => ok);
            }
            finally
            {
                system.ShutdownAsync().Wait(TestProbe.DefaultTimeout);
            }
        }, maxTest: 60);
    }

    private static void Act(LambdaActor actor, Behaviour behaviour)
    {
        switch (behaviour)
        {
            case Behaviour.Reply:
                actor.Reply("answer");
                break;
            case Behaviour.ReplyTwice:
                actor.Reply("answer");
                actor.Reply("again");
                break;
            case Behaviour.StopBeforeReplying:
                actor.Context.Stop(actor.Self);
                break;
            case Behaviour.ReplyFailure:
                actor.Reply(new Status.Failure(new FormatException("refused")));
                break;
            case Behaviour.ReplyWrongType:
                actor.Reply(42);
                break;
        }
    }

    private static bool Matches(Behaviour behaviour, Task<string> ask) => behaviour switch
    {
        Behaviour.Reply or Behaviour.ReplyTwice => ask.IsCompletedSuccessfully && ask.Result == "answer",
        Behaviour.Silent => ask.Exception?.InnerException is AskTimeoutException,
        Behaviour.StopBeforeReplying => ask.Exception?.InnerException is ActorStoppedException,
        Behaviour.ReplyFailure => ask.Exception?.InnerException is FormatException,
        Behaviour.ReplyWrongType => ask.Exception?.InnerException is AskReplyTypeException,
        Behaviour.CallerCancels => ask.IsCanceled,
        _ => false,
    };
}
