using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// The per-interface stub against our own responder on loopback (127.0.0.0/8 and ::1 only). Time is a manual clock
/// shared by resolver and responder: "the next server is asked after 2 s" is an Advance, not a wait. Real-time bounds
/// below (WaitAsync) only stop a broken test from hanging; they are never what a test checks.
/// </summary>
public sealed class InterfaceResolverTests
{
    private const string Host = "www.example.com";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();

    internal static InterfaceFacts Loopback(params string[] servers) => new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
        DnsServers = [.. servers.Select(IPAddress.Parse)],
    };

    private DnsInterfaceResolver Resolver(int port, int cacheCapacity = 0) =>
        new(new InterfaceResolverOptions { Port = port, CacheCapacity = cacheCapacity }, _clock);

    private static async Task<ResolveResult> Bounded(Task<ResolveResult> task) => await task.WaitAsync(Bound);

    [Fact]
    public async Task An_A_query_gives_the_IPv4_addresses_of_the_interface_server_answer()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.10", "192.0.2.11"));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Null(result.Error);
        Assert.Equal([IPAddress.Parse("192.0.2.10"), IPAddress.Parse("192.0.2.11")], result.Addresses);
        Assert.Null(result.Note);
    }

    /// <summary>RFC 3596 §2.1: "The AAAA resource record type is a record specific to the Internet class that stores a single IPv6 address."</summary>
    [Fact]
    public async Task An_AAAA_query_over_IPv6_loopback_gives_the_IPv6_addresses()
    {
        await using var server = DnsResponder.Start(IPAddress.IPv6Loopback, time: _clock);
        server.On(Host, DnsType.Aaaa, DnsScript.Addresses("2001:db8::10"));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("::1"), Host, AddressFamily.InterNetworkV6, default));

        Assert.Null(result.Error);
        Assert.Equal([IPAddress.Parse("2001:db8::10")], result.Addresses);
        Assert.Equal(IPAddress.IPv6Loopback, (await server.NextQueryAsync()).From.Address);
    }

    /// <summary>
    /// RFC 1035 §4.1.1 RD "Recursion Desired" (a stub relies on its server's recursion); RFC 6891 §6.1.2 OPT "CLASS
    /// requestor's UDP payload size" (1232); the query leaves from the interface's own address.
    /// </summary>
    [Fact]
    public async Task The_query_is_recursive_carries_EDNS_and_leaves_from_the_interface_address()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.10"));
        var facts = Loopback("127.0.0.1") with { Addresses = [new InterfaceAddress(IPAddress.Parse("127.0.0.3"), 8)] };

        await Bounded(Resolver(server.Port).ResolveAsync(facts, Host, AddressFamily.InterNetwork, default));

        var q = await server.NextQueryAsync();
        Assert.Equal("UDP", q.Transport);
        Assert.Equal(0x0100, q.Flags); // QUERY, RD
        Assert.Equal(Host, q.Name);
        Assert.Equal(DnsType.A, q.Type);
        Assert.Equal(DnsClass.In, q.Class);
        Assert.Equal(1232, q.EdnsPayloadSize);
        Assert.Equal(IPAddress.Parse("127.0.0.3"), q.From.Address);
    }

    /// <summary>
    /// RFC 5452 §9.1: resolvers MUST "Use an unpredictable source port for outgoing queries" and "Use an unpredictable
    /// query ID for outgoing queries, utilizing the full range available (0-65535)."
    /// </summary>
    [Fact]
    public async Task Every_query_has_its_own_random_ID_and_source_port()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.10"));
        var resolver = Resolver(server.Port);

        var queries = new List<ReceivedQuery>();
        for (var i = 0; i < 40; i++)
        {
            await Bounded(resolver.ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));
            queries.Add(await server.NextQueryAsync());
        }

        Assert.True(queries.Select(q => q.Id).Distinct().Count() >= 36, "query IDs repeat far more than chance allows");
        Assert.True(queries.Select(q => q.From.Port).Distinct().Count() >= 20, "source ports are reused");
    }

    /// <summary>RFC 1035 §4.1.1: NXDOMAIN means "the domain name referenced in the query does not exist"; the next server of the same interface would only say it again.</summary>
    [Fact]
    public async Task NXDOMAIN_is_the_answer_and_the_next_server_is_not_asked()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.1", "127.0.0.2");
        await using var first = servers[0];
        await using var second = servers[1];
        first.On(Host, DnsType.A, DnsScript.NxDomain);
        second.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.10"));

        var result = await Bounded(Resolver(first.Port).ResolveAsync(Loopback("127.0.0.1", "127.0.0.2"), Host, AddressFamily.InterNetwork, default));

        Assert.Equal("NXDOMAIN", result.Error);
        Assert.Empty(result.Addresses);
        Assert.Equal(0, second.QueryCount);
    }

    [Fact]
    public async Task SERVFAIL_moves_on_to_the_next_server_and_the_note_says_so()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.1", "127.0.0.2");
        await using var first = servers[0];
        await using var second = servers[1];
        first.On(Host, DnsType.A, DnsScript.ServFail);
        second.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.20"));

        var result = await Bounded(Resolver(first.Port).ResolveAsync(Loopback("127.0.0.1", "127.0.0.2"), Host, AddressFamily.InterNetwork, default));

        Assert.Null(result.Error);
        Assert.Equal([IPAddress.Parse("192.0.2.20")], result.Addresses);
        Assert.Contains($"127.0.0.1:{first.Port}: SERVFAIL", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_every_server_fails_the_last_failure_is_the_result()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.1", "127.0.0.2");
        await using var first = servers[0];
        await using var second = servers[1];
        first.On(Host, DnsType.A, DnsScript.ServFail);
        second.On(Host, DnsType.A, DnsScript.Refused);

        var result = await Bounded(Resolver(first.Port).ResolveAsync(Loopback("127.0.0.1", "127.0.0.2"), Host, AddressFamily.InterNetwork, default));

        Assert.Equal("REFUSED", result.Error);
        Assert.Contains("SERVFAIL", result.Note, StringComparison.Ordinal);
        Assert.Contains("REFUSED", result.Note, StringComparison.Ordinal);
    }

    /// <summary>RFC 2308 §2.2 NODATA: "the RCODE set to NOERROR and no relevant answers in the answer section" — an empty list, not an error.</summary>
    [Fact]
    public async Task NOERROR_without_records_of_the_type_is_an_empty_answer()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.Aaaa, DnsScript.WithRecords(TestRecord.Address("192.0.2.1"))); // an A record in an AAAA answer

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetworkV6, default));

        Assert.Null(result.Error);
        Assert.Empty(result.Addresses);
    }

    /// <summary>RFC 1034 §3.6.2: the answer's CNAME chain is followed to the canonical name's addresses.</summary>
    [Fact]
    public async Task A_CNAME_chain_is_followed_to_the_addresses()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.WithRecords(
            TestRecord.Cname("edge.cdn.example"),
            TestRecord.Address("192.0.2.99", name: "unrelated.example"),
            TestRecord.Address("192.0.2.30", name: "edge.cdn.example")));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Equal([IPAddress.Parse("192.0.2.30")], result.Addresses);
    }

    /// <summary>
    /// RFC 2181 §9: "When a DNS client receives a reply with TC set, it should ignore that response, and query again,
    /// using a mechanism, such as a TCP connection, that will permit larger replies." RFC 1035 §4.2.2: over TCP "The
    /// message is prefixed with a two byte length field".
    /// </summary>
    [Fact]
    public async Task A_truncated_UDP_answer_is_asked_again_over_TCP()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        var many = Enumerable.Range(1, 40).Select(i => TestRecord.Address($"192.0.2.{i}")).ToArray();
        server.On(Host, DnsType.A, new DnsScript.Truncated(DnsScript.WithRecords(many)));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Null(result.Error);
        Assert.Equal(40, result.Addresses.Count);
        var udp = await server.NextQueryAsync();
        var tcp = await server.NextQueryAsync();
        Assert.Equal(("UDP", "TCP"), (udp.Transport, tcp.Transport));
        Assert.Equal(udp.Id, tcp.Id);
        Assert.Equal(IPAddress.Loopback, tcp.From.Address);
        Assert.Contains("retried over TCP", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_TCP_answer_to_another_question_fails_that_server()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Truncated(new DnsScript.Raw(q =>
            DnsResponses.Build(q.Id, "elsewhere.example", q.Type, 0, [TestRecord.Address("192.0.2.66")]))));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Contains("TCP answer with wrong question", result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Addresses);
    }

    /// <summary>A silent server costs one query timeout (2 s by default, on the shared manual clock), then the next server answers.</summary>
    [Fact]
    public async Task A_silent_server_times_out_after_2_s_and_the_next_server_answers()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.1", "127.0.0.2");
        await using var first = servers[0];
        await using var second = servers[1];
        first.On(Host, DnsType.A, DnsScript.Silence);
        second.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.40"));

        var pending = Resolver(first.Port).ResolveAsync(Loopback("127.0.0.1", "127.0.0.2"), Host, AddressFamily.InterNetwork, default);
        await first.NextQueryAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.Equal(0, second.QueryCount);
        Assert.False(pending.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var result = await Bounded(pending);
        Assert.Equal([IPAddress.Parse("192.0.2.40")], result.Addresses);
        Assert.Contains($"127.0.0.1:{first.Port}: timeout", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Our_timeout_is_a_timeout_result_not_an_exception()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Silence);

        var pending = Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        _clock.Advance(TimeSpan.FromSeconds(2));

        var result = await Bounded(pending);
        Assert.Equal("timeout", result.Error);
    }

    /// <summary>Connect code: the caller's cancellation is told apart from our timeout — it throws.</summary>
    [Fact]
    public async Task The_callers_cancellation_throws_instead_of_giving_a_result()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Silence);
        using var cancel = new CancellationTokenSource();

        var pending = Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, cancel.Token);
        await server.NextQueryAsync();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Bound));
    }

    [Fact]
    public async Task An_already_cancelled_call_throws_before_sending_anything()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, new CancellationToken(true)));
        await Task.Delay(50);
        Assert.Equal(0, server.QueryCount);
    }

    [Fact]
    public async Task A_delayed_answer_within_the_timeout_is_accepted()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Delayed(TimeSpan.FromMilliseconds(1500), DnsScript.Addresses("192.0.2.50")));

        var pending = Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        _clock.Advance(TimeSpan.FromMilliseconds(1500));

        Assert.Equal([IPAddress.Parse("192.0.2.50")], (await Bounded(pending)).Addresses);
    }

    [Fact]
    public async Task An_answer_later_than_the_timeout_is_too_late()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Delayed(TimeSpan.FromMilliseconds(2500), DnsScript.Addresses("192.0.2.50")));

        var pending = Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        _clock.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal("timeout", (await Bounded(pending)).Error);
    }

    /// <summary>
    /// RFC 5452 §3: an answer is accepted only if its question, ID, source address and port match; anything else is
    /// ignored and the stub keeps waiting (a spoofer must not be able to end the query).
    /// </summary>
    [Theory]
    [InlineData(Decoy.WrongId)]
    [InlineData(Decoy.WrongQuestion)]
    [InlineData(Decoy.WrongSource)]
    [InlineData(Decoy.Garbage)]
    [InlineData(Decoy.NotAResponse)]
    public async Task A_decoy_before_the_right_answer_is_ignored(Decoy decoy)
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.DecoyFirst(decoy, DnsScript.Addresses("192.0.2.60")));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Null(result.Error);
        Assert.Equal([IPAddress.Parse("192.0.2.60")], result.Addresses);
    }

    [Fact]
    public async Task Only_garbage_ends_in_a_timeout_whose_note_names_the_malformed_answer()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Raw(_ => [1, 2, 3]));

        var pending = Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        await Task.Delay(100); // let the garbage arrive; the outcome does not depend on it
        _clock.Advance(TimeSpan.FromSeconds(2));

        var result = await Bounded(pending);
        Assert.Equal("timeout", result.Error);
        Assert.Contains("malformed: message of 3 octets", result.Note, StringComparison.Ordinal);
    }

    /// <summary>RFC 4343 §3: DNS names compare without regard to ASCII case (servers using 0x20 mixing echo other cases).</summary>
    [Fact]
    public async Task The_question_is_matched_without_regard_to_case()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Raw(q => DnsResponses.Build(q.Id, "WwW.ExAmPlE.cOm", q.Type, 0, [TestRecord.Address("192.0.2.70")])));

        var result = await Bounded(Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), Host, AddressFamily.InterNetwork, default));

        Assert.Equal([IPAddress.Parse("192.0.2.70")], result.Addresses);
    }

    /// <summary>A connected UDP socket hears ICMP port unreachable: a server that is not listening fails at once, not after the timeout.</summary>
    [Fact]
    public async Task A_server_that_is_not_listening_fails_fast_and_the_next_server_answers()
    {
        var servers = await DnsResponder.StartManyAsync(_clock, "127.0.0.2");
        await using var second = servers[0];
        second.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.80"));

        // 127.0.0.9 has nothing on the port: no clock advance is needed for the answer.
        var result = await Bounded(Resolver(second.Port).ResolveAsync(Loopback("127.0.0.9", "127.0.0.2"), Host, AddressFamily.InterNetwork, default));

        Assert.Equal([IPAddress.Parse("192.0.2.80")], result.Addresses);
        Assert.Contains("UDP ConnectionRefused", result.Note, StringComparison.Ordinal);
    }

    /// <summary>Without an address of its own in the server's family the query could only leave through another interface (§7.3): that server is skipped.</summary>
    [Fact]
    public async Task A_server_of_a_family_the_interface_has_no_address_for_is_skipped()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.Addresses("192.0.2.90"));
        var v4Only = Loopback("::1", "127.0.0.1") with { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] };

        var result = await Bounded(Resolver(server.Port).ResolveAsync(v4Only, Host, AddressFamily.InterNetwork, default));

        Assert.Equal([IPAddress.Parse("192.0.2.90")], result.Addresses);
        Assert.Contains("no IPv6 address on lo", result.Note, StringComparison.Ordinal);
    }

    /// <summary>
    /// DESIGN §3 "Pinning to an interface": SO_BINDTODEVICE needs root or CAP_NET_RAW (and an existing device); when
    /// refused, address binding alone is used and that is said once.
    /// </summary>
    [Fact]
    public async Task A_refused_device_binding_falls_back_to_the_address_and_is_noted_once()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On("one.example", DnsType.A, DnsScript.Addresses("192.0.2.1"));
        server.On("two.example", DnsType.A, DnsScript.Addresses("192.0.2.2"));
        var resolver = Resolver(server.Port);
        var ghost = Loopback("127.0.0.1") with { Name = "hemifnosuch0" }; // no such device, whoever runs the test

        var first = await Bounded(resolver.ResolveAsync(ghost, "one.example", AddressFamily.InterNetwork, default));
        var second = await Bounded(resolver.ResolveAsync(ghost, "two.example", AddressFamily.InterNetwork, default));

        Assert.Equal([IPAddress.Parse("192.0.2.1")], first.Addresses);
        Assert.Contains("SO_BINDTODEVICE hemifnosuch0 refused", first.Note, StringComparison.Ordinal);
        Assert.Equal([IPAddress.Parse("192.0.2.2")], second.Addresses);
        Assert.Null(second.Note);
        Assert.True(resolver.DeviceBindingRefusals.ContainsKey("hemifnosuch0"));
    }

    [Fact]
    public async Task With_no_interface_DNS_servers_the_system_resolver_answers_and_the_note_says_so()
    {
        string? asked = null;
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions
        {
            SystemResolver = (host, family, _) =>
            {
                asked = $"{host} {family}";
                return Task.FromResult(new[] { IPAddress.Parse("192.0.2.5"), IPAddress.Parse("2001:db8::5") });
            },
        }, _clock);

        var result = await resolver.ResolveAsync(Loopback(), Host, AddressFamily.InterNetwork, default);

        Assert.Equal("www.example.com InterNetwork", asked);
        Assert.Equal([IPAddress.Parse("192.0.2.5")], result.Addresses);
        Assert.Equal(DnsInterfaceResolver.SystemFallbackNote, result.Note);
    }

    [Fact]
    public async Task The_system_resolvers_host_not_found_is_NXDOMAIN_and_its_hang_is_a_timeout()
    {
        var notFound = new DnsInterfaceResolver(new InterfaceResolverOptions
        {
            SystemResolver = (_, _, _) => Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound)),
        }, _clock);
        var result = await notFound.ResolveAsync(Loopback(), Host, AddressFamily.InterNetwork, default);
        Assert.Equal(("NXDOMAIN", DnsInterfaceResolver.SystemFallbackNote), (result.Error, result.Note));

        var hangs = new DnsInterfaceResolver(new InterfaceResolverOptions
        {
            SystemResolver = async (_, _, ct) =>
            {
                await Task.Delay(Timeout.Infinite, ct);
                return [];
            },
        }, _clock);
        var pending = hangs.ResolveAsync(Loopback(), Host, AddressFamily.InterNetwork, default);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("timeout", (await Bounded(pending)).Error);
    }

    /// <summary>Draft §7.3: "A DNS answer may be only valid for a specific provisioning domain" — the cache never serves one interface's answer to another.</summary>
    [Fact]
    public async Task A_cached_answer_is_only_reused_on_the_interface_it_came_from_and_only_for_its_TTL()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, DnsScript.WithRecords(TestRecord.Address("192.0.2.100", ttl: 60)));
        var resolver = Resolver(server.Port, cacheCapacity: 16);
        var wifi = Loopback("127.0.0.1") with { Name = "lo" };
        var cellular = Loopback("127.0.0.1") with { Name = "rmnet0" };

        await Bounded(resolver.ResolveAsync(wifi, Host, AddressFamily.InterNetwork, default));
        var cached = await Bounded(resolver.ResolveAsync(wifi, Host.ToUpperInvariant(), AddressFamily.InterNetwork, default));
        Assert.Equal(1, server.QueryCount);
        Assert.Equal([IPAddress.Parse("192.0.2.100")], cached.Addresses);
        Assert.Contains("cached answer from lo", cached.Note, StringComparison.Ordinal);

        await Bounded(resolver.ResolveAsync(cellular, Host, AddressFamily.InterNetwork, default));
        Assert.Equal(2, server.QueryCount);

        _clock.Advance(TimeSpan.FromSeconds(60));
        await Bounded(resolver.ResolveAsync(wifi, Host, AddressFamily.InterNetwork, default));
        Assert.Equal(3, server.QueryCount);
    }

    [Fact]
    public async Task An_HTTPS_query_gives_the_ALPN_ids_port_and_hints()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On("example.com", DnsType.Https, DnsScript.WithRecords(new TestRecord(null, DnsType.Https, 300,
            DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(1, DnsWire.Alpn("h3", "h2")), DnsWire.SvcParam(4, DnsWire.Address("192.0.2.7"))))));

        var lookup = await Resolver(server.Port).QueryAsync(Loopback("127.0.0.1"), "example.com", DnsType.Https, default).WaitAsync(Bound);

        var record = Assert.IsType<DnsServiceBindingRecord>(Assert.Single(lookup.Records));
        Assert.Equal(["h3", "h2"], record.Alpn);
        Assert.Equal([IPAddress.Parse("192.0.2.7")], record.Ipv4Hints);
    }

    [Fact]
    public async Task An_invalid_host_name_is_a_result_and_nothing_is_sent()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);

        var result = await Resolver(server.Port).ResolveAsync(Loopback("127.0.0.1"), "bad host", AddressFamily.InterNetwork, default);

        Assert.StartsWith("invalid host name", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, server.QueryCount);
    }

    [Fact]
    public async Task An_address_literal_is_its_own_answer()
    {
        var resolver = Resolver(53);
        var v4 = await resolver.ResolveAsync(Loopback("127.0.0.1"), "192.0.2.1", AddressFamily.InterNetwork, default);
        var asV6 = await resolver.ResolveAsync(Loopback("127.0.0.1"), "192.0.2.1", AddressFamily.InterNetworkV6, default);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], v4.Addresses);
        Assert.Empty(asV6.Addresses);
        Assert.Null(asV6.Error);
        var bracketed = await resolver.ResolveAsync(Loopback("127.0.0.1"), "[2001:db8::1]", AddressFamily.InterNetworkV6, default);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], bracketed.Addresses);
    }
}
