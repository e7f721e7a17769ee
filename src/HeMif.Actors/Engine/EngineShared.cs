using System.Reactive.Subjects;
using HeMif.Multipath;
using HeMif.Report;
using HeMif.Runtime;

namespace HeMif.Engine;

/// <summary>
/// What the engine's facade (<see cref="HeMifEngine"/>) and its actors share: the options, the outgoing streams, the
/// latest published <see cref="EngineSnapshot"/>, the registry (the engine actor's alone), and whether the engine actor
/// has stopped. The streams are the engine's output to the world; actors publish to them, nothing reads them back.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop signal lives as long as the engine: requests may still register on it after the actors stopped, to be answered at once.")]
internal sealed class EngineShared(EngineOptions options)
{
    private readonly ISubject<InterfaceStateChanged> _interfaceStates = Subject.Synchronize(new Subject<InterfaceStateChanged>());
    private readonly ISubject<RaceEvent> _raceEvents = Subject.Synchronize(new Subject<RaceEvent>());
    private readonly ISubject<SubflowPlan> _subflows = Subject.Synchronize(new Subject<SubflowPlan>());
    private readonly ISubject<ActorFailure> _failures = Subject.Synchronize(new Subject<ActorFailure>());
    private readonly CancellationTokenSource _stopped = new();
    private volatile EngineSnapshot _snapshot = EngineSnapshot.Empty;

    public EngineOptions Options { get; } = options;

    /// <summary>Written by the engine actor only (see <see cref="EngineActor"/>).</summary>
    public EngineRegistry Registry { get; } = new();

    /// <summary>What HeMif knows about each interface now, and its changes (docs/discovery.md); written by the engine actor.</summary>
    public Discovery.InterfaceViews Views { get; } = new();

    /// <summary>The latest interfaces and states; replaced whole by the engine actor.</summary>
    public EngineSnapshot Snapshot
    {
        get => _snapshot;
        set => _snapshot = value;
    }

    public IObservable<InterfaceStateChanged> InterfaceStates => _interfaceStates;

    public IObservable<RaceEvent> RaceEvents => _raceEvents;

    public IObservable<SubflowPlan> SubflowSuggestions => _subflows;

    public IObservable<ActorFailure> Failures => _failures;

    /// <summary>Cancelled once the engine actor has stopped (its children first): requests that cannot be answered any more fail.</summary>
    public CancellationToken Stopped => _stopped.Token;

    public void PublishInterfaceState(InterfaceStateChanged change) => _interfaceStates.OnNext(change);

    public void PublishRaceEvent(RaceEvent e) => _raceEvents.OnNext(e);

    public void PublishSubflow(SubflowPlan plan) => _subflows.OnNext(plan);

    public void ReportFailure(ActorFailure failure) => _failures.OnNext(failure);

    public void MarkStopped() => _stopped.Cancel();

    /// <summary>Ends the streams (after the actors have stopped).</summary>
    public void Complete()
    {
        _interfaceStates.OnCompleted();
        _raceEvents.OnCompleted();
        _subflows.OnCompleted();
        _failures.OnCompleted();
        Views.Complete();
    }
}
