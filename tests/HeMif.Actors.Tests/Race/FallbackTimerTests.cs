using HeMif.Actors.Tests.Planning;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using static HeMif.Actors.Tests.Race.PlannerDriver;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// Draft §7.2, "Fallback Timeout": who sets the fallback delay (the request, a user rule, an operator rule, the options,
/// or HeMif's adaptive value), the floor before a metered or roaming interface joins, and when the timer starts.
/// </summary>
public sealed class FallbackTimerTests
{
    private static readonly RaceCandidate Wifi = new("wlan0", Rank: 0);
    private static readonly RaceCandidate Ethernet = new("eth0", Rank: 1);
    private static readonly RaceCandidate Cellular = new("rmnet0", Rank: 1) { Costly = true };
    private static readonly FallbackDelaySettings Stated800 = new() { Delay = TimeSpan.FromMilliseconds(800) };

    private static RaceSettings With(params FallbackDelayInput[] inputs) => new() { FallbackInputs = inputs };

    /// <summary>
    /// §7.2: "it is recommended to prioritize the input from users (e.g., real customers or applications)": a request's
    /// stated delay wins over the one adapted from history (here 3 × 100 ms = 300 ms), and the decision says so.
    /// </summary>
    [Fact]
    public void A_stated_delay_wins_over_the_adaptive_one_and_the_timeline_says_which_and_why()
    {
        var known = Wifi with { SmoothedRtt = TimeSpan.FromMilliseconds(100) };
        Assert.Equal(TimeSpan.FromMilliseconds(300), new PlannerDriver(null, known, Ethernet).Planner.FallbackDelay);

        var d = new PlannerDriver(With(new FallbackDelayInput(FallbackDelaySource.Request, "the request", Stated800)), known, Ethernet);
        Assert.Equal(TimeSpan.FromMilliseconds(800), d.Planner.FallbackDelay);
        Assert.Equal(FallbackDelaySource.Request, d.Planner.Decision.Source);
        d.Drain();
        Assert.Contains(d.Notes, n => n.Contains("fallback delay 800 ms: set by the request: the user's or the application's value wins over the adaptive one", StringComparison.Ordinal));
    }

    /// <summary>
    /// §7.2 "prioritize the input from users": the request over a user rule over an operator rule over the options, field
    /// by field: a stated range bounds the adaptive delay, and a higher source's range wins where two disagree.
    /// </summary>
    [Fact]
    public void The_request_then_user_rules_then_operator_rules_then_the_options_field_by_field()
    {
        var known = Wifi with { SmoothedRtt = TimeSpan.FromMilliseconds(100) }; // adaptive: 300 ms
        var request = new FallbackDelayInput(FallbackDelaySource.Request, "the request", new() { Min = TimeSpan.FromMilliseconds(600) });
        var user = new FallbackDelayInput(FallbackDelaySource.UserRule, "user rule 'u'", new() { Max = TimeSpan.FromMilliseconds(400) });
        var op = new FallbackDelayInput(FallbackDelaySource.OperatorRule, "operator rule 'o'", new() { Delay = TimeSpan.FromMilliseconds(5000) });

        // The operator's stated delay stands when nothing above states one.
        Assert.Equal(TimeSpan.FromSeconds(5), FallbackDelays.Decide([known], [], With(user, op)).Delay);
        Assert.Equal(FallbackDelaySource.OperatorRule, FallbackDelays.Decide([known], [], With(user, op)).Source);

        // Without a stated delay, the user's maximum and the request's minimum bound the adaptive 300 ms; they disagree
        // (600 > 400) and the request, higher up, wins.
        var bounded = FallbackDelays.Decide([known], [], With(request, user));
        Assert.Equal((TimeSpan.FromMilliseconds(600), FallbackDelaySource.Adaptive), (bounded.Delay, bounded.Source));
        Assert.Contains("raised to the least, 600 ms (set by the request)", bounded.Reason, StringComparison.Ordinal);

        // The options come last.
        var options = new RaceSettings { ConfiguredFallbackDelay = Stated800 };
        Assert.Equal((TimeSpan.FromMilliseconds(800), FallbackDelaySource.Options), (FallbackDelays.Decide([known], [], options).Delay, FallbackDelays.Decide([known], [], options).Source));
        var inputs = FallbackDelays.InputsFor(Facts.Request() with { FallbackDelay = new() { Delay = TimeSpan.FromMilliseconds(250) } },
            new ConnectionPlan([], [], []), options);
        Assert.Equal([FallbackDelaySource.Request, FallbackDelaySource.Options], inputs.Select(i => i.Source));
        Assert.Equal(TimeSpan.FromMilliseconds(250), FallbackDelays.Decide([known], [], options with { FallbackInputs = inputs }).Delay);
    }

