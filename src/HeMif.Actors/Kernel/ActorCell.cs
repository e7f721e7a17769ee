using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace HeMif.Kernel;

/// <summary>
/// One live actor: its mailbox (an unbounded single-reader channel), the processing loop, its children,
/// watchers, timers and supervision state. It is also the actor's <see cref="IActorRef"/> and
/// <see cref="IActorContext"/>.
/// <para>
/// Life cycle: <c>Running</c> → (<c>Suspended</c> while a restart waits for its backoff and children, or while an
/// escalated failure waits for the parent) → <c>Stopping</c> (children asked to stop, user messages to dead
/// letters) → <c>Terminated</c> (PostStop has run, the mailbox is closed and drained to dead letters, watchers get
/// <see cref="Terminated"/>, pending Asks to this actor fail).
/// </para>
/// </summary>
internal sealed class ActorCell : IActorRef, IActorContext
{
    [ThreadStatic]
    private static ActorCell? t_constructing;

    private readonly Channel<Envelope> _mailbox = Channel.CreateUnbounded<Envelope>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly ActorCell? _parent;
    private readonly Props _props;
    private readonly Lock _sync = new();                          // guards the fields marked (sync)
    private readonly Dictionary<string, ActorCell> _children = []; // (sync): written by this loop, read by anyone
    private readonly HashSet<IActorRef> _watchers = [];           // (sync)
    private readonly ActorTimers _timers;
    private readonly List<long> _restartTimestamps = [];
    private IPendingAsk? _pendingAsks;                            // (sync): intrusive list of Asks addressed here
    private bool _terminated;                                     // (sync)
    private int _stopRequested;
    private long _nextChildId;
    private long _restartGeneration;

    private State _state = State.Running;
    private Actor? _actor;
    private SupervisorStrategy _childStrategy;
    private Queue<Envelope>? _stash;
    private Exception? _restartCause;
    private bool _restartPending;
    private bool _backoffElapsed;
    private ITimer? _backoffTimer;
    private ActorCell? _escalatedChild;
    private readonly TaskCompletionSource _terminatedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ActorCell(ActorSystem system, ActorCell? parent, string name, Props props, SupervisorStrategy? initialChildStrategy = null)
    {
        System = system;
        _childStrategy = initialChildStrategy ?? SupervisorStrategy.Default;
        _parent = parent;
        _props = props;
        Name = name;
        Path = parent is null ? "/" + name : parent.Path + "/" + name;
        _timers = new ActorTimers(this);
    }

    private enum State
    {
        Running,
        Suspended,
        Stopping,
        Terminated,
    }

    /// <summary>The cell whose factory is running on this thread (lets <see cref="Actor"/>'s constructor bind).</summary>
    internal static ActorCell? Constructing => t_constructing;

    public string Name { get; }

    public string Path { get; }

    public ActorSystem System { get; }

    public IActorRef Self => this;

    public IActorRef Parent => (IActorRef?)_parent ?? System.DeadLetters;

    public TimeProvider TimeProvider => System.TimeProvider;

    public IReadOnlyCollection<IActorRef> Children
    {
        get
        {
            lock (_sync)
            {
                return [.. _children.Values];
            }
        }
    }

    /// <summary>Completes when the actor has terminated and its loop has ended.</summary>
    internal Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Completes when the actor has terminated (watchers notified).</summary>
    internal Task WhenTerminated => _terminatedSignal.Task;

    internal IActorRef? CurrentSender { get; private set; }

    internal bool IsTerminated
    {
        get
        {
            lock (_sync)
            {
                return _terminated;
            }
        }
    }

    /// <summary>
    /// The supervisor strategy this actor's current incarnation applies to its children. Read by children from
    /// their own loops; replaced only when this actor is (re)created.
    /// </summary>
    internal SupervisorStrategy ChildStrategy => Volatile.Read(ref _childStrategy);

