using HeMif.TestKit;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>The manual clock: timers fire only in Advance, in due-time order, deterministically.</summary>
public sealed class ManualTimeProviderTests
{
    [Fact]
    public void Timers_fire_in_due_time_order_with_the_clock_at_their_due_time_and_ties_in_creation_order()
    {
        var time = new ManualTimeProvider();
        var fired = new List<string>();
        using var c = time.CreateTimer(_ => fired.Add($"c@{time.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan);
        using var a = time.CreateTimer(_ => fired.Add($"a@{time.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
        using var b1 = time.CreateTimer(_ => fired.Add($"b1@{time.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(20), Timeout.InfiniteTimeSpan);
        using var b2 = time.CreateTimer(_ => fired.Add($"b2@{time.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(20), Timeout.InfiniteTimeSpan);

        time.AdvanceMilliseconds(25);
        Assert.Equal(["a@10", "b1@20", "b2@20"], fired);
        Assert.Equal(TimeSpan.FromMilliseconds(25), time.Elapsed);

        time.AdvanceMilliseconds(100);
        Assert.Equal(["a@10", "b1@20", "b2@20", "c@30"], fired);
    }

    [Fact]
    public void A_periodic_timer_fires_every_period_and_a_disposed_or_disarmed_one_never()
    {
        var time = new ManualTimeProvider();
        var ticks = 0;
        var periodic = time.CreateTimer(_ => ticks++, null, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(10));
        time.AdvanceMilliseconds(35);
        Assert.Equal(4, ticks); // 5, 15, 25, 35

        periodic.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        time.AdvanceMilliseconds(100);
        Assert.Equal(4, ticks);

        periodic.Change(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1));
        periodic.Dispose();
        time.AdvanceMilliseconds(100);
        Assert.Equal(4, ticks);
        Assert.Equal(0, time.ArmedTimerCount);
    }

    /// <summary>
    /// Timers re-armed again and again before they fire (a retry or guard timer) leave outdated entries in the clock's
    /// queue, which it drops when they come up and clears out when they pile up: only the last arming of each counts,
    /// in due-time order, ties in arming order, and a timer disposed meanwhile never fires.
    /// </summary>
    [Fact]
    public void Timers_re_armed_many_times_fire_once_at_their_last_due_time_in_order()
    {
        var time = new ManualTimeProvider();
        var fired = new List<string>();
        var timers = Enumerable.Range(0, 50)
            .Select(i => time.CreateTimer(_ => fired.Add($"t{i}@{time.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan))
            .ToList();
        for (var round = 0; round < 40; round++)
        {
            for (var i = timers.Count - 1; i >= 0; i--)
            {
                timers[i].Change(TimeSpan.FromMilliseconds(100 + (i % 5)), Timeout.InfiniteTimeSpan);
            }
        }

        timers[7].Dispose();
        Assert.Equal(49, time.ArmedTimerCount);
        time.AdvanceMilliseconds(99);
        Assert.Empty(fired);

        time.AdvanceMilliseconds(10);
        var expected = Enumerable.Range(0, 5)
            .SelectMany(offset => Enumerable.Range(0, 50).Where(i => i % 5 == offset && i != 7).Reverse().Select(i => $"t{i}@{100 + offset}"));
        Assert.Equal(expected, fired);
        Assert.Equal(0, time.ArmedTimerCount);
        timers.ForEach(t => t.Dispose());
    }

    [Fact]
    public void A_timer_armed_by_a_callback_inside_the_advanced_span_fires_in_the_same_advance()
    {
        var time = new ManualTimeProvider();
        var fired = new List<double>();
        ITimer? second = null;
        using var first = time.CreateTimer(_ =>
        {
            fired.Add(time.Elapsed.TotalMilliseconds);
            second = time.CreateTimer(_ => fired.Add(time.Elapsed.TotalMilliseconds), null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        }, null, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);

        time.AdvanceMilliseconds(20);
        second?.Dispose();
        Assert.Equal([10.0, 15.0], fired);
    }

    [Fact]
    public void The_clock_reads_the_same_through_every_accessor()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2030, 5, 6, 7, 8, 9, TimeSpan.Zero));
        var start = time.GetTimestamp();
        time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(TimeSpan.FromSeconds(90), time.GetElapsedTime(start));
        Assert.Equal(new DateTimeOffset(2030, 5, 6, 7, 9, 39, TimeSpan.Zero), time.GetUtcNow());
    }

    [Fact]
    public void Time_does_not_go_backwards_and_Advance_is_not_reentrant()
    {
        var time = new ManualTimeProvider();
        Assert.Throws<ArgumentOutOfRangeException>(() => time.Advance(TimeSpan.FromTicks(-1)));
        Exception? inner = null;
        using var t = time.CreateTimer(_ => inner = Record.Exception(() => time.Advance(TimeSpan.FromSeconds(1))), null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        time.Advance(TimeSpan.Zero);
        Assert.IsType<InvalidOperationException>(inner);
    }

    [Fact]
    public void AdvanceToNextTimer_jumps_to_the_earliest_due_timer_within_the_limit_and_no_further()
    {
        var time = new ManualTimeProvider();
        var fired = new List<double>();
        using var later = time.CreateTimer(_ => fired.Add(time.Elapsed.TotalMilliseconds), null, TimeSpan.FromMilliseconds(900), Timeout.InfiniteTimeSpan);
        using var sooner = time.CreateTimer(_ => fired.Add(time.Elapsed.TotalMilliseconds), null, TimeSpan.FromMilliseconds(40), Timeout.InfiniteTimeSpan);

        Assert.True(time.AdvanceToNextTimer(TimeSpan.FromSeconds(1)));
        Assert.Equal([40.0], fired);
        Assert.Equal(TimeSpan.FromMilliseconds(40), time.Elapsed);

        Assert.False(time.AdvanceToNextTimer(TimeSpan.FromMilliseconds(100)), "the next timer is 860 ms away");
        Assert.Equal(TimeSpan.FromMilliseconds(40), time.Elapsed);
        Assert.True(time.AdvanceToNextTimer(TimeSpan.FromSeconds(1)));
        Assert.False(time.AdvanceToNextTimer(TimeSpan.FromHours(1)), "no timer is armed");
        Assert.Equal([40.0, 900.0], fired);
    }
}
