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
