using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif simulate` end to end through the entry point: "Exit 0 when connected, 3 when the race failed, 2 for bad
/// input", the timeline by default, and with --json one object with the fields the issue lists.
/// </summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly List<string> _temp = [];

    public void Dispose()
    {
        foreach (var f in _temp)
        {
            File.Delete(f);
        }
    }

    [Fact]
    public void Wi_Fi_broken_prints_a_timeline_ending_on_cellular_and_exits_0()
    {
        var (exit, output, error) = Run("simulate", "wifi-broken");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("fallback delay of 2000 ms passed", output, StringComparison.Ordinal);
        Assert.Contains("connected over rmnet0 (Cellular)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_JSON_has_every_field_the_issue_lists()
    {
        var (exit, output, _) = Run("simulate", "wifi-broken", "--json");
        Assert.Equal(0, exit);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("wifi-broken", root.GetProperty("scenario").GetString());
        Assert.Equal("connected", root.GetProperty("outcome").GetString());
        var winner = root.GetProperty("winner");
        Assert.Equal("rmnet0", winner.GetProperty("interface").GetString());
        Assert.Equal("Cellular", winner.GetProperty("kind").GetString());
        Assert.Equal("tcp", winner.GetProperty("transport").GetString());
        Assert.Equal("ipv6", winner.GetProperty("family").GetString());
        Assert.StartsWith("[2001:db8:", winner.GetProperty("remote").GetString(), StringComparison.Ordinal);
        Assert.True(root.GetProperty("timeToConnectMs").GetDouble() >= 2000);
        var settings = root.GetProperty("settings");
        Assert.Equal(2000, settings.GetProperty("fallbackDelayMs").GetDouble());
        Assert.Equal(250, settings.GetProperty("connectionAttemptDelayMs").GetDouble());
        Assert.Equal(50, settings.GetProperty("resolutionDelayMs").GetDouble());
        var attempt = root.GetProperty("attempts")[0];
        foreach (var field in new[] { "id", "interface", "transport", "family", "remote", "startMs", "endMs", "result", "error" })
        {
            Assert.True(attempt.TryGetProperty(field, out _), $"attempts[0].{field} is missing");
        }

        Assert.Contains(root.GetProperty("attempts").EnumerateArray(), a => a.GetProperty("result").GetString() == "cancelled");
        Assert.Equal(JsonValueKind.Array, root.GetProperty("excluded").ValueKind);
        var firstEvent = root.GetProperty("events")[0];
        Assert.True(firstEvent.TryGetProperty("atMs", out _) && firstEvent.TryGetProperty("kind", out _) && firstEvent.TryGetProperty("detail", out _));
    }

    [Fact]
    public void A_failed_race_exits_3_naming_the_rule_on_stderr_and_excluded_lists_it()
    {
        var (exit, output, error) = Run("simulate", "roaming-no-cellular", "--json");
        Assert.Equal(3, exit);
        Assert.Contains("no-3g-4g-while-roaming", error, StringComparison.Ordinal);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("failed", root.GetProperty("outcome").GetString());
        var excluded = Assert.Single(root.GetProperty("excluded").EnumerateArray());
        Assert.Equal("rmnet0", excluded.GetProperty("interface").GetString());
        Assert.Contains("no-3g-4g-while-roaming", excluded.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_with_two_requests_reports_both_and_the_last_at_the_top()
    {
        var (exit, output, _) = Run("simulate", "cache-warm", "--json");
        Assert.Equal(0, exit);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(2, root.GetProperty("races").GetArrayLength());
        Assert.Equal(root.GetProperty("races")[1].GetProperty("timeToConnectMs").GetDouble(), root.GetProperty("timeToConnectMs").GetDouble());
        Assert.True(root.GetProperty("timeToConnectMs").GetDouble() < 2000, "the second request did not wait for the fallback delay");
    }

    [Theory]
    [InlineData("no-such-scenario", "expected one of cache-warm, captive-portal-login, healthy")]
    [InlineData(null, "name one scenario")]
    public void Bad_input_exits_2_with_the_error_on_stderr(string? name, string expected)
    {
        var (exit, output, error) = name is null ? Run("simulate") : Run("simulate", name);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains(expected, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_malformed_scenario_file_exits_2_naming_the_file_and_the_JSON_path()
    {
        var path = Path.Combine(Path.GetTempPath(), $"hemif-scenario-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "interfaces": [ { "name": "wlan0", "kind": "Wifi" } ], "requests": [ { "host": "www.example.com", "port": 443 } ], "network": { "wlan0": { "ipv6": "sideways" } } }""");
        _temp.Add(path);
        var (exit, _, error) = Run("simulate", "--scenario", path);
        Assert.Equal(2, exit);
        Assert.Contains(Path.GetFileName(path), error, StringComparison.Ordinal);
        Assert.Contains("$.network.wlan0.ipv6", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// A scenario with a timeline: the network's changes and validation read on one clock from the scenario's start, in
    /// order (the login at 30 s, Wi-Fi validated again after it), and each request says when it started.
    /// </summary>
    [Fact]
    public void A_timeline_scenario_prints_its_changes_between_the_validation_events_and_when_each_request_started()
    {
        var (exit, output, error) = Run("simulate", "captive-portal-login");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.Split('\n').Select(l => l.Trim()).ToList();
        var portal = lines.FindIndex(l => l.StartsWith("0.020 s validation  wlan0    CaptivePortal", StringComparison.Ordinal));
        var login = lines.FindIndex(l => l.StartsWith("30.000 s change      wlan0    the user logs in to the portal", StringComparison.Ordinal));
        var back = lines.FindIndex(l => l.Contains("validation  wlan0    Validated", StringComparison.Ordinal));
        Assert.True(portal >= 0 && portal < login && login < back, output);
        Assert.Contains("Request 2 of 2, at 60.000 s: www.example.com:443", output, StringComparison.Ordinal);
        Assert.Contains("connected over wlan0 (Wifi)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void List_names_every_built_in_scenario()
    {
        var (exit, output, _) = Run("simulate", "--list");
        Assert.Equal(0, exit);
        foreach (var name in new[] { "healthy", "wifi-broken", "wifi-reject", "wifi-captive", "v6-blackhole", "policy-conflict", "roaming-no-cellular", "cache-warm",
                     "user-over-operator", "user-prefer-operator-ban", "captive-portal-login", "v6-blackhole-warm", "wifi-lost-and-back" })
        {
            Assert.Contains(name, output, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The race runs on a virtual clock: 10 s of race end at exactly 10,000 ms, every event at its exact instant, as no
    /// real clock would read (and the run does not wait those 10 s: the hang guard, 60 s, only keeps a stuck run from
    /// hanging the suite). How fast it runs is measured by tests/HeMif.Benchmarks (SimulationBenchmarks), not here.
    /// </summary>
    [Fact]
    public async Task A_simulated_race_of_seconds_runs_on_the_virtual_clock()
    {
        var (exit, output, _) = await Task.Run(() => Run("simulate", "roaming-no-cellular", "--json")).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, exit);
        var events = JsonDocument.Parse(output).RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(("failed", 10_000.0), (events[^1].GetProperty("kind").GetString(), events[^1].GetProperty("atMs").GetDouble()));
        Assert.All(events, e => Assert.Equal(Math.Round(e.GetProperty("atMs").GetDouble()), e.GetProperty("atMs").GetDouble()));
    }

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
