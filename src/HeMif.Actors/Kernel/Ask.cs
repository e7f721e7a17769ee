using System.Diagnostics;

namespace HeMif.Kernel;

/// <summary>
/// The reply slot of one Ask: an <see cref="IActorRef"/> the target replies to, and the
/// <see cref="TaskCompletionSource{TResult}"/> the caller awaits (it is one: two allocations per Ask in all).
/// It completes exactly once, with the first of: the reply, a <see cref="Status.Failure"/>, the timeout, the
/// caller's cancellation, the target stopping, or the system shutting down.
/// </summary>
internal sealed class AskPromise<TReply> : TaskCompletionSource<TReply>, IActorRef, IPendingAsk
{
    private readonly object _request;
    private readonly TimeSpan _timeout;
    private CancellationTokenRegistration _cancellation;

    public AskPromise(ActorSystem system, IActorRef target, object request, TimeSpan timeout)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        System = system;
        Target = target;
        _request = request;
        _timeout = timeout;
    }

    public string Path => $"{Target.Path}/$ask";

    public ActorSystem System { get; }

    public IActorRef Target { get; }

    public long Deadline { get; set; }

    public bool IsCompleted => Task.IsCompleted;

    // The target cell's intrusive list of pending asks (no allocation per Ask); guarded by that cell's lock.
    public IPendingAsk? Previous { get; set; }

    public IPendingAsk? Next { get; set; }

    public void Tell(object message, IActorRef? sender = null)
    {
        var completed = message switch
        {
            TReply reply => TrySetResult(reply),
            Status.Failure failure => TrySetException(failure.Cause),
            _ => TrySetException(new AskReplyTypeException(
                $"Ask to {Target.Path} with {Describe(_request)} expected a reply of type {typeof(TReply).Name} but got {Describe(message)}.")),
        };
        if (completed)
        {
            Cleanup();
        }
    }

    public void RegisterCancellation(CancellationToken token)
    {
        if (token.CanBeCanceled)
        {
            _cancellation = token.UnsafeRegister(static (state, ct) =>
            {
                var promise = (AskPromise<TReply>)state!;
                if (promise.TrySetCanceled(ct))
                {
                    promise.Cleanup();
                }
            }, this);
        }
    }

    public void TimedOut() => Fail(new AskTimeoutException(
        $"Ask to {Target.Path} with {Describe(_request)} got no reply within {_timeout.TotalMilliseconds:0.###} ms."));

    public void TargetStopped() => Fail(new ActorStoppedException(
        $"Ask to {Target.Path} with {Describe(_request)} failed: the actor stopped before replying."));

    public void SystemShutDown() => Fail(new ActorSystemShutdownException(
        $"Ask to {Target.Path} with {Describe(_request)} failed: actor system '{System.Name}' shut down before a reply arrived."));

    internal static string Describe(object message) => message.GetType().Name;

    private void Fail(Exception exception)
    {
        if (TrySetException(exception))
        {
            Cleanup();
        }
    }

    private void Cleanup()
    {
        _cancellation.Dispose();
        (Target as ActorCell)?.RemovePendingAsk(this);
        System.AskTimeouts.Completed();
    }
}

/// <summary>What the kernel needs of a pending Ask, whatever its reply type.</summary>
internal interface IPendingAsk
{
    long Deadline { get; }

    bool IsCompleted { get; }

    IPendingAsk? Previous { get; set; }

    IPendingAsk? Next { get; set; }

    void TimedOut();

    void TargetStopped();

    void SystemShutDown();
}

/// <summary>
/// All pending Asks of one system ordered by deadline, behind a single <see cref="ITimer"/> armed for the earliest:
/// no timer allocated per Ask, and exact in virtual time. Completed Asks leave the queue lazily (at their deadline, or
/// in a sweep once they are the majority), so memory stays proportional to the Asks of one timeout period.
/// </summary>
internal sealed class AskTimeouts : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly PriorityQueue<IPendingAsk, long> _queue = new();
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private int _completedInQueue;
    private bool _closed;

    public AskTimeouts(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static s => ((AskTimeouts)s!).Expire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Adds an Ask; false when the system has shut down (the caller then fails the Ask).</summary>
    public bool Add(IPendingAsk ask)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return false;
            }

            _queue.Enqueue(ask, ask.Deadline);
            if (_completedInQueue > 1024 && _completedInQueue > _queue.Count / 2)
            {
                Sweep();
            }

            if (ask.Deadline < _armedFor)
            {
                Arm(ask.Deadline);
            }

            return true;
        }
    }

    public void Completed() => Interlocked.Increment(ref _completedInQueue);

    /// <summary>Stops the timer and returns every Ask still pending, for the caller to fail.</summary>
    public List<IPendingAsk> Close()
    {
        lock (_lock)
        {
            _closed = true;
            _timer.Dispose();
            var pending = new List<IPendingAsk>(_queue.Count);
            while (_queue.TryDequeue(out var ask, out _))
            {
                if (!ask.IsCompleted)
                {
                    pending.Add(ask);
                }
            }

            return pending;
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Expire()
    {
        List<IPendingAsk>? due = null;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            var now = _time.GetTimestamp();
            while (_queue.TryPeek(out var ask, out var deadline) && deadline <= now)
            {
                _queue.Dequeue();
                if (ask.IsCompleted)
                {
                    Interlocked.Decrement(ref _completedInQueue);
                }
                else
                {
                    (due ??= []).Add(ask);
                }
            }

            _armedFor = long.MaxValue;
            if (_queue.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        // Completing outside the lock: a completion runs Cleanup, which counts itself as completed-in-queue.
        foreach (var ask in due ?? [])
        {
            ask.TimedOut();
            Interlocked.Decrement(ref _completedInQueue);
        }
    }

    private void Arm(long deadline)
    {
        _armedFor = deadline;
        var now = _time.GetTimestamp();
        var wait = deadline <= now ? TimeSpan.Zero : _time.GetElapsedTime(now, deadline);
        _timer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private void Sweep()
    {
        var live = new List<(IPendingAsk, long)>(_queue.Count - _completedInQueue);
        while (_queue.TryDequeue(out var ask, out var deadline))
        {
            if (!ask.IsCompleted)
            {
                live.Add((ask, deadline));
            }
        }

        _queue.EnqueueRange(live);
        Interlocked.Exchange(ref _completedInQueue, 0);
        Debug.Assert(_queue.Count == live.Count, "the sweep keeps exactly the live asks");
    }
}
