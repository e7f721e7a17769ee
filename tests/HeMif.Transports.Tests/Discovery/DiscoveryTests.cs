using System.Net;
using HeMif.Interfaces;
using HeMif.Transports.Discovery;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Discovery;

/// <summary>Interface discovery: the kind from sysfs then the name; the watcher reports what changed.</summary>
public sealed class DiscoveryTests : IDisposable
{
    private readonly DirectoryInfo _sysfs = Directory.CreateTempSubdirectory("hemif-sysfs-");

    public void Dispose() => _sysfs.Delete(recursive: true);

    [Fact]
    public void The_kind_comes_from_sysfs_wireless_uevent_and_type_before_the_name()
    {
        Directory.CreateDirectory(Path.Combine(_sysfs.FullName, "odd0", "wireless"));
        Write("modem1/uevent", "INTERFACE=modem1\nDEVTYPE=wwan\n");
        Write("wlx1/uevent", "DEVTYPE=wlan\n");
        Write("lo/type", "772\n");
        Write("t0/type", "65534\n");
        var discovery = new InterfaceDiscovery(_sysfs.FullName);

        Assert.Equal(InterfaceKind.Wifi, discovery.Classify("odd0"));
        Assert.Equal(InterfaceKind.Cellular, discovery.Classify("modem1"));
        Assert.Equal(InterfaceKind.Wifi, discovery.Classify("wlx1"));
        Assert.Equal(InterfaceKind.Loopback, discovery.Classify("lo"));
        Assert.Equal(InterfaceKind.Vpn, discovery.Classify("t0"));
    }

    [Theory]
    [InlineData("wlan0", InterfaceKind.Wifi)]
    [InlineData("rmnet_data0", InterfaceKind.Cellular)]
    [InlineData("wwan0", InterfaceKind.Cellular)]
    [InlineData("tun0", InterfaceKind.Vpn)]
    [InlineData("wg0", InterfaceKind.Vpn)]
    [InlineData("eth0", InterfaceKind.Ethernet)]
    [InlineData("enp3s0", InterfaceKind.Ethernet)]
    [InlineData("lo", InterfaceKind.Loopback)]
    [InlineData("br-lan", InterfaceKind.Other)]
    public void Without_sysfs_hints_the_name_decides(string name, InterfaceKind kind) =>
        Assert.Equal(kind, new InterfaceDiscovery(_sysfs.FullName).Classify(name));

    [Fact]
    public void This_hosts_loopback_is_discovered_up_with_its_address()
    {
        var lo = new InterfaceDiscovery().Discover().FirstOrDefault(f => f.Name == "lo");
        Assert.NotNull(lo);
        Assert.Equal(InterfaceKind.Loopback, lo.Kind);
        Assert.True(lo.IsUp);
        Assert.Contains(lo.Addresses, a => a.Address.Equals(IPAddress.Loopback));
        Assert.Equal(InterfaceFactSources.OperatingSystem, lo.Sources);
    }

