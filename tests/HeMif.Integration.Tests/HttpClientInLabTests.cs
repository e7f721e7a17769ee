using System.Globalization;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// HttpClient + UseHeMif (issue 7) inside the lab's client namespace with Wi-Fi broken: the worker sample's
/// <c>--once URL</c> makes one HTTP request to the lab server through a generic host with AddHeMif, and the request
/// must arrive over cellular. A namespace is per process, so the host runs as its own process (<c>ip netns exec</c>).
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class HttpClientInLabTests(LabFixture lab, ITestOutputHelper output)
{
    private static string Worker => Path.Combine(AppContext.BaseDirectory, "HeMif.WorkerSample.dll");

    /// <summary>§5.2.1: the broken Wi-Fi fails its check and is never raced; the HTTP request goes over cellular.</summary>
    [LabFact]
    public async Task With_Wi_Fi_broken_an_HttpClient_request_arrives_over_cellular()
    {
        await lab.SwitchAsync("wifi-broken");
        var run = await GetAsync(validate: true);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("result: status=204 interface=rmnet0 kind=Cellular", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("HeMif[13] Interface wlan0 has no connectivity", run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>§3.1 with validation off: the race itself finds Wi-Fi broken, and the fallback is logged at Information.</summary>
    [LabFact]
    public async Task With_Wi_Fi_broken_and_no_validation_the_race_falls_back_to_cellular_and_says_so()
    {
        await lab.SwitchAsync("wifi-broken");
        var run = await GetAsync(validate: false);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("result: status=204 interface=rmnet0 kind=Cellular", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("HeMif[21] Fallback for " + lab.ServiceName, run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Session continuity (issue 16, draft §7.4): Wi-Fi comes back while an HttpClient loop (UseHeMif) runs on cellular.
    /// The worker calls the lab server's <c>/pooled</c> (kept alive; it answers with the client's source address as the
    /// server sees it) every 250 ms. With Wi-Fi broken, the first request races to cellular and the next ones reuse that
    /// pooled connection. Once Wi-Fi is healthy again, its next examination (every 2 s, from the override file) validates
    /// it, the cellular connection is told "better path available", UseHeMif() retires the pool (log event 40), and the
    /// next request races again and goes over Wi-Fi: the race says so, and so does the server, which sees the request come
    /// from Wi-Fi's address. No request fails. Without the retirement the loop would stay on the pooled cellular connection.
    /// </summary>
    [LabFact]
    public async Task Wi_Fi_back_while_an_HttpClient_loop_runs_on_cellular_the_next_request_goes_over_Wi_Fi_and_none_fails()
    {
        await lab.SwitchAsync("wifi-broken");
        await using var overrides = await LabHostOverrides.WriteAsync(lab, validate: true, periodSeconds: 2);
        var url = $"http://{lab.ServiceName}:{lab.ServerHttpPort.ToString(CultureInfo.InvariantCulture)}/pooled";
        var worker = LabProcess.RunAsync("ip",
            ["netns", "exec", lab.ClientNamespace, "dotnet", Worker, $"--Worker:Url={url}", "--Worker:Count=80", "--Worker:Interval=00:00:00.25",
             "--Worker:PrintResult=true", $"--HeMif:OverridesFile={overrides.Path}"],
            TimeSpan.FromSeconds(90));
        string[] cellular = [lab["CELL_ADDR4"], lab["CELL_ADDR6"]];
        string[] wifi = [lab["WIFI_ADDR4"], lab["WIFI_ADDR6"]];
        ProcessResult run;
        try
        {
            // Wait until the loop holds its pooled connection over cellular (still there a second later: not one of the
            // connectivity check's short connections), then bring Wi-Fi back.
            while (!worker.IsCompleted && !(await HeldOverAsync(cellular) && await DelayThenAsync(1000, () => HeldOverAsync(cellular))))
            {
                await Task.Delay(50);
            }

            await lab.SwitchAsync("healthy", settleFirst: false);
            run = await worker;
        }
        finally
        {
            await lab.SwitchAsync("healthy", settleFirst: false);
        }

        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        var results = run.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("result: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(80, results.Count);
        Assert.DoesNotContain(results, r => r.Contains("failed", StringComparison.Ordinal) || !r.StartsWith("result: status=200 ", StringComparison.Ordinal));

        // Cellular first (Wi-Fi was broken), its connection reused at least once before Wi-Fi came back.
        Assert.Contains("interface=rmnet0", results[0], StringComparison.Ordinal);
        Assert.Contains(cellular, a => results[0].EndsWith(" body=" + a, StringComparison.Ordinal));
        var toWifi = results.FindIndex(r => r.Contains("interface=wlan0", StringComparison.Ordinal));
        Assert.True(toWifi > 1, "no request raced to Wi-Fi after it came back (or the first pooled reuse never happened)");
        Assert.Contains(results.Take(toWifi), r => r.Contains(" pooled body=", StringComparison.Ordinal));

        // The request after the better-path event raced again and went over Wi-Fi, as the server saw it; the ones after it
        // stay there.
        Assert.Contains(wifi, a => results[toWifi].EndsWith(" body=" + a, StringComparison.Ordinal));
        Assert.All(results.Skip(toWifi), r => Assert.Contains(wifi, a => r.EndsWith(" body=" + a, StringComparison.Ordinal)));
        Assert.Contains("HeMif[40]", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("over rmnet0 retired (better_path)", run.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Whether the client namespace has an established connection to the lab's HTTP port from one of <paramref name="local"/>.</summary>
    private async Task<bool> HeldOverAsync(string[] local) =>
        (await lab.ClientTcpSocketsAsync(lab.ServerHttpPort)).Any(s => s.State == "ESTAB" && local.Any(a => s.Line.Contains(a, StringComparison.Ordinal)));

    private static async Task<bool> DelayThenAsync(int ms, Func<Task<bool>> check)
    {
        await Task.Delay(ms);
        return await check();
    }

    private async Task<ProcessResult> GetAsync(bool validate)
    {
        await using var overrides = await LabHostOverrides.WriteAsync(lab, validate);
        var result = await LabProcess.RunAsync("ip",
            ["netns", "exec", lab.ClientNamespace, "dotnet", Worker, "--once", LabHostOverrides.CheckUrl(lab), $"--HeMif:OverridesFile={overrides.Path}"],
            TimeSpan.FromSeconds(60));
        output.WriteLine(result.ToString());
        return result;
    }
}
