using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using HeMif.Discovery;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Validate;

namespace HeMif.Engine;

/// <summary>Messages of the engine actor (the facade <see cref="HeMifEngine"/> sends them).</summary>
internal static class EngineMessages
{
    /// <summary>Ask: an interface that appeared after start (reply <see cref="Done"/>, or a failure for a known name).</summary>
    public sealed record AddInterface(InterfaceFacts Facts);

    /// <summary>Ask: an interface that is gone from the host (reply <see cref="Done"/>, or a failure for an unknown name).</summary>
    public sealed record RemoveInterface(string Name);

    /// <summary>Ask: new facts for a known interface (reply <see cref="Done"/>, or a failure for an unknown name).</summary>
    public sealed record UpdateInterface(InterfaceFacts Facts);

    /// <summary>Start one request.</summary>
    public sealed record StartRequest(long Id, ConnectionRequest Request, TaskCompletionSource<RaceResult> Completion);

    /// <summary>The caller of request <paramref name="Id"/> gave up.</summary>
    public sealed record CancelRequest(long Id, string Reason);

    /// <summary>
    /// Request <paramref name="Id"/> is over: the registry forgets it. From its racer as the race is decided, with the
    /// report (kept for <see cref="HeMifActor.GetLastRaceReport"/> before the caller has the result, so that whoever the
    /// caller then asks finds it), and from the request actor as it stops, without one (a request that never raced).
    /// Said by the request itself instead of watching it: a watch costs a system message each way and bookkeeping on
    /// both sides, for every request; forgetting twice is harmless.
    /// </summary>
    public sealed record RequestEnded(long Id, RaceReport? Report);

    /// <summary>
    /// From request <paramref name="Id"/>: no interface knows anything about <paramref name="Destination"/>. The engine
    /// answers <see cref="ColdStartLead"/> when no race to it is running, else <see cref="ColdStartWait"/> and later
    /// <see cref="ColdStartVerdict"/> (HEv3 coalescing of cold starts).
    /// </summary>
    public sealed record ColdStart(long Id, Destination Destination);

    /// <summary>Race: this request is the first to an unknown destination.</summary>
    public sealed class ColdStartLead
    {
        public static readonly ColdStartLead Instance = new();
    }

    /// <summary>Wait (a bounded time) for the verdict of the race to the same unknown destination that is running.</summary>
    public sealed class ColdStartWait
    {
        public static readonly ColdStartWait Instance = new();
    }

    /// <summary>The race that was waited for is decided: its lessons are in the interfaces' outcome caches now.</summary>
    public sealed class ColdStartVerdict
    {
        public static readonly ColdStartVerdict Instance = new();
    }

    /// <summary>Start a subflow watcher.</summary>
    public sealed record StartWatch(long Id, SubflowWatch Watch);

    /// <summary>Stop a subflow watcher (its observer is completed).</summary>
    public sealed record StopWatch(long Id);

    /// <summary>
    /// Ask: probe QUIC to <paramref name="Destination"/> now on every interface, or only <paramref name="Interface"/>;
    /// the answer is the verdicts in interface name order (<see cref="QuicVerdicts"/>), or a failure for an unknown
    /// interface.
    /// </summary>
    public sealed record ProbeQuic(Destination Destination, string? Interface);

    /// <summary>The answer to <see cref="ProbeQuic"/>.</summary>
    public sealed record QuicVerdicts(IReadOnlyList<QuicPathVerdict> Verdicts);

    /// <summary>The answer to a change that was applied.</summary>
    public sealed class Done
    {
        public static readonly Done Instance = new();
    }
}

/// <summary>
/// What the engine actor publishes for readers on other threads: the interfaces it uses and their latest states. An
/// immutable value, replaced whole by the engine actor (its only writer) before it publishes the change that caused it;
/// each replacement costs O(log n), so hosts with thousands of interfaces do not pay per change for all of them.
/// </summary>
/// <param name="Interfaces">The interfaces the engine uses now.</param>
/// <param name="States">The latest state of each of them that has one.</param>
/// <param name="Unexamined">How many of <paramref name="Interfaces"/> have had no first examination yet (no state, Unknown or Validating).</param>
internal sealed record EngineSnapshot(ImmutableHashSet<string> Interfaces, ImmutableDictionary<string, InterfaceStateChanged> States, int Unexamined)
{
    public static readonly EngineSnapshot Empty = new(
        ImmutableHashSet.Create<string>(StringComparer.Ordinal), ImmutableDictionary.Create<string, InterfaceStateChanged>(StringComparer.Ordinal), 0);

