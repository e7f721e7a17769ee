using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// RFC 6731 through draft §4.2.2: a selection option names "a DNS server ... that is to be used for resolving names in
/// the listed domains", so the server selected for a namespace is the one queried. Two responders on loopback: the
/// interface's own server (127.0.0.1) does not know the corporate name (NXDOMAIN, which would end the lookup), the selected
/// one (127.0.0.2) does. Real-time bounds only stop a broken test from hanging.
/// </summary>
public sealed class DnsSelectionResolverTests
{
    private const string Intranet = "intranet.corp.example";
    private const string Public = "www.example.com";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();

    private static InterfaceFacts Facts(params string[] own) => InterfaceResolverTests.Loopback(own) with
    {
        DnsSelection = [new DnsServerSelection(IPAddress.Parse("127.0.0.2"), RoutePreference.Medium, ["corp.example"])],
    };

    private async Task<(DnsResponder Own, DnsResponder Selected)> StartAsync()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.1", "127.0.0.2");
        servers[0].On(Intranet, DnsType.A, DnsScript.NxDomain);
        servers[0].On(Public, DnsType.A, DnsScript.Addresses("192.0.2.80"));
        servers[1].On(Intranet, DnsType.A, DnsScript.Addresses("10.1.2.3"));
        servers[1].On(Public, DnsType.A, DnsScript.NxDomain);
        return (servers[0], servers[1]);
    }

    [Fact]
    public async Task A_name_in_the_selected_namespace_is_asked_of_the_selected_server_only()
    {
        var (own, selected) = await StartAsync();
        await using var o = own;
        await using var s = selected;
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = own.Port, CacheCapacity = 0 }, _clock);

        var result = await resolver.ResolveAsync(Facts("127.0.0.1"), Intranet, AddressFamily.InterNetwork, default).WaitAsync(Bound);

        Assert.Null(result.Error);
        Assert.Equal([IPAddress.Parse("10.1.2.3")], result.Addresses);
        Assert.Equal(1, selected.QueryCount);
        Assert.Equal(0, own.QueryCount);
        Assert.Equal("RFC 6731: 127.0.0.2 selected for corp.example", result.Note);
    }

    [Fact]
    public async Task A_name_outside_it_is_asked_of_the_interface_server_and_never_of_the_selected_one()
    {
        var (own, selected) = await StartAsync();
        await using var o = own;
        await using var s = selected;
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = own.Port, CacheCapacity = 0 }, _clock);

        var result = await resolver.ResolveAsync(Facts("127.0.0.1"), Public, AddressFamily.InterNetwork, default).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("192.0.2.80")], result.Addresses);
        Assert.Equal(0, selected.QueryCount);
        Assert.Null(result.Note);
    }

    /// <summary>The selected server fails (SERVFAIL): the interface's own servers are still tried after it.</summary>
    [Fact]
    public async Task When_the_selected_server_fails_the_interface_servers_are_asked_next()
    {
        var (own, selected) = await StartAsync();
        await using var o = own;
        await using var s = selected;
        selected.On(Intranet, DnsType.A, DnsScript.ServFail);
        own.On(Intranet, DnsType.A, DnsScript.Addresses("10.9.9.9"));
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = own.Port, CacheCapacity = 0 }, _clock);

        var result = await resolver.ResolveAsync(Facts("127.0.0.1"), Intranet, AddressFamily.InterNetwork, default).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.9.9.9")], result.Addresses);
        Assert.Contains("SERVFAIL", result.Note, StringComparison.Ordinal);
    }

    /// <summary>Without servers of its own the interface would fall back to the system resolver; a selected server is asked instead.</summary>
    [Fact]
    public async Task An_interface_without_servers_asks_the_selected_server_not_the_system_resolver()
    {
        var (own, selected) = await StartAsync();
        await using var o = own;
        await using var s = selected;
        var systemAsked = false;
        var resolver = new DnsInterfaceResolver(
            new InterfaceResolverOptions
            {
                Port = own.Port,
                CacheCapacity = 0,
                SystemResolver = (_, _, _) =>
                {
                    systemAsked = true;
                    return Task.FromResult<IPAddress[]>([]);
                },
            },
            _clock);

        var result = await resolver.ResolveAsync(Facts(), Intranet, AddressFamily.InterNetwork, default).WaitAsync(Bound);

        Assert.Equal([IPAddress.Parse("10.1.2.3")], result.Addresses);
        Assert.False(systemAsked);
    }
}
