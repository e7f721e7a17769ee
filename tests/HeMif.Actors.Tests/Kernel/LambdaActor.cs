using HeMif.Kernel;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>An actor whose behaviour is a lambda, for kernel tests. The lambda sees the actor (its context) and the message.</summary>
internal sealed class LambdaActor : Actor
{
    private readonly Action<LambdaActor, object> _receive;
    private readonly Action<LambdaActor>? _preStart;
    private readonly Action<LambdaActor>? _postStop;
    private readonly SupervisorStrategy? _strategy;

    public LambdaActor(Action<LambdaActor, object> receive, Action<LambdaActor>? preStart = null, Action<LambdaActor>? postStop = null, SupervisorStrategy? strategy = null)
    {
        _receive = receive;
        _preStart = preStart;
        _postStop = postStop;
        _strategy = strategy;
    }

    /// <summary>Free state for the lambda; a fresh instance (restart) starts at zero.</summary>
    public int Counter { get; set; }

    public new IActorContext Context => base.Context;

    public new IActorRef Self => base.Self;

    public new IActorRef Sender => base.Sender;

    protected internal override SupervisorStrategy SupervisorStrategy => _strategy ?? base.SupervisorStrategy;

    public static Props Props(Action<LambdaActor, object> receive, Action<LambdaActor>? preStart = null, Action<LambdaActor>? postStop = null, SupervisorStrategy? strategy = null) =>
        HeMif.Kernel.Props.Create(() => new LambdaActor(receive, preStart, postStop, strategy));

    public new void Reply(object message) => base.Reply(message);

    public new void Unhandled(object message) => base.Unhandled(message);

    protected internal override void OnReceive(object message) => _receive(this, message);

    protected internal override void PreStart() => _preStart?.Invoke(this);

    protected internal override void PostStop() => _postStop?.Invoke(this);
}

/// <summary>A message that makes a test actor throw.</summary>
internal sealed record Boom(string Why);