    /// <summary>
    /// Whether every interface has had its first examination (none Unknown or Validating): only then can a request see
    /// them all as validated or not (draft §5.2.1).
    /// </summary>
    public bool AllExamined => Unexamined == 0;

    /// <summary>The snapshot with <paramref name="name"/> used (a new interface, not examined yet).</summary>
    public EngineSnapshot With(string name) =>
        Interfaces.Contains(name) ? this : new EngineSnapshot(Interfaces.Add(name), States.Remove(name), Unexamined + 1);

    /// <summary>The snapshot without <paramref name="name"/> (gone from the engine, states included).</summary>
    public EngineSnapshot Without(string name) =>
        !Interfaces.Contains(name) ? this : new EngineSnapshot(Interfaces.Remove(name), States.Remove(name), Unexamined - (Examined(name) ? 0 : 1));

    /// <summary>The snapshot with <paramref name="change"/> as its interface's latest state.</summary>
    public EngineSnapshot WithState(InterfaceStateChanged change)
    {
        if (!Interfaces.Contains(change.Interface))
        {
            return this;
        }

        var before = Examined(change.Interface) ? 0 : 1;
        var after = change.State is ValidationState.Unknown or ValidationState.Validating ? 1 : 0;
        return new EngineSnapshot(Interfaces, States.SetItem(change.Interface, change), Unexamined - before + after);
    }

    private bool Examined(string name) => States.TryGetValue(name, out var s) && s.State is not (ValidationState.Unknown or ValidationState.Validating);
}

/// <summary>
/// HeMif's top actor (docs/architecture.md §3): the policy actor, one <see cref="InterfaceSupervisor"/> per interface, one
/// <see cref="RequestActor"/> per request and one <see cref="SubflowWatcher"/> per multipath watch are its children,
/// and it is the registry that ties them together. Interfaces added, lost and changed reach the races and watchers as
/// messages from here. Its state lives in <see cref="EngineShared"/>, given to every incarnation, so that a restart
/// (a bug) keeps the children and what it knows of them.
/// </summary>
internal sealed class EngineActor : ReceiveActor
{
    /// <summary>How many destinations' latest reports are kept for <see cref="HeMifActor.GetLastRaceReport"/>.</summary>
    internal const int KeptReports = 1024;

    private readonly EngineShared _shared;
    private readonly EngineRegistry _registry;

    /// <summary>The race running per unknown destination (its request's number) and the requests waiting for its verdict.</summary>
    private readonly Dictionary<Destination, (long Leader, List<IActorRef> Waiters)> _coldRaces = [];

    /// <summary>The destination each leading request races to, found again by number when it ends.</summary>
    private readonly Dictionary<long, Destination> _coldLeaders = [];

