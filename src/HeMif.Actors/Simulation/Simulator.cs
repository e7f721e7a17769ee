using System.Reactive;
using System.Reactive.Disposables;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Simulation;

/// <summary>What a simulation produced: one report per request, in order, and every interface state change.</summary>
/// <param name="Scenario">The scenario that ran.</param>
/// <param name="Races">One report per request of the scenario.</param>
/// <param name="InterfaceEvents">Every validation state change, by time, then in the scenario's interface order.</param>
public sealed record SimulationResult(Scenario Scenario, IReadOnlyList<RaceReport> Races, IReadOnlyList<InterfaceStateChanged> InterfaceEvents)
{
    /// <summary>When each request of <see cref="Races"/> started, in virtual time from the scenario's start (a race's own times count from its start).</summary>
    public IReadOnlyList<TimeSpan> RequestStarts { get; init; } = [];

    /// <summary>
    /// The path events of the connections a request held open (<see cref="ScenarioRequest.Hold"/>), in order: which
    /// request (its index in <see cref="Races"/>), when (virtual time from the scenario's start), and the event.
    /// </summary>
    public IReadOnlyList<SimulatedPathEvent> PathEvents { get; init; } = [];
}

/// <summary>A path event of a connection a scenario's request held open.</summary>
/// <param name="Request">The request's index in <see cref="SimulationResult.Races"/>.</param>
/// <param name="At">Virtual time from the scenario's start.</param>
/// <param name="Event">The event.</param>
public sealed record SimulatedPathEvent(int Request, TimeSpan At, Continuity.PathEvent Event);

/// <summary>
/// Runs a <see cref="Scenario"/> through the whole engine (validation, filter, sort, resolution, race, outcome cache) on
/// its simulated network, in virtual time: a race that takes seconds of virtual time takes milliseconds of wall time,
/// and the same scenario always gives the same timeline. The CLI's <c>hemif simulate</c> and the scenario tests use it.
/// </summary>
public static class Simulator
{
    /// <summary>How much virtual time validation may take before the first request.</summary>
    private static readonly TimeSpan ValidationLimit = TimeSpan.FromMinutes(1);

    /// <summary>Runs every request of <paramref name="scenario"/> in order, through one engine (so the cache carries over).</summary>
    public static async Task<SimulationResult> RunAsync(Scenario scenario, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var clock = new VirtualClock(scenario.Now);
        var network = scenario.CreateNetwork(clock);
        var race = scenario.CreateRaceSettings();
        var events = new List<InterfaceStateChanged>();
        var engine = new HeMifEngine(new EngineOptions
        {
            // From the very first state: the supervisors start inside the constructor.
            InterfaceStateObserver = Observer.Create<InterfaceStateChanged>(e =>
            {
                lock (events)
                {
                    events.Add(e);
                }
            }),
            Interfaces = scenario.Interfaces,
            Policy = scenario.Policy,
            Probe = network.Probe,
            Resolver = network.Resolver,
            Transports = network.Transports,
            Race = race,
            TimeProvider = clock,
            VirtualTime = true,
            Validation = new ValidationSettings { Random = new Random(scenario.Seed) },
        });
        var pump = engine.Pump!;
        // The scenario's changes happen at their virtual instants, whatever the engine is doing then (draft §3.1: a
        // path can break after it was validated; a portal can let the user through).
        using var changes = new CompositeDisposable(scenario.Changes
            .Select(c => clock.CreateTimer(_ => network.SetPath(c.Interface, c.Path, c.Description), null, c.At, Timeout.InfiniteTimeSpan)));
        await using (engine.ConfigureAwait(false))
        {
            // Validation first (draft §5.2.1): no interface joins a race before its probe has answered.
            var validated = VirtualTimeDriver.RunUntil(pump, clock, () => engine.AllExamined, ValidationLimit, cancellationToken);
            if (!validated)
            {
                throw new InvalidOperationException($"Scenario '{scenario.Name}': the interfaces were still being validated after {ValidationLimit.TotalSeconds:0} s of virtual time.");
            }

            var reports = new List<RaceReport>();
            var starts = new List<TimeSpan>();
            var pathEvents = new List<SimulatedPathEvent>();
            foreach (var r in scenario.Requests)
            {
                if (r.At is { } at && at > clock.Elapsed)
                {
                    // Time passes between requests as it would for an app: validation, revalidation and the changes run.
                    VirtualTimeDriver.Advance(pump, clock, at - clock.Elapsed);
                }

                starts.Add(clock.Elapsed);
                var request = new ConnectionRequest(r.Host, r.Port)
                {
                    Transports = r.Transports,
                    ExpectedBytes = r.ExpectedBytes,
                    Exchange = r.Exchange(),
                };
                var (completion, _) = engine.Start(request);
                var limit = race.RaceTimeout + TimeSpan.FromMinutes(1);
                if (!VirtualTimeDriver.RunUntil(pump, clock, () => completion.IsCompleted, limit, cancellationToken))
                {
                    throw new InvalidOperationException($"Scenario '{scenario.Name}': the race for {r.Host}:{r.Port} did not end within {limit.TotalSeconds:0} s of virtual time.");
                }

                var result = await completion.ConfigureAwait(false);
                if (result.Connection is not null)
                {
                    if (r.Hold is { } hold && result.Report.Winner is { } winner)
                    {
                        // The connection stays open while time passes and the scenario's changes happen; what its path
                        // does is recorded as an application would see it (draft §7.4).
                        var index = reports.Count;
                        using var watch = engine.WatchPath(request, winner.Interface, result.Connection.LocalEndPoint?.Address)
                            .Subscribe(e =>
                            {
                                lock (pathEvents)
                                {
                                    pathEvents.Add(new SimulatedPathEvent(index, clock.Elapsed, e));
                                }
                            });
                        VirtualTimeDriver.Advance(pump, clock, hold);
                    }

                    await result.Connection.DisposeAsync().ConfigureAwait(false);
                }

                reports.Add(result.Report);
            }

            lock (events)
            {
                // Interfaces are examined side by side, so events at the same virtual instant arrive in any order; order
                // them by time, then by the scenario's interface order (a stable sort keeps each interface's own order).
                var order = scenario.Interfaces.Select((f, i) => (f.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
                return new SimulationResult(scenario, reports, [.. events.OrderBy(e => e.At).ThenBy(e => order.GetValueOrDefault(e.Interface, int.MaxValue))])
                {
                    RequestStarts = starts,
                    PathEvents = pathEvents,
                };
            }
        }
    }
}
