using HeMif.Remember;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Actors.Tests.Remember;

/// <summary>Draft §5.2.3: outcomes cached per interface and destination, aged out, flushed on change.</summary>
public sealed class OutcomeCacheTests
{
    private static readonly Destination Example = new("Example.COM.", 443);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void The_smoothed_RTT_follows_RFC_6298_and_a_success_clears_the_failure_count()
    {
        var cache = new OutcomeCache(_time);
        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(80));
        Assert.Equal(TimeSpan.FromMilliseconds(80), cache.Lookup(Example)!.SmoothedRtt);

        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(160)); // 7/8·80 + 1/8·160 = 90
        Assert.Equal(TimeSpan.FromMilliseconds(90), cache.Lookup(Example)!.SmoothedRtt);

        cache.RecordFailure(Example);
        cache.RecordFailure(Example);
        Assert.Equal(2, cache.Lookup(Example)!.RecentFailures);
        Assert.Equal(TimeSpan.FromMilliseconds(90), cache.Lookup(Example)!.SmoothedRtt);

        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(90));
        Assert.Equal(0, cache.Lookup(Example)!.RecentFailures);
        Assert.True(cache.Lookup(Example)!.LastSucceeded);
    }

    /// <summary>§5.2.3: "Maximum on the order of 10 minutes … is recommended" (the default), configurable.</summary>
    [Fact]
    public void Entries_age_out_after_the_maximum_age_and_not_before()
    {
        var cache = new OutcomeCache(_time);
        cache.RecordFailure(Example);
        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.NotNull(cache.Lookup(Example));
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Null(cache.Lookup(Example));
        Assert.Equal(0, cache.Count);

        var shortLived = new OutcomeCache(_time, TimeSpan.FromSeconds(30));
        shortLived.RecordSuccess(Example, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(1, shortLived.Prune());
    }

    [Fact]
    public void Host_names_are_one_destination_whatever_their_case_or_trailing_dot_and_ports_are_separate()
    {
        var cache = new OutcomeCache(_time);
        cache.RecordFailure(new Destination("example.com", 443));
        Assert.Equal(1, cache.Lookup(Example)!.RecentFailures);
        Assert.Null(cache.Lookup(new Destination("example.com", 80)));
    }

    /// <summary>RFC 8305 §4: history "SHOULD be flushed whenever a device changes the network to which it is attached".</summary>
    [Fact]
    public void Flush_forgets_everything()
    {
        var cache = new OutcomeCache(_time);
        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(5));
        cache.RecordQuicVerdict(Example, blocked: true);
        cache.Flush();
        Assert.Null(cache.Lookup(Example));
    }

    [Fact]
    public void A_QUIC_verdict_is_kept_beside_the_connection_history()
    {
        var cache = new OutcomeCache(_time);
        cache.RecordQuicVerdict(Example, blocked: true);
        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(20));
        Assert.True(cache.Lookup(Example)!.QuicBlocked);
    }

    [Fact]
    public void Bad_destinations_and_ages_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Destination("example.com", 0));
        Assert.Throws<ArgumentException>(() => new Destination(" ", 443));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OutcomeCache(_time, TimeSpan.Zero));
    }
}
