using HeMif.Report;
using HeMif.Simulation;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// A host with 10,000 interfaces goes through the whole engine (validation, filter, sort, resolution, the race) and
/// gets the right answer. How fast is the benchmark's business (tests/HeMif.Benchmarks, SimulationBenchmarks); this
/// only checks that the run ends and what it decides.
/// </summary>
public sealed class ManyInterfacesSimulationTests
{
    [Fact]
    public async Task Ten_thousand_interfaces_are_examined_filtered_raced_and_the_fastest_working_one_wins()
    {
        const int Count = 10_000;
        var scenario = ManyInterfacesScenario.Build(Count);

        var result = await Simulator.RunAsync(scenario);

        var race = Assert.Single(result.Races);
        Assert.Equal(RaceOutcome.Connected, race.Outcome);
        Assert.Equal(ManyInterfacesScenario.Winner(Count), race.Winner!.Interface);
        Assert.Equal("ipv6", race.Winner.Family);

        // Every interface was examined once before the request; the Ethernet ones failed (their paths reject).
        var firstVerdicts = result.InterfaceEvents.Where(e => e.State is not (ValidationState.Unknown or ValidationState.Validating))
            .GroupBy(e => e.Interface).ToDictionary(g => g.Key, g => g.First().State);
        Assert.Equal(Count, firstVerdicts.Count);
        Assert.Equal(Count / 10, firstVerdicts.Values.Count(s => s == ValidationState.NoConnectivity));

        // Excluded: the VPNs by the user's rule, the Ethernet ones as not validated (draft §5.2.1), each once.
        Assert.Equal(Count / 5, race.Excluded.Count);
        Assert.Equal(Count / 5, race.Excluded.Select(x => x.Interface).Distinct().Count());
        Assert.Equal(Count / 10, race.Excluded.Count(x => x.Reasons.Any(r => r.Rule.Name == "no-vpn")));
        Assert.Equal(Count / 10, race.Excluded.Count(x => x.Reasons.Any(r => r.Rule.Name == "builtin:validation")));

        // The Wi-Fi interfaces were preferred but could not resolve, so the rest started without waiting for the
        // fallback delay; the winner then connected one round trip (5 ms) after its own answer (5 ms).
        Assert.Contains("nothing left to try", race.Fallback!.Detail, StringComparison.Ordinal);
        Assert.Equal(race.Fallback.At + TimeSpan.FromMilliseconds(10), race.TimeToConnect);
        Assert.All(race.Attempts, a => Assert.True(a.Result is "won" or "cancelled", a.Result));
    }
}
