namespace HeMif.Kernel;

/// <summary>Sent to every watcher when the watched actor has stopped (after its <c>PostStop</c>).</summary>
internal sealed record Terminated(IActorRef Actor);

/// <summary>
/// Stops the receiving actor once every message queued before it has been processed. A stop requested through
/// <see cref="IActorContext.Stop"/> or <see cref="ActorSystem.Stop"/> takes effect after the current message instead.
/// </summary>
internal sealed class PoisonPill
{
    /// <summary>The one instance: the message has no payload.</summary>
    public static readonly PoisonPill Instance = new();

    private PoisonPill()
    {
    }
}

/// <summary>Akka's status replies: a failed operation as a message (piped tasks, Ask replies).</summary>
internal static class Status
{
    /// <summary>An operation failed; an Ask that receives it fails with <see cref="Cause"/>.</summary>
    public sealed record Failure(Exception Cause);
}

/// <summary>A message that could not be delivered, or that its receiver did not handle.</summary>
/// <param name="Message">The message.</param>
/// <param name="Sender">Who sent it, when known.</param>
/// <param name="Recipient">Where it was going.</param>
/// <param name="Reason">Why it is here: <c>recipient stopped</c>, <c>unhandled</c>, <c>discarded on stop</c>.</param>
internal sealed record DeadLetter(object Message, IActorRef? Sender, IActorRef Recipient, string Reason);

/// <summary>An actor threw while handling a message; what its supervisor decided.</summary>
/// <param name="Actor">The actor that failed.</param>
/// <param name="Exception">What it threw.</param>
/// <param name="Message">The message it was handling (never redelivered), or null for a failure outside a message.</param>
/// <param name="Directive">What the supervisor decided.</param>
/// <param name="Detail">Extra words, for example that the restart budget was exhausted.</param>
internal sealed record ActorFailure(IActorRef Actor, Exception Exception, object? Message, Directive Directive, string Detail);

/// <summary>Messages the kernel sends to a cell for its own bookkeeping; actors never see them.</summary>
internal abstract class SystemMessage
{
}

internal sealed class StopSignal : SystemMessage
{
    public static readonly StopSignal Instance = new();
}

internal sealed class ChildTerminated(ActorCell child) : SystemMessage
{
    public ActorCell Child { get; } = child;
}

internal sealed class ChildFailed(ActorCell child, Exception cause, object? message) : SystemMessage
{
    public ActorCell Child { get; } = child;

    public Exception Cause { get; } = cause;

    public object? Message { get; } = message;
}

internal sealed class ResumeAfterEscalation : SystemMessage
{
    public static readonly ResumeAfterEscalation Instance = new();
}

internal sealed class RestartBackoffElapsed(long generation) : SystemMessage
{
    public long Generation { get; } = generation;
}

/// <summary>A timer fired; delivered only if the timer was not cancelled or replaced meanwhile.</summary>
internal sealed class TimerFired(object key, long generation, object message)
{
    public object Key { get; } = key;

    public long Generation { get; } = generation;

    public object Message { get; } = message;
}
