namespace HeMif.Kernel;

/// <summary>
/// A handle to something that receives messages: an actor, an Ask's reply slot, dead letters, a test probe.
/// Akka's word and contract: <see cref="Tell"/> never blocks and never throws because the target has stopped
/// (the message then goes to dead letters, which are observable on <see cref="ActorSystem.DeadLetterStream"/>).
/// </summary>
internal interface IActorRef
{
    /// <summary>The slash-separated path, for example <c>/user/racer-7/attempt-2</c>.</summary>
    string Path { get; }

    /// <summary>The system this reference belongs to.</summary>
    ActorSystem System { get; }

    /// <summary>Posts <paramref name="message"/>; <paramref name="sender"/> is what the receiver sees as <c>Sender</c>.</summary>
    void Tell(object message, IActorRef? sender = null);
}

/// <summary>A message and who sent it, as it sits in a mailbox.</summary>
internal readonly record struct Envelope(object Message, IActorRef? Sender);
