using System.Net;
using System.Net.Sockets;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// RFC 2308 negative caching in the per-interface stub: NXDOMAIN and NODATA are kept for the negative TTL of their SOA
/// (§5), not at all without one, at most 5 minutes; server failures are not negative answers. Our responder on loopback,
/// on a manual clock shared with the resolver (WaitAsync bounds are hang guards only).
/// </summary>
public sealed class NegativeCacheTests
{
    private const string Zone = "example.com";
    private const string Host = "nothing.example.com";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();

    private DnsInterfaceResolver Resolver(int port) => new(new InterfaceResolverOptions { Port = port, CacheCapacity = 16 }, _clock);

    private static Task<ResolveResult> Resolve(DnsInterfaceResolver resolver, AddressFamily family = AddressFamily.InterNetwork, string host = Host) =>
        resolver.ResolveAsync(InterfaceResolverTests.Loopback("127.0.0.1"), host, family, default).WaitAsync(Bound);

    /// <summary>
    /// RFC 2308 §5: "The TTL of this record is set from the minimum of the MINIMUM field of the SOA record and the TTL of
    /// the SOA itself, and indicates how long a resolver may cache the negative answer", and a name error "should be
    /// cached such that it can be retrieved and returned in response to another query for the same &lt;QNAME, QCLASS&gt;":
    /// an NXDOMAIN with an SOA of TTL 3600 and MINIMUM 60 answers A and AAAA for 60 s without asking, then is asked again.
    /// </summary>
    [Fact]
    public async Task NXDOMAIN_is_cached_for_the_smaller_of_the_SOA_TTL_and_MINIMUM_for_every_type_of_the_name()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Negative(3, TestRecord.Soa(Zone, ttl: 3600, minimum: 60)));
        server.On(Host, DnsType.Aaaa, DnsScript.Negative(3, TestRecord.Soa(Zone, ttl: 3600, minimum: 60)));
        var resolver = Resolver(server.Port);

        Assert.Equal("NXDOMAIN", (await Resolve(resolver)).Error);
        var again = await Resolve(resolver, AddressFamily.InterNetworkV6);
        Assert.Equal("NXDOMAIN", again.Error);
        Assert.Contains("cached negative answer (NXDOMAIN, RFC 2308) from lo (60 s left)", again.Note, StringComparison.Ordinal);
        Assert.Equal(1, server.QueryCount);

        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("NXDOMAIN", (await Resolve(resolver)).Error);
        Assert.Equal(1, server.QueryCount);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("NXDOMAIN", (await Resolve(resolver)).Error);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>
    /// RFC 2308 §5: "A negative answer that resulted from a no data error (NODATA) should be cached such that it can be
    /// retrieved and returned in response to another query for the same &lt;QNAME, QTYPE, QCLASS&gt;": an empty AAAA
    /// answer with an SOA of TTL 30 (MINIMUM 900) is kept 30 s for AAAA only; A is still asked.
    /// </summary>
    [Fact]
    public async Task NODATA_is_cached_for_its_type_only()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.Aaaa, DnsScript.Negative(0, TestRecord.Soa(Zone, ttl: 30, minimum: 900)));
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.7"));
        var resolver = Resolver(server.Port);

        var first = await Resolve(resolver, AddressFamily.InterNetworkV6);
        Assert.Null(first.Error);
        Assert.Empty(first.Addresses);
        var cached = await Resolve(resolver, AddressFamily.InterNetworkV6);
        Assert.Empty(cached.Addresses);
        Assert.Contains("cached negative answer (NODATA, RFC 2308) from lo (30 s left)", cached.Note, StringComparison.Ordinal);
        Assert.Equal(1, server.QueryCount);

        Assert.Equal([IPAddress.Parse("192.0.2.7")], (await Resolve(resolver)).Addresses);
        Assert.Equal(2, server.QueryCount);

        _clock.Advance(TimeSpan.FromSeconds(30));
        await Resolve(resolver, AddressFamily.InterNetworkV6);
        Assert.Equal(3, server.QueryCount);
    }

    /// <summary>
    /// RFC 2308 §5: "Negative responses without SOA records SHOULD NOT be cached as there is no way to prevent the
    /// negative responses looping forever between a pair of servers even with a TTL." Neither is one whose SOA belongs to
    /// another zone than the name's (a spoofer's or a confused server's record says nothing about this name).
    /// </summary>
    [Theory]
    [InlineData(3, null)]
    [InlineData(0, null)]
    [InlineData(3, "example.net")]
    [InlineData(0, "other.example.com")]
    public async Task A_negative_answer_without_the_zones_SOA_is_not_cached(int rcode, string? soaZone)
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, soaZone is null ? DnsScript.Negative(rcode) : DnsScript.Negative(rcode, TestRecord.Soa(soaZone, 3600, 3600)));
        var resolver = Resolver(server.Port);

        await Resolve(resolver);
        var second = await Resolve(resolver);

        Assert.Equal(2, server.QueryCount);
        Assert.DoesNotContain("cached", second.Note ?? "", StringComparison.Ordinal);
    }

    /// <summary>
    /// RFC 2308 §5 leaves the resolver its cap ("Values of one to three hours have been found to work well" is advice to
    /// zone owners): ours is 5 minutes, so a name published meanwhile is seen within minutes. An SOA that says a day is
    /// kept 5 minutes; the root zone's SOA (owner ".") is an ancestor of every name.
    /// </summary>
    [Fact]
    public async Task A_negative_answer_is_kept_at_most_5_minutes()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Negative(3, TestRecord.Soa(".", ttl: 86400, minimum: 86400)));
        var resolver = Resolver(server.Port);

        await Resolve(resolver);
        Assert.Contains("(300 s left)", (await Resolve(resolver)).Note, StringComparison.Ordinal);
        _clock.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        await Resolve(resolver);
        Assert.Equal(1, server.QueryCount);
        _clock.Advance(TimeSpan.FromTicks(1));
        await Resolve(resolver);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>
    /// RFC 2308 §7.1: a resolver "MAY cache a server failure response", for at most five minutes. This one does not: a
    /// SERVFAIL is no statement about the name, and the next lookup (another server, the interface's next examination)
    /// must ask again.
    /// </summary>
    [Fact]
    public async Task A_server_failure_is_not_cached()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Answer(2, []) { Authority = [TestRecord.Soa(Zone, 3600, 3600)] });
        var resolver = Resolver(server.Port);

        Assert.Equal("SERVFAIL", (await Resolve(resolver)).Error);
        Assert.Equal("SERVFAIL", (await Resolve(resolver)).Error);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>
    /// RFC 2308 §2.1: with a CNAME chain in a negative answer, "the NXDOMAIN ... applies to the last name in the chain":
    /// the SOA must be of that name's zone, and the entry, kept under the question's name, cannot outlive the CNAME that
    /// led there (the smallest TTL counts).
    /// </summary>
    [Fact]
    public void The_negative_TTL_follows_the_CNAME_chain_and_its_smallest_TTL()
    {
        var question = new DnsQuestion("alias.example.org", DnsType.A, DnsClass.In);
        var bytes = DnsResponses.Build(1, question.Name, question.Type, 3, [TestRecord.Cname("gone.example.com", ttl: 40)],
            authority: [TestRecord.Soa(Zone, ttl: 600, minimum: 300)]);
        var message = DnsMessage.Parse(bytes).Message!;
        Assert.Equal(40u, message.NegativeTtl(question));

        var wrongZone = DnsMessage.Parse(DnsResponses.Build(1, question.Name, question.Type, 3, [TestRecord.Cname("gone.example.com", ttl: 40)],
            authority: [TestRecord.Soa("example.org", ttl: 600, minimum: 300)])).Message!;
        Assert.Null(wrongZone.NegativeTtl(question));

        // RFC 1035 §3.3.13: an SOA's RDATA is two names and five 32-bit fields; anything else is malformed.
        var truncatedSoa = new DnsWire().Name("ns1.example.com").Name("hostmaster.example.com").U32(1).U32(2).U32(3).U32(4).ToArray();
        var bad = DnsResponses.Build(1, question.Name, question.Type, 3, [], authority: [new TestRecord(Zone, 6, 60, truncatedSoa)]);
        Assert.Contains("SOA RDATA is", DnsMessage.Parse(bad).Error, StringComparison.Ordinal);
    }
}
