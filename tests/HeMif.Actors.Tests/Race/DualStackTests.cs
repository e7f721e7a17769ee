using HeMif.Race;
using static HeMif.Actors.Tests.Race.PlannerDriver;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// The per-interface child race: RFC 8305 and draft-ietf-happy-happyeyeballs-v3, run on one interface
/// (draft §7.5: "HE is executed on an interface which is selected to make connection establishment").
/// </summary>
public sealed class DualStackTests
{
    private static readonly RaceCandidate Wifi = new("wlan0", Rank: 0);
    private static readonly TimeSpan AttemptDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>RFC 8305 §3: "send out both a AAAA query and an A query … the AAAA query first".</summary>
    [Fact]
    public void AAAA_and_A_are_queried_in_parallel_AAAA_first()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
    }

    /// <summary>RFC 8305 §3: "the client SHOULD … start connecting … as soon as the AAAA response is received" (positive).</summary>
    [Fact]
    public void A_positive_AAAA_answer_starts_connecting_at_once_without_waiting_for_A()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Now = TimeSpan.FromMilliseconds(12);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
    }

    /// <summary>
    /// RFC 8305 §3: "If a positive A response is received first due to reordering, the client SHOULD wait a short time
    /// for the AAAA response to ensure that preference is given to IPv6 … The recommended value for the Resolution
    /// Delay is 50 milliseconds."
    /// </summary>
    [Fact]
    public void An_A_answer_first_waits_the_resolution_delay_and_an_AAAA_within_it_goes_first()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V4, V4A);
        d.ExpectWait(TimeSpan.FromMilliseconds(50));
        d.Now = TimeSpan.FromMilliseconds(49);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0");
    }

    [Fact]
    public void Without_AAAA_the_A_addresses_are_tried_when_the_resolution_delay_ends_and_a_late_AAAA_joins_the_list()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V4, V4A, V4B);
        d.Now = TimeSpan.FromMilliseconds(49);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartAttempt);
        d.Now = TimeSpan.FromMilliseconds(50);
        d.ExpectAttempt(0, V4A, "wlan0");

        d.Now = TimeSpan.FromMilliseconds(80);
        d.Answer("wlan0", V6, V6A); // HEv3: late answers are sorted into what is left, keeping the interleaving
        d.ExpectWait(TimeSpan.FromMilliseconds(300));
        d.Now = TimeSpan.FromMilliseconds(300);
        d.ExpectAttempt(1, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(550);
        d.ExpectAttempt(2, V4B, "wlan0");
    }

    /// <summary>RFC 8305 §4: interleave families; with a First Address Family Count of 1: v6, v4, v6, v4.</summary>
    [Fact]
    public void Addresses_are_interleaved_by_family_starting_with_the_preferred_one()
    {
        Assert.Equal([V6A, V4A, V6B, V4B], AddressOrdering.Interleave([V6A, V6B, V4A, V4B], 1));
        Assert.Equal([V6A, V6B, V4A, V4B], AddressOrdering.Interleave([V6A, V6B, V4A, V4B], 2));
        Assert.Equal([V4A, V6A, V4B, V6B], AddressOrdering.Interleave([V4A, V4B, V6A, V6B], 1));
        Assert.Equal([V6A, V6B], AddressOrdering.Interleave([V6A, V6B], 1));
        Assert.Empty(AddressOrdering.Interleave([], 1));
    }

    /// <summary>
    /// RFC 8305 §5: "Starting a new connection attempt does not affect previous attempts … the recommended value for
    /// a default delay is 250 milliseconds."
    /// </summary>
    [Fact]
    public void A_new_attempt_starts_every_connection_attempt_delay_and_earlier_ones_keep_running()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A, V6B);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.ExpectWait(AttemptDelay);
        d.Now += AttemptDelay;
        d.ExpectAttempt(1, V4A, "wlan0");
        d.Now += AttemptDelay;
        d.ExpectAttempt(2, V6B, "wlan0");
        Assert.Equal(3, d.Planner.ActiveAttempts);
        Assert.DoesNotContain(d.Log, c => c is RaceCommand.CancelAttempt);
    }

    /// <summary>RFC 8305 §5: when an attempt fails, the next one need not wait for the delay.</summary>
    [Fact]
    public void A_failed_attempt_lets_the_next_one_start_at_once()
    {
        var d = new PlannerDriver(null, Wifi);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V6A, "wlan0");
        d.Now = TimeSpan.FromMilliseconds(20);
        d.Fail(0, AttemptFailureKind.Soft, "network unreachable");
        d.ExpectAttempt(1, V4A, "wlan0");
    }

    /// <summary>
    /// RFC 8305 §5: the delay may come from RTT history, within "Minimum Connection Attempt Delay: 100 milliseconds"
    /// and "Maximum Connection Attempt Delay: 2 seconds".
    /// </summary>
    [Theory]
    [InlineData(null, 250)]
    [InlineData(40, 100)]
    [InlineData(200, 300)]
    [InlineData(3000, 2000)]
    public void The_attempt_delay_comes_from_RTT_history_within_100_ms_and_2_s(int? srttMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new RaceSettings().AttemptDelayFor(srttMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null));

    /// <summary>HEv3: QUIC is preferred; TCP to the same address follows one attempt delay later.</summary>
    [Fact]
    public void With_QUIC_allowed_QUIC_goes_first_and_TCP_follows_after_the_attempt_delay()
    {
        var d = new PlannerDriver(null, Wifi with { Transports = [TransportName.Quic, TransportName.Tcp] });
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.Answer("wlan0", V4);
        d.ExpectAttempt(0, V6A, "wlan0", TransportName.Quic);
        d.Now += AttemptDelay;
        d.ExpectAttempt(1, V6A, "wlan0", TransportName.Tcp);
    }

    [Theory]
    [InlineData("UnsupportedOnHost", "QUIC unsupported on this host: TCP only")]
    [InlineData("KnownBlocked", "QUIC known blocked on this interface: TCP only")]
    public void Where_QUIC_cannot_work_only_TCP_is_tried_and_the_timeline_says_why(string availability, string note)
    {
        var skip = Enum.Parse<TransportSkip>(availability);
        var d = new PlannerDriver(null, Wifi with { Skipped = [new SkippedTransport(TransportName.Quic, skip)] });
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.ExpectAttempt(0, V6A, "wlan0", TransportName.Tcp);
        Assert.Single(d.Notes, n => n == note);
        d.Now += TimeSpan.FromSeconds(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartAttempt);
    }

    /// <summary>Issue 6: the timeline says "QUIC unsupported on this host" once per race, however many interfaces race.</summary>
    [Fact]
    public void QUIC_unsupported_on_the_host_is_said_once_per_race_not_once_per_interface()
    {
        SkippedTransport[] unsupported = [new(TransportName.Quic, TransportSkip.UnsupportedOnHost)];
        var cellular = new RaceCandidate("rmnet0", Rank: 1) { Skipped = unsupported };
        var d = new PlannerDriver(null, Wifi with { Skipped = unsupported }, cellular);
        d.ExpectResolutions("wlan0", V6, V4);
        d.Now += TimeSpan.FromSeconds(2); // the fallback delay: cellular joins
        d.ExpectResolutions("rmnet0", V6, V4);
        Assert.Single(d.Notes, n => n.StartsWith("QUIC unsupported on this host", StringComparison.Ordinal));
    }

    /// <summary>QUIC only: QUIC attempts and no TCP behind them.</summary>
    [Fact]
    public void QUIC_only_tries_QUIC_to_each_address_and_never_TCP()
    {
        var d = new PlannerDriver(null, Wifi with { Transports = [TransportName.Quic] });
        d.ExpectResolutions("wlan0", V6, V4);
        d.Answer("wlan0", V6, V6A);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V6A, "wlan0", TransportName.Quic);
        d.Now += AttemptDelay;
        d.ExpectAttempt(1, V4A, "wlan0", TransportName.Quic);
        d.Now += TimeSpan.FromSeconds(1);
        Assert.DoesNotContain(d.Drain(), c => c is RaceCommand.StartAttempt);
    }

    /// <summary>QUIC only where QUIC is known blocked: nothing to resolve or try; the race fails saying why.</summary>
    [Fact]
    public void QUIC_only_where_QUIC_is_known_blocked_fails_without_resolving_and_says_why()
    {
        var d = new PlannerDriver(null, Wifi with { Transports = [], Skipped = [new SkippedTransport(TransportName.Quic, TransportSkip.KnownBlocked)] });
        var failed = d.Expect<RaceCommand.Failed>();
        Assert.Contains("QUIC only was asked for: QUIC known blocked on this interface", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(d.Log, c => c is RaceCommand.StartResolution);
        Assert.Contains(d.Notes, n => n.Contains("nothing to try here", StringComparison.Ordinal));
    }

    [Fact]
    public void An_IPv4_only_interface_asks_only_for_A_and_connects_at_once()
    {
        var d = new PlannerDriver(null, Wifi with { IPv6 = false });
        d.ExpectResolutions("wlan0", V4);
        d.Answer("wlan0", V4, V4A);
        d.ExpectAttempt(0, V4A, "wlan0");
    }

    /// <summary>RFC 8305 §5: the delay "MUST NOT be less than 10 milliseconds".</summary>
    [Fact]
    public void Settings_that_break_the_RFC_are_rejected_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RaceSettings { MinConnectionAttemptDelay = TimeSpan.FromMilliseconds(5) }.Validate());
        Assert.Contains("MinConnectionAttemptDelay", error.Message, StringComparison.Ordinal);
        Assert.Contains("RFC 8305", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaceSettings { MaxConcurrentAttempts = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaceSettings { InterfaceFallbackDelay = TimeSpan.FromMinutes(1) }.Validate());
    }
}
