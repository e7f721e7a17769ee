using System.Net;
using System.Net.Sockets;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.Transports.Discovery;
using Tmds.DBus.Protocol;

namespace HeMif.Transports.Tests.Discovery;

/// <summary>
/// The host resolver's per-link DNS (docs/discovery.md, "The host's own DNS"): systemd-resolved's Manager properties
/// <c>DNS</c> (<c>a(iiay)</c>: "the interface index (or 0 for global), the address family (AF_INET or AF_INET6), and the
/// address as a byte array") and <c>Domains</c> (<c>a(isb)</c>: index, domain, routing-only) mapped to interfaces; every
/// malformed reply refused whole with the entry named; no bus or a bus that does not answer is a reason, never a hang.
/// </summary>
public sealed class HostResolverDnsTests
{
    private const int AfInet = 2;
    private const int AfInet6 = 10;

    [Fact]
    public void Per_link_servers_and_search_domains_are_mapped_global_and_routing_only_entries_left_out()
    {
        var dns = Array(
            Server(0, AfInet, [9, 9, 9, 9]),
            Server(3, AfInet6, IPAddress.Parse("2001:db8:1::53").GetAddressBytes()),
            Server(3, AfInet, [192, 0, 2, 53]),
            Server(3, AfInet, [192, 0, 2, 53]),
            Server(5, AfInet, [198, 51, 100, 53]));
        var domains = Array(Domain(0, "global.example", false), Domain(3, "corp.example.", false), Domain(3, ".", true), Domain(5, "vpn.example", true));

        var snapshot = ResolvedReply.Map(dns, domains);

        Assert.Equal(HostDnsState.Read, snapshot.Status.State);
        Assert.Equal([3, 5], snapshot.Links.Keys.Order());
        Assert.Equal([IPAddress.Parse("2001:db8:1::53"), IPAddress.Parse("192.0.2.53")], snapshot.Links[3].Servers);
        Assert.Equal(["corp.example"], snapshot.Links[3].SearchDomains);
        Assert.Empty(snapshot.Links[5].SearchDomains);
    }

