using System.Collections.Concurrent;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace HeMif.Kernel;

/// <summary>Settings of an <see cref="ActorSystem"/>.</summary>
internal sealed record ActorSystemSettings
{
    /// <summary>The one clock of every timer, Ask timeout and restart backoff. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The timeout of an Ask that names none. Default: 10 s.</summary>
    public TimeSpan DefaultAskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How the user guardian supervises top-level actors. Default: <see cref="SupervisorStrategy.Default"/>.</summary>
    public SupervisorStrategy GuardianStrategy { get; init; } = SupervisorStrategy.Default;

    /// <summary>
    /// Count messages in flight so that <see cref="ActorSystem.WhenIdleAsync"/> can tell when nothing is left to do
    /// but wait for the clock (tests in virtual time). Costs two interlocked operations per message; off by default.
    /// </summary>
    public bool TrackQuiescence { get; init; }
}

/// <summary>
/// A tree of actors under one user guardian, one clock and one dead-letter stream (Akka's ActorSystem, kept small:
/// it exists to host the HE-MIF actors).
/// <para>
/// Shutdown (<see cref="ShutdownAsync"/>) <b>discards</b>: every actor stops after the message it is processing,
/// children before parents; messages still queued are published as dead letters; every pending Ask fails with
/// <see cref="ActorSystemShutdownException"/> (or <see cref="ActorStoppedException"/> if its target stopped first);
/// timers are cancelled; the returned task completes only when no actor loop is running any more; then the
/// <see cref="DeadLetterStream"/> and <see cref="Failures"/> streams complete.
/// </para>
/// </summary>
internal sealed class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell _guardian;
    private readonly ISubject<DeadLetter> _deadLetters = Subject.Synchronize(new Subject<DeadLetter>());
    private readonly ISubject<ActorFailure> _failures = Subject.Synchronize(new Subject<ActorFailure>());
    private readonly ConcurrentDictionary<ActorCell, byte> _liveCells = new();
    private readonly Lock _shutdownLock = new();
    private Task? _shutdown;
    private long _inFlight;

    private ActorSystem(string name, ActorSystemSettings settings)
    {
        Name = name;
        Settings = settings;
        AskTimeouts = new AskTimeouts(settings.TimeProvider);
        DeadLetters = new DeadLetterRef(this);
        // The guardian's strategy is known before its instance exists: a top-level actor may fail first.
        _guardian = new ActorCell(this, parent: null, "user", Props.Create(() => new Guardian(settings.GuardianStrategy)), settings.GuardianStrategy);
        _guardian.Start();
    }

    /// <summary>The system's name (in error messages).</summary>
    public string Name { get; }

    /// <summary>The settings it was created with.</summary>
    public ActorSystemSettings Settings { get; }

    /// <summary>The system's one clock.</summary>
    public TimeProvider TimeProvider => Settings.TimeProvider;

    /// <summary>A reference whose messages are published as dead letters (the sender of messages sent by nobody).</summary>
    public IActorRef DeadLetters { get; }

    /// <summary>Every undeliverable or unhandled message. Completes when the system has shut down.</summary>
    public IObservable<DeadLetter> DeadLetterStream => _deadLetters.AsObservable();

    /// <summary>Every actor failure with the supervisor's decision. Completes when the system has shut down.</summary>
    public IObservable<ActorFailure> Failures => _failures.AsObservable();

    /// <summary>How many actor loops are running (the guardian included until shutdown).</summary>
    public int LiveActorCount => _liveCells.Count;

    internal AskTimeouts AskTimeouts { get; }

    /// <summary>Creates a system; <paramref name="settings"/> default to the system clock.</summary>
    public static ActorSystem Create(string name, ActorSystemSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new ActorSystem(name, settings ?? new ActorSystemSettings());
    }

    /// <summary>Starts a top-level actor under the user guardian.</summary>
    public IActorRef ActorOf(Props props, string? name = null)
    {
        lock (_shutdownLock)
        {
            if (_shutdown is not null)
            {
                throw new InvalidOperationException($"Actor system '{Name}' is shutting down; no new actors can start.");
            }
        }

        return _guardian.ActorOf(props, name);
    }

    /// <summary>Stops an actor after the message it is processing (its queued messages go to dead letters).</summary>
    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!ReferenceEquals(actor.System, this))
        {
            throw new ArgumentException($"{actor.Path} belongs to actor system '{actor.System.Name}', not '{Name}'.", nameof(actor));
        }

        (actor as ActorCell)?.RequestStop();
    }

    /// <summary>
    /// Sends <paramref name="message"/> to <paramref name="target"/> and returns its reply. Fails with
    /// <see cref="AskTimeoutException"/> after <paramref name="timeout"/> (default
    /// <see cref="ActorSystemSettings.DefaultAskTimeout"/>), <see cref="ActorStoppedException"/> if the target
    /// stops first, <see cref="AskReplyTypeException"/> for a reply of another type, the reply's cause for a
    /// <see cref="Status.Failure"/>, and is cancelled with <paramref name="cancellationToken"/>.
    /// </summary>
    public Task<TReply> Ask<TReply>(IActorRef target, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        var wait = timeout ?? Settings.DefaultAskTimeout;
        if (wait <= TimeSpan.Zero || wait == Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), wait, "An Ask timeout must be positive and finite.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TReply>(cancellationToken);
        }

        var promise = new AskPromise<TReply>(this, target, message, wait);
        var ticks = (long)(wait.Ticks * (TimeProvider.TimestampFrequency / (double)TimeSpan.TicksPerSecond));
        promise.Deadline = TimeProvider.GetTimestamp() + Math.Max(1, ticks);
        if (!AskTimeouts.Add(promise))
        {
            promise.SystemShutDown();
            return promise.Task;
        }

        if (target is ActorCell cell && !cell.AddPendingAsk(promise))
        {
            promise.TargetStopped();
            return promise.Task;
        }

        promise.RegisterCancellation(cancellationToken);
        target.Tell(message, promise);
        return promise.Task;
    }

    /// <summary>
    /// Completes when no message is queued or being processed anywhere in the system and no piped task is
    /// outstanding: all that is left is waiting for the clock. Needs <see cref="ActorSystemSettings.TrackQuiescence"/>.
    /// </summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken = default)
    {
        if (!Settings.TrackQuiescence)
        {
            throw new InvalidOperationException($"Actor system '{Name}' does not track quiescence; create it with TrackQuiescence = true.");
        }

        // Polling is fine here: this waits for other threads to finish real work, it measures no time.
        var spins = 0;
        while (Volatile.Read(ref _inFlight) != 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (++spins < 50)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops every actor and fails every pending Ask; see the class remarks. Idempotent.</summary>
    public Task ShutdownAsync()
    {
        lock (_shutdownLock)
        {
            return _shutdown ??= RunShutdownAsync();
        }
    }

    /// <summary>Same as <see cref="ShutdownAsync"/>.</summary>
    public ValueTask DisposeAsync() => new(ShutdownAsync());

    internal void MessageEnqueued()
    {
        if (Settings.TrackQuiescence)
        {
            Interlocked.Increment(ref _inFlight);
        }
    }

    internal void MessageHandled()
    {
        if (Settings.TrackQuiescence)
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    internal void CellStarted(ActorCell cell) => _liveCells.TryAdd(cell, 0);

    internal void CellEnded(ActorCell cell) => _liveCells.TryRemove(cell, out _);

    internal void PublishDeadLetter(object message, IActorRef? sender, IActorRef recipient, string reason)
    {
        if (sender is IPendingAsk ask)
        {
            // An Ask whose question cannot be delivered fails now rather than at its timeout.
            ask.TargetStopped();
        }

        _deadLetters.OnNext(new DeadLetter(message, sender, recipient, reason));
    }

    internal void PublishFailure(ActorFailure failure) => _failures.OnNext(failure);

    private async Task RunShutdownAsync()
    {
        _guardian.RequestStop();
        await _guardian.WhenTerminated.ConfigureAwait(false);

        // The guardian terminates after all its descendants; wait until every loop has returned as well.
        while (!_liveCells.IsEmpty)
        {
            await Task.WhenAll(_liveCells.Keys.Select(c => c.Completion)).ConfigureAwait(false);
        }

        foreach (var ask in AskTimeouts.Close())
        {
            ask.SystemShutDown();
        }

        _deadLetters.OnCompleted();
        _failures.OnCompleted();
    }

    /// <summary>The root of user actors; applies the configured guardian strategy to top-level actors.</summary>
    private sealed class Guardian(SupervisorStrategy strategy) : Actor
    {
        protected internal override SupervisorStrategy SupervisorStrategy => strategy;

        protected internal override void OnReceive(object message) => Unhandled(message);
    }

    /// <summary>Whatever is told to it is published as a dead letter.</summary>
    private sealed class DeadLetterRef(ActorSystem system) : IActorRef
    {
        public string Path => "/deadLetters";

        public ActorSystem System => system;

        public void Tell(object message, IActorRef? sender = null)
        {
            ArgumentNullException.ThrowIfNull(message);
            system.PublishDeadLetter(message, sender, this, "sent to dead letters");
        }
    }
}

/// <summary>Akka's Ask and PipeTo as extension methods.</summary>
internal static class PipeToExtensions
{
    /// <summary>Asks through the target's system; see <see cref="ActorSystem.Ask{TReply}"/>.</summary>
    public static Task<TReply> Ask<TReply>(this IActorRef target, object message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.System.Ask<TReply>(target, message, timeout, cancellationToken);
    }

    /// <summary>
    /// Sends the task's result to <paramref name="recipient"/> when it completes: the value (or
    /// <paramref name="success"/>'s projection), or a <see cref="Status.Failure"/> (or <paramref name="failure"/>'s
    /// projection) when it faults or is cancelled. The message is posted on the thread that completes the task, the
    /// moment it completes, whatever that thread's synchronization context (an <c>await</c> would defer it there): a
    /// virtual-time run then sees it before the clock moves on. The outstanding task counts for quiescence unless
    /// <paramref name="countsAsWork"/> is false: I/O that waits on the system's clock (a simulated network, whose answers
    /// come from timers) is not work in flight, or a blackholed attempt would keep the system busy forever.
    /// </summary>
    public static Task PipeTo<T>(this Task<T> task, IActorRef recipient, IActorRef? sender = null, Func<T, object>? success = null, Func<Exception, object>? failure = null, bool countsAsWork = true)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(recipient);
        if (countsAsWork)
        {
            recipient.System.MessageEnqueued();
        }

        return task.ContinueWith(
            static (completed, state) => ((Pipe<T>)state!).Deliver(completed),
            new Pipe<T>(recipient, sender, success, failure, countsAsWork),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private sealed class Pipe<T>(IActorRef recipient, IActorRef? sender, Func<T, object>? success, Func<Exception, object>? failure, bool countsAsWork)
    {
        public void Deliver(Task<T> completed)
        {
            try
            {
                object message;
                try
                {
                    if (completed.IsCompletedSuccessfully)
                    {
                        var result = completed.Result;
                        message = success is not null ? success(result)
                            : result is not null ? result
                            : new Status.Failure(new InvalidOperationException($"The task piped to {recipient.Path} returned null, which cannot be a message."));
                    }
                    else
                    {
                        Exception error = completed.IsCanceled ? new TaskCanceledException(completed) : completed.Exception!.InnerException ?? completed.Exception!;
                        message = failure is null ? new Status.Failure(error) : failure(error);
                    }
                }
#pragma warning disable CA1031 // A throwing projection becomes the failure message: the recipient must always hear back.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    message = new Status.Failure(ex);
                }

                recipient.Tell(message, sender);
            }
            finally
            {
                if (countsAsWork)
                {
                    recipient.System.MessageHandled();
                }
            }
        }
    }
}
