using Akka.Actor;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Simulation;
using HeMif.Validate;

namespace HeMif.Engine;

/// <summary>What an engine is made of: the interfaces, the policy, the executors, the clock and the timings.</summary>
internal sealed record EngineOptions
{
    public required IReadOnlyList<InterfaceFacts> Interfaces { get; init; }

    public HeMifPolicy Policy { get; init; } = HeMifPolicy.Empty;

    public required ConnectivityProbe Probe { get; init; }

    public required InterfaceResolver Resolver { get; init; }

    /// <summary>
    /// The transports requests may use, by name (a request names its own; one that names none has the registry's
    /// defaults). One that is unsupported on this host is skipped where a request asks for it (said once per race).
    /// </summary>
    public required TransportRegistry Transports { get; init; }

    /// <summary>
    /// The QUIC path probe; null: none. With one, a request that may use QUIC on an interface whose history has no QUIC
    /// verdict for its destination starts a probe there in the background (never delaying the race), and the verdict
    /// is cached with the interface's outcomes, so later requests plan no QUIC attempt where QUIC is known blocked.
    /// </summary>
    public QuicPathProbe? QuicProbe { get; init; }

    public RaceSettings Race { get; init; } = new();

    public ValidationSettings Validation { get; init; } = new();

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where Router Advertisements come from (docs/discovery.md); null: nothing is learned from the network.</summary>
    public Discovery.IRouterAdvertisementSource? RouterAdvertisements { get; init; }

    /// <summary>
    /// Fetches the Additional Information of PvDs whose H-flag is set (RFC 8801 §4, docs/discovery.md); null: not fetched
    /// (the PvDs are used with the RA's facts).
    /// </summary>
    public Discovery.IPvdInformationFetcher? PvdInformation { get; init; }

    /// <summary>
    /// Sees every interface state change from the very first (subscribed before any supervisor starts; a subscription
    /// to <see cref="HeMifEngine.InterfaceStates"/> made after the constructor can miss the first "Validating").
    /// </summary>
    public IObserver<InterfaceStateChanged>? InterfaceStateObserver { get; init; }

    /// <summary>
    /// Run in virtual time (the simulator, tests): the engine's own actor system has every dispatcher on one
    /// <see cref="VirtualTimePump"/> that <see cref="VirtualTimeDriver"/> runs, and <see cref="TimeProvider"/> must be
    /// a <see cref="VirtualClock"/>. Not with <see cref="ActorSystem"/>.
    /// </summary>
    public bool VirtualTime { get; init; }

    /// <summary>
    /// An actor system to live in (an application's own, through Akka.Hosting); null: the engine creates its own and
    /// terminates it on dispose. In a shared system the engine's top actor is <see cref="ActorName"/>.
    /// </summary>
    public ActorSystem? ActorSystem { get; init; }

    /// <summary>The name of the engine's top actor; null: <c>hemif</c> in its own system, <c>hemif-N</c> in a shared one.</summary>
    public string? ActorName { get; init; }

    /// <summary>How long the engine waits for its own actors to answer (on its clock).</summary>
    public TimeSpan InternalAskTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
