namespace HeMif.Simulation;

/// <summary>
/// A <see cref="TimeProvider"/> that moves only when told to (<see cref="Advance"/>, <see cref="AdvanceToNextTimer"/>). Timers fire inside
/// <see cref="Advance"/>, on the calling thread, in due-time order (ties in creation order), with the clock set
/// to each timer's due time while its callback runs; a timer created or re-armed by a callback for a time inside
/// the same advance fires in that advance too. Deterministic: the same calls give the same firings.
/// The simulator runs whole races on it: its driver needs <see cref="AdvanceToNextTimer"/> (the next due timer, within a
/// limit), which FakeTimeProvider (Microsoft.Extensions.TimeProvider.Testing, what unit tests that only move a clock by
/// hand use) does not offer. The test kit's ManualTimeProvider is this clock under the name tests use.
/// </summary>
internal class VirtualClock : TimeProvider
{
    /// <summary>The default start: 2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();

    // Every live (created, not disposed) timer, and the armed ones by (due time, arming sequence). A re-armed or
    // disposed timer's old entry stays in the queue and is skipped when it comes up (it no longer matches the timer's
    // due time and sequence), so arming, cancelling and firing are O(log n) however many timers there are: a
    // simulation with thousands of interfaces arms thousands of timers, and a scan per firing made it quadratic.
    private readonly HashSet<ManualTimer> _timers = [];
    private readonly PriorityQueue<ManualTimer, (long Due, long Sequence)> _queue = new();
    private readonly DateTimeOffset _start;
    private long _elapsedTicks;
    private long _sequence;
    private bool _advancing;

    /// <summary>Creates a clock at <paramref name="start"/> (default <see cref="DefaultStart"/>).</summary>
    public VirtualClock(DateTimeOffset? start = null) => _start = start ?? DefaultStart;

    /// <summary>Stopwatch ticks are 100 ns, like <see cref="TimeSpan"/> ticks.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc/>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Virtual time elapsed since the start.</summary>
    public TimeSpan Elapsed
    {
        get
        {
            lock (_lock)
            {
                return TimeSpan.FromTicks(_elapsedTicks);
            }
        }
    }

    /// <summary>How many timers are armed.</summary>
    public int ArmedTimerCount
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count(t => t.DueTicks is not null);
            }
        }
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _start.AddTicks(_elapsedTicks);
        }
    }

    /// <inheritdoc/>
    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _elapsedTicks;
        }
    }

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// Moves the clock forward by <paramref name="delta"/>, firing every timer that falls due on the way.
    /// Not re-entrant: a timer callback must not call it.
    /// </summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "Time only moves forward.");
        }

        long target;
        lock (_lock)
        {
            if (_advancing)
            {
                throw new InvalidOperationException("Advance was called from a timer callback; advance the clock from the test only.");
            }

            _advancing = true;
            target = _elapsedTicks + delta.Ticks;
        }

        try
        {
            while (true)
            {
                ManualTimer? next;
                lock (_lock)
                {
                    next = PeekArmed() is { } first && first.DueTicks <= target ? first : null;
                    if (next is null)
                    {
                        _elapsedTicks = target;
                        return;
                    }

                    _elapsedTicks = Math.Max(_elapsedTicks, next.DueTicks!.Value);
                    _queue.Dequeue();
                    if (next.PeriodTicks is { } period)
                    {
                        next.DueTicks += period;
                        next.Sequence = ++_sequence;
                        _queue.Enqueue(next, (next.DueTicks.Value, next.Sequence));
                    }
                    else
                    {
                        next.DueTicks = null;
                    }
                }

                next.Fire();
            }
        }
        finally
        {
            lock (_lock)
            {
                _advancing = false;
            }
        }
    }

    /// <summary>
    /// Moves the clock to the earliest armed timer's due time (firing it and any due with it), if one is due no later
    /// than <paramref name="limit"/> from now. Returns false, without moving, when none is.
    /// </summary>
    public bool AdvanceToNextTimer(TimeSpan limit)
    {
        long? next;
        long now;
        lock (_lock)
        {
            now = _elapsedTicks;
            next = PeekArmed()?.DueTicks;
        }

        if (next is not { } due || due - now > limit.Ticks)
        {
            return false;
        }

        Advance(TimeSpan.FromTicks(Math.Max(0, due - now)));
        return true;
    }

    /// <summary>Advances by whole milliseconds (reads well in tests: <c>Advance(250)</c>).</summary>
    public void AdvanceMilliseconds(double milliseconds) => Advance(TimeSpan.FromMilliseconds(milliseconds));

    private void Arm(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_lock)
        {
            if (!_timers.Contains(timer))
            {
                return; // disposed
            }

            timer.DueTicks = dueTime == Timeout.InfiniteTimeSpan ? null : _elapsedTicks + Math.Max(0, dueTime.Ticks);
            timer.PeriodTicks = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? null : period.Ticks;
            timer.Sequence = ++_sequence;
            if (timer.DueTicks is { } due)
            {
                _queue.Enqueue(timer, (due, timer.Sequence));
                CompactIfStale();
            }
        }
    }

    private void Remove(ManualTimer timer)
    {
        lock (_lock)
        {
            if (_timers.Remove(timer))
            {
                timer.DueTicks = null; // its queue entry, if any, is stale from now on
            }
        }
    }

    /// <summary>The armed timer that fires next (earliest due time, then earliest armed), dropping stale entries on the way. Under the lock.</summary>
    private ManualTimer? PeekArmed()
    {
        while (_queue.TryPeek(out var timer, out var key))
        {
            if (timer.DueTicks == key.Due && timer.Sequence == key.Sequence)
            {
                return timer;
            }

            _queue.Dequeue();
        }

        return null;
    }

    /// <summary>
    /// Rebuilds the queue when stale entries outnumber the armed timers (timers re-armed again and again before they
    /// fire, as a retry timer is), so the queue stays proportional to the timers that exist. Under the lock.
    /// </summary>
    private void CompactIfStale()
    {
        if (_queue.Count <= 64 || _queue.Count <= 2 * _timers.Count)
        {
            return;
        }

        _queue.Clear();
        foreach (var t in _timers)
        {
            if (t.DueTicks is { } due)
            {
                _queue.Enqueue(t, (due, t.Sequence));
            }
        }
    }

    private sealed class ManualTimer(VirtualClock owner, TimerCallback callback, object? state) : ITimer
    {
        public long? DueTicks { get; set; }

        public long? PeriodTicks { get; set; }

        public long Sequence { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "A due time is positive, zero or infinite.");
            }

            owner.Arm(this, dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
