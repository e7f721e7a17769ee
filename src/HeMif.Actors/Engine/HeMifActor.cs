using HeMif.Report;

namespace HeMif;

/// <summary>
/// HeMif's top actor, seen from an application's own actors: the key under which Akka.Hosting's <c>ActorRegistry</c>
/// holds it (<c>IRequiredActor&lt;HeMifActor&gt;</c>, <c>registry.Get&lt;HeMifActor&gt;()</c>), and the messages it answers.
/// Watch it like any actor: it stops when HeMif stops. Connections are made through <c>IHeMifConnector</c>; this
/// protocol lets actors see what HeMif knows and decided.
/// </summary>
public sealed class HeMifActor
{
    private HeMifActor()
    {
    }

    /// <summary>Ask: the latest validation state of every interface; the answer is an <see cref="InterfaceStates"/>.</summary>
    public sealed record GetInterfaceStates
    {
        /// <summary>The one instance (the message carries nothing).</summary>
        public static readonly GetInterfaceStates Instance = new();
    }

    /// <summary>The answer to <see cref="GetInterfaceStates"/>: one entry per interface, in name order.</summary>
    /// <param name="States">Each interface's latest state.</param>
    public sealed record InterfaceStates(IReadOnlyList<InterfaceStateChanged> States);

    /// <summary>Ask: the report of the latest race to <paramref name="Host"/>:<paramref name="Port"/>; the answer is a <see cref="LastRaceReport"/>.</summary>
    /// <param name="Host">The destination host, as the request named it.</param>
    /// <param name="Port">The destination port.</param>
    public sealed record GetLastRaceReport(string Host, int Port);

    /// <summary>
    /// The answer to <see cref="GetLastRaceReport"/>: the latest race to that destination, or null when HeMif has raced
    /// to it not at all or so long ago that it no longer keeps it (the latest 1,024 destinations are kept).
    /// </summary>
    /// <param name="Host">The destination host asked about.</param>
    /// <param name="Port">The destination port asked about.</param>
    /// <param name="Report">The race: winner, attempts, exclusions, timeline; null when none is kept.</param>
    public sealed record LastRaceReport(string Host, int Port, RaceReport? Report);
}
