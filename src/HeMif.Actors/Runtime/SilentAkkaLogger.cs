using Akka.Event;

namespace HeMif.Runtime;

/// <summary>
/// The logger of the actor systems HeMif creates for itself outside a host (the CLI, a connector made with
/// <c>HeMifConnector.Create</c>, the simulator, tests): Akka must never write to stdout, where a command's output goes.
/// A minimal logger (no logger actor: an actor-based logger makes system creation wait for an answer that a
/// virtual-time pump has not yet run). HeMif reports its own actors' failures through the engine's failure stream; a
/// host routes Akka's logging to Microsoft.Extensions.Logging instead (Akka.Hosting's logger configuration).
/// </summary>
internal sealed class SilentAkkaLogger : MinimalLogger
{
    /// <inheritdoc/>
    protected override void Log(object message)
    {
    }
}
