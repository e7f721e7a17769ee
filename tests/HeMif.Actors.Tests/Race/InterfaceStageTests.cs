using HeMif.Race;
using static HeMif.Actors.Tests.Race.PlannerDriver;

namespace HeMif.Actors.Tests.Race;

/// <summary>Draft §5.2.3 and §7.2: the preferred interface first, the rest in parallel after the fallback delay.</summary>
public sealed class InterfaceStageTests
{
    private static readonly RaceCandidate Wifi = new("wlan0", Rank: 0);
    private static readonly RaceCandidate Cellular = new("rmnet0", Rank: 1);

    /// <summary>
    /// §5.2.3: "The interface identified by the source address should be treated to initiate the connection prior to
    /// others … After making a connection attempt on the preferred pairs and failing to establish a connection within
    /// a certain time period (see Section 7.2), a HE-MIF implementation will decide to initiate connection attempt
    /// using rest of interfaces in parallel."
    /// </summary>
    [Fact]
    public void Preferred_interface_gets_the_fallback_delay_alone()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectWait(d.Planner.FallbackDelay);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");

        d.Now = d.Planner.FallbackDelay - TimeSpan.FromTicks(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartResolution { Interface: "rmnet0" });

        d.Now = d.Planner.FallbackDelay;
        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("fallback delay of 2000 ms passed", StringComparison.Ordinal));
        d.Answer("rmnet0", V6, V6B);
        d.ExpectAttempt(1, V6B, "rmnet0");
        Assert.Equal(2, d.Planner.ActiveAttempts); // Wi-Fi's attempt keeps running
    }

    /// <summary>§5.2.3: "If there is no specific Soft Set provided, all selected interfaces should be treated equally."</summary>
    [Fact]
    public void Interfaces_ranked_equal_start_together()
    {
        var d = new PlannerDriver(null, Wifi, Cellular with { Rank = 0 });
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("ranked equal", StringComparison.Ordinal));
    }

    /// <summary>§7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process."</summary>
    [Fact]
    public void A_hard_error_on_the_preferred_interface_starts_the_others_at_once()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(30);
        d.Fail(0, AttemptFailureKind.Hard, "connection refused");

        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("hard error on wlan0 (connection refused)", StringComparison.Ordinal));
        d.ExpectAttempt(1, V4A, "wlan0"); // Wi-Fi goes on with its next address at once (RFC 8305 §5)
    }

    [Fact]
    public void A_soft_error_does_not_start_the_others_early()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A, V6B);
        d.Answer("wlan0", V4);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(100);
        d.Fail(0, AttemptFailureKind.Soft, "timed out");
        d.ExpectAttempt(1, V6B, "wlan0");
        d.ExpectWait(d.Planner.FallbackDelay);
    }

    [Fact]
    public void When_the_preferred_interface_has_nothing_left_to_try_the_others_start_without_waiting()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Input(new RaceInput.ResolutionFailed("wlan0", V6, "SERVFAIL"));
        d.Input(new RaceInput.ResolutionFailed("wlan0", V4, "timeout"));
        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("nothing left to try", StringComparison.Ordinal));
    }

    /// <summary>
    /// §7.2: "the timeout setting based on past experiences of a particular interface may help to make a fair
    /// decision": known slow → more time, known failing → less, none → the default; always within the bounds.
    /// </summary>
    [Theory]
    [InlineData(null, 0, 2000)]
    [InlineData(100, 0, 300)]     // 3 × 100 ms = 300 ms
    [InlineData(900, 0, 2700)]    // slow: more than the default
    [InlineData(5000, 0, 10000)]  // clamped to the maximum
    [InlineData(20, 0, 300)]      // clamped to the minimum
    [InlineData(900, 2, 300)]     // known to fail: the minimum, whatever its RTT
    public void The_fallback_delay_adapts_to_the_preferred_interfaces_history(int? srttMs, int failures, int expectedMs)
    {
        var candidate = Wifi with { SmoothedRtt = srttMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, RecentFailures = failures };
        var d = new PlannerDriver(null, candidate, Cellular);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), d.Planner.FallbackDelay);
    }

    [Fact]
    public void The_first_success_wins_after_every_other_attempt_is_cancelled_and_late_results_are_ignored()
    {
        var d = new PlannerDriver(null, Wifi, Cellular with { Rank = 0 });
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectResolutions("rmnet0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.Answer("rmnet0", V6, V6B);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.ExpectAttempt(1, V6B, "rmnet0");
        d.Now = TimeSpan.FromMilliseconds(40);
        d.Succeed(1);

        var cancel = d.Expect<RaceCommand.CancelAttempt>();
        Assert.Equal(new AttemptId(0), cancel.Id);
        Assert.Equal(new AttemptId(1), d.Expect<RaceCommand.Won>().Id);
        Assert.Null(d.Planner.Poll(d.Now));

        d.Succeed(0); // late: ignored
        d.Fail(1);
        Assert.Null(d.Planner.Poll(d.Now));
        Assert.Equal([AttemptOutcome.Cancelled, AttemptOutcome.Won], d.Planner.Attempts.Select(a => a.Outcome));
    }

    [Fact]
    public void When_every_interface_fails_the_race_fails_naming_each_attempt_and_why()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V4A, "wlan0");
        d.Fail(0, AttemptFailureKind.Hard, "connection refused");
        d.ExpectResolutions("rmnet0", V6, V4);
        d.Input(new RaceInput.ResolutionFailed("rmnet0", V6, "NXDOMAIN"));
        d.Answer("rmnet0", V4, V4B);
        d.ExpectAttempt(1, V4B, "rmnet0");
        d.Fail(1, AttemptFailureKind.Soft, "timed out");

        var failed = d.Expect<RaceCommand.Failed>();
        Assert.Contains("every interface failed", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("wlan0 [IPv6: no addresses, TCP 192.0.2.1:443 on wlan0 failed: connection refused]", failed.Reason, StringComparison.Ordinal);
        Assert.Contains("rmnet0 [IPv6: NXDOMAIN, TCP 192.0.2.2:443 on rmnet0 failed: timed out]", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_race_timeout_cancels_what_runs_and_fails()
    {
        var d = new PlannerDriver(new RaceSettings { RaceTimeout = TimeSpan.FromSeconds(5) }, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.ExpectWait(TimeSpan.FromSeconds(5));
        d.Now = TimeSpan.FromSeconds(5);
        d.Expect<RaceCommand.CancelAttempt>(c => c.Id.Value == 0);
        Assert.Contains("race timeout of 5000 ms", d.Expect<RaceCommand.Failed>().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Caller_cancellation_cancels_every_attempt_and_fails_the_race()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Input(new RaceInput.Cancelled("caller gave up"));
        d.Expect<RaceCommand.CancelAttempt>(c => c.Id.Value == 0);
        Assert.Equal("cancelled: caller gave up", d.Expect<RaceCommand.Failed>().Reason);
        Assert.Equal(AttemptOutcome.Cancelled, d.Planner.Attempts.Single().Outcome);
    }

    [Fact]
    public void Never_more_attempts_in_flight_than_the_cap()
    {
        var d = new PlannerDriver(new RaceSettings { MaxConcurrentAttempts = 2 }, Wifi, Cellular with { Rank = 0 });
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectResolutions("rmnet0", V6, V4);
        d.Answer("wlan0", V6, V6A, V6B);
        d.Answer("rmnet0", V6, V6A, V6B);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.ExpectAttempt(1, V6A, "rmnet0");
        d.Now += TimeSpan.FromSeconds(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartAttempt);
        d.Fail(0);
        d.ExpectAttempt(2, V6B, "wlan0");
        Assert.Equal(2, d.Planner.ActiveAttempts);
    }

    [Fact]
    public void An_interface_lost_mid_race_has_its_attempts_cancelled_and_takes_no_more()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A, V6B);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Input(new RaceInput.InterfaceLost("wlan0", "link down"));
        d.Expect<RaceCommand.CancelAttempt>(c => c.Id.Value == 0);
        d.ExpectResolutions("rmnet0", V6, V4);
        d.Now += TimeSpan.FromSeconds(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartAttempt { Endpoint.Interface: "wlan0" });
    }

    /// <summary>§5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'. It should not join the sort process."</summary>
    [Fact]
    public void With_no_candidate_at_all_the_race_fails_at_once_saying_why()
    {
        var d = new PlannerDriver();
        Assert.Contains("no interface is a candidate", d.Expect<RaceCommand.Failed>().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_interface_twice_or_a_bad_port_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new RacePlanner([Wifi, Wifi], 443, new RaceSettings()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RacePlanner([Wifi], 0, new RaceSettings()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RacePlanner([Wifi], 65536, new RaceSettings()));
    }
}
