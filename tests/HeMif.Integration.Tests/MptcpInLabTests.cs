using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// `hemif connect --mptcp` from the lab's client to the server's MPTCP sink (issue 6): subflows on both interfaces in
/// aggregate mode, not one packet to the sink through a prohibited interface, and a byte stream that survives Wi-Fi
/// being pulled mid-transfer in handover mode. After each run, the path manager must have removed every endpoint it
/// added.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class MptcpInLabTests(LabFixture lab, ITestOutputHelper output)
{
    private static string Hemif => LabProcess.Hemif;

    private int Port => int.Parse(lab["SERVER_MPTCP_PORT"], NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>The lab starts no MPTCP sink on a kernel without MPTCP (lab.sh prints MPTCP=0): say so plainly.</summary>
    private void RequireMptcp()
    {
        if (lab["MPTCP"] != "1")
        {
            Assert.Fail("could not run: this kernel has no MPTCP (no /proc/sys/net/mptcp), so the lab has no MPTCP sink (CONFIG_MPTCP=y is needed)");
        }
    }

    /// <summary>Aggregate: "every allowed interface carries an active subflow" — seen by MPTCP_INFO and by the packet counters.</summary>
    [LabFact]
    public async Task Aggregate_opens_subflows_on_both_Wi_Fi_and_cellular()
    {
        RequireMptcp();
        await lab.SwitchAsync("healthy");
        var before = await MptcpPacketsAsync();

        var run = await ConnectAsync(["--mptcp", "aggregate", "--send-bytes", "4000000", "--send-rate", "4000000", "--hold", "300"]);

        var after = await MptcpPacketsAsync();
        Assert.Equal(0, run.Exit);
        var multipath = run.Json.GetProperty("multipath");
        Assert.Equal("Mptcp", multipath.GetProperty("status").GetString());
        Assert.Equal(["rmnet0", "wlan0"], SubflowInterfaces(multipath, "subflowsAtEnd"));
        Assert.True(run.Json.GetProperty("transfer").GetProperty("intact").GetBoolean(), run.Raw);
        Assert.True(after.Wifi > before.Wifi, $"packets to the sink on wlan0: {before.Wifi} -> {after.Wifi}");
        Assert.True(after.Cell > before.Cell, $"packets to the sink on rmnet0: {before.Cell} -> {after.Cell}");
        await AssertNoEndpointLeftAsync();
    }

    /// <summary>§4.1.2: a user rule prohibits cellular; it gets no subflow, and the sink's port sees not one packet through rmnet0.</summary>
    [LabFact]
    public async Task A_prohibited_cellular_never_carries_a_subflow()
    {
        RequireMptcp();
        await lab.SwitchAsync("healthy");
        var policy = Path.Combine(Path.GetTempPath(), $"hemif-lab-policy-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(policy, """{ "userRules": [ { "name": "no-cellular", "level": "Prohibit", "interface": { "kinds": ["Cellular"] } } ] }""");
        try
        {
            var before = await MptcpPacketsAsync();
            var run = await ConnectAsync(["--mptcp", "aggregate", "--send-bytes", "2000000", "--hold", "300", "--policy", policy]);
            var after = await MptcpPacketsAsync();

            Assert.Equal(0, run.Exit);
            var multipath = run.Json.GetProperty("multipath");
            Assert.Equal("Mptcp", multipath.GetProperty("status").GetString());
            var excluded = multipath.GetProperty("plan").GetProperty("excluded").EnumerateArray().Single(x => x.GetProperty("interface").GetString() == "rmnet0");
            Assert.Contains("no-cellular", excluded.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Equal(["wlan0"], SubflowInterfaces(multipath, "subflowsAtEnd"));
            Assert.Equal(before.Cell, after.Cell);
            Assert.True(after.Wifi > before.Wifi, "the transfer went through wlan0");
            await AssertNoEndpointLeftAsync();
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>
    /// Handover: cellular holds a backup subflow; Wi-Fi is pulled down once 3 MB of 10 MB have been sent (paced at
    /// 2 MB/s, so the rest is still to come). The server's SHA-256 and byte count must equal the client's.
    /// </summary>
    [LabFact]
    public async Task Handover_keeps_the_byte_stream_intact_when_Wi_Fi_is_pulled_mid_transfer()
    {
        RequireMptcp();
        await lab.SwitchAsync("healthy");
        const long total = 10_000_000;
        var before = await MptcpPacketsAsync();
        ProcessResult result;
        try
        {
            result = await ConnectPullingWifiAsync(["--mptcp", "handover", "--send-bytes", Int(total), "--send-rate", "2000000"], pullAfterBytes: 3_000_000);
        }
        finally
        {
            await lab.SwitchAsync("healthy");
        }

        var after = await MptcpPacketsAsync();
        var json = JsonDocument.Parse(result.Stdout).RootElement;
        var transfer = json.GetProperty("transfer");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(total, transfer.GetProperty("serverBytes").GetInt64());
        Assert.Equal(transfer.GetProperty("sha256").GetString(), transfer.GetProperty("serverSha256").GetString());
        Assert.True(transfer.GetProperty("intact").GetBoolean());
        Assert.Contains("rmnet0", SubflowInterfaces(json.GetProperty("multipath"), "subflowsAtEnd"));
        Assert.True(after.Cell - before.Cell > 100, $"cellular carried the rest: {after.Cell - before.Cell} packets to the sink");

        // The server's own account, independent of what the client parsed.
        var sinkLog = await File.ReadAllTextAsync(Path.Combine(lab["STATE_DIR"], "mptcp-sink.log"));
        Assert.Contains($"{total} bytes sha256 {transfer.GetProperty("sha256").GetString()}", sinkLog, StringComparison.Ordinal);
        await AssertNoEndpointLeftAsync();
    }

    /// <summary>The switch the handover test uses: wlan0 down loses its paths; healthy brings both families back.</summary>
    [LabFact]
    public async Task Wi_Fi_down_cuts_wlan0_and_healthy_restores_it_for_both_families()
    {
        await lab.SwitchAsync("wifi-down");
        try
        {
            Assert.False((await lab.ConnectAsync(lab.ServerAddress4, lab.WifiAddress4, timeoutMs: 1000)).Connected);
            Assert.True((await lab.ConnectAsync(lab.ServerAddress6, lab.CellAddress6)).Connected, "cellular still works");
        }
        finally
        {
            await lab.SwitchAsync("healthy");
        }

        Assert.True((await lab.ConnectAsync(lab.ServerAddress4, lab.WifiAddress4)).Connected, "IPv4 over Wi-Fi again");
        Assert.True((await lab.ConnectAsync(lab.ServerAddress6, lab.WifiAddress6)).Connected, "IPv6 over Wi-Fi again");
    }

    private static List<string> SubflowInterfaces(JsonElement multipath, string key) =>
        multipath.GetProperty(key).EnumerateArray().Select(s => s.GetProperty("interface").GetString() ?? "?").Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>The path manager removes what it added: the client namespace has no endpoint left.</summary>
    private async Task AssertNoEndpointLeftAsync()
    {
        var endpoints = await LabProcess.RunAsync("ip", ["-n", lab.ClientNamespace, "mptcp", "endpoint", "show"], TimeSpan.FromSeconds(10));
        Assert.Equal("", endpoints.Stdout.Trim());
    }

    /// <summary>The client's packets to the sink's port so far, per interface (lab.sh count).</summary>
    private async Task<(long Wifi, long Cell)> MptcpPacketsAsync()
    {
        var result = await LabProcess.RunAsync("bash", [LabFixture.Script, "count", lab.RunId], TimeSpan.FromSeconds(30), LabFixture.ScriptEnvironment);
        Assert.True(result.ExitCode == 0, "lab.sh count failed:\n" + result);
        var counts = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
        return (counts["WIFI_MPTCP_PACKETS"], counts["CELL_MPTCP_PACKETS"]);
    }

    private async Task<(int Exit, JsonElement Json, string Raw)> ConnectAsync(string[] extra)
    {
        var overrides = await WriteOverridesAsync();
        try
        {
            var result = await LabProcess.RunAsync("ip", [.. HemifArgs(overrides), .. extra], TimeSpan.FromSeconds(120));
            output.WriteLine(result.ToString());
            return (result.ExitCode, JsonDocument.Parse(result.Stdout).RootElement.Clone(), result.Stdout);
        }
        finally
        {
            File.Delete(overrides);
        }
    }

    /// <summary>
    /// Runs hemif connect and, once its progress on stderr says <paramref name="pullAfterBytes"/> were sent, pulls
    /// Wi-Fi down (switch wifi-down) while it is still sending. Fails if the transfer ended first.
    /// </summary>
    private async Task<ProcessResult> ConnectPullingWifiAsync(string[] extra, long pullAfterBytes)
    {
        var overrides = await WriteOverridesAsync();
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in HemifArgs(overrides).Concat(extra))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start hemif");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (stderr)
                {
                    stderr.AppendLine(line);
                }

                var words = line.Split(' ');
                if (words is ["hemif:", "sent", var n, "of", var m, "bytes"] && long.Parse(n, CultureInfo.InvariantCulture) >= pullAfterBytes
                    && long.Parse(n, CultureInfo.InvariantCulture) < long.Parse(m, CultureInfo.InvariantCulture))
                {
                    reached.TrySetResult();
                }
            }

            reached.TrySetException(new InvalidOperationException($"hemif ended before {pullAfterBytes} bytes were sent with more to come:\n{stderr}"));
        });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await reached.Task.WaitAsync(timeout.Token);
            await lab.SwitchAsync("wifi-down", settleFirst: false); // mid-transfer, on purpose
            output.WriteLine($"Wi-Fi pulled after {pullAfterBytes} bytes");
            await process.WaitForExitAsync(timeout.Token);
            await reader;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"hemif did not finish in 120 s:\n{stderr}\n{await stdout}");
        }
        finally
        {
            File.Delete(overrides);
        }

        var result = new ProcessResult(process.ExitCode, await stdout, stderr.ToString());
        output.WriteLine(result.ToString());
        return result;
    }

    private string[] HemifArgs(string overrides) =>
        ["netns", "exec", lab.ClientNamespace, "dotnet", Hemif, "connect", lab.ServiceName, Int(Port), "--interfaces", overrides, "--json"];

    /// <summary>The host override file: kinds and each interface's DNS; validation on, against the lab's check URL.</summary>
    private async Task<string> WriteOverridesAsync()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hemif-lab-mptcp-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, $$"""
            {
              "interfaces": [
                { "name": "{{lab.WifiInterface}}", "kind": "Wifi", "dnsServers": ["{{lab.WifiDns4}}"] },
                { "name": "{{lab.CellInterface}}", "kind": "Cellular", "dnsServers": ["{{lab.CellDns4}}"] }
              ],
              "probe": { "url": "http://{{lab.ServiceName}}:{{Int(lab.ServerHttpPort)}}{{lab["CHECK_PATH"]}}", "timeoutMs": 1500 }
            }
            """);
        return file;
    }

    private static string Int(long n) => n.ToString(CultureInfo.InvariantCulture);
}
