using HeMif.Race;
using static HeMif.Actors.Tests.Race.PlannerDriver;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// Behaviours of <see cref="RacePlanner"/> that mutation testing (tools/mutation.sh, docs/testing.md "Mutation
/// testing") showed no test pinned: the mutant survived, so the code could be changed without any test noticing.
/// </summary>
public sealed class PlannerPinnedBehaviourTests
{
    private static readonly RaceCandidate Wifi = new("wlan0", Rank: 0);
    private static readonly RaceCandidate Ethernet = new("eth0", Rank: 0);
    private static readonly RaceCandidate Cellular = new("rmnet0", Rank: 1);

    /// <summary>
    /// Draft §5.2.3: "The interface identified by the source address should be treated to initiate the connection prior
    /// to others". The planner orders the candidates by rank itself: a caller that lists the worse one first still
    /// gets the best one first (the mutant that reversed the rank comparison of the insertion survived).
    /// </summary>
    [Fact]
    public void The_best_rank_starts_first_whatever_the_listing_order()
    {
        var d = new PlannerDriver(null, Cellular, Wifi);

        Assert.Equal(["wlan0"], d.Planner.Preferred.Select(r => r.Interface));
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectWait(d.Planner.FallbackDelay);
        d.Now = d.Planner.FallbackDelay;
        d.ExpectResolutions("rmnet0", V6, V4);
    }

    /// <summary>
    /// Draft §5.2.3: "If there is no specific Soft Set provided, all selected interfaces should be treated equally." Equal
    /// ranks start together, in the order they were listed (the sort's order among equals, kept), wherever a worse one
    /// sits between them (the mutant that inserted an equal rank before its equals survived).
    /// </summary>
    [Fact]
    public void Equal_ranks_keep_their_listing_order()
    {
        var d = new PlannerDriver(null, Wifi, Cellular, Ethernet);

        Assert.Equal(["wlan0", "eth0"], d.Planner.Preferred.Select(r => r.Interface));
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectResolutions("eth0", V6, V4);
        d.Answer("eth0", V6, V6B);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
    }

    /// <summary>
    /// Draft §7.2: "When the ICMP soft error is present or non-response was received, it's recommended that the timeout
    /// should be large enough to allow connection retransmission." With several preferred interfaces, each with its
    /// own adapted delay, the race waits for the largest before it starts the rest: the one with the most time needed
    /// gets it (the mutant that took the smaller survived). Either listing order.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Several_preferred_interfaces_wait_for_the_largest_of_their_fallback_delays(bool failingFirst)
    {
        var settings = new RaceSettings();
        var failing = Wifi with { RecentFailures = 2 };          // known to fail: the minimum, 300 ms
        var slow = Ethernet with { SmoothedRtt = TimeSpan.FromMilliseconds(900) }; // 3 × 900 ms = 2.7 s
        var d = new PlannerDriver(settings, failingFirst ? new[] { failing, slow, Cellular } : new[] { slow, failing, Cellular });

        Assert.Equal(TimeSpan.FromMilliseconds(2700), d.Planner.FallbackDelay);
        Assert.Equal(settings.MinInterfaceFallbackDelay, settings.FallbackDelayFor(failing));
        d.Drain();
        d.Now = TimeSpan.FromMilliseconds(2700) - TimeSpan.FromTicks(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartResolution { Interface: "rmnet0" });
        d.Now = TimeSpan.FromMilliseconds(2700);
        d.ExpectResolutions("rmnet0", V6, V4);
    }

    /// <summary>
    /// "a late result for a cancelled attempt is ignored", and so is every other fact once the race has ended: an
    /// interface lost, a cancellation, a failure or an answer after the win change no attempt and say nothing (the
    /// mutant that removed the return ignoring inputs after the end survived).
    /// </summary>
    [Fact]
    public void Once_won_no_later_fact_changes_the_race_or_says_anything()
    {
        var d = new PlannerDriver(null, Wifi, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(40);
        d.Succeed(0);
        d.Expect<RaceCommand.Won>(w => w.Id.Value == 0);
        Assert.Null(d.Planner.Poll(d.Now));
        var before = d.Planner.Attempts.Select(a => (a.Id, a.Outcome, a.Ended)).ToList();

        d.Now = TimeSpan.FromMilliseconds(50);
        d.Input(new RaceInput.InterfaceLost("wlan0", "link down"));
        d.Input(new RaceInput.Cancelled("the caller gave up"));
        d.Input(new RaceInput.ResolutionAnswered("wlan0", V4, [V4A]));
        d.Input(new RaceInput.ResolutionAnswered("rmnet0", V6, [V6B]));

        Assert.Null(d.Planner.Poll(d.Now));
        Assert.True(d.Planner.IsFinished);
        Assert.Equal(before, d.Planner.Attempts.Select(a => (a.Id, a.Outcome, a.Ended)));
    }
}
