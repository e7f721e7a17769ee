using System.Text.Json;
using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>
/// UDP request/response exchanges in the lab (issue 16, draft §7.1: "For connectionless transport protocols (e.g., UDP),
/// a similar mechanism can be used if the application has request/response semantics"): `hemif exchange` in the client
/// namespace against the lab server's UDP responder (SERVER_UDP_PORT), switch by switch: UDP blackholed on Wi-Fi
/// (cellular answers once the fallback delay has passed), ICMP port unreachable on Wi-Fi (cellular at once), spoofed
/// answers ignored, and not one packet through an interface the policy prohibits for UDP.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class ExchangeInLabTests(LabFixture lab, ITestOutputHelper output)
{
    [LabFact]
    public async Task Healthy_Wi_Fi_answers_the_first_send()
    {
        await lab.SwitchAsync("healthy");
        var run = await ExchangeAsync("hello");
        Assert.Equal(0, run.Exit);
        Assert.Equal(("wlan0", "udp"), (run.Winner("interface"), run.Winner("transport")));
        Assert.Equal("hello", run.Response.GetProperty("text").GetString());
        Assert.Equal(1, run.Response.GetProperty("sends").GetInt32());
    }

    /// <summary>
    /// Draft §7.2: the preferred interface gets the fallback delay alone. UDP is dropped on Wi-Fi (TCP is not): cellular
    /// starts once the fallback delay has passed, never before, and answers; the Wi-Fi tries are cancelled. Told by the
    /// race's own record, not by a bound on wall time.
    /// </summary>
    [LabFact]
    public async Task UDP_blackholed_on_Wi_Fi_cellular_answers_once_the_fallback_delay_has_passed()
    {
        await lab.SwitchAsync("wifi-udp-blocked");
        var run = await ExchangeAsync("hello");
        Assert.Equal(0, run.Exit);
        Assert.Equal("rmnet0", run.Winner("interface"));
        var fallback = run.Json.GetProperty("settings").GetProperty("fallbackDelayMs").GetDouble();
        var took = run.Json.GetProperty("timeToConnectMs").GetDouble();
        output.WriteLine($"answered after {took:F1} ms (fallback delay {fallback} ms)");
        Assert.All(run.Attempts("rmnet0"), a => Assert.True(a.GetProperty("startMs").GetDouble() >= fallback, "cellular started before the fallback delay"));
        Assert.True(took >= fallback + (2 * lab.CellDelayMs), $"answered at {took} ms: before the fallback delay plus a cellular round trip");
        Assert.NotEmpty(run.Attempts("wlan0"));
        Assert.All(run.Attempts("wlan0"), a => Assert.Equal("cancelled", a.GetProperty("result").GetString()));
    }

    /// <summary>
    /// Draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process": the Wi-Fi
    /// router answers with ICMP port unreachable, and cellular starts at once, well before the fallback delay.
    /// </summary>
    [LabFact]
    public async Task ICMP_port_unreachable_on_Wi_Fi_starts_cellular_at_once()
    {
        await lab.SwitchAsync("wifi-udp-port-unreachable");
        var run = await ExchangeAsync("hello");
        Assert.Equal(0, run.Exit);
        Assert.Equal("rmnet0", run.Winner("interface"));
        var fallback = run.Json.GetProperty("settings").GetProperty("fallbackDelayMs").GetDouble();
        Assert.Contains(run.Attempts("wlan0"), a => a.GetProperty("result").GetString() == "failed"
                                                   && a.GetProperty("error").GetString()!.Contains("ICMP port unreachable", StringComparison.Ordinal));
        Assert.All(run.Attempts("rmnet0"), a => Assert.True(a.GetProperty("startMs").GetDouble() < fallback, "cellular waited for the fallback delay"));
        Assert.StartsWith("hard error on wlan0", run.Json.GetProperty("events").EnumerateArray()
            .First(e => e.GetProperty("kind").GetString() == "note" && e.GetProperty("detail").GetString()!.StartsWith("hard error", StringComparison.Ordinal))
            .GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 16: "a spoofed response from a wrong source address or with a wrong request identifier is ignored". The
    /// responder first sends the request's own bytes from another address of the server, then the bytes with a wrong
    /// identifier from the right one: the first never reaches the matcher (the try's socket is connected), the second
    /// is counted as ignored, and the right answer behind them wins.
    /// </summary>
    [LabFact]
    public async Task Spoofed_answers_from_a_wrong_source_or_with_a_wrong_identifier_are_ignored()
    {
        await lab.SwitchAsync("healthy");
        var run = await ExchangeAsync("spoof 42", "--expect-prefix", "spoof 42");
        Assert.Equal(0, run.Exit);
        Assert.Equal("wlan0", run.Winner("interface"));
        Assert.Equal("spoof 42", run.Response.GetProperty("text").GetString());
        Assert.Equal(1, run.Response.GetProperty("ignoredDatagrams").GetInt32());
        var remote = run.Response.GetProperty("remote").GetString()!;
        Assert.True(remote.StartsWith($"[{lab.ServerAddress6}]:", StringComparison.Ordinal) || remote.StartsWith($"{lab.ServerAddress4}:", StringComparison.Ordinal),
            $"answered from {remote}, not the server's address");
    }

    /// <summary>§4.1: a user rule prohibits Wi-Fi for the udp transport: the exchange goes over cellular and not one packet leaves through wlan0.</summary>
    [LabFact]
    public async Task A_prohibited_interface_carries_not_one_UDP_packet()
    {
        await lab.SwitchAsync("healthy");
        var policy = Path.Combine(Path.GetTempPath(), $"hemif-lab-policy-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(policy, """
            { "userRules": [ { "name": "no-udp-on-wifi", "level": "Prohibit", "interface": { "kinds": ["Wifi"] }, "request": { "transport": "udp" } } ] }
            """);
        try
        {
            await lab.SettleAsync();
            var before = await lab.CountAsync();
            var run = await ExchangeAsync("hello", "--policy", policy);
            var after = await lab.CountAsync();
            Assert.Equal(0, run.Exit);
            Assert.Equal("rmnet0", run.Winner("interface"));
            Assert.Contains(run.Json.GetProperty("excluded").EnumerateArray(), x => x.GetProperty("interface").GetString() == "wlan0"
                && x.GetProperty("reasons").EnumerateArray().Any(r => r.GetString()!.Contains("no-udp-on-wifi", StringComparison.Ordinal)));
            Assert.Equal(before.WifiTransport, after.WifiTransport);
            Assert.True(after.CellTransport > before.CellTransport, "cellular carried the exchange");
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>Runs hemif exchange in the client namespace with the lab's interfaces (kind, own DNS), validation off, JSON out.</summary>
    private async Task<Run> ExchangeAsync(string text, params string[] extra)
    {
        var overrides = Path.Combine(Path.GetTempPath(), $"hemif-lab-exchange-{Guid.NewGuid():N}.json");
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
            var result = await LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "dotnet", LabProcess.Hemif, "exchange", lab.ServiceName,
                lab["SERVER_UDP_PORT"], "--text", text, .. extra, "--interfaces", overrides, "--timeout", "10000", "--json"], TimeSpan.FromSeconds(60));
            output.WriteLine(result.ToString());
            var json = result.Stdout.TrimStart().StartsWith('{') ? JsonDocument.Parse(result.Stdout).RootElement.Clone() : default;
            return new Run(result.ExitCode, json);
        }
        finally
        {
            File.Delete(overrides);
        }
    }

    private sealed record Run(int Exit, JsonElement Json)
    {
        public JsonElement Response => Json.GetProperty("response");

        public string? Winner(string field) => Json.GetProperty("winner").GetProperty(field).GetString();

        public List<JsonElement> Attempts(string iface) =>
            Json.GetProperty("attempts").EnumerateArray().Where(a => a.GetProperty("interface").GetString() == iface).ToList();
    }
}
