using System.Globalization;
using System.Net.Quic;
using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// QUIC in the lab (issue 6): the QUIC path probe against Debian's ngtcp2-server in the server namespace, with UDP to
/// it dropped on Wi-Fi only (switch wifi-udp-blocked) — "Wi-Fi says blocked, cellular says reachable" — and
/// `hemif connect --transport any|quic` on this host, which has no libmsquic.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class QuicInLabTests(LabFixture lab, ITestOutputHelper output)
{
    private static string Hemif => LabProcess.Hemif;

    [QuicLabFact(NeedsQuicServer = true)]
    public async Task Healthy_UDP_QUIC_is_reachable_on_both_interfaces()
    {
        await lab.SwitchAsync("healthy");
        var probe = await ProbeAsync();
        Assert.Equal(0, probe.Exit);
        Assert.Equal("reachable", probe.State("wlan0"));
        Assert.Equal("reachable", probe.State("rmnet0"));
        Assert.Contains("Version Negotiation from", probe.Detail("wlan0"), StringComparison.Ordinal);
    }

    /// <summary>Issue 6: "with UDP to it dropped on Wi-Fi only: Wi-Fi says blocked, cellular says reachable" — and TCP over Wi-Fi still works.</summary>
    [QuicLabFact(NeedsQuicServer = true)]
    public async Task UDP_blocked_on_Wi_Fi_Wi_Fi_says_blocked_cellular_reachable_and_TCP_still_works()
    {
        await lab.SwitchAsync("wifi-udp-blocked");
        var probe = await ProbeAsync();
        Assert.Equal(0, probe.Exit);
        Assert.Equal("blocked", probe.State("wlan0"));
        Assert.Contains("no Version Negotiation", probe.Detail("wlan0"), StringComparison.Ordinal);
        Assert.Equal("reachable", probe.State("rmnet0"));

        var tcp = await RunAsync(["connect", lab.ServiceName, Int(lab.ServerTcpPort), "--transport", "tcp"]);
        Assert.Equal(0, tcp.Exit);
        Assert.Equal("wlan0", tcp.Json.GetProperty("winner").GetProperty("interface").GetString());
    }

    /// <summary>Draft §7.2's hard error for UDP: the Wi-Fi router's ICMP unreachable makes Wi-Fi blocked, naming it.</summary>
    [QuicLabFact(NeedsQuicServer = true)]
    public async Task An_ICMP_unreachable_on_Wi_Fi_is_blocked_naming_it()
    {
        await lab.SwitchAsync("wifi-hard-error");
        var probe = await ProbeAsync("--interface", lab.WifiInterface);
        Assert.Equal(3, probe.Exit);
        Assert.Equal("blocked", probe.State("wlan0"));
        Assert.Contains("ICMP", probe.Detail("wlan0"), StringComparison.Ordinal);
    }

    /// <summary>Issue 6: "the race proceeds on TCP, and the timeline says 'QUIC unsupported on this host' once".</summary>
    [QuicLabFact(NeedsNoLocalQuic = true)]
    public async Task Connect_any_proceeds_on_TCP_and_says_once_that_this_host_has_no_QUIC()
    {
        await lab.SwitchAsync("healthy");
        var race = await RunAsync(["connect", lab.ServiceName, Int(lab.ServerTcpPort), "--transport", "any"]);
        Assert.Equal(0, race.Exit);
        Assert.Equal(("wlan0", "tcp"), (race.Json.GetProperty("winner").GetProperty("interface").GetString(), race.Json.GetProperty("winner").GetProperty("transport").GetString()));
        Assert.Single(race.Json.GetProperty("events").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("QUIC unsupported on this host", StringComparison.Ordinal));
        Assert.All(race.Json.GetProperty("attempts").EnumerateArray(), a => Assert.Equal("tcp", a.GetProperty("transport").GetString()));
    }

    /// <summary>QUIC only on a host without QUIC: exit 3 at once, naming why; not one packet leaves (no resolution, no attempt).</summary>
    [QuicLabFact(NeedsNoLocalQuic = true)]
    public async Task Connect_quic_only_fails_at_once_with_exit_3_and_sends_nothing()
    {
        await lab.SwitchAsync("healthy");
        var before = await lab.CountAsync();
        var race = await RunAsync(["connect", lab.ServiceName, Int(lab.ServerTcpPort), "--transport", "quic"]);
        var after = await lab.CountAsync();
        Assert.Equal(3, race.Exit);
        Assert.Contains("QUIC only was asked for, and QUIC unsupported on this host (no libmsquic)", race.Stderr, StringComparison.Ordinal);
        Assert.Equal((before.WifiTransport, before.CellTransport), (after.WifiTransport, after.CellTransport));
    }

    private Task<Run> ProbeAsync(params string[] extra) =>
        RunAsync(["probe", "quic", lab.ServiceName, lab["SERVER_QUIC_PORT"], .. extra]);

    /// <summary>Runs hemif in the client namespace with the lab's interfaces (kind, own DNS), validation off, JSON out.</summary>
    private async Task<Run> RunAsync(string[] args)
    {
        var overrides = Path.Combine(Path.GetTempPath(), $"hemif-lab-quic-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(overrides, $$"""
            {
              "interfaces": [
                { "name": "{{lab.WifiInterface}}", "kind": "Wifi", "dnsServers": ["{{lab.WifiDns4}}"] },
                { "name": "{{lab.CellInterface}}", "kind": "Cellular", "dnsServers": ["{{lab.CellDns4}}"] }
              ],
              "probe": { "disabled": true }
            }
            """);
        try
        {
            var result = await LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "dotnet", Hemif, .. args, "--interfaces", overrides, "--json"], TimeSpan.FromSeconds(60));
            output.WriteLine(result.ToString());
            var json = result.Stdout.TrimStart().StartsWith('{') ? JsonDocument.Parse(result.Stdout).RootElement.Clone() : default;
            return new Run(result.ExitCode, json, result.Stderr);
        }
        finally
        {
            File.Delete(overrides);
        }
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);

    private sealed record Run(int Exit, JsonElement Json, string Stderr)
    {
        public string? State(string iface) => Verdict(iface).GetProperty("state").GetString();

        public string Detail(string iface) => Verdict(iface).GetProperty("detail").GetString() ?? "";

        private JsonElement Verdict(string iface) =>
            Json.GetProperty("verdicts").EnumerateArray().Single(v => v.GetProperty("interface").GetString() == iface);
    }
}

/// <summary>
/// A QUIC test in the network lab: skipped, with the reason, where the lab cannot run, where it needs the lab's QUIC
/// server and `gtlsserver` (Debian's ngtcp2-server) is missing — both never under CI, where .ci/run installs them —
/// or where it shows the path of a host without QUIC and this host has QUIC (libmsquic is no Debian package).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class QuicLabFactAttribute : FactAttribute
{
    private bool needsQuicServer;
    private bool needsNoLocalQuic;

    public QuicLabFactAttribute() => Decide();

    /// <summary>The test talks to the lab's ngtcp2 server.</summary>
    public bool NeedsQuicServer
    {
        get => needsQuicServer;
        set
        {
            needsQuicServer = value;
            Decide();
        }
    }

    /// <summary>The test shows what a host without QUIC does.</summary>
    public bool NeedsNoLocalQuic
    {
        get => needsNoLocalQuic;
        set
        {
            needsNoLocalQuic = value;
            Decide();
        }
    }

    private void Decide()
    {
        Skip = null;
        if (needsNoLocalQuic && QuicConnection.IsSupported)
        {
            Skip = "could not run: this host has QUIC (libmsquic), so the path of a host without QUIC cannot be seen here";
        }
        else if (LabRequirements.InCi)
        {
            return;
        }
        else if (LabRequirements.Missing is { } why)
        {
            Skip = "could not run in the network lab: " + why;
        }
        else if (needsQuicServer && LabRequirements.FindOnPath("gtlsserver") is null)
        {
            Skip = "could not run in the network lab: its QUIC server needs `gtlsserver`: apt-get install ngtcp2-server";
        }
    }
}
