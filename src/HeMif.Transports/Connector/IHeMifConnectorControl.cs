using HeMif.Planning;
using HeMif.Report;

namespace HeMif;

/// <summary>
/// What the hosting layer (HeMif.Host) needs from a connector beyond the public <see cref="IHeMifConnector"/>: whether
/// every interface has had its first examination, the latest state of each, and live policy updates. Internal: the
/// public way to change the policy of a hosted connector is configuration (IOptionsMonitor).
/// </summary>
internal interface IHeMifConnectorControl
{
    /// <summary>Every interface has had its first examination (draft §5.2.1: none is still unexamined).</summary>
    bool AllExamined { get; }

    /// <summary>The latest known state of each interface examined so far.</summary>
    IReadOnlyDictionary<string, InterfaceStateChanged> CurrentStates { get; }

    /// <summary>
    /// Every failure inside HeMif's own actors, in words (which actor, the exception, what supervision did): a bug or
    /// a broken environment; a probe that throws is restarted, a race that throws fails with the cause.
    /// </summary>
    IObservable<string> InternalFailures { get; }

    /// <summary>Re-reads the host's interfaces now (what the watcher does on an OS event or its period); no-op for given interfaces.</summary>
    void RefreshInterfaces();

    /// <summary>HeMif's top actor (the host registers it in Akka.Hosting's registry as <see cref="HeMifActor"/>).</summary>
    Akka.Actor.IActorRef Actor { get; }

    /// <summary>
    /// What the connector was composed of, one line each: every transport (name and type, in registration order), the
    /// default transports, the resolver, the connectivity probe and the QUIC path probe (their types).
    /// </summary>
    IReadOnlyList<string> Composition { get; }

    /// <summary>Replaces the policy; the next request is planned with it.</summary>
    Task UpdatePolicyAsync(HeMifPolicy policy, CancellationToken cancellationToken = default);
}
