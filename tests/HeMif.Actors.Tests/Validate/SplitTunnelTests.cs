using System.Net;
using HeMif.Actors.Tests.Engine;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Report;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Validate;

/// <summary>
/// Validation per PvD (issue 15, with RFC 7556 §5.3): "a VPN whose routes do not include a default route is validated
/// for its own scope ... and takes part only for destinations inside its dnsZones, RFC 6731 domains or prefixes; an
/// Internet check does not decide it. A request to intranet.corp.example over a split-tunnel VPN works with validation
/// on." The whole engine in virtual time; the Internet check fails on the tunnel, as it would.
/// </summary>
public sealed class SplitTunnelTests : IAsyncLifetime
{
    private static readonly IPAddress CorpDns = IPAddress.Parse("10.8.0.1");

    private static readonly InterfaceFacts Tunnel = new("tun0", InterfaceKind.Vpn)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("10.8.0.2"), 24), new InterfaceAddress(IPAddress.Parse("2001:db8:8::2"), 64)],
        Routes = [new RouteInformation(IPNetwork.Parse("10.0.0.0/8"), RoutePreference.Medium, TimeSpan.MaxValue)],
        DnsServers = [CorpDns],
        DnsSelection = [new DnsServerSelection(CorpDns, RoutePreference.High, ["corp.example"])],
    };

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly List<InterfaceStateChanged> _states = [];
    private HeMifEngine _engine = null!;
    private EngineDriver _driver = null!;

    public SplitTunnelTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        _network.Paths["tun0"] = new FakePath { Probe = ValidationState.NoConnectivity, Rtt = TimeSpan.FromMilliseconds(10) };
    }

    public Task InitializeAsync()
    {
        var options = _network.Options(_clock, [FakeNetwork.Wifi, Tunnel]);
        _engine = new HeMifEngine(options with { Probe = new ScopedProbe(options.Probe, options.Resolver, _clock) });
        _engine.InterfaceStates.Subscribe(_states.Add);
        _driver = new EngineDriver(_engine, _clock);
        _driver.Until(() => _engine.AllExamined);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    private RaceReport Race(string host)
    {
        var (completion, _) = _engine.Start(new ConnectionRequest(host, 443));
        var result = _driver.Await(completion);
        result.Connection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return result.Report;
    }

    [Fact]
    public void The_tunnel_is_validated_for_its_own_scope_although_the_Internet_check_would_fail()
    {
        var tunnel = _states.Last(s => s.Interface == "tun0");
        Assert.Equal(ValidationState.Validated, tunnel.State);
        Assert.Contains("validated for its own scope, DNS zones corp.example; prefixes 10.0.0.0/8", tunnel.Detail, StringComparison.Ordinal);
        Assert.Contains("its DNS servers answered for corp.example", tunnel.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_inside_its_zone_goes_over_the_tunnel()
    {
        var report = Race("intranet.corp.example");
        Assert.Equal(RaceOutcome.Connected, report.Outcome);
        Assert.Equal("tun0", report.Winner!.Interface);
    }

    [Fact]
    public void A_request_outside_its_scope_never_uses_the_tunnel_and_says_why()
    {
        var report = Race("www.example.com");
        Assert.Equal("wlan0", report.Winner!.Interface);
        var reason = Assert.Single(Assert.Single(report.Excluded, x => x.Interface == "tun0").Reasons);
        Assert.Equal("builtin:pvd-scope", reason.Rule.Name);
        Assert.Contains("tun0 serves only its own scope (a VPN whose routes do not include a default route (a split tunnel)): www.example.com is outside it", reason.Fact, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Attempts, a => a.Interface == "tun0");
    }

    /// <summary>
    /// A PvD's Additional Information arrives after the interface was examined (the fetch waits its random delay): it says
    /// noInternet, so the Internet check that failed no longer decides it; it is examined again for its own scope at once.
    /// </summary>
    [Fact]
    public void Additional_information_that_scopes_an_interface_gets_it_examined_again_for_its_scope()
    {
        var corp = new InterfaceFacts("corp0", InterfaceKind.Ethernet)
        {
            Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:9::2"), 64)],
            DnsServers = [CorpDns],
        };
        _network.Paths["corp0"] = new FakePath { Probe = ValidationState.NoConnectivity, Rtt = TimeSpan.FromMilliseconds(10) };
        _driver.Await(_engine.AddInterfaceAsync(corp));
        _driver.Until(() => _engine.AllExamined);
        Assert.Equal(ValidationState.NoConnectivity, _states.Last(s => s.Interface == "corp0").State);

        var now = _clock.GetUtcNow();
        var informed = corp with
        {
            PvdInfo = new PvdAdditionalInformation("corp.example", now.AddHours(1), [IPNetwork.Parse("2001:db8:9::/48")]) { NoInternet = true, DnsZones = ["corp.example"] },
        };
        _driver.Await(_engine.UpdateInterfaceAsync(informed));
        _driver.Until(() => _states.Last(s => s.Interface == "corp0").State == ValidationState.Validated);

        Assert.Contains("its DNS servers answered for corp.example", _states.Last(s => s.Interface == "corp0").Detail, StringComparison.Ordinal);
        Assert.Equal("corp0", Race("wiki.corp.example").Winner!.Interface);
    }

    /// <summary>An address inside its prefixes is inside its scope; one outside is not.</summary>
    [Fact]
    public void An_address_inside_its_prefixes_is_inside_its_scope()
    {
        var scope = InterfaceScope.Of(Tunnel, _clock.GetUtcNow())!;
        Assert.True(scope.Covers("10.1.2.3", []));
        Assert.False(scope.Covers("192.0.2.1", []));
        Assert.True(scope.Covers("wiki.corp.example", []));
        Assert.False(scope.Covers("corp.example.org", []));
        Assert.Null(InterfaceScope.Of(Tunnel with { Routes = [.. Tunnel.Routes, new RouteInformation(IPNetwork.Parse("0.0.0.0/0"), RoutePreference.Medium, TimeSpan.MaxValue)] }, _clock.GetUtcNow()));
    }

    /// <summary>A PvD that says noInternet (RFC 8801 §4.3) is scoped too, to its dnsZones and prefixes.</summary>
    [Fact]
    public void A_PvD_that_says_noInternet_serves_only_its_zones()
    {
        var now = _clock.GetUtcNow();
        var corp = FakeNetwork.Wifi with
        {
            PvdInfo = new PvdAdditionalInformation("corp.example", now.AddHours(1), [IPNetwork.Parse("2001:db8:1::/48")]) { NoInternet = true, DnsZones = ["corp.example"] },
        };
        var scope = InterfaceScope.Of(corp, now)!;
        Assert.Equal(ScopeReason.NoInternet, scope.Reason);
        Assert.True(scope.Covers("a.corp.example", []));
        Assert.True(scope.Covers("2001:db8:1::99", []));
        Assert.False(scope.Covers("www.example.com", [IPAddress.Parse("192.0.2.200")]));
        Assert.Null(InterfaceScope.Of(corp, now.AddHours(2))); // expired information says nothing
    }
}