    public static TheoryData<string, VariantValue, VariantValue, string> Malformed => new()
    {
        { "DNS is not an array", VariantValue.String("nope"), Array(), "DNS: expected an array of structs of 3 fields; found a String" },
        { "an entry is not a struct", Array(VariantValue.Int32(3)), Array(), "DNS[0]: expected a struct of 3 fields; found a Int32" },
        { "a struct of two fields", Array(VariantValue.Struct(VariantValue.Int32(3), VariantValue.Int32(AfInet))), Array(), "DNS[0]: expected a struct of 3 fields; found a Struct of 2" },
        { "the family is a string", Array(VariantValue.Struct(VariantValue.Int32(3), VariantValue.String("inet"), VariantValue.Array(new byte[] { 1, 2, 3, 4 }))), Array(), "DNS[0].1: expected a Int32; found a String" },
        { "an unknown family", Array(Server(3, 7, [1, 2, 3, 4])), Array(), "DNS[0]: expected address family 2 (AF_INET) or 10 (AF_INET6); found 7" },
        { "an IPv4 address of 16 bytes", Array(Server(3, AfInet, new byte[16])), Array(), "DNS[0]: expected a 4-byte address for family 2; found 16 bytes" },
        { "a truncated IPv6 address", Array(Server(3, AfInet6, [0x20, 0x01])), Array(), "DNS[0]: expected a 16-byte address for family 10; found 2 bytes" },
        { "an address too long to be one", Array(Server(3, AfInet6, new byte[40])), Array(), "DNS[0]: expected the address as at most 16 bytes (ay); found 40 items" },
        { "a negative index", Array(Server(-1, AfInet, [1, 2, 3, 4])), Array(), "DNS[0]: expected an interface index of 0 or more; found -1" },
        { "a domain that is not a name", Array(), Array(Domain(3, "bad domain!", false)), "Domains[0]: expected a domain name; found \"bad domain!\"" },
        { "the routing flag is a string", Array(), Array(VariantValue.Struct(VariantValue.Int32(3), VariantValue.String("corp.example"), VariantValue.String("no"))), "Domains[0].2: expected a Bool; found a String" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_reply_is_refused_whole_naming_the_entry(string what, VariantValue dns, VariantValue domains, string reason)
    {
        var snapshot = ResolvedReply.Map(dns, domains);

        Assert.True(snapshot.Status.State == HostDnsState.Unavailable, what);
        Assert.Equal(HostDnsProblem.MalformedReply, snapshot.Status.Problem);
        Assert.Equal(reason, snapshot.Status.Detail);
        Assert.Empty(snapshot.Links);
    }

    [Fact]
    public void A_flood_of_entries_is_refused()
    {
        var many = Array([.. Enumerable.Range(0, ResolvedReply.MaxEntries + 1).Select(i => Server(3, AfInet, [10, 0, (byte)(i >> 8), (byte)i]))]);

        var snapshot = ResolvedReply.Map(many, Array());

        Assert.Equal(HostDnsProblem.MalformedReply, snapshot.Status.Problem);
        Assert.Equal($"DNS: expected at most {ResolvedReply.MaxEntries} entries; found {ResolvedReply.MaxEntries + 1}", snapshot.Status.Detail);
    }

    [Fact]
    public void Interfaces_without_stated_servers_get_their_links_dns_stated_ones_keep_theirs()
    {
        var snapshot = ResolvedReply.Map(Array(Server(3, AfInet, [192, 0, 2, 53]), Server(4, AfInet, [192, 0, 2, 54])), Array(Domain(3, "corp.example", false)));
        var os = InterfaceFactSources.OperatingSystem;
        InterfaceFacts[] found =
        [
            new("wlan0", InterfaceKind.Wifi) { Sources = os },
            new("eth0", InterfaceKind.Ethernet) { Sources = os with { DnsServers = FactSource.OverrideFile }, DnsServers = [IPAddress.Parse("10.0.0.1")] },
            new("wwan0", InterfaceKind.Cellular) { Sources = os },
        ];

        var applied = HostDns.Apply(found, snapshot, name => name switch { "wlan0" => 3, "eth0" => 4, _ => 9 });

        Assert.Equal([IPAddress.Parse("192.0.2.53")], applied[0].DnsServers);
        Assert.Equal(["corp.example"], applied[0].SearchDomains);
        Assert.Equal(FactSource.HostResolver, applied[0].Sources.DnsServers);
        Assert.Equal([IPAddress.Parse("10.0.0.1")], applied[1].DnsServers);
        Assert.Equal(FactSource.OverrideFile, applied[1].Sources.DnsServers);
        Assert.Empty(applied[2].DnsServers);
        Assert.Equal(FactSource.OperatingSystem, applied[2].Sources.DnsServers);
    }

    [Fact]
    public void The_override_file_applied_after_still_wins()
    {
        var snapshot = ResolvedReply.Map(Array(Server(3, AfInet, [192, 0, 2, 53])), Array());
        var applied = HostDns.Apply([new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Sources = InterfaceFactSources.OperatingSystem }], snapshot, _ => 3);
        var overrides = HostOverrides.Parse("""{"interfaces": [{"name": "wlan0", "dnsServers": ["2001:db8::53"]}]}""", "hosts.json");

        var final = overrides.ApplyTo(applied)[0];

        Assert.Equal([IPAddress.Parse("2001:db8::53")], final.DnsServers);
        Assert.Equal(FactSource.OverrideFile, final.Sources.DnsServers);
    }

    [Fact]
    public void The_watcher_reports_a_change_of_the_host_resolvers_servers_but_not_of_stated_ones()
    {
        var os = InterfaceFactSources.OperatingSystem;
        var known = new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Sources = os with { DnsServers = FactSource.HostResolver }, DnsServers = [IPAddress.Parse("192.0.2.53")] };
        var now = known with { DnsServers = [IPAddress.Parse("192.0.2.54")] };
        var stated = known with { Sources = os with { DnsServers = FactSource.OverrideFile } };

        Assert.True(InterfaceWatcher.HostDnsChanged(known, now));
        Assert.False(InterfaceWatcher.HostDnsChanged(known, known));
        Assert.False(InterfaceWatcher.HostDnsChanged(stated, now with { Sources = os }));
    }

    [Fact]
    public async Task No_bus_at_the_address_is_a_reason_not_an_exception()
    {
        var path = Path.Combine(Path.GetTempPath(), "hemif-no-bus-" + Guid.NewGuid().ToString("N"));

        var snapshot = await new ResolvedClient("unix:path=" + path, TimeSpan.FromSeconds(5)).ReadAsync();

        Assert.Equal(HostDnsState.Unavailable, snapshot.Status.State);
        Assert.Equal(HostDnsProblem.NoBus, snapshot.Status.Problem);
        Assert.Contains(path, snapshot.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bus_that_never_answers_is_waited_for_only_as_long_as_the_bound()
    {
        var dir = Directory.CreateTempSubdirectory("hemif-mute-bus-");
        try
        {
            var path = Path.Combine(dir.FullName, "bus");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(); // accepts the connection in the kernel, never says a word

            var snapshot = new ResolvedClient("unix:path=" + path, TimeSpan.FromMilliseconds(300)).Read();

            Assert.Equal(HostDnsProblem.Timeout, snapshot.Status.Problem);
            Assert.Contains("did not answer within 300 ms", snapshot.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Without_a_client_discovery_is_left_as_it_is_and_the_status_says_off()
    {
        var reading = new HostDnsReading(null);
        IReadOnlyList<InterfaceFacts> found = [new InterfaceFacts("wlan0", InterfaceKind.Wifi)];

        Assert.Same(found, reading.Around(() => found)());
        Assert.Equal(HostDnsState.Off, reading.Status.State);
    }

    private static VariantValue Server(int index, int family, byte[] address) =>
        VariantValue.Struct(VariantValue.Int32(index), VariantValue.Int32(family), VariantValue.Array(address));

    private static VariantValue Domain(int index, string name, bool routingOnly) =>
        VariantValue.Struct(VariantValue.Int32(index), VariantValue.String(name), VariantValue.Bool(routingOnly));

    private static VariantValue Array(params VariantValue[] items) => new Array<VariantValue>(items).AsVariantValue();
}
