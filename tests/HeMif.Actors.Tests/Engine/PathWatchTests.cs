using System.Net;
using HeMif.Continuity;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// Session continuity (draft §7.4: HE-MIF hands the application a connection, and the MIF session-continuity guide asks
/// that it be told when the path under it dies or a better one appears): the whole engine on a scripted network in
/// virtual time, a connection's path events as the interfaces change under it.
/// </summary>
public sealed class PathWatchTests : IAsyncDisposable
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private static readonly IPAddress WifiV6 = FakeNetwork.Wifi.Addresses[0].Address;
    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly HeMifEngine _engine;
    private readonly EngineDriver _driver;
    private readonly List<PathEvent> _events = [];

    public PathWatchTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        _engine = new HeMifEngine(_network.Options(_clock));
        _driver = new EngineDriver(_engine, _clock);
        Assert.True(_driver.RunUntil(() => _engine.AllExamined));
    }

    public async ValueTask DisposeAsync() => await _engine.DisposeAsync();

    private string Connect()
    {
        var (completion, _) = _engine.Start(Request);
        Assert.True(_driver.RunUntil(() => completion.IsCompleted));
        return _driver.Await(completion).Report.Winner!.Interface;
    }

    private IDisposable Watch(string interfaceName, IPAddress? local)
    {
        var subscription = _engine.WatchPath(Request, interfaceName, local).Subscribe(e =>
        {
            lock (_events)
            {
                _events.Add(e);
            }
        });
        _driver.Idle(); // the first plan (the baseline) and the current views arrive
        return subscription;
    }

    private List<(PathEventKind, PathEventReason)> Seen()
    {
        lock (_events)
        {
            return [.. _events.Select(e => (e.Kind, e.Reason))];
        }
    }

    [Fact]
    public void A_healthy_path_says_nothing()
    {
        Assert.Equal("wlan0", Connect());
        using var watch = Watch("wlan0", WifiV6);
        _driver.Advance(TimeSpan.FromMinutes(11)); // two periodic re-examinations
        Assert.Empty(Seen());
    }

    /// <summary>
    /// Link down: not viable at once (the interface's own state, no probe needed); the other interface now ranks first,
    /// so a better path is offered; link up and validated again: viable again, and no second "better path" for the
    /// connection's own interface coming back.
    /// </summary>
    [Fact]
    public void Wi_Fi_down_is_not_viable_at_once_and_back_up_is_viable_again()
    {
        Assert.Equal("wlan0", Connect());
        using var watch = Watch("wlan0", WifiV6);

        _driver.Await(_engine.UpdateInterfaceAsync(FakeNetwork.Wifi with { IsUp = false }));
        _driver.Idle();
        Assert.Equal([(PathEventKind.NotViable, PathEventReason.InterfaceDown), (PathEventKind.BetterPathAvailable, PathEventReason.HigherRankedInterface)], Seen());
        Assert.Equal("rmnet0", _events[1].BetterInterface);
        Assert.Equal("wlan0", _events[0].Interface);

        _driver.Await(_engine.UpdateInterfaceAsync(FakeNetwork.Wifi));
        _driver.Advance(TimeSpan.FromSeconds(1)); // the examination of the interface that came back (one RTT)
        Assert.Equal((PathEventKind.ViableAgain, PathEventReason.Recovered), Seen()[^1]);
        Assert.Equal(3, Seen().Count);
    }

    /// <summary>
    /// §5.2.1: a captive portal appears on the connection's Wi-Fi; the next examination (the 5-minute period) finds it and
    /// the path is not viable, with the verdict as the detail.
    /// </summary>
    [Fact]
    public void A_captive_portal_on_the_connections_Wi_Fi_is_not_viable_after_the_next_examination()
    {
        Assert.Equal("wlan0", Connect());
        using var watch = Watch("wlan0", WifiV6);
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { Probe = ValidationState.CaptivePortal };
        _driver.Advance(new ValidationSettings().Period + TimeSpan.FromSeconds(30)); // one period, its jitter, the probe
        var notViable = Assert.Single(_events, e => e.Kind == PathEventKind.NotViable);
        Assert.Equal(PathEventReason.ValidationLost, notViable.Reason);
        Assert.Contains("CaptivePortal", notViable.Detail, StringComparison.Ordinal);
    }

    /// <summary>The interface loses the address the connection uses (renumbering): not viable, although it is still up and validated.</summary>
    [Fact]
    public void Losing_the_connections_local_address_is_not_viable()
    {
        Assert.Equal("wlan0", Connect());
        using var watch = Watch("wlan0", WifiV6);
        _driver.Await(_engine.UpdateInterfaceAsync(FakeNetwork.Wifi with { Addresses = [FakeNetwork.Wifi.Addresses[1]] }));
        _driver.Idle();
        Assert.Equal([(PathEventKind.NotViable, PathEventReason.LocalAddressLost)], Seen());
    }

    /// <summary>
    /// Wi-Fi behind a captive portal at first: the connection goes over metered cellular; the user logs in, Wi-Fi is
    /// validated at its next re-examination (every 15 s behind a portal) and now ranks first: a better path.
    /// </summary>
    [Fact]
    public void Wi_Fi_validated_while_the_connection_runs_on_cellular_is_a_better_path()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { Probe = ValidationState.CaptivePortal };
        _driver.Advance(new ValidationSettings().Period + TimeSpan.FromSeconds(30)); // Wi-Fi examined again: captive
        Assert.Equal(ValidationState.CaptivePortal, _engine.CurrentStates["wlan0"].State);
        Assert.Equal("rmnet0", Connect());
        using var watch = Watch("rmnet0", FakeNetwork.Cellular.Addresses[0].Address);

        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { Probe = ValidationState.Validated };
        _driver.Advance(new ValidationSettings().CaptivePortalPeriod + TimeSpan.FromSeconds(5));
        var better = Assert.Single(_events);
        Assert.Equal((PathEventKind.BetterPathAvailable, "wlan0", "rmnet0"), (better.Kind, better.BetterInterface, better.Interface));
    }

    /// <summary>A watch ends with the engine: its observers complete, nothing is left behind.</summary>
    [Fact]
    public async Task The_watch_completes_when_the_engine_is_disposed()
    {
        Assert.Equal("wlan0", Connect());
        var completed = false;
        using var watch = _engine.WatchPath(Request, "wlan0", WifiV6).Subscribe(_ => { }, () => completed = true);
        _driver.Idle();
        await _engine.DisposeAsync();
        Assert.True(completed);
    }
}