    /// <summary>
    /// §7.2 per destination and per interface kind: a policy's fallback delay rules match the request and the interface
    /// that goes first; the user's rule wins over the operator's ("it is recommended to prioritize the input from users").
    /// </summary>
    [Fact]
    public void Policy_rules_state_the_delay_per_destination_and_per_interface_kind_and_the_user_rule_wins()
    {
        var policy = new HeMifPolicy
        {
            FallbackDelays =
            [
                new FallbackDelayRule("operator-wifi", RuleSource.Operator) { Interface = Facts.Kind(InterfaceKind.Wifi), Settings = new() { Delay = TimeSpan.FromMilliseconds(500) } },
                new FallbackDelayRule("user-video", RuleSource.User) { Request = new() { Hosts = ["video.example"] }, Settings = new() { Delay = TimeSpan.FromMilliseconds(1500) } },
                new FallbackDelayRule("operator-cellular", RuleSource.Operator) { Interface = Facts.Kind(InterfaceKind.Cellular), Settings = new() { Delay = TimeSpan.FromMilliseconds(3000) } },
            ],
        };
        IReadOnlyList<InterfaceFacts> host = [Facts.Wifi(), Facts.Cellular()];

        var video = Facts.Plan(policy, host, Facts.Request("video.example"));
        Assert.Equal(["user-video", "operator-wifi"], video.FallbackDelayRules.Select(r => r.Name));
        var decided = FallbackDelays.Decide([Wifi], [], new RaceSettings { FallbackInputs = FallbackDelays.InputsFor(Facts.Request("video.example"), video, new RaceSettings()) });
        Assert.Equal((TimeSpan.FromMilliseconds(1500), FallbackDelaySource.UserRule), (decided.Delay, decided.Source));
        Assert.Contains("set by user rule 'user-video'", decided.Reason, StringComparison.Ordinal);

        var other = Facts.Plan(policy, host, Facts.Request("www.example.com"));
        Assert.Equal(["operator-wifi"], other.FallbackDelayRules.Select(r => r.Name)); // Wi-Fi goes first: the cellular rule does not apply
        var cellularFirst = Facts.Plan(policy, [Facts.Cellular()], Facts.Request("www.example.com"));
        Assert.Equal(["operator-cellular"], cellularFirst.FallbackDelayRules.Select(r => r.Name));
    }

