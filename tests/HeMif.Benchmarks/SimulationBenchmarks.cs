using BenchmarkDotNet.Attributes;
using HeMif.Simulation;
using HeMif.TestKit;

namespace HeMif.Benchmarks;

/// <summary>
/// A whole simulated run (<c>hemif simulate</c> without the printing) on a host with many interfaces: every interface
/// examined, the plan for all of them, resolution on thousands, the race and its report, in virtual time
/// (<see cref="ManyInterfacesScenario"/>). Goal (issue 11): 10,000 interfaces well under 2 s; 1,000 and 10,000 side
/// by side show whether the cost grows in proportion (it grew with the square: 0.8 s and 40 s).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class SimulationBenchmarks
{
    private Scenario _scenario = null!;

    [Params(1_000, 10_000)]
    public int Interfaces { get; set; }

    [GlobalSetup]
    public void Setup() => _scenario = ManyInterfacesScenario.Build(Interfaces);

    [Benchmark]
    public async Task<string?> SimulateManyInterfaces()
    {
        var result = await Simulator.RunAsync(_scenario).ConfigureAwait(false);
        var winner = result.Races[0].Winner?.Interface;
        return winner == ManyInterfacesScenario.Winner(Interfaces) ? winner : throw new InvalidOperationException($"wrong winner: {winner}");
    }
}
