using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// UDP request/response exchanges (issue 16; draft §7.1: "For connectionless transport protocols (e.g., UDP), a similar
/// mechanism can be used if the application has request/response semantics") through the whole engine on the simulated
/// network, in virtual time: the same interface stages, fallback delay, hard-error fallback, policy and outcome cache as
/// a TCP race, with the <c>udp</c> transport.
/// </summary>
public sealed class UdpExchangeScenarioTests
{
    private static async Task<SimulationResult> Run(string name) => await Simulator.RunAsync(Scenario.BuiltIn(name));

    /// <summary>
    /// Draft §7.2: the preferred interface gets the fallback delay alone; Wi-Fi drops UDP, so its request is resent there
    /// (1 s after the first send, the documented backoff) and cellular joins when the delay has passed and answers.
    /// </summary>
    [Fact]
    public async Task UDP_blocked_on_Wi_Fi_cellular_answers_after_the_fallback_delay()
    {
        var race = (await Run("udp-blocked-wifi")).Races[0];

        Assert.Equal(RaceOutcome.Connected, race.Outcome);
        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.Equal("udp", race.Winner.Transport);
        Assert.All(race.Attempts, a => Assert.Equal("udp", a.Transport));
        var fallback = race.Timings.FallbackTimerStart + race.Timings.FallbackDelay;
        Assert.Equal(race.Attempts.First(a => a.Interface == "wlan0").Start, race.Timings.FallbackTimerStart);
        Assert.True(race.Attempts.Where(a => a.Interface == "rmnet0").Min(a => a.Start) >= fallback, "cellular joined before the fallback delay");
        // Cellular resolves (one 60 ms round trip), then its first send is answered (one more).
        Assert.Equal(fallback + TimeSpan.FromMilliseconds(60 + 60), race.TimeToConnect);
        Assert.All(race.Attempts.Where(a => a.Interface == "wlan0"), a => Assert.Equal("cancelled", a.Result));
        Assert.Contains("fallback delay", race.Fallback!.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// Draft §5.2.3: "The node would cache information regarding the outcome of each connection attempt": the first
    /// exchange's silent Wi-Fi tries go into the same outcome cache as TCP's, so the second exchange starts on cellular
    /// and is answered within one round trip, without waiting for any fallback delay.
    /// </summary>
    [Fact]
    public async Task The_next_exchange_starts_on_cellular_because_the_cache_knows_Wi_Fi_dropped_UDP()
    {
        var second = (await Run("udp-blocked-wifi")).Races[1];

        Assert.Equal("rmnet0", second.Winner!.Interface);
        Assert.Equal("rmnet0", second.Attempts.MinBy(a => a.Start)!.Interface);
        Assert.True(second.TimeToConnect < second.Timings.FallbackDelay, $"took {second.TimeToConnect}");
    }

    /// <summary>
    /// Draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process": ICMP port
    /// unreachable on Wi-Fi starts cellular at once, well before the fallback delay.
    /// </summary>
    [Fact]
    public async Task ICMP_port_unreachable_on_Wi_Fi_starts_cellular_at_once()
    {
        var race = (await Run("udp-port-unreachable-wifi")).Races.Single();

        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.True(race.TimeToConnect < race.Timings.FallbackDelay / 4, $"took {race.TimeToConnect}");
        Assert.Contains(race.Attempts, a => a.Interface == "wlan0" && a.Result == "failed" && a.Error!.Contains("ICMP port unreachable", StringComparison.Ordinal));
        Assert.StartsWith("hard error on wlan0", race.Fallback!.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The hard set applies to exchanges exactly as to connections (draft §4.1): a user rule that prohibits Wi-Fi for the
    /// <c>udp</c> transport keeps every try off Wi-Fi (it is excluded, with the rule named), while a TCP request to the
    /// same destination still uses it.
    /// </summary>
    [Fact]
    public async Task A_Prohibit_rule_for_udp_keeps_every_try_off_the_interface()
    {
        var json = ScenarioJson("udp-blocked-wifi")
            .Replace("\"network\": {", """
                "policy": { "userRules": [ { "name": "no-udp-on-wifi", "level": "Prohibit", "interface": { "kinds": ["Wifi"] }, "request": { "transport": "udp" } } ] },
                "network": {
                """, StringComparison.Ordinal)
            .Replace("\"transport\": \"udp\", \"request\": \"time?\" }\n  ]", "\"transport\": \"tcp\" }\n  ]", StringComparison.Ordinal);
        var result = await Simulator.RunAsync(Scenario.Parse(json, "no-udp-on-wifi.json"));

        var exchange = result.Races[0];
        Assert.Equal("rmnet0", exchange.Winner!.Interface);
        Assert.DoesNotContain(exchange.Attempts, a => a.Interface == "wlan0");
        Assert.Contains(exchange.Excluded, x => x.Interface == "wlan0" && x.Reasons.Any(r => r.ToString()!.Contains("no-udp-on-wifi", StringComparison.Ordinal)));
        Assert.True(exchange.TimeToConnect < exchange.Timings.FallbackDelay, "cellular is the only candidate: no fallback delay to wait for");
        Assert.Equal("wlan0", result.Races[1].Winner!.Interface); // TCP is not prohibited there
    }

    /// <summary>A simulated exchange whose matcher takes nothing (the responder's echo lacks the prefix) gets no answer: the deadline ends it with every try listed.</summary>
    [Fact]
    public async Task A_response_the_matcher_does_not_take_is_no_answer_and_the_deadline_lists_every_try()
    {
        var json = ScenarioJson("udp-port-unreachable-wifi")
            .Replace("\"udp\": \"portUnreachable\", ", "", StringComparison.Ordinal)
            .Replace("\"request\": \"time?\"", "\"request\": \"time?\", \"expectPrefix\": \"TIME\"", StringComparison.Ordinal)
            .Replace("\"seed\": 1,", "\"settings\": { \"raceTimeoutMs\": 5000 },\n  \"seed\": 1,", StringComparison.Ordinal);
        var race = (await Simulator.RunAsync(Scenario.Parse(json, "no-match.json"))).Races.Single();

        Assert.Equal(RaceOutcome.Failed, race.Outcome);
        Assert.Contains("no answer within the race timeout of 5000 ms", race.Failure, StringComparison.Ordinal);
        Assert.Contains(race.Attempts, a => a.Interface == "wlan0");
        Assert.Contains(race.Attempts, a => a.Interface == "rmnet0");
        Assert.All(race.Attempts, a => Assert.Equal("cancelled", a.Result));
    }

    [Theory]
    [InlineData("\"transport\": \"tcp\", \"request\": \"x\"", "$.requests[0].request", "only a UDP exchange")]
    [InlineData("\"transport\": \"udp\", \"request\": \"\"", "$.requests[0].request", "1 or more characters")]
    [InlineData("\"transport\": \"udp\", \"expectPrefix\": 7", "$.requests[0].expectPrefix", "the text the response must begin with")]
    public void Bad_exchange_keys_are_refused_naming_the_path(string keys, string path, string expected)
    {
        var json = ScenarioJson("udp-port-unreachable-wifi")
            .Replace("\"transport\": \"udp\", \"request\": \"time?\"", keys, StringComparison.Ordinal);

        var error = Assert.Throws<HeMif.Configuration.HeMifConfigurationException>(() => Scenario.Parse(json, "bad.json"));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_udp_behaviour_is_refused_naming_the_path()
    {
        var json = ScenarioJson("udp-blocked-wifi").Replace("\"udp\": \"blocked\"", "\"udp\": \"dropped\"", StringComparison.Ordinal);

        var error = Assert.Throws<HeMif.Configuration.HeMifConfigurationException>(() => Scenario.Parse(json, "bad.json"));
        Assert.Contains("$.network.wlan0.udp", error.Message, StringComparison.Ordinal);
    }

    private static string ScenarioJson(string name)
    {
        using var stream = typeof(Scenario).Assembly.GetManifestResourceStream("HeMif.Simulation.Scenarios." + name + ".json")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
