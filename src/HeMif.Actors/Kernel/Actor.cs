namespace HeMif.Kernel;

/// <summary>
/// The base of every actor: private state, one message at a time, <see cref="OnReceive"/> called from the actor's
/// own mailbox loop. Handlers are synchronous: start asynchronous work and pipe its result back to
/// <see cref="Self"/> (<see cref="PipeToExtensions.PipeTo{T}"/>) instead of awaiting inside a handler.
/// Instances are made only by the kernel, through <see cref="Props"/> (<see cref="Context"/> works in constructors).
/// </summary>
internal abstract class Actor
{
    private readonly ActorCell _cell;

    /// <summary>Binds the instance to the cell that is creating it.</summary>
    protected Actor()
    {
        _cell = ActorCell.Constructing
                ?? throw new InvalidOperationException($"{GetType().Name} is an actor: create it with ActorSystem.ActorOf or Context.ActorOf and a Props, not with 'new'.");
    }

    /// <summary>This actor's view of the kernel: self, parent, children, timers, watch, stop.</summary>
    protected IActorContext Context => _cell;

    /// <summary>This actor's own reference.</summary>
    protected IActorRef Self => _cell;

    /// <summary>Who sent the message being handled (dead letters when nobody did).</summary>
    protected IActorRef Sender => _cell.CurrentSender ?? _cell.System.DeadLetters;

    /// <summary>
    /// How this actor supervises its children; read once per incarnation. Default:
    /// <see cref="SupervisorStrategy.Default"/>.
    /// </summary>
    protected internal virtual SupervisorStrategy SupervisorStrategy => SupervisorStrategy.Default;

    /// <summary>Handles one message.</summary>
    protected internal abstract void OnReceive(object message);

    /// <summary>Runs before the first message of an incarnation.</summary>
    protected internal virtual void PreStart()
    {
    }

    /// <summary>Runs after the last message, once the children have stopped.</summary>
    protected internal virtual void PostStop()
    {
    }

    /// <summary>Runs on the failed instance before a restart; by default calls <see cref="PostStop"/>.</summary>
    protected internal virtual void PreRestart(Exception reason, object? message) => PostStop();

    /// <summary>Runs on the fresh instance after a restart; by default calls <see cref="PreStart"/>.</summary>
    protected internal virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>Replies to the sender of the current message.</summary>
    protected void Reply(object message) => Sender.Tell(message, Self);

    /// <summary>Reports a message this actor does not handle as a dead letter with reason <c>unhandled</c>.</summary>
    protected void Unhandled(object message) => _cell.System.PublishDeadLetter(message, _cell.CurrentSender, _cell, "unhandled");
}

/// <summary>An actor's view of the kernel (Akka's IActorContext).</summary>
internal interface IActorContext
{
    /// <summary>This actor.</summary>
    IActorRef Self { get; }

    /// <summary>The supervisor; for top-level actors, the user guardian.</summary>
    IActorRef Parent { get; }

    /// <summary>The system.</summary>
    ActorSystem System { get; }

    /// <summary>The system's one clock.</summary>
    TimeProvider TimeProvider { get; }

    /// <summary>The live children.</summary>
    IReadOnlyCollection<IActorRef> Children { get; }

    /// <summary>Starts a child; <paramref name="name"/> must be unique among the live children (null: generated).</summary>
    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>Stops this actor or one of its children after the message it is processing.</summary>
    void Stop(IActorRef actor);

    /// <summary>Sends <see cref="Terminated"/> to this actor when <paramref name="actor"/> stops (at once if it has).</summary>
    void Watch(IActorRef actor);

    /// <summary>Cancels <see cref="Watch"/>.</summary>
    void Unwatch(IActorRef actor);

    /// <summary>Posts <paramref name="message"/> to self after <paramref name="delay"/>; replaces a timer with the same key.</summary>
    void ScheduleOnce(object key, object message, TimeSpan delay);

    /// <summary>Posts <paramref name="message"/> to self after <paramref name="initialDelay"/>, then every <paramref name="interval"/>.</summary>
    void ScheduleRepeatedly(object key, object message, TimeSpan initialDelay, TimeSpan interval);

    /// <summary>Cancels the timer; its message is not delivered afterwards, even if it had already fired.</summary>
    void CancelTimer(object key);

    /// <summary>Whether a timer with this key is pending.</summary>
    bool IsTimerActive(object key);
}
