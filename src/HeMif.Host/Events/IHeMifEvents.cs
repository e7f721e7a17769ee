using HeMif.Multipath;
using HeMif.Report;

namespace HeMif.Hosting;

/// <summary>
/// HeMif's decisions as streams, from DI. Every stream completes when the host stops (the connector is disposed);
/// none ever fails. Subscribers are called on the engine's threads: hand heavy work off.
/// </summary>
public interface IHeMifEvents
{
    /// <summary>
    /// Interface validation states (draft §5.2.1): first the latest state of each interface examined so far, then
    /// every change — so a subscriber that arrives after start-up still learns where each interface stands.
    /// </summary>
    IObservable<InterfaceStateChanged> InterfaceStates { get; }

    /// <summary>Every timeline event of every race, as it happens.</summary>
    IObservable<RaceEvent> RaceEvents { get; }

    /// <summary>
    /// What HeMif knows about each interface (the MIF API, docs/discovery.md): first every interface as it is now, then
    /// each interface again whenever a fact, a learned provisioning domain, its validation state or RA learning changes.
    /// <see cref="IHeMifConnector.Interfaces"/> is the same as a snapshot.
    /// </summary>
    IObservable<HeMif.Discovery.InterfaceView> InterfaceChanges => System.Reactive.Linq.Observable.Empty<HeMif.Discovery.InterfaceView>();

    /// <summary>The report of every finished race through the hosted connector (HttpClient's included), won or failed.</summary>
    IObservable<RaceReport> Races { get; }

    /// <summary>
    /// Every MPTCP subflow suggestion (which interfaces may carry subflows, in which role) issued by any
    /// <see cref="IHeMifConnector.WatchSubflows"/> subscription on the hosted connector (docs/multipath.md).
    /// </summary>
    IObservable<SubflowPlan> SubflowSuggestions { get; }
}

/// <summary>The streams of a connector the application registered itself (it has no race reports to give).</summary>
internal sealed class ConnectorEvents(IHeMifConnector connector) : IHeMifEvents
{
    public IObservable<InterfaceStateChanged> InterfaceStates => connector.InterfaceStates;

    public IObservable<RaceEvent> RaceEvents => connector.RaceEvents;

    public IObservable<HeMif.Discovery.InterfaceView> InterfaceChanges => connector.InterfaceChanges;

    public IObservable<RaceReport> Races => System.Reactive.Linq.Observable.Empty<RaceReport>();

    public IObservable<SubflowPlan> SubflowSuggestions => connector.SubflowSuggestions;
}
