using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// Ranking after resolution (draft §5.2.2 with §4.2.3, docs/policy.md), for real: the cellular router advertises an
/// RFC 4191 Route Information option for the server's IPv6 prefix (the lab's RA sender, Router Lifetime 0 so the default
/// routes stay as they are) while <c>hemif connect --listen</c> runs in the client's namespace. Both interfaces resolve
/// the service through their own DNS servers, the sort runs again with each one's answers, and the more specific route
/// puts cellular first — without any policy rule (Wi-Fi wins by common practice in the healthy lab).
/// <para>
/// The sort waits for a slower interface's answer at most 50 ms after the first one (the RFC 8305 Resolution Delay
/// bounds it). The shared lab's cellular link is 40 ms each way against Wi-Fi's 10, so cellular's answer comes some
/// 60 ms after Wi-Fi's, past the bound; this test therefore builds a lab of its own whose cellular link is as fast as
/// Wi-Fi's (10 ms each way, <c>lab.sh up --cell-delay-ms 10</c>) and takes it down again, also when an assertion fails.
/// </para>
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class RankAfterResolutionInLabTests(LabFixture lab, ITestOutputHelper output)
{
    /// <summary>The server's IPv6 service address is 2001:db8:100::10 in every lab (lab/lab.sh); the route covers its /48.</summary>
    private const string ServicePrefix = "2001:db8:100::/48";

    [LabFact]
    public async Task A_more_specific_cellular_route_for_the_service_wins_without_a_policy_rule()
    {
        var up = await Script(["up", "--wifi-delay-ms", "10", "--cell-delay-ms", "10"]);
        Assert.True(up.ExitCode == 0, up.ToString());
        var own = up.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        try
        {
            Assert.True(IPNetwork.Parse(ServicePrefix).Contains(IPAddress.Parse(own["SERVER_ADDR6"])), "the lab's server address moved: " + own["SERVER_ADDR6"]);
            // Same addresses and names in every lab: the shared lab's override file fits this one.
            await using var overrides = await LabHostOverrides.WriteAsync(lab, validate: true);
            var sending = LabProcess.RunAsync("ip", ["netns", "exec", own["NS_CELL_ROUTER"], "dotnet", LabFixture.LabDll, "send-ra", "--device", "client0",
                "--router-lifetime", "0", "--route", ServicePrefix + ",medium,600", "--count", "25", "--interval-ms", "1000"], TimeSpan.FromSeconds(90));
            var hemif = LabProcess.RunAsync("ip", ["netns", "exec", own["NS_CLIENT"], "dotnet", LabProcess.Hemif, "connect", own["SERVICE_NAME"],
                own["SERVER_TCP_PORT"], "--interfaces", overrides.Path, "--listen", "8000", "--json"], TimeSpan.FromSeconds(90));
            var result = await hemif;
            var sent = await sending;
            output.WriteLine(result.ToString());

            Assert.True(sent.ExitCode == 0, sent.ToString());
            Assert.True(result.ExitCode == 0, result.ToString());
            using var json = JsonDocument.Parse(result.Stdout);
            var race = json.RootElement;
            var events = race.GetProperty("events").EnumerateArray().ToList();
            var ranking = events.Single(e => e.GetProperty("kind").GetString() == "note"
                && e.GetProperty("detail").GetString()!.StartsWith("ranked after resolution", StringComparison.Ordinal)).GetProperty("detail").GetString();
            Assert.Contains("with the answers of wlan0, rmnet0", ranking, StringComparison.Ordinal);
            var plan = events.Single(e => e.GetProperty("kind").GetString() == "plan" && e.GetProperty("interface").GetString() == "rmnet0");
            Assert.StartsWith("rank 1", plan.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains(ServicePrefix, plan.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(("rmnet0", "ipv6"), (race.GetProperty("winner").GetProperty("interface").GetString(), race.GetProperty("winner").GetProperty("family").GetString()));
        }
        finally
        {
            // Not asserted here: a failed down would hide the assertion that failed above (lab.sh down reports its own errors).
            output.WriteLine((await Script(["down", own["RUN_ID"]])).ToString());
        }
    }

    private static Task<ProcessResult> Script(string[] args) =>
        LabProcess.RunAsync("bash", [LabFixture.Script, .. args], TimeSpan.FromSeconds(120), LabFixture.ScriptEnvironment);
}