    public EngineActor(EngineShared shared)
    {
        _shared = shared;
        _registry = shared.Registry;
        var options = shared.Options;

        Receive<EngineMessages.StartRequest>(StartRequest);
        Receive<EngineMessages.CancelRequest>(cancel =>
        {
            if (_registry.Requests.TryGetValue(cancel.Id, out var request))
            {
                request.Tell(new RaceMessages.CancelRace(cancel.Reason));
            }
        });
        Receive<EngineMessages.ColdStart>(cold =>
        {
            // HEv3 coalescing of cold starts: one race per unknown destination at a time; the others wait for its verdict
            // and start from what it taught (the per-family history: RFC 8305 §4, draft §7.5).
            if (_coldRaces.TryGetValue(cold.Destination, out var running) && _registry.Requests.ContainsKey(running.Leader))
            {
                running.Waiters.Add(Sender);
                Sender.Tell(EngineMessages.ColdStartWait.Instance);
                return;
            }

            _coldRaces[cold.Destination] = (cold.Id, []);
            _coldLeaders[cold.Id] = cold.Destination;
            Sender.Tell(EngineMessages.ColdStartLead.Instance);
        });
        Receive<EngineMessages.RequestEnded>(ended =>
        {
            if (_coldLeaders.Remove(ended.Id, out var destination) && _coldRaces.Remove(destination, out var cold))
            {
                // Said by the racer after it told the supervisors what it learned: a waiter's new snapshots include it.
                foreach (var waiter in cold.Waiters)
                {
                    waiter.Tell(EngineMessages.ColdStartVerdict.Instance);
                }
            }

            _registry.Requests.Remove(ended.Id);
            if (ended.Report is { } report)
            {
                _registry.KeepReport(report);
            }
        });
        Receive<InterfaceStateChanged>(OnInterfaceState);
        Receive<EngineMessages.AddInterface>(add =>
        {
            if (_registry.Supervisors.ContainsKey(add.Facts.Name))
            {
                Sender.Tell(new Status.Failure(new ArgumentException($"Interface '{add.Facts.Name}' is already known; new facts for it go to UpdateInterface.")));
                return;
            }

            StartSupervisor(add.Facts);
            Sender.Tell(EngineMessages.Done.Instance);
        });
        Receive<EngineMessages.RemoveInterface>(remove =>
        {
            if (!_registry.Supervisors.TryGetValue(remove.Name, out var supervisor))
            {
                Sender.Tell(new Status.Failure(UnknownInterface(remove.Name)));
                return;
            }

            _registry.Supervisors = _registry.Supervisors.Remove(remove.Name);
            _registry.Names.Remove(supervisor);
            _registry.Discovery?.Removed(Context, remove.Name);
            _shared.Snapshot = _shared.Snapshot.Without(remove.Name);
            // Its last word (Down) still reaches observers and races; its supervisor answers late askers, then stops.
            supervisor.Tell(new ValidateMessages.Retire(options.InternalAskTimeout));
            Sender.Tell(EngineMessages.Done.Instance);
        });
        Receive<EngineMessages.UpdateInterface>(update =>
        {
            if (!_registry.Supervisors.TryGetValue(update.Facts.Name, out var supervisor))
            {
                Sender.Tell(new Status.Failure(UnknownInterface(update.Facts.Name, " (a new one goes to AddInterface)")));
                return;
            }

            supervisor.Tell(new ValidateMessages.UpdateFacts(_registry.Discovery?.Updated(update.Facts) ?? update.Facts));
            Sender.Tell(EngineMessages.Done.Instance);
        });
        // What an interface learned from its routers (docs/discovery.md), merged with the facts it was given.
        Receive<DiscoveryMessages.Learned>(learned =>
        {
            if (_registry.Discovery?.OnLearned(Sender, learned) is { } merged && _registry.Supervisors.TryGetValue(learned.Interface, out var supervisor))
            {
                supervisor.Tell(new ValidateMessages.UpdateFacts(merged));
            }
        });
        Receive<EngineMessages.StartWatch>(start =>
        {
            var context = new SubflowWatchContext([.. _registry.Supervisors.Values], _registry.Policy!, shared.PublishSubflow, options.TimeProvider);
            var watch = start.Watch;
            var watcher = Context.ActorOf(ActorProps.Of(() => new SubflowWatcher(watch, context)), "subflows-" + Number(start.Id));
            _registry.Watchers[start.Id] = watcher;
            Context.Watch(watcher);
        });
        Receive<EngineMessages.StopWatch>(stop =>
        {
            if (_registry.Watchers.Remove(stop.Id, out var watcher))
            {
                Context.Stop(watcher);
            }
        });
        Receive<EngineMessages.ProbeQuic>(probe =>
        {
            var asked = SupervisorsInOrder().Where(s => probe.Interface is null || s.Key == probe.Interface).ToList();
            if (probe.Interface is not null && asked.Count == 0)
            {
                Sender.Tell(new Status.Failure(UnknownInterface(probe.Interface)));
                return;
            }

            var names = asked.Select(s => s.Key).ToList();
            var asker = Sender;
            var collector = Context.ActorOf(ActorProps.Of(() => new QuicVerdictCollector(names, asker)));
            foreach (var (_, supervisor) in asked)
            {
                supervisor.Tell(new ValidateMessages.ProbeQuicNow(probe.Destination), collector);
            }
        });
        Receive<PolicyMessages.UpdatePolicy>(update =>
        {
            _registry.Policy.Forward(update);
            // The supervisors learn which interfaces the new policy keeps out of every request (not examined, nothing
            // sent on them). A policy the policy actor refuses changes nothing here either.
            if (Exclusions(update.Policy) is { } check)
            {
                _registry.Exclusions = check;
                foreach (var supervisor in _registry.Supervisors.Values)
                {
                    supervisor.Tell(new ValidateMessages.PolicyChanged(check));
                }
            }
        });
        Receive<HeMifActor.GetInterfaceStates>(_ =>
            Sender.Tell(new HeMifActor.InterfaceStates([.. _shared.Snapshot.States.Values.OrderBy(s => s.Interface, StringComparer.Ordinal)])));
        Receive<HeMifActor.GetLastRaceReport>(get =>
            Sender.Tell(new HeMifActor.LastRaceReport(get.Host, get.Port, _registry.Reports.GetValueOrDefault(new Destination(get.Host, get.Port)))));
        Receive<Terminated>(terminated => _registry.Forget(terminated.ActorRef));
    }

