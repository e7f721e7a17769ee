using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>Every built-in scenario end to end through the actors, on the simulated network, in virtual time.</summary>
public sealed class BuiltInScenarioTests
{
    private static async Task<SimulationResult> Run(string name) => await Simulator.RunAsync(Scenario.BuiltIn(name));

    [Fact]
    public async Task Healthy_Wi_Fi_wins_with_exactly_one_attempt_in_total()
    {
        var race = (await Run("healthy")).Races.Single();
        Assert.Equal(RaceOutcome.Connected, race.Outcome);
        Assert.Equal("wlan0", race.Winner!.Interface);
        Assert.Single(race.Attempts);
        Assert.Null(race.Fallback); // Wi-Fi decided the race alone
    }

    /// <summary>§3.1: "If no connection can be made it will fall back to attempting the connection over a 3GPP mobile network path."</summary>
    [Fact]
    public async Task Wi_Fi_broken_cellular_wins_after_the_fallback_delay()
    {
        var race = (await Run("wifi-broken")).Races.Single();
        Assert.Equal("rmnet0", race.Winner!.Interface);
        // The fallback timer starts at Wi-Fi's first attempt, once its resolution answered (draft §5.2.3).
        var fallback = race.Timings.FallbackTimerStart + race.Timings.FallbackDelay;
        Assert.True(race.Timings.FallbackTimerStart > TimeSpan.Zero);
        Assert.Equal(race.Attempts.First(a => a.Interface == "wlan0").Start, race.Timings.FallbackTimerStart);
        Assert.InRange(race.TimeToConnect!.Value, fallback, fallback + TimeSpan.FromMilliseconds((3 * 60) + 50)); // + 3 cellular RTTs + 50 ms
        Assert.All(race.Attempts.Where(a => a.Interface == "wlan0"), a => Assert.Equal("cancelled", a.Result));
        Assert.Equal(fallback, race.Fallback!.At);
        Assert.Contains("fallback delay", race.Fallback.Detail, StringComparison.Ordinal);
    }

    /// <summary>§7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process."</summary>
    [Fact]
    public async Task Wi_Fi_reject_cellular_wins_well_before_the_fallback_delay_would_have_passed()
    {
        var race = (await Run("wifi-reject")).Races.Single();
        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.True(race.TimeToConnect < race.Timings.FallbackDelay / 4, $"took {race.TimeToConnect}");
        Assert.Contains(race.Events, e => e.Kind == "note" && e.Detail.StartsWith("hard error on wlan0", StringComparison.Ordinal));
        Assert.StartsWith("hard error on wlan0", race.Fallback!.Detail, StringComparison.Ordinal);
    }

    /// <summary>§5.2.1: an HTTP proxy "that forces a login or a click-through" fails validation; the interface is never used.</summary>
    [Fact]
    public async Task Wi_Fi_captive_is_rejected_by_validation_and_no_attempt_ever_uses_it()
    {
        var result = await Run("wifi-captive");
        var race = result.Races.Single();
        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.DoesNotContain(race.Attempts, a => a.Interface == "wlan0");
        Assert.Contains(race.Excluded, x => x.Interface == "wlan0" && x.Reasons.Any(r => r.Fact.Contains("CaptivePortal", StringComparison.Ordinal)));
        Assert.Contains(result.InterfaceEvents, e => e.Interface == "wlan0" && e.State == HeMif.Validate.ValidationState.CaptivePortal);
    }

    /// <summary>RFC 8305 §5: IPv4 is tried one Connection Attempt Delay after the first IPv6 attempt, which keeps running.</summary>
    [Fact]
    public async Task V6_blackhole_IPv4_on_Wi_Fi_wins_about_one_attempt_delay_after_the_first_IPv6_attempt()
    {
        var race = (await Run("v6-blackhole")).Races.Single();
        Assert.Equal(("wlan0", "ipv4"), (race.Winner!.Interface, race.Winner.Family));
        var firstV6 = race.Attempts.Where(a => a.Family == "ipv6").Min(a => a.Start);
        var won = race.Attempts.Single(a => a.Result == "won");
        Assert.Equal(race.Timings.ConnectionAttemptDelay, won.Start - firstV6);
    }

    /// <summary>§3.2: "the 3GPP interface should be chosen even though it could be considered a suboptimal selection".</summary>
    [Fact]
    public async Task Policy_conflict_cellular_wins_and_the_timeline_says_why()
    {
        var race = (await Run("policy-conflict")).Races.Single();
        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.Contains(race.Events, e => e.Kind == "conflict" && e.Detail.Contains("§3.2", StringComparison.Ordinal));
        Assert.Contains(race.Events, e => e.Kind == "plan" && e.Interface == "rmnet0" && e.Detail.Contains("operator rule", StringComparison.Ordinal));
    }

    /// <summary>§4.1.2: "No 3/4G while roaming" — the race fails, names the rule, and never touches cellular.</summary>
    [Fact]
    public async Task Roaming_with_no_cellular_fails_naming_the_rule_and_never_uses_cellular()
    {
        var race = (await Run("roaming-no-cellular")).Races.Single();
        Assert.Equal(RaceOutcome.Failed, race.Outcome);
        Assert.DoesNotContain(race.Attempts, a => a.Interface == "rmnet0");
        Assert.DoesNotContain(race.Events, e => e.Interface == "rmnet0" && e.Kind is "resolve" or "attempt");
        var rule = race.Excluded.Single(x => x.Interface == "rmnet0").Reasons.Single().Rule.Name;
        Assert.Contains(rule, race.Failure, StringComparison.Ordinal);
    }

    /// <summary>§5.2.3: "The node would cache information regarding the outcome of each connection attempt."</summary>
    [Fact]
    public async Task Cache_warm_the_second_request_goes_straight_to_cellular()
    {
        var races = (await Run("cache-warm")).Races;
        Assert.Equal(2, races.Count);
        Assert.Equal("rmnet0", races[0].Winner!.Interface);
        Assert.True(races[0].TimeToConnect >= races[0].Timings.FallbackDelay);
        Assert.Equal("rmnet0", races[1].Winner!.Interface);
        Assert.True(races[1].TimeToConnect < races[0].Timings.FallbackDelay, $"second took {races[1].TimeToConnect}");
        Assert.Equal("rmnet0", races[1].Attempts[0].Interface);
    }

    [Fact]
    public async Task The_same_scenario_gives_the_same_timeline_every_time()
    {
        foreach (var name in Scenario.BuiltInNames)
        {
            var a = await Run(name);
            var b = await Run(name);
            Assert.Equal(
                a.Races.SelectMany(r => r.Events).Select(e => $"{e.At} {e.Kind} {e.Interface} {e.Detail}"),
                b.Races.SelectMany(r => r.Events).Select(e => $"{e.At} {e.Kind} {e.Interface} {e.Detail}"));
            Assert.Equal(
                a.InterfaceEvents.Select(e => $"{e.At} {e.Interface} {e.State} {e.Detail}"),
                b.InterfaceEvents.Select(e => $"{e.At} {e.Interface} {e.State} {e.Detail}"));
        }
    }
}
