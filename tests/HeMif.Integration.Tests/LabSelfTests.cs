using System.Net;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// The lab does what docs/lab.md says, switch by switch, seen from inside the client namespace with
/// plain sockets (HeMif.Lab's probes): the ground the connector's integration tests stand on.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class LabSelfTests(LabFixture lab, ITestOutputHelper output)
{
    /// <summary>Long enough for any healthy handshake here (cellular is 2 × 40 ms), short enough to keep the suite quick.</summary>
    private const int SoftTimeoutMs = 1000;

    /// <summary>What a socket reports for ICMP destination unreachable (IPv4 host unreachable, IPv6 no route).</summary>
    private static readonly string[] IcmpUnreachable = ["HostUnreachable", "NetworkUnreachable"];

    private (IPAddress Server, IPAddress Wifi, IPAddress Cell)[] Families =>
    [
        (lab.ServerAddress4, lab.WifiAddress4, lab.CellAddress4),
        (lab.ServerAddress6, lab.WifiAddress6, lab.CellAddress6),
    ];

    [LabFact]
    public async Task Healthy_both_interfaces_reach_the_server_over_IPv4_and_IPv6()
    {
        await lab.SwitchAsync("healthy");
        foreach (var (server, wifi, cell) in Families)
        {
            foreach (var bind in new[] { wifi, cell })
            {
                var probe = await lab.ConnectAsync(server, bind);
                output.WriteLine($"{bind} -> {server}: {probe}");
                Assert.True(probe.Connected && probe.Echoed, $"{bind} -> {server}: {probe}");
                Assert.StartsWith(bind.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{bind}]" : bind.ToString(), probe.Local, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>
    /// The relay holds each frame for its link's one-way delay, so a handshake costs two of them. Checked by what is
    /// deterministic: the relay's own record (each link's configured delay, the frames it carried, and that it never
    /// held one for less than the delay nor released one early) and the lower bound that follows (a handshake never
    /// takes less than two one-way delays). How much longer a loaded machine makes it is a benchmark's business
    /// (lab/bench.sh), not a test's: an upper bound on wall time broke on a busy machine.
    /// </summary>
    [LabFact]
    public async Task Healthy_links_hold_every_frame_for_at_least_their_configured_delay()
    {
        await lab.SwitchAsync("healthy");
        var before = await lab.RelayStatsAsync();
        foreach (var (server, wifiBind, cellBind) in Families)
        {
            var wifi = await lab.MeasureAsync(server, wifiBind, count: 7);
            var cell = await lab.MeasureAsync(server, cellBind, count: 7);
            output.WriteLine($"{server}: Wi-Fi median {wifi.MedianMs} ms [{string.Join(", ", wifi.Samples)}], cellular median {cell.MedianMs} ms [{string.Join(", ", cell.Samples)}] (not asserted)");
            Assert.Equal(7, wifi.Connected);
            Assert.Equal(7, cell.Connected);
            // A frame is never released early: each handshake takes at least the two one-way delays.
            Assert.True(wifi.MinMs >= 2 * lab.WifiDelayMs, $"Wi-Fi handshake {wifi.MinMs} ms < 2 × {lab.WifiDelayMs} ms");
            Assert.True(cell.MinMs >= 2 * lab.CellDelayMs, $"cellular handshake {cell.MinMs} ms < 2 × {lab.CellDelayMs} ms");
        }

        var after = await lab.RelayStatsAsync();
        foreach (var (iface, delay) in new[] { (lab.WifiInterface, lab.WifiDelayMs), (lab.CellInterface, lab.CellDelayMs) })
        {
            foreach (var fromClient in new[] { true, false })
            {
                var now = after.Of(iface, fromClient);
                var then = before.Of(iface, fromClient);
                output.WriteLine($"relay {now.Name}: {now.Frames - then.Frames} frames during the test, held {now.MinHeldMs}–{now.MaxHeldMs} ms, configured {now.DelayMs} ms, {now.Early} early");
                Assert.Equal(delay, now.DelayMs);
                // Every handshake (7 per family, 2 families) crossed this link in this direction at least once per connection.
                Assert.True(now.Frames - then.Frames >= 14, $"{now.Name}: {now.Frames - then.Frames} frames relayed during 14 connections");
                Assert.True(now.MinHeldMs >= delay, $"{now.Name}: a frame held {now.MinHeldMs} ms, less than the configured {delay} ms");
                Assert.Equal(0, now.Early);
            }
        }
    }

    [LabFact]
    public async Task Wifi_broken_times_out_on_wifi_and_cellular_still_connects()
    {
        await lab.SwitchAsync("wifi-broken");
        foreach (var (server, wifi, cell) in Families)
        {
            var broken = await lab.ConnectAsync(server, wifi, SoftTimeoutMs);
            output.WriteLine($"Wi-Fi -> {server}: {broken}");
            Assert.False(broken.Connected);
            Assert.Equal("TimedOut", broken.Error); // soft: no answer at all, not an error
            Assert.True(broken.Ms >= SoftTimeoutMs * 0.95, $"gave up after {broken.Ms} ms, before the {SoftTimeoutMs} ms timeout");
            var working = await lab.ConnectAsync(server, cell);
            Assert.True(working.Connected && working.Echoed, $"cellular -> {server}: {working}");
        }
    }

    [LabFact]
    public async Task Wifi_hard_error_is_refused_at_once_on_wifi_and_cellular_still_connects()
    {
        await lab.SwitchAsync("wifi-hard-error");
        foreach (var (server, wifi, cell) in Families)
        {
            var (refused, syns) = await ConnectCountingWifiPacketsAsync(server, wifi);
            output.WriteLine($"Wi-Fi -> {server}: {refused}; {syns} packet(s) sent on Wi-Fi");
            Assert.False(refused.Connected);
            Assert.Contains(refused.Error, IcmpUnreachable);
            // At once: the answer to the first SYN (a rate-limited ICMP error would have come after retransmissions).
            Assert.Equal(1, syns);
            var working = await lab.ConnectAsync(server, cell);
            Assert.True(working.Connected && working.Echoed, $"cellular -> {server}: {working}");
        }
    }

    /// <summary>
    /// One connect over Wi-Fi and the TCP/UDP packets the client sent on Wi-Fi meanwhile (the lab's counter): a hard
    /// error "at once" is the answer to the first SYN, so exactly one packet, however busy the machine is (the wall
    /// time it took is printed, not asserted).
    /// </summary>
    private async Task<(TcpProbe Probe, long Packets)> ConnectCountingWifiPacketsAsync(IPAddress server, IPAddress wifi)
    {
        var before = await lab.CountAsync();
        var probe = await lab.ConnectAsync(server, wifi, SoftTimeoutMs);
        var after = await lab.CountAsync();
        return (probe, after.WifiTransport - before.WifiTransport);
    }

    [LabFact]
    public async Task Wifi_reset_answers_every_syn_with_a_reset_and_cellular_still_connects()
    {
        await lab.SwitchAsync("wifi-reset");
        foreach (var (server, wifi, cell) in Families)
        {
            var (refused, syns) = await ConnectCountingWifiPacketsAsync(server, wifi);
            output.WriteLine($"Wi-Fi -> {server}: {refused}; {syns} packet(s) sent on Wi-Fi");
            Assert.False(refused.Connected);
            Assert.Equal("ConnectionRefused", refused.Error);
            Assert.Equal(1, syns); // the RST answered the first SYN
            var working = await lab.ConnectAsync(server, cell);
            Assert.True(working.Connected && working.Echoed, $"cellular -> {server}: {working}");
        }
    }

    [LabFact]
    public async Task Wifi_captive_dns_answers_the_portal_whose_http_redirects_to_its_login()
    {
        await lab.SwitchAsync("wifi-captive");
        var a = await lab.QueryAsync(lab.WifiDns4, lab.ServiceName, "A", lab.WifiAddress4);
        var aaaa = await lab.QueryAsync(lab.WifiDns6, lab.ServiceName, "AAAA", lab.WifiAddress6);
        var any = await lab.QueryAsync(lab.WifiDns4, "anything.example.com", "A", lab.WifiAddress4);
        output.WriteLine($"{a}\n{aaaa}\n{any}");
        Assert.Equal([lab.PortalAddress4.ToString()], a.Addresses);
        Assert.Equal([lab.PortalAddress6.ToString()], aaaa.Addresses);
        Assert.Equal([lab.PortalAddress4.ToString()], any.Addresses);

        var checkUrl = $"http://{lab.ServiceName}{lab["CHECK_PATH"]}";
        foreach (var (portal, bind) in new[] { (lab.PortalAddress4, lab.WifiAddress4), (lab.PortalAddress6, lab.WifiAddress6) })
        {
            var check = await lab.HttpGetAsync(checkUrl, portal, bind);
            output.WriteLine($"Wi-Fi check via {portal}: {check}");
            Assert.Equal(302, check.Status);
            Assert.Equal(lab["PORTAL_LOGIN_URL"], check.Location);
        }

        // Nothing passes the portal until one logs in; cellular is untouched.
        var beyond = await lab.ConnectAsync(lab.ServerAddress4, lab.WifiAddress4, SoftTimeoutMs);
        Assert.Equal("TimedOut", beyond.Error);
        var cellAnswer = await lab.QueryAsync(lab.CellDns4, lab.ServiceName, "A", lab.CellAddress4);
        Assert.Equal([lab.ServerAddress4.ToString()], cellAnswer.Addresses);
        var cellCheck = await lab.HttpGetAsync(checkUrl, lab.ServerAddress4, lab.CellAddress4);
        Assert.Equal(204, cellCheck.Status);
    }

    [LabFact]
    public async Task Healthy_connectivity_check_answers_204_on_both_interfaces_and_families()
    {
        await lab.SwitchAsync("healthy");
        var checkUrl = $"http://{lab.ServiceName}{lab["CHECK_PATH"]}";
        foreach (var (server, wifi, cell) in Families)
        {
            foreach (var bind in new[] { wifi, cell })
            {
                var check = await lab.HttpGetAsync(checkUrl, server, bind);
                Assert.True(check.Status == 204, $"{bind}: {check}");
                Assert.Null(check.Location);
            }
        }
    }

    [LabFact]
    public async Task V6_broken_drops_IPv6_on_both_interfaces_and_IPv4_still_works()
    {
        await lab.SwitchAsync("v6-broken");
        foreach (var bind in new[] { lab.WifiAddress6, lab.CellAddress6 })
        {
            var v6 = await lab.ConnectAsync(lab.ServerAddress6, bind, SoftTimeoutMs);
            output.WriteLine($"{bind}: {v6}");
            Assert.False(v6.Connected);
            Assert.Equal("TimedOut", v6.Error);
        }

        foreach (var bind in new[] { lab.WifiAddress4, lab.CellAddress4 })
        {
            var v4 = await lab.ConnectAsync(lab.ServerAddress4, bind);
            Assert.True(v4.Connected && v4.Echoed, $"{bind}: {v4}");
        }
    }

    [LabFact]
    public async Task Dns_broken_on_wifi_gets_no_answer_there_and_cellular_dns_answers()
    {
        await lab.SwitchAsync("dns-broken-wifi");
        foreach (var (server, bind, type) in new[] { (lab.WifiDns4, lab.WifiAddress4, "A"), (lab.WifiDns6, lab.WifiAddress6, "AAAA") })
        {
            var silent = await lab.QueryAsync(server, lab.ServiceName, type, bind, timeoutMs: SoftTimeoutMs);
            output.WriteLine($"{server}: {silent}");
            Assert.False(silent.Answered);
            Assert.Equal("TimedOut", silent.Error);
        }

        var a = await lab.QueryAsync(lab.CellDns4, lab.ServiceName, "A", lab.CellAddress4);
        var aaaa = await lab.QueryAsync(lab.CellDns6, lab.ServiceName, "AAAA", lab.CellAddress6);
        Assert.Equal([lab.ServerAddress4.ToString()], a.Addresses);
        Assert.Equal([lab.ServerAddress6.ToString()], aaaa.Addresses);
        // The transport beyond the Wi-Fi router still works: only its DNS is broken.
        var connect = await lab.ConnectAsync(lab.ServerAddress4, lab.WifiAddress4);
        Assert.True(connect.Connected, connect.ToString());
    }

    /// <summary>Each router's DNS answers for its own network: a name only Wi-Fi knows does not exist on cellular (draft §7.3).</summary>
    [LabFact]
    public async Task Each_router_answers_its_own_names_and_nxdomain_for_the_other_networks()
    {
        await lab.SwitchAsync("healthy");
        var wifiOnWifi = await lab.QueryAsync(lab.WifiDns4, lab["WIFI_ONLY_NAME"], "A", lab.WifiAddress4);
        var wifiOnCell = await lab.QueryAsync(lab.CellDns4, lab["WIFI_ONLY_NAME"], "A", lab.CellAddress4);
        var cellOnCell = await lab.QueryAsync(lab.CellDns6, lab["CELL_ONLY_NAME"], "AAAA", lab.CellAddress6);
        var missing = await lab.QueryAsync(lab.WifiDns4, lab["MISSING_NAME"], "A", lab.WifiAddress4);
        Assert.Equal("NoError", wifiOnWifi.Rcode);
        Assert.Equal([lab.ServerAddress4.ToString()], wifiOnWifi.Addresses);
        Assert.Equal("NXDomain", wifiOnCell.Rcode);
        Assert.Equal("NoError", cellOnCell.Rcode);
        Assert.Equal([lab.ServerAddress6.ToString()], cellOnCell.Addresses);
        Assert.Equal("NXDomain", missing.Rcode);
    }

    [LabFact]
    public async Task Packet_counter_on_rmnet0_moves_only_when_traffic_is_sent_over_it()
    {
        await lab.SwitchAsync("healthy");
        var before = await lab.CountAsync();
        var overWifi = await lab.ConnectAsync(lab.ServerAddress4, lab.WifiAddress4);
        var dnsOverWifi = await lab.QueryAsync(lab.WifiDns6, lab.ServiceName, "AAAA", lab.WifiAddress6);
        var afterWifi = await lab.CountAsync();
        output.WriteLine($"before {before}\nafter Wi-Fi traffic {afterWifi}");
        Assert.True(overWifi.Connected && dnsOverWifi.Answered);
        Assert.Equal(before.CellTransport, afterWifi.CellTransport);
        Assert.True(afterWifi.WifiTransport >= before.WifiTransport + 4, "the Wi-Fi counter missed the connection");

        var overCell = await lab.ConnectAsync(lab.ServerAddress6, lab.CellAddress6);
        var afterCell = await lab.CountAsync();
        output.WriteLine($"after cellular traffic {afterCell}");
        Assert.True(overCell.Connected, overCell.ToString());
        // SYN, ACK, the echoed data and its ACK, FIN: at least four TCP packets, and as many frames.
        Assert.True(afterCell.CellTransport >= afterWifi.CellTransport + 4, $"rmnet0 transport counter {afterWifi.CellTransport} -> {afterCell.CellTransport}");
        Assert.True(afterCell.CellTx >= afterWifi.CellTx + 4, $"rmnet0 tx_packets {afterWifi.CellTx} -> {afterCell.CellTx}");
        Assert.Equal(afterWifi.WifiTransport, afterCell.WifiTransport);
    }
}
