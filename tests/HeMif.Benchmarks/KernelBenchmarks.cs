using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using HeMif.Kernel;

namespace HeMif.Benchmarks;

/// <summary>
/// Tell throughput through one actor, next to the same work on a bare <see cref="Channel{T}"/> reader loop.
/// Goal (issue 2): the kernel reaches at least 0.6x of the bare channel's throughput.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class TellThroughputBenchmarks
{
    private const int Messages = 100_000;
    private static readonly object Message = new();
    private readonly Sink _sink = new();
    private ActorSystem _system = null!;
    private IActorRef _actor = null!;
    private Channel<object> _channel = null!;
    private Task _bareLoop = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _actor = _system.ActorOf(Props.Create(() => new CountingActor(_sink)), "counter");
        _channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
        _bareLoop = Task.Run(async () =>
        {
            var reader = _channel.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var m))
                {
                    _sink.Handle(m);
                }
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _channel.Writer.Complete();
        _bareLoop.GetAwaiter().GetResult();
        _system.ShutdownAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public Task BareChannel()
    {
        var done = _sink.Reset(Messages);
        var writer = _channel.Writer;
        for (var i = 0; i < Messages; i++)
        {
            writer.TryWrite(Message);
        }

        return done;
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public Task KernelTell()
    {
        var done = _sink.Reset(Messages);
        for (var i = 0; i < Messages; i++)
        {
            _actor.Tell(Message);
        }

        return done;
    }

    /// <summary>The same handler for both loops: count, and signal when the batch is in.</summary>
    public sealed class Sink
    {
        private int _count;
        private int _target;
        private TaskCompletionSource _done = new();

        public Task Reset(int target)
        {
            _count = 0;
            _target = target;
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _done.Task;
        }

        public void Handle(object message)
        {
            if (++_count == _target)
            {
                _done.SetResult();
            }
        }
    }

    private sealed class CountingActor(Sink sink) : Actor
    {
        protected internal override void OnReceive(object message) => sink.Handle(message);
    }
}

/// <summary>
/// Ask round trip to an echo actor, next to a request/reply over a bare channel with a TaskCompletionSource slot.
/// Goal (issue 2): at most 3 objects allocated per Ask. <see cref="OneAskPromise"/> allocates exactly the promise
/// and its Task, so comparing its bytes with <see cref="KernelAsk"/>'s shows the object count.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class AskRoundTripBenchmarks
{
    private static readonly object Question = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private ActorSystem _system = null!;
    private IActorRef _echo = null!;
    private Channel<(object, TaskCompletionSource<object>)> _channel = null!;
    private Task _bareLoop = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _echo = _system.ActorOf(Props.Create(() => new EchoActor()), "echo");
        _channel = Channel.CreateUnbounded<(object, TaskCompletionSource<object>)>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
        _bareLoop = Task.Run(async () =>
        {
            var reader = _channel.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var request))
                {
                    request.Item2.SetResult(request.Item1);
                }
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _channel.Writer.Complete();
        _bareLoop.GetAwaiter().GetResult();
        _system.ShutdownAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public Task<object> BareChannelRequestReply()
    {
        var slot = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        _channel.Writer.TryWrite((Question, slot));
        return slot.Task;
    }

    [Benchmark]
    public Task<object> KernelAsk() => _echo.Ask<object>(Question, Timeout);

    /// <summary>Allocates one promise (and so its Task) and nothing else: the reference for the object count.</summary>
    [Benchmark]
    public object OneAskPromise() => new AskPromise<object>(_system, _echo, Question, Timeout);

    private sealed class EchoActor : Actor
    {
        protected internal override void OnReceive(object message) => Reply(message);
    }
}

/// <summary>
/// Scheduling and cancelling an actor timer, next to creating and disposing a bare <see cref="ITimer"/> on the same
/// <see cref="TimeProvider"/>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class TimerSchedulingBenchmarks
{
    private static readonly object Tick = new();
    private ActorSystem _system = null!;
    private ActorTimers _timers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _timers = new ActorTimers(new ActorCell(_system, parent: null, "timer-owner", Props.Create(() => new IdleActor())));
    }

    [GlobalCleanup]
    public void Cleanup() => _system.ShutdownAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public void BareTimerCreateDispose() =>
        TimeProvider.System.CreateTimer(static _ => { }, null, TimeSpan.FromMinutes(5), Timeout.InfiniteTimeSpan).Dispose();

    [Benchmark]
    public void KernelScheduleOnceCancel()
    {
        _timers.ScheduleOnce("key", Tick, TimeSpan.FromMinutes(5));
        _timers.Cancel("key");
    }

    private sealed class IdleActor : Actor
    {
        protected internal override void OnReceive(object message)
        {
        }
    }
}
