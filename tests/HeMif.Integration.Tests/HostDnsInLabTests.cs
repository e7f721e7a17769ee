using System.Net;
using System.Text.Json;

namespace HeMif.Integration.Tests;

/// <summary>
/// The host's own per-interface DNS (docs/discovery.md, "The host's own DNS"), for real over D-Bus: a private bus
/// (Debian's <c>dbus-daemon</c>, <see cref="PrivateBus"/>) with a stand-in for systemd-resolved
/// (<see cref="ResolvedStandIn"/>: <c>org.freedesktop.resolve1</c>'s Manager <c>DNS</c> and <c>Domains</c>), and
/// <c>hemif interfaces --json</c> in the lab's client namespace pointed at that bus with <c>DBUS_SYSTEM_BUS_ADDRESS</c>,
/// without an override file. The bus and the stand-in are torn down also when an assertion fails.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class HostDnsInLabTests(LabFixture lab)
{
    [LabFact]
    public async Task Per_interface_DNS_servers_are_learned_from_the_host_resolver_without_an_override_file()
    {
        Assert.True(PrivateBus.Missing is null, "could not run: " + PrivateBus.Missing);
        await using var bus = await PrivateBus.StartAsync();
        var wlan = await IfIndexAsync("wlan0");
        var rmnet = await IfIndexAsync("rmnet0");
        using var resolved = await ResolvedStandIn.StartAsync(bus.Address,
            [(0, IPAddress.Parse("192.0.2.1")), (wlan, IPAddress.Parse("198.18.1.53")), (wlan, IPAddress.Parse("2001:db8:1::53")), (rmnet, IPAddress.Parse("198.18.2.53"))],
            [(wlan, "home.lab.example")]);

        var document = await InterfacesAsync(bus.Address);

        var hostDns = document.GetProperty("hostDns");
        Assert.Equal("Read", hostDns.GetProperty("state").GetString());
        var wlan0 = Interface(document, "wlan0");
        Assert.Equal(["198.18.1.53", "2001:db8:1::53"], Strings(wlan0.GetProperty("dnsServers")));
        Assert.Equal(["home.lab.example"], Strings(wlan0.GetProperty("searchDomains")));
        Assert.Equal("HostResolver", wlan0.GetProperty("sources").GetProperty("dnsServers").GetString());
        var rmnet0 = Interface(document, "rmnet0");
        Assert.Equal(["198.18.2.53"], Strings(rmnet0.GetProperty("dnsServers")));
        Assert.Equal("HostResolver", rmnet0.GetProperty("sources").GetProperty("dnsServers").GetString());
        Assert.True(resolved.Answered >= 2, "the stand-in was not asked");
    }

    [LabFact]
    public async Task A_bus_without_resolved_is_reported_and_the_interfaces_are_there_without_host_DNS()
    {
        Assert.True(PrivateBus.Missing is null, "could not run: " + PrivateBus.Missing);
        await using var bus = await PrivateBus.StartAsync();

        var document = await InterfacesAsync(bus.Address);

        var hostDns = document.GetProperty("hostDns");
        Assert.Equal("Unavailable", hostDns.GetProperty("state").GetString());
        Assert.Equal("NoResolver", hostDns.GetProperty("problem").GetString());
        Assert.Contains("org.freedesktop.resolve1", hostDns.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.NotEqual("HostResolver", Interface(document, "wlan0").GetProperty("sources").GetProperty("dnsServers").GetString());
    }

    private async Task<JsonElement> InterfacesAsync(string busAddress)
    {
        var result = await LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "dotnet", LabProcess.Hemif, "interfaces", "--json", "--no-validation"],
            TimeSpan.FromSeconds(120), new Dictionary<string, string> { ["DBUS_SYSTEM_BUS_ADDRESS"] = busAddress });
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        return json.RootElement.Clone();
    }

    private async Task<int> IfIndexAsync(string name)
    {
        var result = await LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "cat", $"/sys/class/net/{name}/ifindex"], TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
        return int.Parse(result.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static JsonElement Interface(JsonElement document, string name) =>
        document.GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == name);

    private static List<string?> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString())];
}
