using System.Net;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>The provisioning domains one interface learns from its routers: several per interface, lifetimes, sequence numbers, limits.</summary>
public sealed class PvdTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static RouterAdvertisement Ra(RaWire wire, string router = "fe80::1")
    {
        var result = RouterAdvertisementReader.Read(IPAddress.Parse(router), 255, wire.ToArray());
        Assert.True(result.Ok, result.ToString());
        return result.Advertisement!;
    }

    private static RaWire Pvd(string id, ushort sequence = 1, uint rdnssLifetime = 600, string server = "2001:db8:a::53", ushort routerLifetime = 0) =>
        RaWire.Advertisement(routerLifetime).Pvd(id, sequence, nested: [.. RaWire.RdnssBytes(rdnssLifetime, server), .. RaWire.PrefixBytes("2001:db8:a::/64")]);

    /// <summary>RFC 8801: RAs naming different PvD IDs are different PvDs on the same interface; a router that names none has its implicit PvD.</summary>
    [Fact]
    public void Two_PvDs_on_one_interface_are_two_PvDs_and_a_router_without_a_PvD_option_has_its_implicit_one()
    {
        var table = new PvdTable();
        Assert.Equal([new PvdChange("a.example", PvdChangeKind.Added)], table.Learn(Ra(Pvd("a.example")), T0));
        Assert.Equal([new PvdChange("b.example", PvdChangeKind.Added)], table.Learn(Ra(Pvd("b.example", server: "2001:db8:b::53")), T0));
        Assert.Equal([new PvdChange("implicit:fe80::2", PvdChangeKind.Added)], table.Learn(Ra(RaWire.Advertisement(1800).Rdnss(600, "2001:db8:c::53"), "fe80::2"), T0));

        var pvds = table.Snapshot();
        Assert.Equal(["a.example", "b.example", null], pvds.Select(p => p.Id));
        Assert.Equal("2001:db8:b::53", Assert.Single(pvds[1].DnsServers).Value.ToString());
        Assert.Equal(IPAddress.Parse("fe80::2"), Assert.Single(pvds[2].Routers));
        Assert.Equal(RoutePreference.Medium, pvds[2].DefaultRoute!.Preference);
        Assert.Null(pvds[0].DefaultRoute);
    }

    /// <summary>RFC 8106 §5.1: the lifetime is "the maximum time in seconds ... over which these RDNSS addresses MAY be used"; a PvD with nothing left goes away.</summary>
    [Fact]
    public void Each_fact_expires_at_the_end_of_its_lifetime_and_a_PvD_with_nothing_left_goes_away()
    {
        var table = new PvdTable();
        table.Learn(Ra(RaWire.Advertisement(0).Pvd("a.example", nested: [.. RaWire.RdnssBytes(60, "2001:db8::53"), .. RaWire.DnsslBytes(120, "corp.example")])), T0);
        Assert.Equal(T0.AddSeconds(60), table.NextExpiry());

        Assert.Empty(table.Expire(T0.AddSeconds(60).AddTicks(-1)));
        Assert.Equal([new PvdChange("a.example", PvdChangeKind.Updated)], table.Expire(T0.AddSeconds(60)));
        var pvd = Assert.Single(table.Snapshot());
        Assert.Empty(pvd.DnsServers);
        Assert.Equal("corp.example", Assert.Single(pvd.SearchDomains).Value);

        Assert.Equal([new PvdChange("a.example", PvdChangeKind.Removed)], table.Expire(T0.AddSeconds(120)));
        Assert.Empty(table.Snapshot());
        Assert.Null(table.NextExpiry());
    }

    /// <summary>An RA that repeats what is known renews the lifetimes and reports no change; one with lifetime 0 withdraws the fact.</summary>
    [Fact]
    public void A_repeated_RA_renews_lifetimes_and_a_lifetime_of_zero_withdraws_the_fact()
    {
        var table = new PvdTable();
        table.Learn(Ra(Pvd("a.example", rdnssLifetime: 60)), T0);
        Assert.Empty(table.Learn(Ra(Pvd("a.example", rdnssLifetime: 60)), T0.AddSeconds(50)));
        Assert.Empty(table.Expire(T0.AddSeconds(60)));
        Assert.Equal(T0.AddSeconds(110), Assert.Single(table.Snapshot()[0].DnsServers).Expires);

        Assert.Equal([new PvdChange("a.example", PvdChangeKind.Updated)], table.Learn(Ra(Pvd("a.example", rdnssLifetime: 0)), T0.AddSeconds(70)));
        Assert.Empty(table.Snapshot()[0].DnsServers);
    }

    /// <summary>RFC 8801 §3.1's sequence number: a new one means the PvD changed; its facts are replaced, not merged.</summary>
    [Fact]
    public void A_new_sequence_number_replaces_the_PvDs_facts()
    {
        var table = new PvdTable();
        table.Learn(Ra(Pvd("a.example", sequence: 1, server: "2001:db8:a::53")), T0);
        Assert.Equal([new PvdChange("a.example", PvdChangeKind.Replaced)], table.Learn(Ra(Pvd("a.example", sequence: 2, server: "2001:db8:a::54")), T0.AddSeconds(1)));

        var pvd = Assert.Single(table.Snapshot());
        Assert.Equal((ushort)2, pvd.SequenceNumber);
        Assert.Equal("2001:db8:a::54", Assert.Single(pvd.DnsServers).Value.ToString());
    }

    /// <summary>RFC 4861 §6.3.4: a Router Lifetime of zero ends the default route; RFC 4191's preference comes with it.</summary>
    [Fact]
    public void The_default_route_follows_the_router_lifetime()
    {
        var table = new PvdTable();
        table.Learn(Ra(RaWire.Advertisement(1800, prf: 0b01).Rdnss(uint.MaxValue, "2001:db8::53")), T0);
        var route = table.Snapshot()[0].DefaultRoute!;
        Assert.Equal((RoutePreference.High, T0.AddSeconds(1800)), (route.Preference, route.Expires));

        table.Learn(Ra(RaWire.Advertisement(0).Rdnss(uint.MaxValue, "2001:db8::53")), T0.AddSeconds(10));
        Assert.Null(table.Snapshot()[0].DefaultRoute);
    }

    /// <summary>Lifetimes at their limits: infinity never expires; 2^32 − 2 seconds is far but finite, and never overflows the clock.</summary>
    [Fact]
    public void Lifetimes_at_their_limits()
    {
        var table = new PvdTable();
        table.Learn(Ra(Pvd("a.example", rdnssLifetime: uint.MaxValue)), T0);
        Assert.Null(table.Snapshot()[0].DnsServers[0].Expires);

        table.Learn(Ra(Pvd("b.example", rdnssLifetime: uint.MaxValue - 1)), T0);
        Assert.Equal(T0.AddSeconds(uint.MaxValue - 1.0), table.Snapshot()[1].DnsServers[0].Expires);

        var late = new PvdTable();
        late.Learn(Ra(Pvd("c.example", rdnssLifetime: uint.MaxValue - 1)), DateTimeOffset.MaxValue.AddSeconds(-10));
        Assert.Equal(DateTimeOffset.MaxValue, late.Snapshot()[0].DnsServers[0].Expires);
    }

    /// <summary>A flood of PvDs or facts is bounded: what does not fit is refused and counted, never kept.</summary>
    [Fact]
    public void Floods_are_bounded()
    {
        var table = new PvdTable();
        for (var i = 0; i < PvdTable.MaxPvds + 3; i++)
        {
            table.Learn(Ra(Pvd($"p{i}.example")), T0);
        }

        Assert.Equal(PvdTable.MaxPvds, table.Snapshot().Count);
        Assert.Equal(3, table.Refused);

        var servers = new PvdTable();
        for (var batch = 0; batch < 4; batch++)
        {
            var addresses = Enumerable.Range(0, 10).Select(i => $"2001:db8:{batch}::{i + 1}").ToArray();
            servers.Learn(Ra(RaWire.Advertisement(1800).Rdnss(600, addresses)), T0);
        }

        Assert.Equal(PvdTable.MaxFactsPerList, servers.Snapshot()[0].DnsServers.Count);
        Assert.Equal(40 - PvdTable.MaxFactsPerList, servers.Refused);
    }
}
