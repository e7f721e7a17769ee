namespace HeMif.Kernel;

/// <summary>An Ask got no reply within its timeout.</summary>
internal sealed class AskTimeoutException(string message) : TimeoutException(message);

/// <summary>The target of an Ask stopped before it replied, or had already stopped.</summary>
internal sealed class ActorStoppedException(string message) : InvalidOperationException(message);

/// <summary>The actor system shut down while an Ask was waiting for its reply.</summary>
internal sealed class ActorSystemShutdownException(string message) : InvalidOperationException(message);

/// <summary>An Ask got a reply of a type other than the one it asked for.</summary>
internal sealed class AskReplyTypeException(string message) : InvalidCastException(message);

/// <summary>An actor name is empty, malformed or already taken among its siblings.</summary>
internal sealed class InvalidActorNameException(string message) : ArgumentException(message);
