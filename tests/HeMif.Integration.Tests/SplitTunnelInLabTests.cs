using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// Validation per PvD (draft §5.2.1 with RFC 7556 §5.3, docs/discovery.md), for real: a split-tunnel VPN. The test adds a
/// third link to the lab's client, <c>tun0</c> (a veth pair to the Wi-Fi router's namespace, <c>vpn0</c> there, no default
/// route through it), and on the router's side of it: a DNS server for <c>corp.example</c> (dnsmasq), a TCP echo and an
/// HTTP check server on the tunnel's address (<c>HeMif.Lab serve</c>), RAs with the PvD option <c>pvd.corp.example</c>
/// (H-flag, RDNSS) and its Additional Information over HTTPS (<c>serve-pvd</c>, a test CA): <c>noInternet</c>, the zone
/// <c>corp.example</c> and its own check URL. With validation on, <c>hemif connect</c> in the client's namespace learns the
/// PvD, validates the tunnel with its own check URL (the Internet check cannot pass there), connects to
/// <c>intranet.corp.example</c> over it, and never uses it for the lab's Internet service. Everything the test adds is
/// removed again, also when an assertion fails.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class SplitTunnelInLabTests(LabFixture lab, ITestOutputHelper output) : IDisposable
{
    private const string PvdId = "pvd.corp.example";
    private const string TunnelServer4 = "10.8.0.1";
    private const string TunnelServer6 = "2001:db8:8::1";
    private const int EchoPort = 7007;
    private const int CheckPort = 8080;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hemif-tunnel-");

    public void Dispose() => _dir.Delete(recursive: true);

    [LabFact]
    public async Task A_noInternet_split_tunnel_PvD_serves_its_zone_with_validation_on_and_nothing_else()
    {
        await lab.SwitchAsync("healthy");
        var client = lab.ClientNamespace;
        var router = lab["NS_WIFI_ROUTER"];
        var started = new List<Process>();
        var dnsPid = Path.Combine(_dir.FullName, "dns.pid");
        try
        {
            await Ip(["-n", client, "link", "add", "tun0", "type", "veth", "peer", "name", "vpn0", "netns", router]);
            await Ip(["netns", "exec", client, "sysctl", "-qw", "net.ipv6.conf.tun0.accept_dad=0"]);
            await Ip(["netns", "exec", router, "sysctl", "-qw", "net.ipv6.conf.vpn0.accept_dad=0"]);
            await Ip(["-n", client, "addr", "add", "10.8.0.2/24", "dev", "tun0"]);
            await Ip(["-n", client, "addr", "add", "2001:db8:8::2/64", "dev", "tun0", "nodad"]);
            await Ip(["-n", router, "addr", "add", TunnelServer4 + "/24", "dev", "vpn0"]);
            await Ip(["-n", router, "addr", "add", TunnelServer6 + "/64", "dev", "vpn0", "nodad"]);
            await Ip(["-n", client, "link", "set", "tun0", "up"]);
            await Ip(["-n", router, "link", "set", "vpn0", "up"]);

            // The tunnel's DNS: the corporate zone only (every other name is refused: no upstream).
            await Ip(["netns", "exec", router, "dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                $"--listen-address={TunnelServer4}", $"--listen-address={TunnelServer6}", "--port=53", "--user=root", "--group=root", "--cache-size=0",
                $"--pid-file={dnsPid}", $"--host-record=corp.example,{TunnelServer4},{TunnelServer6}",
                $"--host-record=intranet.corp.example,{TunnelServer4},{TunnelServer6}", $"--host-record={PvdId},{TunnelServer4},{TunnelServer6}", "--local=/corp.example/"]);
            started.Add(await StartAsync(router, "serving echo on", "serve", "--echo-port", EchoPort.ToString(CultureInfo.InvariantCulture),
                "--http-port", CheckPort.ToString(CultureInfo.InvariantCulture), "--mode", "check"));

            var (caPem, pfx) = PvdInformationInLabTests.TestCertificates(PvdId);
            var ca = Write("ca.pem", caPem);
            var pfxPath = Path.Combine(_dir.FullName, "server.pfx");
            await File.WriteAllBytesAsync(pfxPath, pfx);
            var expires = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var document = Write("pvd.json", $$"""
                {"identifier": "{{PvdId}}", "expires": "{{expires}}", "prefixes": ["2001:db8:8::/48"], "noInternet": true,
                 "dnsZones": ["corp.example"], "connectivityCheckUrl": "http://intranet.corp.example:{{CheckPort}}/generate_204"}
                """);
            using var pvdServer = await PvdInformationInLabTests.StartServerAsync(router, pfxPath, document);
            var overrides = Write("host.json", $$"""
                {
                  "interfaces": [
                    { "name": "{{lab.WifiInterface}}", "kind": "Wifi", "dnsServers": ["{{lab.WifiDns4}}"] },
                    { "name": "{{lab.CellInterface}}", "kind": "Cellular", "dnsServers": ["{{lab.CellDns4}}"] },
                    { "name": "tun0", "kind": "Vpn" }
                  ],
                  "probe": { "url": "{{LabHostOverrides.CheckUrl(lab)}}", "timeoutMs": 1500, "periodSeconds": 5 }
                }
                """);

            var sending = LabProcess.RunAsync("ip", ["netns", "exec", router, "dotnet", LabFixture.LabDll, "send-ra", "--device", "vpn0",
                "--router-lifetime", "0", "--pvd", PvdId, "--seq", "1", "--http", "--rdnss", TunnelServer6 + ",600", "--count", "30", "--interval-ms", "1000"], TimeSpan.FromSeconds(90));
            var intranet = Connect("intranet.corp.example", EchoPort, overrides, ca);
            var internet = Connect(lab.ServiceName, lab.ServerTcpPort, overrides, ca);
            var (inside, outside, sent) = (await intranet, await internet, await sending);
            output.WriteLine("intranet: " + inside + "\ninternet: " + outside + "\npvd server: " + pvdServer.Output);

            Assert.True(sent.ExitCode == 0, sent.ToString());
            Assert.True(inside.ExitCode == 0, inside.ToString());
            using var insideJson = JsonDocument.Parse(inside.Stdout);
            Assert.Equal("tun0", insideJson.RootElement.GetProperty("winner").GetProperty("interface").GetString());

            Assert.True(outside.ExitCode == 0, outside.ToString());
            using var outsideJson = JsonDocument.Parse(outside.Stdout);
            Assert.NotEqual("tun0", outsideJson.RootElement.GetProperty("winner").GetProperty("interface").GetString());
            var excluded = outsideJson.RootElement.GetProperty("excluded").EnumerateArray().Single(x => x.GetProperty("interface").GetString() == "tun0");
            Assert.Contains(excluded.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("tun0 serves only its own scope", StringComparison.Ordinal));
            Assert.DoesNotContain(outsideJson.RootElement.GetProperty("attempts").EnumerateArray(), a => a.GetProperty("interface").GetString() == "tun0");
        }
        finally
        {
            foreach (var process in started)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }

                process.Dispose();
            }

            if (File.Exists(dnsPid) && int.TryParse((await File.ReadAllTextAsync(dnsPid)).Trim(), out var pid))
            {
                await LabProcess.RunAsync("kill", [pid.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
            }

            // Deleting one end of a veth pair deletes both.
            await LabProcess.RunAsync("ip", ["-n", client, "link", "del", "tun0"], TimeSpan.FromSeconds(10));
        }
    }

    private Task<ProcessResult> Connect(string host, int port, string overrides, string ca) =>
        LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "dotnet", LabProcess.Hemif, "connect", host, port.ToString(CultureInfo.InvariantCulture),
            "--interfaces", overrides, "--pvd-ca", ca, "--listen", "15000", "--json"], TimeSpan.FromSeconds(120));

    private static async Task Ip(string[] args)
    {
        var result = await LabProcess.RunAsync("ip", args, TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>Starts a lab helper in <paramref name="ns"/> and waits (bounded) for the line that says it serves.</summary>
    private static async Task<Process> StartAsync(string ns, string ready, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", ns, "dotnet", LabFixture.LabDll, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + args[0]);
        process.StandardInput.Close();
        var serving = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var said = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                serving.TrySetException(new InvalidOperationException($"{args[0]} ended: {said}"));
                return;
            }

            said.AppendLine(e.Data);
            if (e.Data.StartsWith(ready, StringComparison.Ordinal))
            {
                serving.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        try
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hang guard, not a timing assertion
            await serving.Task.WaitAsync(guard.Token);
            return process;
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }
}
