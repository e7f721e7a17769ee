using Akka.Actor;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Multipath;

/// <summary>Messages of <see cref="SubflowWatcher"/>.</summary>
internal static class SubflowMessages
{
    /// <summary>An interface changed state: plan again with the engine's supervisors as they are now (the engine tells every watcher).</summary>
    public sealed record InterfaceChanged(InterfaceStateChanged Change, IReadOnlyCollection<IActorRef> Supervisors);
}

/// <summary>What a subflow watcher needs from its engine.</summary>
internal sealed record SubflowWatch(
    ConnectionRequest Request,
    MultipathMode Mode,
    string FirstTrigger,
    IObserver<SubflowPlan> Observer);

/// <summary>What the engine gives a watcher when it starts it.</summary>
internal sealed record SubflowWatchContext(IReadOnlyCollection<IActorRef> Supervisors, IActorRef Policy, Action<SubflowPlan> Publish, TimeProvider Clock);

/// <summary>
/// Keeps one destination's subflow suggestion current: plans at start, then again on every interface change, and
/// issues a suggestion only when a role changed. Message-driven like <see cref="RequestActor"/> — snapshots from the
/// supervisors (validate), a plan from the policy actor (filter, sort), then <see cref="SubflowPlanner"/> — so a
/// virtual-time run sees each re-plan as work in flight and the suggestion is issued before the clock moves again.
/// One plan at a time: changes that arrive meanwhile are folded into one more plan, with the latest as its trigger.
/// </summary>
internal sealed class SubflowWatcher : ReceiveActor
{
    private readonly SubflowWatch _watch;
    private readonly SubflowWatchContext _context;
    private readonly Destination _destination;
    private readonly List<ValidateMessages.InterfaceSnapshot> _snapshots = [];
    private IReadOnlyCollection<IActorRef> _supervisors;
    private IReadOnlyCollection<IActorRef> _asked = [];
    private string? _planning;
    private string? _pending;
    private SubflowPlan? _last;
    private bool _failed;

    public SubflowWatcher(SubflowWatch watch, SubflowWatchContext context)
    {
        _watch = watch;
        _context = context;
        _supervisors = context.Supervisors;
        _destination = new Destination(watch.Request.Host, watch.Request.Port);
        Receive<SubflowMessages.InterfaceChanged>(changed =>
        {
            _supervisors = changed.Supervisors; // including any added since the last plan
            if (changed.Change.State != ValidationState.Validating)
            {
                // A re-examination in progress changes nothing yet; its result will.
                Replan($"{changed.Change.Interface} is {changed.Change.State}: {changed.Change.Detail}");
            }
        });
        Receive<ValidateMessages.InterfaceSnapshot>(snapshot =>
        {
            if (_planning is null)
            {
                return;
            }

            _snapshots.Add(snapshot);
            if (_snapshots.Count == _asked.Count)
            {
                _context.Policy.Tell(RequestActor.PlanMessage(_snapshots, _watch.Request, _context.Clock.GetLocalNow()), Self);
            }
        });
        Receive<ConnectionPlan>(plan =>
        {
            if (_planning is not null)
            {
                Issue(plan);
            }
        });
        Receive<Status.Failure>(failure =>
        {
            _failed = true;
            _watch.Observer.OnError(failure.Cause);
            Context.Stop(Self);
        });
    }

    protected override void PreStart() => Replan(_watch.FirstTrigger);

    protected override void PostStop()
    {
        if (!_failed)
        {
            _watch.Observer.OnCompleted();
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
        _asked = _supervisors;
        foreach (var supervisor in _asked)
        {
            supervisor.Tell(new ValidateMessages.GetSnapshot(_destination), Self);
        }

        if (_asked.Count == 0)
        {
            _context.Policy.Tell(RequestActor.PlanMessage(_snapshots, _watch.Request, _context.Clock.GetLocalNow()), Self);
        }
    }

    private void Issue(ConnectionPlan plan)
    {
        var inputs = _snapshots.ToDictionary(s => s.Facts.Name, s => new SubflowInput(s.State, s.Detail, s.History?.SmoothedRtt), StringComparer.Ordinal);
        var suggestion = SubflowPlanner.Plan(_watch.Mode, _watch.Request, plan, inputs, _planning!);
        _planning = null;
        if (_last is null || !_last.SameAssignmentsAs(suggestion))
        {
            _last = suggestion;
            _context.Publish(suggestion); // first, so whoever the observer wakes already finds it on the engine's stream
            _watch.Observer.OnNext(suggestion);
        }

        if (_pending is { } next)
        {
            _pending = null;
            Replan(next);
        }
    }
}
