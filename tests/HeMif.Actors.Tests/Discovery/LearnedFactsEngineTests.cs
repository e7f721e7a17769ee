using System.Net;
using System.Net.Sockets;
using HeMif.Actors.Tests.Engine;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Resolve;
using HeMif.TestKit;
using HeMif.Report;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// The whole engine with an RA source, in virtual time: what an interface learns from its routers reaches its
/// supervisor (and so the resolver, the planner and validation) merged with the facts it was given.
/// </summary>
public sealed class LearnedFactsEngineTests : IAsyncLifetime
{
    private static readonly ConnectionRequest Request = new("www.example.com", 443);
    private readonly ManualTimeProvider _clock = new();
    private readonly InjectedRaSource _source = new();
    private readonly RecordingResolver _resolver;
    private readonly FakeNetwork _network;
    private readonly List<InterfaceStateChanged> _states = [];
    private HeMifEngine? _engine;
    private EngineDriver _driver = null!;

    public LearnedFactsEngineTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        _resolver = new RecordingResolver(_network);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    private void Start(IReadOnlyList<InterfaceFacts>? interfaces = null)
    {
        _engine = new HeMifEngine(_network.Options(_clock, interfaces) with { Resolver = _resolver, RouterAdvertisements = _source });
        _engine.InterfaceStates.Subscribe(s => _states.Add(s));
        _driver = new EngineDriver(_engine, _clock);
        _driver.Until(() => _engine.AllExamined);
    }

    private RaceResult Race()
    {
        var (completion, _) = _engine!.Start(Request);
        var result = _driver.Await(completion);
        result.Connection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return result;
    }

    /// <summary>Draft §7.3, per-interface resolution: the servers an RA gave Wi-Fi are the ones its resolution is given; once their lifetime ends they are not.</summary>
    [Fact]
    public void The_resolver_gets_the_learned_servers_and_not_after_they_expired()
    {
        Start();
        Assert.Equal(["rmnet0", "wlan0"], _source.Listening.Order(StringComparer.Ordinal));
        _source.Send("wlan0", RaWire.Advertisement(1800).Rdnss(60, "2001:db8:1::53").Dnssl(60, "corp.example"));
        _driver.Until(() => _engine!.AllExamined); // a new PvD on Wi-Fi: examined again

        Assert.Equal("wlan0", Race().Report.Winner!.Interface);
        Assert.Equal(["2001:db8:1::53"], _resolver.ServersSeen["wlan0"].Select(s => s.ToString()));
        Assert.Empty(_resolver.ServersSeen.GetValueOrDefault("rmnet0") ?? []);

        _driver.Advance(TimeSpan.FromSeconds(60));
        Race();
        Assert.Empty(_resolver.ServersSeen["wlan0"]);
    }

    /// <summary>The facts given (the override file, configuration) win over what the network says.</summary>
    [Fact]
    public void Servers_that_were_given_win_over_learned_ones()
    {
        Start([FakeNetwork.Wifi with { DnsServers = [IPAddress.Parse("2001:db8:99::53")] }, FakeNetwork.Cellular]);
        _source.Send("wlan0", RaWire.Advertisement(1800).Rdnss(600, "2001:db8:1::53"));
        _driver.Until(() => _engine!.AllExamined);

        Race();
        Assert.Equal(["2001:db8:99::53"], _resolver.ServersSeen["wlan0"].Select(s => s.ToString()));
    }

    /// <summary>
    /// A PvD's new sequence number (RFC 8801 §3.1) is a changed network: RFC 8305 §4 history "SHOULD be flushed whenever
    /// a device changes the network to which it is attached", and the interface is examined again. A repeated RA is not.
    /// </summary>
    [Fact]
    public void A_new_sequence_number_flushes_the_history_and_revalidates_and_a_repeated_RA_does_not()
    {
        Start();
        _source.Send("wlan0", RaWire.Advertisement(0).Pvd("pvd.example", sequence: 1, nested: RaWire.RdnssBytes(600, "2001:db8:1::53")));
        _driver.Until(() => _engine!.AllExamined);
        var probes = _network.ProbeCalls;
        var changedNotes = _states.Count(s => s.Detail.Contains("the interface changed", StringComparison.Ordinal));

        _source.Send("wlan0", RaWire.Advertisement(0).Pvd("pvd.example", sequence: 1, nested: RaWire.RdnssBytes(600, "2001:db8:1::53")));
        _driver.Idle();
        Assert.Equal(probes, _network.ProbeCalls);

        _source.Send("wlan0", RaWire.Advertisement(0).Pvd("pvd.example", sequence: 2, nested: RaWire.RdnssBytes(600, "2001:db8:1::54")));
        _driver.Until(() => _engine!.AllExamined);
        Assert.Equal(probes + 1, _network.ProbeCalls);
        Assert.Equal(changedNotes + 1, _states.Count(s => s.Detail.Contains("the interface changed", StringComparison.Ordinal)));
    }

    /// <summary>Records the DNS servers in the facts each resolution was given, per interface (the latest).</summary>
    private sealed class RecordingResolver(IInterfaceResolver inner) : IInterfaceResolver
    {
        public Dictionary<string, IReadOnlyList<IPAddress>> ServersSeen { get; } = [];

        public Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
        {
            ServersSeen[networkInterface.Name] = networkInterface.DnsServers;
            return inner.ResolveAsync(networkInterface, host, family, cancellationToken);
        }
    }
}
