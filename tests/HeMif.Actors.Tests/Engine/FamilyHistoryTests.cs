using HeMif.Engine;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// History per address family (RFC 8305 §4; the draft §7.5: "The interface state management in HE-MIF is designed to
/// synchronize with IP family states"): a warm request starts with the family that worked. The whole engine on a
/// scripted network where IPv6 is blackholed everywhere and IPv4 works, in virtual time.
/// </summary>
public sealed class FamilyHistoryTests : IAsyncDisposable
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly HeMifEngine _engine;
    private readonly EngineDriver _driver;

    public FamilyHistoryTests()
        : this(null)
    {
    }

    private FamilyHistoryTests(RaceSettings? race)
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        foreach (var name in _network.Paths.Keys.ToList())
        {
            _network.Paths[name] = _network.Paths[name] with { IPv6 = "blackhole" };
        }

        var options = _network.Options(_clock, [FakeNetwork.Wifi]);
        _engine = new HeMifEngine(race is null ? options : options with { Race = race });
        _driver = new EngineDriver(_engine, _clock);
        Assert.True(_driver.RunUntil(() => _engine.AllExamined));
    }

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private RaceReport Race()
    {
        var (completion, _) = _engine.Start(Request);
        Assert.True(_driver.RunUntil(() => completion.IsCompleted));
        var result = completion.GetAwaiter().GetResult();
        _driver.Idle(); // the racer's lessons reach the supervisor
        return result.Report;
    }

    /// <summary>
    /// RFC 8305 §4: "If the client keeps track of which addresses it used in the past, it SHOULD add another Destination
    /// Address Selection rule ... which prefers used addresses over unused ones". Cold: IPv6 first, silent, and IPv4 one
    /// Connection Attempt Delay later (5 ms DNS + 250 ms + 20 ms); warm: IPv4 first, one resolution plus one RTT (25 ms),
    /// and not a single IPv6 attempt.
    /// </summary>
    [Fact]
    public void A_warm_request_starts_with_the_family_that_worked_while_the_other_stayed_silent()
    {
        var cold = Race();
        Assert.Equal(TimeSpan.FromMilliseconds(275), cold.TimeToConnect);
        Assert.Equal(["ipv6", "ipv4"], cold.Attempts.Select(a => a.Family));
        Assert.Equal("ipv4", cold.Winner!.Family);

        var warm = Race();
        Assert.Equal(TimeSpan.FromMilliseconds(25), warm.TimeToConnect);
        Assert.Equal(["ipv4"], warm.Attempts.Select(a => a.Family));
        Assert.Contains(warm.Events, e => e.Kind == "note" && e.Detail.Contains(
            "history: IPv4 connected here last time while IPv6 stayed silent (1 attempt): IPv4 first (RFC 8305 §4, draft §7.5)", StringComparison.Ordinal));
    }

    /// <summary>
    /// History must not outlive the network it was learned on (RFC 8305 §4: it "SHOULD be flushed whenever a device
    /// changes the network to which it is attached"): once IPv6 works again and wins, the family order is the usual one.
    /// </summary>
    [Fact]
    public void Once_IPv6_answers_again_and_wins_the_usual_order_comes_back()
    {
        Race();
        Assert.Equal("ipv4", Race().Attempts[0].Family);

        // IPv4 breaks, IPv6 comes back: the warm request tries IPv4 first, then IPv6 wins; the next is IPv6 first again.
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "ok", IPv4 = "blackhole" };
        var switched = Race();
        Assert.Equal(["ipv4", "ipv6"], switched.Attempts.Select(a => a.Family));
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv4 = "ok" };
        var after = Race();
        Assert.Equal("ipv6", after.Attempts[0].Family);
        Assert.Equal(TimeSpan.FromMilliseconds(25), after.TimeToConnect);
    }

    /// <summary>
    /// HEv3 coalescing of cold starts, with the per-family history it needs: 50 simultaneous requests to one destination
    /// nothing is known about, IPv6 blackholed. One race goes ahead (one IPv6 attempt, silent; IPv4 one Connection Attempt
    /// Delay later: 275 ms); the other 49 wait for its verdict and start from it (IPv4 first: 25 ms more), so all connect
    /// about one attempt delay after the first attempt, and only one set of IPv6 attempts is made in all.
    /// </summary>
    [Fact]
    public void Fifty_simultaneous_cold_requests_make_one_set_of_IPv6_attempts_and_start_from_its_verdict()
    {
        var start = _clock.GetUtcNow();
        var completions = Enumerable.Range(0, 50).Select(_ => _engine.Start(Request).Completion).ToList();
        Assert.True(_driver.RunUntil(() => completions.TrueForAll(c => c.IsCompleted)));
        Assert.Equal(TimeSpan.FromMilliseconds(300), _clock.GetUtcNow() - start);

        var reports = completions.ConvertAll(c => c.GetAwaiter().GetResult().Report);
        Assert.All(reports, r => Assert.Equal(RaceOutcome.Connected, r.Outcome));
        Assert.Single(reports.SelectMany(r => r.Attempts), a => a.Family == "ipv6");
        var followers = reports.Where(r => r.Events.Any(e => e.Detail.Contains("HEv3 coalescing of cold starts", StringComparison.Ordinal))).ToList();
        Assert.Equal(49, followers.Count);
        Assert.All(followers, r => Assert.Equal((TimeSpan.FromMilliseconds(25), "ipv4"), (r.TimeToConnect!.Value, r.Attempts.Single().Family)));
    }

    /// <summary>The wait is bounded (<see cref="RaceSettings.ColdStartWait"/>): past it, a waiting request races on its own and says so.</summary>
    [Fact]
    public async Task A_waiting_request_races_on_its_own_when_the_verdict_does_not_come_in_time()
    {
        await using var other = new FamilyHistoryTests(new RaceSettings { ColdStartWait = TimeSpan.FromMilliseconds(100) });
        var (first, _) = other._engine.Start(Request);
        var (second, _) = other._engine.Start(Request);
        Assert.True(other._driver.RunUntil(() => first.IsCompleted && second.IsCompleted));
        var waited = (await second).Report;
        Assert.Contains(waited.Events, e => e.Detail.Contains("waited 100 ms for the race to this destination that was running, without a verdict: races on its own", StringComparison.Ordinal));
        Assert.Equal(["ipv6", "ipv4"], waited.Attempts.Select(a => a.Family)); // nothing learned yet: the usual order
    }
}
