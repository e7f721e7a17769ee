using System.Net;
using System.Net.Sockets;
using HeMif.Actors.Tests.Engine;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Report;
using HeMif.Sort;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Sort;

/// <summary>
/// Ranking after resolution (draft §5.2.2: "Name resolution is executed on the validated interfaces"; §4.2.3: "A HE-MIF
/// node should take the parameters of router preference and route information to identify the next hop"): each
/// interface's own answers feed the sort, so a more specific route on cellular for an operator service's address puts
/// cellular first without a policy rule, and an IPv6-only destination leaves an IPv4-only Wi-Fi out (§3.2). The sort waits
/// for a slow interface's answer at most <c>RaceSettings.RankingWait</c> (50 ms, the RFC 8305 Resolution Delay) after
/// the first answer. The whole engine in virtual time; times are exact.
/// </summary>
public sealed class RankAfterResolutionTests : IAsyncDisposable
{
    private static readonly IPAddress Service = IPAddress.Parse("2001:db8:c::10");

    /// <summary>The cellular interface with an RFC 4191 route for the operator's service prefix.</summary>
    private static readonly InterfaceFacts OperatorCellular = FakeNetwork.Cellular with
    {
        Routes = [new RouteInformation(IPNetwork.Parse("2001:db8:c::/48"), RoutePreference.Medium, TimeSpan.FromHours(1))],
    };

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private HeMifEngine? _engine;
    private EngineDriver _driver = null!;

    public RankAfterResolutionTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    private void Start(params InterfaceFacts[] interfaces)
    {
        _engine = new HeMifEngine(_network.Options(_clock, interfaces));
        _driver = new EngineDriver(_engine, _clock);
        _driver.Until(() => _engine.AllExamined);
    }

    private (RaceReport Report, DateTimeOffset Start) Race(string host)
    {
        var start = _clock.GetUtcNow();
        var (completion, _) = _engine!.Start(new ConnectionRequest(host, 443));
        var result = _driver.Await(completion);
        result.Connection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return (result.Report, start);
    }

    private void Answers(string name, TimeSpan dnsDelay, IReadOnlyList<IPAddress>? aaaa = null, IReadOnlyList<IPAddress>? a = null) =>
        _network.Paths[name] = _network.Paths[name] with { DnsDelay = dnsDelay, AaaaAnswer = aaaa ?? [Service], AAnswer = a ?? [] };

    private static string Ranking(RaceReport report) =>
        Assert.Single(report.Events, e => e.Kind == "note" && e.Detail.StartsWith("ranked after resolution", StringComparison.Ordinal)).Detail;

    [Fact]
    public void A_more_specific_cellular_route_for_the_service_address_puts_cellular_first_without_a_policy_rule()
    {
        Answers("wlan0", TimeSpan.FromMilliseconds(5));
        Answers("rmnet0", TimeSpan.FromMilliseconds(20));
        Start(FakeNetwork.Wifi, OperatorCellular);

        var (report, _) = Race("svc.operator.example");

        Assert.Equal(RaceOutcome.Connected, report.Outcome);
        Assert.Equal("rmnet0", report.Winner!.Interface);
        var plan = Assert.Single(report.Events, e => e.Kind == "plan" && e.Interface == "rmnet0");
        Assert.StartsWith("rank 1", plan.Detail, StringComparison.Ordinal);
        Assert.Contains("2001:db8:c::/48", plan.Detail, StringComparison.Ordinal);
        Assert.Contains("at 20 ms: every interface's lookups had ended; with the answers of wlan0, rmnet0", Ranking(report), StringComparison.Ordinal);
    }

    /// <summary>Without the answers (ranked before resolution, RankingWait 0) Wi-Fi goes first by common practice: the test above depends on the change.</summary>
    [Fact]
    public void Ranked_before_resolution_Wifi_goes_first_by_common_practice()
    {
        Answers("wlan0", TimeSpan.FromMilliseconds(5));
        Answers("rmnet0", TimeSpan.FromMilliseconds(20));
        var options = _network.Options(_clock, [FakeNetwork.Wifi, OperatorCellular]);
        _engine = new HeMifEngine(options with { Race = options.Race with { RankingWait = TimeSpan.Zero } });
        _driver = new EngineDriver(_engine, _clock);
        _driver.Until(() => _engine.AllExamined);

        var (report, _) = Race("svc.operator.example");

        Assert.Equal("wlan0", report.Winner!.Interface);
        Assert.DoesNotContain(report.Events, e => e.Detail.StartsWith("ranked after resolution", StringComparison.Ordinal));
    }

