namespace HeMif.Kernel;

/// <summary>
/// One actor's timers. Driven only by the system's <see cref="TimeProvider"/>; a firing posts a
/// <see cref="TimerFired"/> to the actor, and the generation check at delivery makes <c>CancelTimer</c> exact:
/// once it returns, the message is never delivered, even if the timer had already fired and was queued.
/// Touched only from the owning actor's loop, except the <see cref="ITimer"/> callbacks, which only Tell.
/// </summary>
internal sealed class ActorTimers(ActorCell owner)
{
    private readonly Dictionary<object, Entry> _timers = [];
    private long _generation;

    public void ScheduleOnce(object key, object message, TimeSpan delay) => Start(key, message, delay, Timeout.InfiniteTimeSpan);

    public void ScheduleRepeatedly(object key, object message, TimeSpan initialDelay, TimeSpan interval)
    {
        if (interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "A repeating timer's interval must be positive.");
        }

        Start(key, message, initialDelay, interval);
    }

    public void Cancel(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_timers.Remove(key, out var entry))
        {
            entry.Timer.Dispose();
        }
    }

    public bool IsActive(object key) => _timers.ContainsKey(key);

    public void CancelAll()
    {
        foreach (var entry in _timers.Values)
        {
            entry.Timer.Dispose();
        }

        _timers.Clear();
    }

    /// <summary>Returns the message to deliver for a firing, or null when the timer was cancelled or replaced.</summary>
    public object? Accept(TimerFired fired)
    {
        if (!_timers.TryGetValue(fired.Key, out var entry) || entry.Generation != fired.Generation)
        {
            return null;
        }

        if (!entry.Repeating)
        {
            _timers.Remove(fired.Key);
            entry.Timer.Dispose();
        }

        return fired.Message;
    }

    private void Start(object key, object message, TimeSpan delay, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        if (delay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delay), delay, "A timer's delay must not be negative.");
        }

        Cancel(key);
        var fired = new TimerFired(key, ++_generation, message);
        var timer = owner.System.TimeProvider.CreateTimer(static state => ((Tick)state!).Post(), new Tick(owner, fired), delay, period);
        _timers[key] = new Entry(timer, fired.Generation, period != Timeout.InfiniteTimeSpan);
    }

    private sealed record Entry(ITimer Timer, long Generation, bool Repeating);

    private sealed class Tick(ActorCell owner, TimerFired fired)
    {
        public void Post() => owner.Tell(fired);
    }
}
