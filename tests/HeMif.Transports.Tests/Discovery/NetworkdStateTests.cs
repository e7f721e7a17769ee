using System.Net;
using HeMif.Discovery;
using HeMif.Interfaces;

namespace HeMif.Transports.Tests.Discovery;

/// <summary>
/// systemd-networkd's link state files (<c>/run/systemd/netif/links/&lt;ifindex&gt;</c>: <c>DNS=</c>, <c>DOMAINS=</c>) as a
/// further source of an interface's DNS after systemd-resolved (docs/discovery.md, "The host's own DNS"), read from a
/// temporary state directory of the test's own.
/// </summary>
public sealed class NetworkdStateTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hemif-networkd-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static readonly InterfaceFacts Wlan = new("wlan0", InterfaceKind.Wifi) { Sources = InterfaceFactSources.OperatingSystem };
    private static readonly InterfaceFacts Rmnet = new("rmnet0", InterfaceKind.Cellular) { Sources = InterfaceFactSources.OperatingSystem };

    /// <summary>The test runs as if in networkd's network namespace (the machine's own check cannot be relied on here).</summary>
    private static bool Same() => true;

    private static int? Index(string name) => name switch { "wlan0" => 3, "rmnet0" => 4, _ => null };

    private void Write(int ifIndex, string text) => File.WriteAllText(Path.Combine(_dir.FullName, ifIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)), text);

    /// <summary>A file as networkd writes it: servers (one with a port, a link index and a server name), search and routing domains.</summary>
    [Fact]
    public void A_links_servers_and_search_domains_are_read_routing_domains_left_out()
    {
        var link = NetworkdState.Parse(3, """
            # This is private data. Do not parse.
            ADMIN_STATE=configured
            OPER_STATE=routable
            DNS=192.0.2.53 192.0.2.54:5353%3#dns.example 2001:db8::53 [2001:db8::54]:53 192.0.2.53
            NTP=
            DOMAINS=corp.example lab.example
            ROUTE_DOMAINS=route.example
            """, out var error);

        Assert.Null(error);
        Assert.Equal(["192.0.2.53", "192.0.2.54", "2001:db8::53", "2001:db8::54"], link!.Servers.Select(s => s.ToString()));
        Assert.Equal(["corp.example", "lab.example"], link.SearchDomains);
    }

    [Theory]
    [InlineData("DNS=192.0.2.53 not-an-address", "line 1: DNS=: expected an IP address (ADDRESS[:PORT][%IFINDEX][#NAME]); found \"not-an-address\"")]
    [InlineData("DNS=192.0.2.53:0", "found \"192.0.2.53:0\"")]
    [InlineData("DNS=[2001:db8::53", "found \"[2001:db8::53\"")]
    [InlineData("DNS=0.0.0.0", "found \"0.0.0.0\"")]
    [InlineData("DOMAINS=bad..domain", "line 1: DOMAINS=: expected a domain name; found \"bad..domain\"")]
    public void A_file_with_something_impossible_is_refused_naming_the_line_and_the_value(string text, string reason)
    {
        Assert.Null(NetworkdState.Parse(3, text, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flood_of_entries_is_refused()
    {
        var text = "DNS=" + string.Join(' ', Enumerable.Range(1, NetworkdState.MaxEntries + 1).Select(i => $"10.0.{i / 256}.{i % 256}"));
        Assert.Null(NetworkdState.Parse(3, text, out var error));
        Assert.Contains($"at most {NetworkdState.MaxEntries}", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Through the connector's reading: an interface resolved said nothing about gets networkd's servers with
    /// <see cref="FactSource.SystemdNetworkd"/>; a refused file gives its link nothing and the status says why.
    /// </summary>
    [Fact]
    public void Interfaces_get_networkds_servers_with_its_source_and_a_refused_file_is_reported()
    {
        Write(3, "DNS=192.0.2.53\nDOMAINS=corp.example\n");
        Write(4, "DNS=garbage\n");
        var reading = new HostDnsReading(null, _dir.FullName, Index, Same);

        var found = reading.Around(() => [Wlan, Rmnet])();

        Assert.Equal([IPAddress.Parse("192.0.2.53")], found[0].DnsServers);
        Assert.Equal(["corp.example"], found[0].SearchDomains);
        Assert.Equal(FactSource.SystemdNetworkd, found[0].Sources.DnsServers);
        Assert.Empty(found[1].DnsServers);
        Assert.Equal(FactSource.OperatingSystem, found[1].Sources.DnsServers);
        Assert.Equal(HostDnsState.Read, reading.Status.State);
        Assert.Contains("DNS servers for links 3", reading.Status.Detail, StringComparison.Ordinal);
        Assert.Contains($"refused: {Path.Combine(_dir.FullName, "4")}: line 1: DNS=", reading.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>resolved, read first, wins where it says something; networkd fills in the rest.</summary>
    [Fact]
    public void The_host_resolver_wins_over_networkd_where_both_speak()
    {
        Write(3, "DNS=192.0.2.99\n");
        Write(4, "DNS=198.51.100.53\n");
        var resolved = new Dictionary<int, HostDnsLink> { [3] = new(3, [IPAddress.Parse("192.0.2.53")], []) };

        var afterResolved = HostDns.Apply([Wlan, Rmnet], resolved, Index, FactSource.HostResolver);
        var after = HostDns.Apply(afterResolved, NetworkdState.Read(_dir.FullName, [3, 4], Same).Links, Index, FactSource.SystemdNetworkd);

        Assert.Equal((IPAddress.Parse("192.0.2.53"), FactSource.HostResolver), (after[0].DnsServers.Single(), after[0].Sources.DnsServers));
        Assert.Equal((IPAddress.Parse("198.51.100.53"), FactSource.SystemdNetworkd), (after[1].DnsServers.Single(), after[1].Sources.DnsServers));
    }

    /// <summary>An empty state directory (networkd without DNS for these links) leaves resolved's status as it was.</summary>
    [Fact]
    public void An_empty_state_directory_changes_nothing_said()
    {
        var reading = new HostDnsReading(null, _dir.FullName, Index, Same);

        var found = reading.Around(() => [Wlan])();

        Assert.Empty(found[0].DnsServers);
        Assert.Equal(HostDnsStatus.Off, reading.Status);
    }

    /// <summary>In another network namespace than networkd's (a container, ip netns exec) the indexes name other links: nothing is read.</summary>
    [Fact]
    public void Outside_networkds_network_namespace_nothing_is_read()
    {
        Write(3, "DNS=192.0.2.53\n");

        var reading = NetworkdState.Read(_dir.FullName, [3], () => false);

        Assert.Empty(reading.Links);
        Assert.Null(reading.Detail);
    }

    [Fact]
    public void Without_the_directory_nothing_is_read_and_nothing_said()
    {
        var reading = NetworkdState.Read(Path.Combine(_dir.FullName, "absent"), [3], Same);
        Assert.Empty(reading.Links);
        Assert.Null(reading.Detail);
    }

    /// <summary>The override file (applied after, as the connector does) still wins over networkd's servers.</summary>
    [Fact]
    public void The_override_file_still_wins()
    {
        Write(3, "DNS=192.0.2.99\n");
        var fromNetworkd = new HostDnsReading(null, _dir.FullName, Index, Same).Around(() => [Wlan])();
        var overrides = HeMif.Transports.Discovery.HostOverrides.Parse("""{ "interfaces": [ { "name": "wlan0", "dnsServers": ["192.0.2.1"] } ] }""", "host.json");

        var final = overrides.ApplyTo(fromNetworkd).Single();

        Assert.Equal((IPAddress.Parse("192.0.2.1"), FactSource.OverrideFile), (final.DnsServers.Single(), final.Sources.DnsServers));
    }
}
