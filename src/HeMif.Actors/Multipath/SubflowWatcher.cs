using HeMif.Engine;
using HeMif.Kernel;
using HeMif.Planning;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Multipath;

/// <summary>Messages of <see cref="SubflowWatcher"/>.</summary>
internal static class SubflowMessages
{
    /// <summary>An interface changed state: plan again (the engine tells every watcher).</summary>
    public sealed record InterfaceChanged(InterfaceStateChanged Change);
}

/// <summary>What a subflow watcher needs from its engine.</summary>
internal sealed record SubflowWatch(
    ConnectionRequest Request,
    MultipathMode Mode,
    string FirstTrigger,
    Func<IReadOnlyCollection<IActorRef>> Supervisors,
    IActorRef Policy,
    IObserver<SubflowPlan> Observer,
    Action<SubflowPlan> Publish);

/// <summary>
/// Keeps one destination's subflow suggestion current: plans at start, then again on every interface change, and
/// issues a suggestion only when a role changed. Message-driven like <see cref="RequestActor"/> — snapshots from the
/// supervisors (validate), a plan from the policy actor (filter, sort), then <see cref="SubflowPlanner"/> — so a
/// virtual-time run sees each re-plan as work in flight and the suggestion is issued before the clock moves again.
/// One plan at a time: changes that arrive meanwhile are folded into one more plan, with the latest as its trigger.
/// </summary>
internal sealed class SubflowWatcher(SubflowWatch watch) : Actor
{
    private readonly Destination _destination = new(watch.Request.Host, watch.Request.Port);
    private readonly List<ValidateMessages.InterfaceSnapshot> _snapshots = [];
    private IReadOnlyCollection<IActorRef> _asked = [];
    private string? _planning;
    private string? _pending;
    private SubflowPlan? _last;
    private bool _failed;

    protected internal override void PreStart() => Replan(watch.FirstTrigger);

    protected internal override void OnReceive(object message)
    {
        switch (message)
        {
            case SubflowMessages.InterfaceChanged { Change.State: not ValidationState.Validating } changed:
                // A re-examination in progress changes nothing yet; its result will.
                Replan($"{changed.Change.Interface} is {changed.Change.State}: {changed.Change.Detail}");
                break;
            case ValidateMessages.InterfaceSnapshot snapshot when _planning is not null:
                _snapshots.Add(snapshot);
                if (_snapshots.Count == _asked.Count)
                {
                    watch.Policy.Tell(RequestActor.PlanMessage(_snapshots, watch.Request, Context.TimeProvider.GetLocalNow()), Self);
                }

                break;
            case ConnectionPlan plan when _planning is not null:
                Issue(plan);
                break;
            case Status.Failure failure:
                _failed = true;
                watch.Observer.OnError(failure.Cause);
                Context.Stop(Self);
                break;
        }
    }

    protected internal override void PostStop()
    {
        if (!_failed)
        {
            watch.Observer.OnCompleted();
        }
    }

    private void Replan(string trigger)
    {
        if (_planning is not null)
        {
            _pending = trigger;
            return;
        }

        _planning = trigger;
        _snapshots.Clear();
        _asked = watch.Supervisors(); // the interfaces now, including any added since the last plan
        foreach (var supervisor in _asked)
        {
            supervisor.Tell(new ValidateMessages.GetSnapshot(_destination), Self);
        }

        if (_asked.Count == 0)
        {
            watch.Policy.Tell(RequestActor.PlanMessage(_snapshots, watch.Request, Context.TimeProvider.GetLocalNow()), Self);
        }
    }

    private void Issue(ConnectionPlan plan)
    {
        var inputs = _snapshots.ToDictionary(s => s.Facts.Name, s => new SubflowInput(s.State, s.Detail, s.History?.SmoothedRtt), StringComparer.Ordinal);
        var suggestion = SubflowPlanner.Plan(watch.Mode, watch.Request, plan, inputs, _planning!);
        _planning = null;
        if (_last is null || !_last.SameAssignmentsAs(suggestion))
        {
            _last = suggestion;
            watch.Publish(suggestion); // first, so whoever the observer wakes already finds it on the engine's stream
            watch.Observer.OnNext(suggestion);
        }

        if (_pending is { } next)
        {
            _pending = null;
            Replan(next);
        }
    }
}
