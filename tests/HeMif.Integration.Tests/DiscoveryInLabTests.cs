using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// HeMif learning its facts from the network (docs/discovery.md), for real: the lab's own RA sender
/// (<c>HeMif.Lab send-ra</c>, in the Wi-Fi router's namespace) sends Router Advertisements with RFC 8801 PvD options,
/// RDNSS and DNSSL to the client's wlan0, and <c>hemif interfaces --watch --json</c> in the client namespace (a raw
/// ICMPv6 socket per interface) prints what it knows each time that changes. RAs are sent a few times a second apart,
/// so whichever arrive once hemif listens are enough (a repeated RA only renews lifetimes).
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class DiscoveryInLabTests(LabFixture lab, ITestOutputHelper output)
{
    /// <summary>RFC 8801: two PvD IDs advertised on one link are two provisioning domains of that interface.</summary>
    [LabFact]
    public async Task The_client_learns_two_PvDs_on_one_interface()
    {
        var watch = await WatchAsync(TimeSpan.FromSeconds(15), async () =>
        {
            await Task.WhenAll(
                SendAsync("--pvd", "a.pvd.lab.example", "--seq", "1", "--rdnss", "2001:db8:1::53,600", "--dnssl", "corp.lab.example,600", "--count", "4", "--interval-ms", "1000"),
                SendAsync("--pvd", "b.pvd.lab.example", "--seq", "1", "--rdnss", "2001:db8:1::54,600", "--route", "2001:db8:99::/48,high,600", "--count", "4", "--interval-ms", "1000"));
        });

        var wlan = watch.Final("wlan0");
        var pvds = wlan.GetProperty("pvds").EnumerateArray().ToList();
        Assert.Equal(["a.pvd.lab.example", "b.pvd.lab.example"], pvds.Select(p => p.GetProperty("id").GetString()));
        Assert.Equal(["2001:db8:1::53"], Values(pvds[0], "dnsServers"));
        Assert.Equal(["corp.lab.example"], Values(pvds[0], "searchDomains"));
        Assert.Equal("2001:db8:99::/48", pvds[1].GetProperty("routes")[0].GetProperty("prefix").GetString());
        Assert.Equal("High", pvds[1].GetProperty("routes")[0].GetProperty("preference").GetString());
        // The interface's DNS servers are now the ones its PvDs advertised (no override file says otherwise).
        Assert.Equal(["2001:db8:1::53", "2001:db8:1::54"], wlan.GetProperty("dnsServers").EnumerateArray().Select(s => s.GetString()));
        Assert.Empty(watch.Final("rmnet0").GetProperty("pvds").EnumerateArray());
        Assert.Equal("Listening", wlan.GetProperty("raLearning").GetProperty("state").GetString());
    }

    /// <summary>RFC 8106 §5.1: an RDNSS address may be used only for its lifetime; once it ends, the interface no longer has that server.</summary>
    [LabFact]
    public async Task An_expired_RDNSS_server_stops_being_used()
    {
        var watch = await WatchAsync(TimeSpan.FromSeconds(20), () =>
            SendAsync("--router-lifetime", "0", "--rdnss", "2001:db8:1::5,2", "--count", "3", "--interval-ms", "1000"));

        Assert.Contains(watch.Lines("wlan0"), l => Servers(l).Contains("2001:db8:1::5"));
        Assert.DoesNotContain("2001:db8:1::5", Servers(watch.Final("wlan0")));
        Assert.Empty(watch.Final("wlan0").GetProperty("pvds").EnumerateArray());
    }

    /// <summary>
    /// RFC 8801 §3.1's sequence number: a new one replaces the PvD's facts (the old server goes at once, before its
    /// lifetime ends), and the interface is on a changed network: history flushed and examined again (RFC 8305 §4).
    /// </summary>
    [LabFact]
    public async Task A_PvD_sequence_change_replaces_its_facts_and_flushes_its_history()
    {
        var watch = await WatchAsync(TimeSpan.FromSeconds(20), async () =>
        {
            await SendAsync("--pvd", "seq.pvd.lab.example", "--seq", "1", "--rdnss", "2001:db8:1::61,600", "--count", "3", "--interval-ms", "1000");
            await SendAsync("--pvd", "seq.pvd.lab.example", "--seq", "2", "--rdnss", "2001:db8:1::62,600", "--count", "2", "--interval-ms", "1000");
        });

        var lines = watch.Lines("wlan0");
        var first = lines.FindIndex(l => Pvd(l, "seq.pvd.lab.example") is { } p && p.GetProperty("sequenceNumber").GetInt32() == 1);
        var second = lines.FindIndex(l => Pvd(l, "seq.pvd.lab.example") is { } p && p.GetProperty("sequenceNumber").GetInt32() == 2);
        Assert.True(first >= 0 && second > first, "the PvD was not seen with sequence 1 and then 2:\n" + watch.Stdout);
        // Examined again when the sequence changed: the supervisor flushes the interface's history with it.
        Assert.Contains(lines.Skip(second), l => l.GetProperty("validation").GetProperty("detail").GetString()!.Contains("the interface changed", StringComparison.Ordinal));
        Assert.Equal(["2001:db8:1::62"], Values(Pvd(watch.Final("wlan0"), "seq.pvd.lab.example")!.Value, "dnsServers"));
    }

    private static JsonElement? Pvd(JsonElement iface, string id) =>
        iface.GetProperty("pvds").EnumerateArray().Where(p => p.GetProperty("id").GetString() == id).Select(p => (JsonElement?)p).FirstOrDefault();

    private static List<string?> Values(JsonElement pvd, string key) => [.. pvd.GetProperty(key).EnumerateArray().Select(v => v.GetProperty("value").GetString())];

    private static List<string?> Servers(JsonElement iface) => [.. iface.GetProperty("dnsServers").EnumerateArray().Select(s => s.GetString())];

    private Task SendAsync(params string[] args) => Run(lab["NS_WIFI_ROUTER"], ["dotnet", LabFixture.LabDll, "send-ra", "--device", "client0", .. args]);

    private static async Task Run(string ns, string[] command)
    {
        var result = await LabProcess.RunAsync("ip", ["netns", "exec", ns, .. command], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>
    /// Runs <c>hemif interfaces --watch --json --listen</c> in the client namespace and runs <paramref name="send"/> once
    /// hemif says it listens on wlan0 (a process start takes seconds on a loaded machine: RAs sent before would be lost).
    /// </summary>
    private async Task<Watch> WatchAsync(TimeSpan listen, Func<Task> send)
    {
        var ms = ((int)listen.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", lab.ClientNamespace, "dotnet", LabProcess.Hemif, "interfaces", "--watch", "--json", "--listen", ms, "--no-validation"])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start hemif");
        process.StandardInput.Close();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = new StringBuilder();
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (stdout)
                {
                    stdout.AppendLine(line);
                }

                if (line.Contains("\"name\":\"wlan0\"", StringComparison.Ordinal) && line.Contains("\"raLearning\":{\"state\":\"Listening\"", StringComparison.Ordinal))
                {
                    listening.TrySetResult();
                }
            }

            listening.TrySetException(new InvalidOperationException("hemif ended before it listened on wlan0:\n" + stdout));
        });
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(listen + TimeSpan.FromSeconds(90)); // a hang guard, not a timing assertion
        try
        {
            await listening.Task.WaitAsync(guard.Token);
            await send();
            await process.WaitForExitAsync(guard.Token);
            await reading;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var text = stdout.ToString();
        output.WriteLine(text.Length > 4000 ? text[^4000..] : text);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\nstderr: {await stderr}");
        return new Watch(text);
    }

    private sealed class Watch(string stdout)
    {
        private readonly List<JsonElement> _all = [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)];

        public string Stdout => stdout;

        /// <summary>Every change printed for <paramref name="name"/>, in order.</summary>
        public List<JsonElement> Lines(string name) => [.. _all.Where(e => e.TryGetProperty("name", out var n) && n.GetString() == name)];

        /// <summary><paramref name="name"/> in the last object (all interfaces when the listening ended).</summary>
        public JsonElement Final(string name) =>
            _all.Last().GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == name);
    }
}
