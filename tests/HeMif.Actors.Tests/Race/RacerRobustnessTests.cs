using HeMif.Actors.Tests.Engine;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// The racer must decide every race it starts, whatever the clock and the plugged-in pieces do: a clock that moves
/// while the racer works (a real one on a busy machine), a transport that throws instead of returning a failed task.
/// A racer that threw used to be restarted and answer "the race stopped (the engine is shutting down)".
/// </summary>
public sealed class RacerRobustnessTests : IAsyncLifetime
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private readonly List<string> _actorFailures = [];
    private HeMifEngine? _engine;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    /// <summary>
    /// This clock jumps now and then between two readings, by up to 400 ms (a busy machine: preemption, a GC pause), so
    /// the racer can read a time past the planner's "wait until T" right after the planner said it. The racer must then poll at once instead of
    /// asking for a timer in the past (which threw, and stopped the race). Twenty races make such a moment all but certain.
    /// </summary>
    [Fact]
    public async Task A_clock_that_moves_while_the_racer_works_never_stops_the_race()
    {
        var clock = new BusyClock(TimeSpan.FromMilliseconds(400), new Random(7));
        var network = FakeNetwork.WifiAndCellular(clock);
        network.Paths["wlan0"] = network.Paths["wlan0"] with { IPv6 = "blackhole" }; // every race waits out an attempt delay
        await StartEngineAsync(clock, network);
        for (var i = 0; i < 20; i++)
        {
            var result = await RaceAsync(clock);
            Assert.Equal(RaceOutcome.Connected, result.Report.Outcome);
            await result.Connection!.DisposeAsync();
        }

        Assert.Empty(_actorFailures);
    }

    /// <summary>
    /// A transport that throws synchronously fails that attempt only (a soft error, RFC 8305 §5: the next address is
    /// tried); the race goes on and connects over the other family.
    /// </summary>
    [Fact]
    public async Task A_transport_that_throws_instead_of_failing_its_task_fails_one_attempt_not_the_race()
    {
        var clock = new VirtualClock();
        var network = FakeNetwork.WifiAndCellular(clock);
        network.Paths["wlan0"] = network.Paths["wlan0"] with { IPv6 = "throw" };
        await StartEngineAsync(clock, network);
        var result = await RaceAsync(clock);

        Assert.Equal(RaceOutcome.Connected, result.Report.Outcome);
        Assert.Equal("wlan0", result.Report.Winner!.Interface);
        Assert.Equal("ipv4", result.Report.Winner.Family);
        var failed = Assert.Single(result.Report.Attempts, a => a.Result == "failed");
        Assert.Equal("ipv6", failed.Family);
        Assert.Contains(result.Report.Events, e => e.Kind == "attempt-failed" && e.Detail.Contains("unexpected InvalidOperationException: transport bug", StringComparison.Ordinal));
        Assert.Empty(_actorFailures);
        await result.Connection!.DisposeAsync();
    }

    private async Task StartEngineAsync(VirtualClock clock, FakeNetwork network)
    {
        _engine = new HeMifEngine(network.Options(clock));
        _engine.Failures.Subscribe(f => { lock (_actorFailures) { _actorFailures.Add($"{f.Actor}: {f.Exception} -> {f.Directive}"); } });
        Assert.True(VirtualTimeDriver.RunUntil(_engine.Pump!, clock, () => _engine.AllExamined, TimeSpan.FromMinutes(2)), "validation did not finish");
        await Task.CompletedTask;
    }

    private async Task<RaceResult> RaceAsync(VirtualClock clock)
    {
        var engine = _engine!;
        var (completion, _) = engine.Start(Request);
        Assert.True(VirtualTimeDriver.RunUntil(engine.Pump!, clock, () => completion.IsCompleted, TimeSpan.FromMinutes(2)), "the race was never decided");
        return await completion;
    }

    /// <summary>Virtual time that one reading in three finds up to <paramref name="most"/> later than the last (timers keep virtual time).</summary>
    private sealed class BusyClock(TimeSpan most, Random random) : VirtualClock
    {
        private readonly Lock _lock = new();
        private long _drift;

        public override long GetTimestamp()
        {
            lock (_lock)
            {
                if (random.Next(3) == 0)
                {
                    _drift += (long)(random.NextDouble() * most.Ticks);
                }

                return base.GetTimestamp() + _drift;
            }
        }
    }
}
