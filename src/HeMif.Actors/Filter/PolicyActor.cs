using Akka.Actor;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Filter;

/// <summary>Messages of the policy actor.</summary>
internal static class PolicyMessages
{
    /// <summary>Replace the hard and soft sets; applies to the next request.</summary>
    public sealed record UpdatePolicy(HeMifPolicy Policy);

    /// <summary>Ask: filter and sort these interfaces for this request (reply: <see cref="ConnectionPlan"/>).</summary>
    public sealed record MakePlan(IReadOnlyList<InterfaceFacts> Interfaces, ConnectionRequest Request, DateTimeOffset Now, IReadOnlyList<PathHistory> History);
}

/// <summary>
/// Holds the merged hard set (draft §5.1: "The first step is to use the Hard Set to synthesize policies from different
/// actors (e.g., users or network operators)"). A policy update applies to the next request; a request already racing
/// keeps the plan it was given. Invalid input is answered with a <see cref="Status.Failure"/>, so the asker gets the
/// error and this actor keeps its state.
/// </summary>
internal sealed class PolicyActor : ReceiveActor
{
    private ConnectionPlanner _planner;

    public PolicyActor(HeMifPolicy policy)
    {
        _planner = new ConnectionPlanner(policy);
        Receive<PolicyMessages.UpdatePolicy>(update =>
        {
            try
            {
                _planner = new ConnectionPlanner(update.Policy);
                Sender.Tell(update.Policy);
            }
            catch (ArgumentException e)
            {
                Sender.Tell(new Status.Failure(e));
            }
        });
        Receive<PolicyMessages.MakePlan>(plan =>
        {
            try
            {
                Sender.Tell(_planner.Plan(plan.Interfaces, plan.Request, plan.Now, plan.History));
            }
            catch (ArgumentException e)
            {
                Sender.Tell(new Status.Failure(e));
            }
        });
    }
}