    /// <summary>
    /// The bound: Wi-Fi answers at 5 ms, cellular only at 500 ms. The sort goes ahead 50 ms after the first answer (at
    /// 55 ms), with Wi-Fi's answers alone, and Wi-Fi's first attempt starts then — not after the slow answer.
    /// </summary>
    [Fact]
    public void The_fast_answer_ranks_at_the_bound_not_after_the_slow_one()
    {
        Answers("wlan0", TimeSpan.FromMilliseconds(5));
        Answers("rmnet0", TimeSpan.FromMilliseconds(500));
        Start(FakeNetwork.Wifi, OperatorCellular);

        var (report, start) = Race("svc.operator.example");

        Assert.Equal("wlan0", report.Winner!.Interface);
        Assert.Contains("at 55 ms: 50 ms after the first answer (wlan0, at 5 ms)", Ranking(report), StringComparison.Ordinal);
        Assert.Contains("rmnet0 ranked without answers of their own", Ranking(report), StringComparison.Ordinal);
        var firstConnect = _network.Timed.First(t => t.What.StartsWith("connect", StringComparison.Ordinal));
        Assert.Equal(("connect wlan0 [2001:db8:c::10]:443", TimeSpan.FromMilliseconds(55)), (firstConnect.What, firstConnect.At - start));
    }

    /// <summary>Each interface is asked once: the race takes over the lookups the sort made.</summary>
    [Fact]
    public void The_race_uses_the_lookups_the_sort_made_instead_of_asking_again()
    {
        Answers("wlan0", TimeSpan.FromMilliseconds(5));
        Answers("rmnet0", TimeSpan.FromMilliseconds(500));
        Start(FakeNetwork.Wifi, OperatorCellular);

        Race("svc.operator.example");

        var lookups = _network.Timed.Where(t => t.What.StartsWith("resolve", StringComparison.Ordinal)).Select(t => t.What).ToList();
        Assert.Equal(lookups.Distinct().Count(), lookups.Count);
    }

    /// <summary>
    /// §3.2: an IPv6-only destination and an IPv4-only Wi-Fi. Wi-Fi's A lookup says NODATA, cellular's AAAA answers: the
    /// destination has only IPv6 addresses, and the filter leaves Wi-Fi out, saying so, without a rule.
    /// </summary>
    [Fact]
    public void An_IPv6_only_destination_leaves_an_IPv4_only_Wifi_out()
    {
        var ipv4OnlyWifi = FakeNetwork.Wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("192.0.2.10"), 24)] };
        Answers("wlan0", TimeSpan.FromMilliseconds(5), aaaa: [], a: []);
        Answers("rmnet0", TimeSpan.FromMilliseconds(10));
        Start(ipv4OnlyWifi, FakeNetwork.Cellular);

        var (report, _) = Race("v6only.example");

        Assert.Equal("rmnet0", report.Winner!.Interface);
        var excluded = Assert.Single(report.Events, e => e.Kind == "excluded" && e.Interface == "wlan0");
        Assert.Contains("the destination has only IPv6 addresses; wlan0 is IPv4-only", excluded.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_network.Timed, t => t.What.StartsWith("connect wlan0", StringComparison.Ordinal));
    }

    /// <summary>Candidates alike in everything an address decides: nothing to rank by, no wait, no note.</summary>
    [Fact]
    public void Alike_candidates_are_not_ranked_again()
    {
        Start(FakeNetwork.Wifi, FakeNetwork.Cellular);

        var (report, _) = Race("www.example.com");

        Assert.Equal("wlan0", report.Winner!.Interface);
        Assert.DoesNotContain(report.Events, e => e.Detail.StartsWith("ranked after resolution", StringComparison.Ordinal));
    }

    /// <summary>No interface answers at all: the sort goes ahead after the interface fallback delay (2 s), not never.</summary>
    [Fact]
    public void Without_any_answer_the_sort_goes_ahead_after_the_fallback_delay()
    {
        Answers("wlan0", Timeout.InfiniteTimeSpan);
        Answers("rmnet0", Timeout.InfiniteTimeSpan);
        Start(FakeNetwork.Wifi, OperatorCellular);

        var (report, _) = Race("svc.operator.example");

        Assert.Equal(RaceOutcome.Failed, report.Outcome);
        Assert.Contains("at 2000 ms: no answer within the fallback delay of 2000 ms; without answers", Ranking(report), StringComparison.Ordinal);
    }

    [Fact]
    public void The_wait_is_bounded_by_the_first_answer_and_the_give_up_time()
    {
        var ranking = new RankAfterResolution([("wlan0", true, true), ("rmnet0", true, false)], TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));
        Assert.Equal([("wlan0", AddressFamily.InterNetworkV6), ("wlan0", AddressFamily.InterNetwork), ("rmnet0", AddressFamily.InterNetworkV6)], ranking.Lookups);
        Assert.Equal(TimeSpan.FromSeconds(2), ranking.Deadline);

        // A failure or NODATA is not an answer to rank by: the wait does not start.
        ranking.Answered("wlan0", AddressFamily.InterNetworkV6, new ResolveResult([]), TimeSpan.FromMilliseconds(3));
        Assert.Equal(TimeSpan.FromSeconds(2), ranking.Deadline);

        ranking.Answered("wlan0", AddressFamily.InterNetwork, new ResolveResult([IPAddress.Parse("192.0.2.1")]), TimeSpan.FromMilliseconds(7));
        Assert.Equal(TimeSpan.FromMilliseconds(57), ranking.Deadline);
        Assert.False(ranking.IsDone(TimeSpan.FromMilliseconds(56)));
        Assert.True(ranking.IsDone(TimeSpan.FromMilliseconds(57)));
        Assert.Equal(["wlan0"], ranking.Answers().Keys);
    }
}
