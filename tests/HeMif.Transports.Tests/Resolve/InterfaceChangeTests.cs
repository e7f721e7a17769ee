using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tcp;
using HeMif.Validate;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// Issue 14: "The per-interface DNS cache is flushed when the interface's network, addresses or PvD change" (draft §7.3:
/// "A DNS answer may be only valid for a specific provisioning domain"). The engine says so through
/// <see cref="InterfaceResolver.OnInterfaceChanged"/>; here the stub's side of it, against our responder on loopback.
/// </summary>
public sealed class InterfaceChangeTests
{
    private const string Host = "www.example.com";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();

    /// <summary>Positive and negative answers learned on the interface go; another interface's stay.</summary>
    [Fact]
    public async Task A_changed_interface_forgets_its_cached_answers_and_only_its_own()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.10"));
        server.On(Host, DnsType.Aaaa, DnsScript.Negative(0, TestRecord.Soa("example.com", 300, 300)));
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = server.Port, CacheCapacity = 16 }, _clock);
        var wifi = InterfaceResolverTests.Loopback("127.0.0.1") with { Name = "wlan0" };
        var cellular = InterfaceResolverTests.Loopback("127.0.0.1") with { Name = "rmnet0" };
        foreach (var facts in new[] { wifi, cellular })
        {
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                await resolver.ResolveAsync(facts, Host, family, default).WaitAsync(Bound);
            }
        }

        Assert.Equal(4, server.QueryCount);
        Assert.Equal(4, resolver.CachedAnswers);

        resolver.OnInterfaceChanged(wifi with { Addresses = [new InterfaceAddress(IPAddress.Parse("127.0.0.5"), 8)] });
        Assert.Equal(2, resolver.CachedAnswers);

        var again = await resolver.ResolveAsync(wifi, Host, AddressFamily.InterNetwork, default).WaitAsync(Bound);
        Assert.Equal([IPAddress.Parse("192.0.2.10")], again.Addresses);
        Assert.Null(again.Note); // asked, not cached
        await resolver.ResolveAsync(wifi, Host, AddressFamily.InterNetworkV6, default).WaitAsync(Bound);
        Assert.Equal(6, server.QueryCount);
        var other = await resolver.ResolveAsync(cellular, Host, AddressFamily.InterNetwork, default).WaitAsync(Bound);
        Assert.Contains("cached answer from rmnet0", other.Note, StringComparison.Ordinal);
        Assert.Equal(6, server.QueryCount);
    }

    /// <summary>An answer from the old network that arrives after the change is used by its lookup, but not kept.</summary>
    [Fact]
    public async Task A_lookup_under_way_when_the_interface_changes_does_not_cache_its_answer()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Delayed(TimeSpan.FromSeconds(1), DnsScript.Addresses("192.0.2.10")));
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = server.Port, CacheCapacity = 16 }, _clock);
        var wifi = InterfaceResolverTests.Loopback("127.0.0.1");

        var pending = resolver.ResolveAsync(wifi, Host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        resolver.OnInterfaceChanged(wifi);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([IPAddress.Parse("192.0.2.10")], (await pending.WaitAsync(Bound)).Addresses);

        Assert.Equal(0, resolver.CachedAnswers);
    }

    /// <summary>
    /// The whole engine with the real stub and TCP on loopback: the second request to a name is served from the cache;
    /// then the interface's addresses change (a new network behind the same name), and the next request asks the
    /// interface's DNS server again instead of using the answer learned before the change.
    /// </summary>
    [Fact]
    public async Task The_engine_resolves_again_after_the_interfaces_addresses_change()
    {
        using var service = new TcpListener(IPAddress.Loopback, 0);
        service.Start();
        await using var server = DnsResponder.Start(IPAddress.Loopback);
        server.On("service.example", DnsType.A, DnsScript.WithRecords(TestRecord.Address("127.0.0.1", ttl: 3600)));
        // Loopback's device, described as an Ethernet port: a host name is never planned over a loopback interface.
        var lo = new InterfaceFacts("lo", InterfaceKind.Ethernet)
        {
            Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
            DnsServers = [IPAddress.Loopback],
        };
        await using var engine = new HeMifEngine(new EngineOptions
        {
            Interfaces = [lo],
            Probe = new AlwaysValidated(),
            Resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = server.Port }),
            Transports = new TransportRegistry([new TcpTransport()], [TransportName.Tcp]),
        });
        var request = new ConnectionRequest("service.example", ((IPEndPoint)service.LocalEndpoint).Port);

        async Task<RaceReport> Connect()
        {
            var result = await engine.ConnectAsync(request).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.Connection is not null, string.Join("\n", result.Report.Events.Select(e => $"{e.Kind}: {e.Detail}")));
            await result.Connection.DisposeAsync();
            return result.Report;
        }

        for (var i = 0; i < 600 && !engine.AllExamined; i++)
        {
            await Task.Delay(50); // a hang guard: the first examination answers at once
        }

        await Connect();
        Assert.Equal(1, server.QueryCount);
        var cached = await Connect();
        Assert.Equal(1, server.QueryCount);
        Assert.Contains(cached.Events, e => e.Detail.Contains("cached answer from lo", StringComparison.Ordinal));

        var revalidated = engine.InterfaceStates.FirstAsync(s => s.State == ValidationState.Validated).ToTask();
        await engine.UpdateInterfaceAsync(lo with { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.Parse("127.0.0.2"), 8)] });
        await revalidated.WaitAsync(TimeSpan.FromSeconds(30));

        var after = await Connect();
        Assert.Equal(2, server.QueryCount);
        Assert.DoesNotContain(after.Events, e => e.Detail.Contains("cached answer", StringComparison.Ordinal));
    }

    private sealed class AlwaysValidated : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) =>
            Task.FromResult(new ValidationResult(ValidationState.Validated, "validated by the test"));
    }
}