    /// <summary>
    /// §7.2: "Aggressive timeouts may achieve quick interface handover, but at the cost of traffic that may be chargeable
    /// on certain networks": history brings the delay down to 300 ms, and an unmetered interface joins then; a metered one
    /// waits until the first SYN on the preferred interface could have been retransmitted (RFC 6298 §2.1: "the sender
    /// SHOULD set RTO &lt;- 1 second").
    /// </summary>
    [Fact]
    public void A_metered_interface_joins_no_sooner_than_one_retransmission_of_the_first_SYN()
    {
        var fast = Wifi with { SmoothedRtt = TimeSpan.FromMilliseconds(50) };
        var d = new PlannerDriver(null, fast, Ethernet, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");

        d.Now = TimeSpan.FromMilliseconds(300);
        d.ExpectResolutions("eth0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("eth0 start now (draft §5.2.3); rmnet0 (metered or roaming) wait until 1000 ms", StringComparison.Ordinal));
        Assert.Empty(d.Drain().OfType<RaceCommand.StartResolution>());

        d.Now = TimeSpan.FromMilliseconds(1000) - TimeSpan.FromTicks(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartResolution { Interface: "rmnet0" });
        d.Now = TimeSpan.FromMilliseconds(1000);
        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Contains(d.Notes, n => n.Contains("the initial RTO is 1 s", StringComparison.Ordinal));
    }

    /// <summary>RFC 6298 §2: with an RTO measured on the preferred path (SRTT + 4 × RTTVAR, at least 1 s), that is the floor.</summary>
    [Fact]
    public void With_a_measured_RTO_the_metered_interface_waits_for_that_one()
    {
        var measured = Wifi with { SmoothedRtt = TimeSpan.FromMilliseconds(50), RetransmissionTimeout = TimeSpan.FromMilliseconds(1800) };
        var decision = FallbackDelays.Decide([measured], [Cellular], new RaceSettings());
        Assert.Equal((TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(1800)), (decision.Delay, decision.CostlyDelay));
        Assert.Contains("the RTO measured on wlan0", decision.CostlyReason, StringComparison.Ordinal);
    }

    /// <summary>
    /// The floor gives way to "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process"
    /// (§7.2): the metered interface joins at once.
    /// </summary>
    [Fact]
    public void A_hard_error_lets_the_metered_interface_in_at_once()
    {
        var d = new PlannerDriver(null, Wifi with { SmoothedRtt = TimeSpan.FromMilliseconds(50) }, Cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(20);
        d.Fail(0, AttemptFailureKind.Hard, "connection refused");
        d.ExpectResolutions("rmnet0", V6, V4);
    }

    /// <summary>
    /// The floor gives way to a known failure too: the preferred path failed here recently ("the timeout setting based on
    /// past experiences of a particular interface"), so the metered interface joins at the least delay.
    /// </summary>
    [Fact]
    public void A_known_failure_lets_the_metered_interface_in_at_the_least_delay()
    {
        var decision = FallbackDelays.Decide([Wifi with { RecentFailures = 2 }], [Cellular], new RaceSettings());
        Assert.Equal((TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300)), (decision.Delay, decision.CostlyDelay));
        Assert.Null(decision.CostlyReason);
    }

    /// <summary>
    /// Draft §5.2.3: "After making a connection attempt on the preferred pairs and failing to establish a connection within
    /// a certain time period (see Section 7.2)": the timer starts at the first attempt on the preferred interface. A slow
    /// but working DNS server there (1.5 s) does not eat its time: cellular is not started while Wi-Fi's handshake runs.
    /// </summary>
    [Fact]
    public void The_timer_starts_at_the_first_attempt_so_a_slow_but_working_DNS_server_does_not_eat_the_delay()
    {
        var d = new PlannerDriver(null, Wifi, Ethernet);
        d.ExpectResolutions("wlan0", V6, V4);
        d.ExpectWait(TimeSpan.FromSeconds(2));
        d.Now = TimeSpan.FromMilliseconds(1500);
        d.Answer("wlan0", V6, V6A);
        d.Answer("wlan0", V4);
        d.ExpectAttempt(0, V6A, "wlan0");
        Assert.Equal(TimeSpan.FromMilliseconds(1500), d.Planner.TimerStart);

        d.Now = TimeSpan.FromMilliseconds(2300); // past 2 s from the request's start, before 2 s from the attempt
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartResolution { Interface: "eth0" });
        d.Succeed(0);
        Assert.Contains(d.Drain(), c => c is RaceCommand.Won);
        Assert.DoesNotContain(d.Log, c => c is RaceCommand.StartResolution { Interface: "eth0" });
    }

    /// <summary>"or at the start of the request when its resolution is silent": a DNS server that never answers still lets the others in at 2 s.</summary>
    [Fact]
    public void A_silent_resolution_lets_the_others_in_at_the_delay_from_the_request_start()
    {
        var d = new PlannerDriver(null, Wifi, Ethernet);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Now = TimeSpan.FromSeconds(2);
        d.ExpectResolutions("eth0", V6, V4);
        Assert.Equal(TimeSpan.Zero, d.Planner.TimerStart);
    }
}
