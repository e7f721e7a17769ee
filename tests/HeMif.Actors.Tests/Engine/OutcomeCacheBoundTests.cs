using Akka.Actor;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.Remember;
using HeMif.Runtime;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// Draft §5.2.3: "The node would cache information regarding the outcome of each connection attempt … Cache entries
/// would be flushed periodically". The whole engine (request, racer, the interface's supervisor and its outcome cache)
/// on a scripted network in virtual time: destinations that are never asked for again do not pile up.
/// </summary>
public sealed class OutcomeCacheBoundTests : IAsyncDisposable
{
    private const int Destinations = 100_000;
    private const int Batch = 1_000;
    private readonly ManualTimeProvider _clock = new();
    private readonly HeMifEngine _engine;
    private readonly EngineDriver _driver;

    public OutcomeCacheBoundTests()
    {
        var network = FakeNetwork.WifiAndCellular(_clock);
        _engine = new HeMifEngine(network.Options(_clock, [FakeNetwork.Wifi]));
        _driver = new EngineDriver(_engine, _clock);
        Assert.True(_driver.RunUntil(() => _engine.AllExamined));
    }

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    /// <summary>
    /// 100,000 distinct destinations raced over an hour of virtual time (a batch of 1,000 every 36 s), none asked for
    /// again: the interface's outcome cache never holds more than its capacity, and holds only what the last
    /// ten minutes (its maximum age) wrote: after a quiet spell longer than that, the next write leaves only itself. It
    /// prunes itself; nobody calls it to.
    /// </summary>
    [Fact]
    public void The_outcome_cache_stays_bounded_through_100000_destinations_raced_by_the_engine()
    {
        var supervisor = Supervisor("wlan0");
        var most = 0;
        var connected = 0;
        for (var start = 0; start < Destinations; start += Batch)
        {
            var races = Enumerable.Range(start, Batch)
                .Select(i => _engine.Start(new ConnectionRequest($"host{i}.example", 443)).Completion)
                .ToList();
            Assert.True(_driver.RunUntil(() => races.All(r => r.IsCompleted)));
            foreach (var race in races)
            {
                var result = _driver.Await(race);
                if (result.Connection is { } connection)
                {
                    connected++;
                    _driver.Await(connection.DisposeAsync().AsTask());
                }
            }

            _driver.Advance(TimeSpan.FromSeconds(36)); // 100 batches of 36 s: an hour
            most = Math.Max(most, CacheSize(supervisor));
        }

        Assert.Equal(Destinations, connected); // every race went through the cache's writer, not around it
        Assert.InRange(most, Batch, OutcomeCache.DefaultCapacity);

        // Ten minutes of maximum age at 1,000 destinations per 36 s is about 17,000 written in that window, so the
        // capacity bounded it above. Then a quiet spell longer than the maximum age: the next race's write drops every
        // aged entry, and only its own is left.
        _driver.Advance(OutcomeCache.DefaultMaxAge + TimeSpan.FromMinutes(1));
        var last = _engine.Start(new ConnectionRequest("after-the-quiet.example", 443)).Completion;
        Assert.True(_driver.RunUntil(() => last.IsCompleted));
        _driver.Await(_driver.Await(last).Connection!.DisposeAsync().AsTask());
        _driver.Idle();
        Assert.Equal(1, CacheSize(supervisor));
    }

    /// <summary>The interface's supervisor (the first one the engine started for it), which owns its outcome cache.</summary>
    private ActorSelection Supervisor(string interfaceName) =>
        _engine.System.ActorSelection(_engine.Actor.Path / ActorNames.InterfaceSupervisor(interfaceName, 1));

    private int CacheSize(ActorSelection supervisor) =>
        _driver.Await(supervisor.AskOnClock<int>(ValidateMessages.GetCacheSize.Instance, TimeSpan.FromSeconds(30), _clock, _engine.Pump));
}