    public void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        System.MessageEnqueued();
        if (!_mailbox.Writer.TryWrite(new Envelope(message, sender)))
        {
            System.MessageHandled();
            System.PublishDeadLetter(message, sender, this, "recipient stopped");
        }
    }

    public IActorRef ActorOf(Props props, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(props);
        var childName = name ?? "$" + Interlocked.Increment(ref _nextChildId).ToString(CultureInfo.InvariantCulture);
        if (name is not null)
        {
            ValidateName(name);
        }

        var child = new ActorCell(System, this, childName, props);
        lock (_sync)
        {
            if (_terminated || _state >= State.Stopping)
            {
                throw new InvalidOperationException($"Cannot create child '{childName}': actor {Path} is stopping.");
            }

            if (!_children.TryAdd(childName, child))
            {
                throw new InvalidActorNameException($"Actor name '{childName}' is already taken under {Path}.");
            }
        }

        child.Start();
        return child;
    }

    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (ReferenceEquals(actor, this))
        {
            RequestStop();
            return;
        }

        if (actor is not ActorCell cell || cell._parent != this)
        {
            throw new ArgumentException($"{Path} can stop only itself or its own children, not {actor.Path}.", nameof(actor));
        }

        cell.RequestStop();
    }

    public void Watch(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        (actor as ActorCell)?.AddWatcher(this);
    }

    public void Unwatch(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        (actor as ActorCell)?.RemoveWatcher(this);
    }

    public void ScheduleOnce(object key, object message, TimeSpan delay) => _timers.ScheduleOnce(key, message, delay);

    public void ScheduleRepeatedly(object key, object message, TimeSpan initialDelay, TimeSpan interval) =>
        _timers.ScheduleRepeatedly(key, message, initialDelay, interval);

    public void CancelTimer(object key) => _timers.Cancel(key);

    public bool IsTimerActive(object key) => _timers.IsActive(key);

    public override string ToString() => Path;

    /// <summary>Sends <see cref="Terminated"/> to <paramref name="watcher"/> when this actor stops; at once if it has.</summary>
    internal void AddWatcher(IActorRef watcher)
    {
        lock (_sync)
        {
            if (!_terminated)
            {
                _watchers.Add(watcher);
                return;
            }
        }

        watcher.Tell(new Terminated(this));
    }

    internal void RemoveWatcher(IActorRef watcher)
    {
        lock (_sync)
        {
            _watchers.Remove(watcher);
        }
    }

    /// <summary>Registers an Ask addressed here; false (the caller fails it) if this actor has already terminated.</summary>
    internal bool AddPendingAsk(IPendingAsk ask)
    {
        lock (_sync)
        {
            if (_terminated)
            {
                return false;
            }

            ask.Next = _pendingAsks;
            if (_pendingAsks is not null)
            {
                _pendingAsks.Previous = ask;
            }

            _pendingAsks = ask;
            return true;
        }
    }

    internal void RemovePendingAsk(IPendingAsk ask)
    {
        lock (_sync)
        {
            if (ask.Previous is { } previous)
            {
                previous.Next = ask.Next;
            }
            else if (ReferenceEquals(_pendingAsks, ask))
            {
                _pendingAsks = ask.Next;
            }
            else
            {
                return; // not linked (already removed, or the list was detached at termination)
            }

            if (ask.Next is { } next)
            {
                next.Previous = ask.Previous;
            }

            ask.Previous = null;
            ask.Next = null;
        }
    }

    /// <summary>Asks the actor to stop after the message it is processing; later queued messages go to dead letters.</summary>
    internal void RequestStop()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            Tell(StopSignal.Instance);
        }
    }

    internal void Start()
    {
        System.CellStarted(this);
        System.MessageEnqueued(); // creating the instance is work in flight, like a message
        Completion = Task.Run(RunAsync);
    }

    /// <summary>Whether a stop has been requested (it takes effect after the current message).</summary>
    internal bool StopRequested => Volatile.Read(ref _stopRequested) != 0;

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/', StringComparison.Ordinal) || name.StartsWith('$'))
        {
            throw new InvalidActorNameException($"Invalid actor name '{name}': it must be non-empty, contain no '/', and not start with '$' (reserved for generated names).");
        }
    }

    private async Task RunAsync()
    {
        try
        {
            if (!TryCreateInstance(restartCause: null))
            {
                BeginStop();
            }

            System.MessageHandled();

            var reader = _mailbox.Reader;
            while (_state != State.Terminated)
            {
                if (Volatile.Read(ref _stopRequested) != 0 && _state < State.Stopping)
                {
                    BeginStop();
                    continue;
                }

                if (_state == State.Running && _stash is { Count: > 0 })
                {
                    Invoke(_stash.Dequeue());
                    continue;
                }

                if (reader.TryRead(out var envelope))
                {
                    Process(envelope);
                    System.MessageHandled();
                    continue;
                }

                if (!await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        finally
        {
            System.CellEnded(this);
        }
    }

    private void Process(Envelope envelope)
    {
        if (envelope.Message is SystemMessage system)
        {
            HandleSystem(system);
            return;
        }

        switch (_state)
        {
            case State.Running:
                Invoke(envelope);
                break;
            case State.Suspended:
                (_stash ??= new Queue<Envelope>()).Enqueue(envelope);
                break;
            default:
                // A stopping actor drops its own timer ticks and the Terminated of children it is stopping (both
                // expected, as in Akka); anything else is reported.
                if (envelope.Message is not TimerFired and not Terminated)
                {
                    System.PublishDeadLetter(envelope.Message, envelope.Sender, this, "recipient stopping");
                }

                break;
        }
    }

    private void Invoke(Envelope envelope)
    {
        var message = envelope.Message;
        if (message is TimerFired fired)
        {
            if (_timers.Accept(fired) is not { } timerMessage)
            {
                return; // cancelled or replaced after it fired
            }

            message = timerMessage;
        }
        else if (ReferenceEquals(message, PoisonPill.Instance))
        {
            BeginStop();
            return;
        }

        CurrentSender = envelope.Sender;
        try
        {
            _actor!.OnReceive(message);
        }
#pragma warning disable CA1031 // Supervision: every exception from an actor is data for its supervisor.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HandleFailure(ex, message);
        }
        finally
        {
            CurrentSender = null;
        }
    }

    private void HandleSystem(SystemMessage message)
    {
        switch (message)
        {
            case StopSignal:
                if (_state < State.Stopping)
                {
                    BeginStop();
                }

                break;
            case ChildTerminated terminated:
                lock (_sync)
                {
                    _children.Remove(terminated.Child.Name);
                }

                if (ReferenceEquals(_escalatedChild, terminated.Child))
                {
                    _escalatedChild = null;
                }

                AfterChildTerminated();
                break;
            case ChildFailed failed:
                HandleChildFailed(failed);
                break;
            case ResumeAfterEscalation:
                if (_state == State.Suspended && !_restartPending)
                {
                    _state = State.Running;
                    _escalatedChild?.Tell(ResumeAfterEscalation.Instance);
                    _escalatedChild = null;
                }

                break;
            case RestartBackoffElapsed elapsed when elapsed.Generation == _restartGeneration:
                _backoffElapsed = true;
                TryCompleteRestart();
                break;
        }
    }

    private void AfterChildTerminated()
    {
        if (_state == State.Stopping)
        {
            bool none;
            lock (_sync)
            {
                none = _children.Count == 0;
            }

            if (none)
            {
                FinishStop();
            }
        }
        else if (_restartPending)
        {
            TryCompleteRestart();
        }
    }

    /// <summary>A child escalated: the failure is treated as this actor's own, decided by this actor's supervisor.</summary>
    private void HandleChildFailed(ChildFailed failed)
    {
        if (_state >= State.Stopping || _restartPending)
        {
            return; // the child is being stopped with us (stopping, or restarting: restarts stop all children)
        }

        if (_parent is null)
        {
            // The guardian is the top: an escalation that reaches it stops the failing top-level actor.
            System.PublishFailure(new ActorFailure(failed.Child, failed.Cause, failed.Message, Directive.Stop, "escalated to the guardian"));
            failed.Child.RequestStop();
            return;
        }

        _escalatedChild = failed.Child;
        HandleFailure(failed.Cause, message: null);
    }

    private void HandleFailure(Exception exception, object? message)
    {
        var strategy = _parent?.ChildStrategy ?? System.Settings.GuardianStrategy;
        var directive = strategy.Decide(exception);
        switch (directive)
        {
            case Directive.Resume:
                System.PublishFailure(new ActorFailure(this, exception, message, directive, "message dropped, state kept"));
                if (_escalatedChild is { } child)
                {
                    _escalatedChild = null;
                    child.Tell(ResumeAfterEscalation.Instance);
                }

                break;
            case Directive.Restart:
                Restart(strategy, exception, message);
                break;
            case Directive.Escalate:
                System.PublishFailure(new ActorFailure(this, exception, message, directive, "suspended until the supervisor's supervisor decides"));
                _state = State.Suspended;
                _parent!.Tell(new ChildFailed(this, exception, message));
                break;
            default:
                System.PublishFailure(new ActorFailure(this, exception, message, Directive.Stop, "stopped by its supervisor"));
                BeginStop();
                break;
        }
    }

    private void Restart(SupervisorStrategy strategy, Exception cause, object? message)
    {
        var now = TimeProvider.GetTimestamp();
        _restartTimestamps.RemoveAll(t => TimeProvider.GetElapsedTime(t, now) >= strategy.Window);
        if (_restartTimestamps.Count >= strategy.MaxRestarts)
        {
            System.PublishFailure(new ActorFailure(this, cause, message, Directive.Stop,
                $"restart budget exhausted ({strategy.MaxRestarts} within {strategy.Window}); stopped"));
            BeginStop();
            return;
        }

        var delay = strategy.Backoff.DelayFor(_restartTimestamps.Count, strategy.NextJitter());
        _restartTimestamps.Add(now);
        System.PublishFailure(new ActorFailure(this, cause, message, Directive.Restart,
            $"restart {_restartTimestamps.Count} of {strategy.MaxRestarts} within {strategy.Window}, after {delay.TotalMilliseconds:0.###} ms"));

        var old = _actor;
        _actor = null;
        SafeHook(() => old?.PreRestart(cause, message), "PreRestart");
        _timers.CancelAll();
        _state = State.Suspended;
        _restartPending = true;
        _restartCause = cause;
        _escalatedChild = null;
        _restartGeneration++;
        foreach (var child in Children)
        {
            ((ActorCell)child).RequestStop();
        }

        if (delay > TimeSpan.Zero)
        {
            _backoffElapsed = false;
            var generation = _restartGeneration;
            _backoffTimer?.Dispose();
            _backoffTimer = TimeProvider.CreateTimer(static s => ((BackoffTick)s!).Post(), new BackoffTick(this, generation), delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _backoffElapsed = true;
            TryCompleteRestart();
        }
    }

    private void TryCompleteRestart()
    {
        if (!_restartPending || !_backoffElapsed || _state != State.Suspended)
        {
            return;
        }

        lock (_sync)
        {
            if (_children.Count > 0)
            {
                return;
            }
        }

        _restartPending = false;
        _backoffTimer?.Dispose();
        _backoffTimer = null;
        if (TryCreateInstance(_restartCause))
        {
            _state = State.Running;
        }
        else
        {
            BeginStop();
        }
    }

    private bool TryCreateInstance(Exception? restartCause)
    {
        var previous = t_constructing;
        t_constructing = this;
        try
        {
            var actor = _props.Factory();
            _actor = actor;
            Volatile.Write(ref _childStrategy, actor.SupervisorStrategy);
            if (restartCause is null)
            {
                actor.PreStart();
            }
            else
            {
                actor.PostRestart(restartCause);
            }

            return true;
        }
#pragma warning disable CA1031 // A factory or PreStart that throws stops the actor; the failure is published.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _actor = null;
            System.PublishFailure(new ActorFailure(this, ex, null, Directive.Stop, $"creating {_props.ActorType.Name} failed; stopped"));
            return false;
        }
        finally
        {
            t_constructing = previous;
        }
    }

    private void BeginStop()
    {
        if (_state >= State.Stopping)
        {
            return;
        }

        _state = State.Stopping;
        _timers.CancelAll();
        _backoffTimer?.Dispose();
        _backoffTimer = null;
        _restartPending = false;
        if (_stash is { Count: > 0 })
        {
            while (_stash.TryDequeue(out var stashed))
            {
                if (stashed.Message is not TimerFired)
                {
                    System.PublishDeadLetter(stashed.Message, stashed.Sender, this, "recipient stopping");
                }
            }
        }

        var children = Children;
        if (children.Count == 0)
        {
            FinishStop();
            return;
        }

        foreach (var child in children)
        {
            ((ActorCell)child).RequestStop();
        }
    }

    private void FinishStop()
    {
        if (_actor is { } actor)
        {
            SafeHook(actor.PostStop, "PostStop");
        }

        _actor = null;
        _state = State.Terminated;

        // Close the mailbox, then drain it: every message is either processed or reported, never lost silently.
        // This happens before the actor counts as terminated, so whoever sees Terminated (a watcher registering
        // now gets it at once) sees it after the dead letters were published.
        _mailbox.Writer.TryComplete();
        while (_mailbox.Reader.TryRead(out var left))
        {
            System.MessageHandled();
            if (left.Message is not SystemMessage and not TimerFired)
            {
                System.PublishDeadLetter(left.Message, left.Sender, this, "recipient stopped");
            }
        }

        IActorRef[] watchers;
        IPendingAsk? asks;
        lock (_sync)
        {
            _terminated = true;
            watchers = [.. _watchers];
            _watchers.Clear();
            asks = _pendingAsks;
            _pendingAsks = null;
        }

        var terminated = new Terminated(this);
        foreach (var watcher in watchers)
        {
            watcher.Tell(terminated);
        }

        while (asks is not null)
        {
            var next = asks.Next;
            asks.Previous = null;
            asks.Next = null;
            asks.TargetStopped();
            asks = next;
        }

        _parent?.Tell(new ChildTerminated(this));
        _terminatedSignal.TrySetResult();
    }

    private void SafeHook(Action hook, string name)
    {
        try
        {
            hook();
        }
#pragma warning disable CA1031 // A failing lifecycle hook is reported, and the life cycle goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            System.PublishFailure(new ActorFailure(this, ex, null, Directive.Resume, $"{name} threw; ignored"));
        }
    }

    private sealed class BackoffTick(ActorCell cell, long generation)
    {
        public void Post()
        {
            Debug.Assert(generation > 0, "restart generations start at 1");
            cell.Tell(new RestartBackoffElapsed(generation));
        }
    }
}