    [Fact]
    public void The_override_file_fills_in_what_the_OS_cannot_tell()
    {
        var overrides = HostOverrides.Parse("""
            { "interfaces": [ { "name": "eth9", "kind": "Cellular", "metered": true, "roaming": true, "pvd": "pvd.example.net", "dnsServers": ["192.0.2.53"] } ],
              "probe": { "url": "http://check.example.net/generate_204", "timeoutMs": 1500, "nonexistentName": "x.invalid" } }
            """, "host.json");
        var facts = overrides.ApplyTo([new InterfaceFacts("eth9", InterfaceKind.Ethernet) { Sources = InterfaceFactSources.OperatingSystem }]).Single();
        Assert.Equal((InterfaceKind.Cellular, true, true, "pvd.example.net"), (facts.Kind, facts.Metered, facts.Roaming, facts.PvdId));
        Assert.Equal([IPAddress.Parse("192.0.2.53")], facts.DnsServers);
        // Each fact says where it came from (hemif interfaces shows it): the file where it spoke, the OS elsewhere.
        Assert.Equal(InterfaceFactSources.OperatingSystem with
        {
            Kind = FactSource.OverrideFile, Metered = FactSource.OverrideFile, Roaming = FactSource.OverrideFile,
            PvdId = FactSource.OverrideFile, DnsServers = FactSource.OverrideFile,
        }, facts.Sources);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), overrides.Probe.Timeout);
        Assert.Equal("x.invalid", overrides.Probe.NonexistentName);
    }

    /// <summary>Validation per PvD: the override file names a check URL for an interface's own scope (docs/discovery.md).</summary>
    [Fact]
    public void The_override_file_names_a_check_URL_for_an_interface_s_own_scope()
    {
        var overrides = HostOverrides.Parse("""{ "interfaces": [ { "name": "tun0", "kind": "Vpn", "checkUrl": "http://10.8.0.1/generate_204" } ] }""", "host.json");

        var facts = overrides.ApplyTo([new InterfaceFacts("tun0", InterfaceKind.Other), new InterfaceFacts("wlan0", InterfaceKind.Wifi)]);

        Assert.Equal(new Uri("http://10.8.0.1/generate_204"), facts[0].ScopeCheckUrl);
        Assert.Null(facts[1].ScopeCheckUrl);
    }

    [Theory]
    [InlineData("""{ "interfaces": [ { "name": "a" }, { "name": "a" } ] }""", "$.interfaces[1].name", "one override per interface")]
    [InlineData("""{ "interfaces": [ { "name": "a", "kind": "Satellite" } ] }""", "$.interfaces[0].kind", "")]
    [InlineData("""{ "interfaces": [ { "name": "a", "dnsServers": ["not-an-ip"] } ] }""", "$.interfaces[0].dnsServers[0]", "")]
    [InlineData("""{ "probe": { "timeoutMs": -1 } }""", "$.probe.timeoutMs", "from 1 to 600000")]
    [InlineData("""{ "interfaces": [ { "name": "a", "checkUrl": "https://corp.example/" } ] }""", "$.interfaces[0].checkUrl", "an absolute http:// URL")]
    [InlineData("""{ "probes": {} }""", "$", "")]
    [InlineData("""{ "interfaces": [ """, "$", "valid JSON")]
    public void A_malformed_override_file_names_the_file_the_JSON_path_and_the_expectation(string json, string path, string expected)
    {
        var error = Assert.Throws<HeMif.Configuration.HeMifConfigurationException>(() => HostOverrides.Parse(json, "host.json"));
        Assert.Contains("host.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_watcher_reports_an_interface_whose_link_or_addresses_changed_and_keeps_the_overridden_facts()
    {
        var time = new FakeTimeProvider();
        var initial = new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Metered = true, Addresses = [new InterfaceAddress(IPAddress.Parse("192.0.2.10"), 24)] };
        var current = new List<InterfaceFacts> { new("wlan0", InterfaceKind.Other) { Addresses = [new InterfaceAddress(IPAddress.Parse("192.0.2.10"), 24)] } };
        var changes = new List<InterfaceFacts>();
        var appeared = new List<InterfaceFacts>();
        var gone = new List<string>();
        using var watcher = new InterfaceWatcher([initial], () => current, changes.Add, time, TimeSpan.FromSeconds(30), listenToOs: false, appeared.Add, gone.Add);

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(changes);

        current = [new("wlan0", InterfaceKind.Other) { Addresses = [new InterfaceAddress(IPAddress.Parse("198.51.100.10"), 24)] }, new("tun0", InterfaceKind.Vpn)];
        time.Advance(TimeSpan.FromSeconds(30));
        var changed = Assert.Single(changes);
        Assert.Equal(IPAddress.Parse("198.51.100.10"), changed.Addresses.Single().Address);
        Assert.True(changed.Metered, "the overridden facts stay");
        Assert.Equal(InterfaceKind.Wifi, changed.Kind);
        Assert.Equal(["tun0"], appeared.Select(f => f.Name));

        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Single(appeared); // said once; from now on it is watched like the others

        current = [];
        time.Advance(TimeSpan.FromSeconds(30));
        var down = Assert.Single(changes, f => f.Name == "wlan0" && !f.IsUp);
        Assert.True(down.Metered, "one known at start stays known, as down, with its overridden facts");
        Assert.Equal(["tun0"], gone); // one that appeared after start is gone and forgotten
        Assert.DoesNotContain(changes, f => f.Name == "tun0");

        current = [new("tun0", InterfaceKind.Vpn)];
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(["tun0", "tun0"], appeared.Select(f => f.Name)); // back: new again
    }

    private void Write(string relative, string content)
    {
        var path = Path.Combine(_sysfs.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>
    /// Issue 15: "NetworkInterface.GetIPProperties().DnsAddresses where the OS reports them per interface". Windows keeps
    /// them per adapter; elsewhere .NET reports the global resolv.conf for every interface, which is not taken.
    /// </summary>
    [Fact]
    public void The_OS_s_DNS_servers_are_taken_only_where_it_keeps_them_per_interface_without_Windows_placeholders()
    {
        IEnumerable<IPAddress> Reported() => [IPAddress.Parse("192.0.2.53"), IPAddress.Parse("fec0:0:0:ffff::1"), IPAddress.Parse("2001:db8::53"), IPAddress.Parse("192.0.2.53")];

        Assert.Equal([IPAddress.Parse("192.0.2.53"), IPAddress.Parse("2001:db8::53")], InterfaceDiscovery.DnsServersFromOs(perInterface: true, Reported));
        Assert.Empty(InterfaceDiscovery.DnsServersFromOs(perInterface: false, () => throw new InvalidOperationException("not read where it is global")));
        Assert.Empty(InterfaceDiscovery.DnsServersFromOs(perInterface: true, () => throw new System.Net.NetworkInformation.NetworkInformationException(2)));
    }
}