    /// <summary>Children that throw are reported and restarted, except requests (see <see cref="RequestActor"/>), which stop.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ReportingStrategy(
        _ => Directive.Restart,
        _shared.ReportFailure);

    protected override void PreStart()
    {
        if (_registry.Policy is not null)
        {
            return; // a restarted incarnation: the children are still there
        }

        var policy = _shared.Options.Policy;
        _registry.Policy = Context.ActorOf(ActorProps.Of(() => new PolicyActor(policy)), "policy");
        _registry.Exclusions = Exclusions(policy);
        _registry.Discovery = new DiscoveryRegistry(_shared.Options.RouterAdvertisements, _shared.Options.TimeProvider, _shared.Views) { Fetcher = _shared.Options.PvdInformation };
        foreach (var facts in _shared.Options.Interfaces)
        {
            StartSupervisor(facts);
        }
    }

    /// <summary>A restart keeps the children (their state is the engine's state) instead of stopping them.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
    }

    /// <summary>Stopped (the engine or its actor system is shutting down): the children have stopped; say so once.</summary>
    protected override void PostStop() => _shared.MarkStopped();

    private void StartRequest(EngineMessages.StartRequest start)
    {
        var context = new RequestContext(_shared.Options, _registry.Supervisors, _registry.Policy!, _shared.PublishRaceEvent, _shared.ReportFailure, Self);
        var (connection, completion) = (start.Request, start.Completion);
        var id = start.Id;
        // Not watched: the request says when it ends (EngineMessages.RequestEnded, from its PostStop).
        var request = Context.ActorOf(ActorProps.Of(() => new RequestActor(id, connection, context, completion)), "request-" + Number(id));
        _registry.Requests[id] = request;
    }

    // Named by ActorNames (a sequence number and a safe hint), not by the interface's name: names come from the OS or a
    // file and may hold characters an actor name cannot; a removed interface's supervisor may still linger when the name
    // comes back.
    private void StartSupervisor(InterfaceFacts facts)
    {
        var options = _shared.Options;
        var (self, failures) = (Self, (Action<ActorFailure>)_shared.ReportFailure);
        var supervisor = Context.ActorOf(
            ActorProps.Of(() => new InterfaceSupervisor(facts, options.Probe, options.Validation, options.TimeProvider, self, failures, options.QuicProbe, options.Resolver, _registry.Exclusions)),
            ActorNames.InterfaceSupervisor(facts.Name, ++_registry.SupervisorCount));
        _registry.Supervisors = _registry.Supervisors.SetItem(facts.Name, supervisor);
        _registry.Names[supervisor] = facts.Name;
        _shared.Snapshot = _shared.Snapshot.With(facts.Name);
        Context.Watch(supervisor);
        _registry.Discovery?.Added(Context, facts);
    }

    /// <summary>The policy's "excluded from every request" check, or null for a policy that does not compile (refused elsewhere).</summary>
    private static ExclusionCheck? Exclusions(HeMifPolicy policy)
    {
        try
        {
            return new ConnectionPlanner(policy).ExcludesAlways;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private void OnInterfaceState(InterfaceStateChanged change)
    {
        // A removed interface's last word (Down) still reaches observers and races, but not the current states.
        if (_registry.Names.TryGetValue(Sender, out var name) && name == change.Interface && _registry.Supervisors.ContainsKey(name))
        {
            _shared.Snapshot = _shared.Snapshot.WithState(change);
            _registry.Discovery?.OnState(change);
        }

        _shared.PublishInterfaceState(change);
        if (_registry.Watchers.Count > 0)
        {
            IReadOnlyCollection<IActorRef> supervisors = [.. _registry.Supervisors.Values];
            foreach (var watcher in _registry.Watchers.Values)
            {
                watcher.Tell(new SubflowMessages.InterfaceChanged(change, supervisors));
            }
        }

        // An interface that stops being usable mid-race is dropped from every race in flight at once (its attempts are
        // cancelled, and if it was the preferred one the others start without waiting for the fallback delay).
        // Validating is not a loss: a periodic re-examination must not interrupt races.
        if (change.State is not (ValidationState.Validated or ValidationState.Validating))
        {
            var lost = new RaceMessages.InterfaceLost(change.Interface, $"{change.State}: {change.Detail}");
            foreach (var request in _registry.Requests.Values)
            {
                request.Tell(lost);
            }
        }
    }

    private List<KeyValuePair<string, IActorRef>> SupervisorsInOrder() => [.. _registry.Supervisors.OrderBy(s => s.Key, StringComparer.Ordinal)];

    private ArgumentException UnknownInterface(string name, string hint = "") =>
        new($"Unknown interface '{name}'; known: {string.Join(", ", _registry.Supervisors.Keys.Order(StringComparer.Ordinal))}{hint}.");

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Gathers one QUIC verdict per asked interface, then answers the asker with all of them in the asked order and stops
/// (the engine actor itself never waits: each supervisor answers here).
/// </summary>
internal sealed class QuicVerdictCollector : ReceiveActor
{
    public QuicVerdictCollector(IReadOnlyList<string> interfaces, IActorRef asker)
    {
        var verdicts = new Dictionary<string, QuicPathVerdict>(StringComparer.Ordinal);
        Receive<QuicPathVerdict>(verdict =>
        {
            verdicts[verdict.Interface] = verdict;
            if (verdicts.Count == interfaces.Count)
            {
                asker.Tell(new EngineMessages.QuicVerdicts([.. interfaces.Select(i => verdicts[i])]));
                Context.Stop(Self);
            }
        });
    }
}

/// <summary>The engine actor's registry: touched only by the engine actor, kept across its restarts.</summary>
internal sealed class EngineRegistry
{
    public IActorRef? Policy { get; set; }

    /// <summary>Which interfaces the current policy keeps out of every request (their supervisors do not examine them).</summary>
    public ExclusionCheck? Exclusions { get; set; }

    /// <summary>RA listeners and learned facts (docs/discovery.md); set at the first start.</summary>
    public DiscoveryRegistry? Discovery { get; set; }

    public long SupervisorCount { get; set; }

    /// <summary>Interface name to its supervisor (the interfaces the engine uses now); handed as it is to each request.</summary>
    public ImmutableDictionary<string, IActorRef> Supervisors { get; set; } = ImmutableDictionary.Create<string, IActorRef>(StringComparer.Ordinal);

    /// <summary>Supervisor to its interface's name (also for retiring ones until they stop: not in <see cref="Supervisors"/>).</summary>
    public Dictionary<IActorRef, string> Names { get; } = [];

    /// <summary>Requests in flight by number (a request removes itself with <see cref="EngineMessages.RequestEnded"/>).</summary>
    public Dictionary<long, IActorRef> Requests { get; } = [];

    public Dictionary<long, IActorRef> Watchers { get; } = [];

    /// <summary>The latest report per destination, oldest first in <see cref="_reportOrder"/>.</summary>
    public Dictionary<Destination, RaceReport> Reports { get; } = [];

    private readonly LinkedList<Destination> _reportOrder = new();
    private readonly Dictionary<Destination, LinkedListNode<Destination>> _reportNodes = [];

    public void KeepReport(RaceReport report)
    {
        var destination = new Destination(report.Host, report.Port);
        Reports[destination] = report;
        if (_reportNodes.Remove(destination, out var node))
        {
            _reportOrder.Remove(node);
        }

        _reportNodes[destination] = _reportOrder.AddLast(destination);
        if (_reportOrder.Count > EngineActor.KeptReports)
        {
            var oldest = _reportOrder.First!.Value;
            _reportOrder.RemoveFirst();
            _reportNodes.Remove(oldest);
            Reports.Remove(oldest);
        }
    }

    /// <summary>A child stopped: forget it wherever it is listed.</summary>
    public void Forget(IActorRef child)
    {
        if (Names.Remove(child, out var name) && Supervisors.TryGetValue(name, out var current) && current.Equals(child))
        {
            Supervisors = Supervisors.Remove(name);
        }

        foreach (var watcher in Watchers.Where(w => w.Value.Equals(child)).ToList())
        {
            Watchers.Remove(watcher.Key);
        }
    }
}
