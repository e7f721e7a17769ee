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

    /// <summary>
    /// §4.1: "the user's preference should be prioritized"; §5.1: "a demand from users should be normally considered
    /// higher priority than from other actors". Three operator Prefer rules for cellular do not outrank one user Prefer
    /// for Wi-Fi, and the plan names each operator rule the user's rule overrode.
    /// </summary>
    [Fact]
    public async Task User_over_operator_one_user_preference_beats_three_stacked_operator_preferences()
    {
        var race = (await Run("user-over-operator")).Races.Single();
        Assert.Equal("wlan0", race.Winner!.Interface);
        Assert.Single(race.Attempts);
        Assert.Equal(["wlan0", "rmnet0"], race.Events.Where(e => e.Kind == "plan").Select(e => e.Interface)); // the ranks, in order
        var conflicts = race.Events.Where(e => e.Kind == "conflict").Select(e => e.Detail).ToList();
        Assert.Equal(3, conflicts.Count);
        foreach (var operatorRule in new[] { "operator-prefers-cellular", "operator-prefers-volte-network", "operator-prefers-metered" })
        {
            Assert.Single(conflicts, c => c.Contains($"'{operatorRule}'", StringComparison.Ordinal) && c.Contains("'user-prefers-wifi'", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// §5: the hard set filters, then the soft set sorts ("two steps"): the user's mere Prefer for Wi-Fi does not lift
    /// the operator's Prohibit on the CafeFree network; Wi-Fi is excluded by the operator's rule and never touched.
    /// </summary>
    [Fact]
    public async Task User_preference_beside_an_operator_ban_the_ban_stands_and_Wi_Fi_is_never_touched()
    {
        var race = (await Run("user-prefer-operator-ban")).Races.Single();
        Assert.Equal("rmnet0", race.Winner!.Interface);
        Assert.DoesNotContain(race.Attempts, a => a.Interface == "wlan0");
        var excluded = race.Excluded.Single(x => x.Interface == "wlan0");
        Assert.Equal("operator-bans-cafefree", excluded.Reasons.Single().Rule.Name);
        Assert.Contains(race.Events, e => e.Kind == "conflict" && e.Interface == "wlan0" &&
            e.Detail.Contains("'operator-bans-cafefree'", StringComparison.Ordinal) && e.Detail.Contains("'user-prefers-wifi'", StringComparison.Ordinal));
    }

    /// <summary>
    /// §5.2.1: validation detects "an HTTP proxy that forces a login or a click-through". The user logs in at 30 s (a
    /// change of the scenario); an interface behind a portal is examined again every 15 s, so Wi-Fi is validated within
    /// one period of the login and the request at 60 s goes over it.
    /// </summary>
    [Fact]
    public async Task Captive_portal_login_Wi_Fi_comes_back_within_one_re_examination_of_the_login()
    {
        var result = await Run("captive-portal-login");
        Assert.Equal(["rmnet0", "wlan0"], result.Races.Select(r => r.Winner!.Interface));
        Assert.DoesNotContain(result.Races[0].Attempts, a => a.Interface == "wlan0");
        Assert.Equal([TimeSpan.FromSeconds(60)], result.RequestStarts.Skip(1));
        var login = result.Scenario.Changes.Single().At;
        var back = result.InterfaceEvents.Single(e => e.Interface == "wlan0" && e.State == HeMif.Validate.ValidationState.Validated).At - result.Scenario.Now;
        Assert.InRange(back, login, login + TimeSpan.FromSeconds(15) + TimeSpan.FromSeconds(1)); // one re-examination period + the probe's round trip
        Assert.Contains(result.InterfaceEvents, e => e.Interface == "wlan0" && e.State == HeMif.Validate.ValidationState.CaptivePortal && e.At - result.Scenario.Now < login);
    }

    /// <summary>
    /// RFC 8305 §4 and draft §7.5 ("synchronize with IP family states"): after IPv6 stayed silent and IPv4 won, the warm
    /// request starts with IPv4 and connects one round trip after its resolution, with no IPv6 attempt at all.
    /// </summary>
    [Fact]
    public async Task V6_blackhole_warm_the_second_request_starts_with_IPv4_and_makes_no_IPv6_attempt()
    {
        var races = (await Run("v6-blackhole-warm")).Races;
        Assert.Equal(("wlan0", "ipv4"), (races[0].Winner!.Interface, races[0].Winner!.Family));
        Assert.Contains(races[0].Attempts, a => a.Family == "ipv6");
        Assert.Equal(("wlan0", "ipv4"), (races[1].Winner!.Interface, races[1].Winner!.Family));
        Assert.Equal(["ipv4"], races[1].Attempts.Select(a => a.Family));
        var rtt = TimeSpan.FromMilliseconds(20);
        Assert.Equal(races[1].Attempts[0].Start + rtt, races[1].TimeToConnect); // one round trip after the attempt starts
        Assert.Equal(rtt, races[1].Attempts[0].Start); // which is as soon as the A answer came (one DNS round trip)
        Assert.True(races[1].TimeToConnect < races[0].TimeToConnect / 4, $"warm {races[1].TimeToConnect} vs cold {races[0].TimeToConnect}");
    }

    /// <summary>
    /// Draft §7.4, session continuity, in virtual time: the held Wi-Fi connection is told "not viable" when Wi-Fi's next
    /// examination finds the link down (within one validation period of the pull) with cellular offered as the better
    /// path; the held cellular connection is told "better path: wlan0" once Wi-Fi is validated again; the requests go
    /// where the path events said.
    /// </summary>
    [Fact]
    public async Task Wi_Fi_lost_and_back_the_held_connections_are_told_not_viable_and_then_better_path()
    {
        var result = await Run("wifi-lost-and-back");
        Assert.Equal(["wlan0", "rmnet0", "wlan0"], result.Races.Select(r => r.Winner!.Interface));
        var events = result.PathEvents.Select(p => (p.Request, p.Event.Kind, p.Event.Reason, p.Event.Interface, p.Event.BetterInterface)).ToList();
        Assert.Equal(
            [
                (0, HeMif.Continuity.PathEventKind.NotViable, HeMif.Continuity.PathEventReason.InterfaceDown, "wlan0", (string?)null),
                (0, HeMif.Continuity.PathEventKind.BetterPathAvailable, HeMif.Continuity.PathEventReason.HigherRankedInterface, "wlan0", "rmnet0"),
                (1, HeMif.Continuity.PathEventKind.BetterPathAvailable, HeMif.Continuity.PathEventReason.HigherRankedInterface, "rmnet0", "wlan0"),
            ],
            events);
        var pulled = result.Scenario.Changes[0].At;
        var back = result.Scenario.Changes[1].At;
        var period = new HeMif.Validate.ValidationSettings().Period;
        Assert.InRange(result.PathEvents[0].At, pulled, pulled + period);
        Assert.InRange(result.PathEvents[2].At, back, back + period + TimeSpan.FromSeconds(1));
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
