using Akka.Actor;

namespace HeMif.Runtime;

/// <summary>An actor of HeMif's threw while handling a message; what its supervisor decided.</summary>
/// <param name="Actor">The path of the actor that failed.</param>
/// <param name="Exception">What it threw.</param>
/// <param name="Directive">What the supervisor decided (restart, stop…).</param>
internal sealed record ActorFailure(string Actor, Exception Exception, Directive Directive);

/// <summary>
/// Akka's one-for-one supervision, with every failure of a child also reported to HeMif's failure stream (the engine's
/// <c>Failures</c>; a host logs them as event 30), the directive included, before Akka logs it its own way.
/// No retry window of Akka's: Akka measures it on the wall clock, so budgets that must follow HeMif's clock are kept by
/// the decider (see <see cref="Validate.RestartBudget"/>).
/// </summary>
internal sealed class ReportingStrategy(Func<Exception, Directive> decider, Action<ActorFailure> report)
    : OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, decider)
{
    /// <inheritdoc/>
    protected override void LogFailure(IActorContext context, IActorRef child, Exception cause, Directive directive)
    {
        report(new ActorFailure(child.Path.ToStringWithoutAddress(), cause, directive));
        base.LogFailure(context, child, cause, directive);
    }
}
