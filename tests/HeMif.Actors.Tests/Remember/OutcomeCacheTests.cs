using System.Net.Sockets;
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

    /// <summary>
    /// RFC 6298 §2.2: "When the first RTT measurement R is made, the host MUST set SRTT &lt;- R, RTTVAR &lt;- R/2"; §2.3:
    /// "RTTVAR &lt;- (1 - beta) * RTTVAR + beta * |SRTT - R'|" with beta = 1/4, then SRTT; "RTO &lt;- SRTT + max (G, K*RTTVAR)"
    /// with K = 4, rounded up to 1 second (§2.4).
    /// </summary>
    [Fact]
    public void The_RTT_variation_and_the_retransmission_timeout_follow_RFC_6298()
    {
        var cache = new OutcomeCache(_time);
        Assert.Null(new OutcomeEntry(null, 0, false, null, default).RetransmissionTimeout);
        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(80));
        Assert.Equal(TimeSpan.FromMilliseconds(40), cache.Lookup(Example)!.RttVariance);
        Assert.Equal(TimeSpan.FromSeconds(1), cache.Lookup(Example)!.RetransmissionTimeout); // 80 + 4·40 = 240 ms, rounded up to 1 s

        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(160)); // RTTVAR 3/4·40 + 1/4·80 = 50, SRTT 90
        Assert.Equal((TimeSpan.FromMilliseconds(90), TimeSpan.FromMilliseconds(50)), (cache.Lookup(Example)!.SmoothedRtt, cache.Lookup(Example)!.RttVariance));

        var slow = new OutcomeCache(_time);
        slow.RecordSuccess(Example, TimeSpan.FromMilliseconds(600)); // 600 + 4·300 = 1800 ms
        Assert.Equal(TimeSpan.FromMilliseconds(1800), slow.Lookup(Example)!.RetransmissionTimeout);
    }

    /// <summary>
    /// RFC 8305 §4 ("If the client keeps track of which addresses it used in the past, it SHOULD add another Destination
    /// Address Selection rule ... which prefers used addresses over unused ones") and the draft §7.5 ("The interface state
    /// management in HE-MIF is designed to synchronize with IP family states"): per family, what won, stayed silent or
    /// failed, and which family and transport won last.
    /// </summary>
    [Fact]
    public void Each_address_family_keeps_what_won_stayed_silent_or_failed()
    {
        var cache = new OutcomeCache(_time);
        cache.Record(Example, true, TimeSpan.FromMilliseconds(20),
        [
            new(AddressFamily.InterNetworkV6, TransportName.Tcp, AttemptVerdict.Silent),
            new(AddressFamily.InterNetwork, TransportName.Tcp, AttemptVerdict.Won),
        ]);
        var entry = cache.Lookup(Example)!;
        Assert.Equal((AddressFamily.InterNetwork, TransportName.Tcp), (entry.WinningFamily, entry.WinningTransport));
        Assert.Equal(new FamilyHistory(0, 1, 0), entry.IPv6);
        Assert.Equal(new FamilyHistory(1, 0, 0), entry.IPv4);
        Assert.True(entry.IPv6.Unanswered);

        cache.Record(Example, true, TimeSpan.FromMilliseconds(20), [new(AddressFamily.InterNetworkV6, TransportName.Quic, AttemptVerdict.Won)]);
        entry = cache.Lookup(Example)!;
        Assert.Equal((AddressFamily.InterNetworkV6, TransportName.Quic), (entry.WinningFamily, entry.WinningTransport));
        Assert.Equal(new FamilyHistory(1, 0, 0), entry.IPv6); // a win clears what it had against it
    }

    /// <summary>
    /// "The outcome cache drops aged entries on its own (today Prune is never called: entries for destinations never
    /// revisited pile up)": a write prunes what aged (at most once a tenth of the maximum age), oldest first.
    /// </summary>
    [Fact]
    public void Writes_drop_aged_entries_without_anyone_calling_Prune()
    {
        var cache = new OutcomeCache(_time);
        for (var i = 0; i < 100; i++)
        {
            cache.RecordSuccess(new Destination($"host{i}.example", 443), TimeSpan.FromMilliseconds(10));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(100, cache.Count);
        _time.Advance(TimeSpan.FromMinutes(10));
        cache.RecordSuccess(Example, TimeSpan.FromMilliseconds(10)); // never a lookup of the others
        Assert.Equal(1, cache.Count);
    }

    /// <summary>However many destinations are written within the maximum age, the cache holds at most its capacity, dropping the least recently written.</summary>
    [Fact]
    public void The_cache_never_holds_more_than_its_capacity()
    {
        var cache = new OutcomeCache(_time, capacity: 3);
        foreach (var host in new[] { "a.example", "b.example", "c.example" })
        {
            cache.RecordFailure(new Destination(host, 443));
        }

        cache.RecordFailure(new Destination("a.example", 443)); // a is now the most recent
        cache.RecordFailure(new Destination("d.example", 443));
        Assert.Equal(3, cache.Count);
        Assert.Null(cache.Lookup(new Destination("b.example", 443)));
        Assert.NotNull(cache.Lookup(new Destination("a.example", 443)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OutcomeCache(_time, capacity: 0));
    }

    [Fact]
    public void Bad_destinations_and_ages_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Destination("example.com", 0));
        Assert.Throws<ArgumentException>(() => new Destination(" ", 443));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OutcomeCache(_time, TimeSpan.Zero));
    }
}
