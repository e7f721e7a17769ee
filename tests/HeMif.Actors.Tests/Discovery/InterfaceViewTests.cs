using System.Net;
using HeMif.Actors.Tests.Engine;
using HeMif.Discovery;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// The MIF API's read side (issue 15: "the current interfaces and PvDs with their facts ... validation state and why ...
/// as a snapshot and as an IObservable of changes"): the whole engine in virtual time with an injected RA source.
/// </summary>
public sealed class InterfaceViewTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new();
    private readonly InjectedRaSource _source = new();
    private readonly FakeNetwork _network;
    private HeMifEngine _engine = null!;
    private EngineDriver _driver = null!;

    public InterfaceViewTests() => _network = FakeNetwork.WifiAndCellular(_clock);

    public Task InitializeAsync()
    {
        _engine = new HeMifEngine(_network.Options(_clock) with { RouterAdvertisements = _source });
        _driver = new EngineDriver(_engine, _clock);
        _driver.Until(() => _engine.AllExamined);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    /// <summary>The snapshot: every interface in name order, its validation state and why, RA learning, and where each fact came from.</summary>
    [Fact]
    public void The_snapshot_shows_learned_PvDs_with_their_sources_and_the_validation_state()
    {
        _source.Send("wlan0", RaWire.Advertisement(1800).Pvd("corp.example", sequence: 3,
            nested: [.. RaWire.RdnssBytes(600, "2001:db8:1::53"), .. RaWire.RouteBytes("2001:db8:99::/48", 0b01, 600)]));
        _driver.Until(() => _engine.AllExamined);

        var views = _engine.Interfaces;
        Assert.Equal(["rmnet0", "wlan0"], views.Select(v => v.Facts.Name));
        var wlan = views[1];
        Assert.Equal(ValidationState.Validated, wlan.State);
        Assert.Equal(RaLearningState.Listening, wlan.Learning.State);
        Assert.Equal(1, wlan.Learning.Accepted);
        var pvd = Assert.Single(wlan.Facts.Pvds);
        Assert.Equal(("corp.example", (ushort?)3), (pvd.Id, pvd.SequenceNumber));
        Assert.Equal(["2001:db8:1::53"], wlan.Facts.DnsServers.Select(s => s.ToString()));
        Assert.Equal(FactSource.RouterAdvertisement, wlan.Facts.Sources.DnsServers);
        Assert.Equal(FactSource.RouterAdvertisement, wlan.Facts.Sources.PvdId);
        Assert.Equal("corp.example", wlan.Facts.PvdId);
        // Given facts keep their source; learned routes say theirs.
        Assert.Equal(FactSource.Configuration, wlan.Facts.Sources.Kind);
        Assert.Contains(wlan.Facts.Routes, r => r.Prefix == IPNetwork.Parse("2001:db8:99::/48") && r.Source == FactSource.RouterAdvertisement && r.Preference == RoutePreference.High);
        Assert.Empty(views[0].Facts.Pvds);
        Assert.Equal(FactSource.Configuration, views[0].Facts.Sources.DnsServers);
    }

    /// <summary>
    /// The stream: a subscriber first gets every interface as it is now, then each change (a PvD learned, the
    /// re-examination it causes, the server expiring), and the removal of an interface once; it completes at dispose.
    /// </summary>
    [Fact]
    public async Task The_stream_replays_the_current_views_then_says_each_change_and_completes()
    {
        var seen = new List<InterfaceView>();
        var completed = false;
        using var subscription = _engine.InterfaceChanges.Subscribe(seen.Add, () => completed = true);
        Assert.Equal(["rmnet0", "wlan0"], seen.Select(v => v.Facts.Name));
        Assert.All(seen, v => Assert.Equal(ValidationState.Validated, v.State));

        seen.Clear();
        _source.Send("wlan0", RaWire.Advertisement(0).Rdnss(60, "2001:db8:1::53"));
        _driver.Until(() => _engine.AllExamined);
        Assert.All(seen, v => Assert.Equal("wlan0", v.Facts.Name));
        Assert.Contains(seen, v => v.Facts.DnsServers.Contains(IPAddress.Parse("2001:db8:1::53")) && v.State == ValidationState.Validating);
        Assert.Equal(ValidationState.Validated, seen[^1].State);

        seen.Clear();
        _driver.Advance(TimeSpan.FromSeconds(60));
        Assert.Contains(seen, v => v.Facts.Name == "wlan0" && v.Facts.DnsServers.Count == 0);

        seen.Clear();
        _driver.Await(_engine.RemoveInterfaceAsync("rmnet0"));
        var removed = Assert.Single(seen);
        Assert.True(removed.Removed);
        Assert.Equal("rmnet0", removed.Facts.Name);
        Assert.Equal(["wlan0"], _engine.Interfaces.Select(v => v.Facts.Name));

        await _engine.DisposeAsync();
        Assert.True(completed);
    }

    /// <summary>Nothing that changes nothing is said: a repeated RA renews lifetimes but is not a new view.</summary>
    [Fact]
    public void A_state_repeated_unchanged_is_not_a_change()
    {
        var views = new InterfaceViews();
        var seen = new List<InterfaceView>();
        var facts = new InterfaceFacts("wlan0", InterfaceKind.Wifi);
        var learning = new RaLearningStatus(RaLearningState.Off, null);
        views.Set(new InterfaceView(facts, ValidationState.Validated, "probe passed", learning));
        using var subscription = views.Changes.Subscribe(seen.Add);
        views.Set(new InterfaceView(facts, ValidationState.Validated, "probe passed", learning));
        Assert.Single(seen); // the replay only
        views.Set(new InterfaceView(facts, ValidationState.NoConnectivity, "probe failed", learning));
        Assert.Equal(2, seen.Count);
        views.Complete();
        views.Set(new InterfaceView(facts, ValidationState.Validated, "probe passed", learning));
        Assert.Equal(2, seen.Count);
    }
}
