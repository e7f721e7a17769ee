using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace HeMif.Runtime;

/// <summary>
/// Akka's scheduler over a <see cref="TimeProvider"/> (named in HOCON as <c>akka.scheduler.implementation</c>), so that
/// actor timers (<see cref="IWithTimers"/>), receive timeouts and backoffs follow the same clock as the rest of HeMif:
/// the system clock in an application, a virtual clock in the simulator and the tests. The clock comes from the
/// <see cref="ClockRegistry"/> key at <see cref="ClockRegistry.ConfigKey"/>; with no key it is
/// <see cref="TimeProvider.System"/>. Each scheduling call is one <see cref="TimeProvider.CreateTimer"/>, disposed when
/// its cancelable is cancelled.
/// <para>
/// It deliberately does not implement Akka's <c>IDateTimeOffsetNowTimeProvider</c>: with it, Akka would route
/// <c>Cancelable.CancelAfter</c> through this scheduler instead of a real-time token source, which it must not do for
/// the cancelables Akka creates internally.
/// </para>
/// </summary>
internal sealed class TimeProviderScheduler : SchedulerBase
{
    private readonly TimeProvider _clock;
    private readonly long _start;

    /// <summary>The constructor Akka calls (config and log, by reflection).</summary>
    public TimeProviderScheduler(Config config, ILoggingAdapter log)
        : base(config, log)
    {
        var key = config?.GetString(ClockRegistry.ConfigKey, null);
        ClockBinding? binding = null;
        if (!string.IsNullOrEmpty(key))
        {
            binding = ClockRegistry.Find(key)
                      ?? throw new ConfigurationException($"HeMif: no clock is registered under '{key}' ({ClockRegistry.ConfigKey}); the actor system was configured for a clock that no longer exists.");
        }

        _clock = binding?.Clock ?? TimeProvider.System;
        Pump = binding?.Pump;
        _start = _clock.GetTimestamp();
    }

    /// <summary>The clock every timer of this system follows.</summary>
    public TimeProvider Clock => _clock;

    /// <summary>The single executor of a virtual-time system, or null.</summary>
    public VirtualTimePump? Pump { get; }

    /// <inheritdoc/>
    public override TimeSpan MonotonicClock => _clock.GetElapsedTime(_start);

    /// <inheritdoc/>
    public override TimeSpan HighResMonotonicClock => _clock.GetElapsedTime(_start);

    /// <inheritdoc/>
    protected override DateTimeOffset TimeNow => _clock.GetUtcNow();

    /// <inheritdoc/>
    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Arm(delay, Timeout.InfiniteTimeSpan, new TellAction(receiver, message, sender), cancelable);

    /// <inheritdoc/>
    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Arm(initialDelay, interval, new TellAction(receiver, message, sender), cancelable);

    /// <inheritdoc/>
    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Arm(delay, Timeout.InfiniteTimeSpan, new ActionRunnable(action), cancelable);

    /// <inheritdoc/>
    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Arm(delay, Timeout.InfiniteTimeSpan, action, cancelable);

    /// <inheritdoc/>
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Arm(initialDelay, interval, new ActionRunnable(action), cancelable);

    /// <inheritdoc/>
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Arm(initialDelay, interval, action, cancelable);

    private void Arm(TimeSpan delay, TimeSpan period, IRunnable work, ICancelable? cancelable)
    {
        if (cancelable is { IsCancellationRequested: true })
        {
            return;
        }

        var entry = new Entry(work, cancelable, period == Timeout.InfiniteTimeSpan);
        entry.Start(_clock, delay, period);
    }

    /// <summary>One scheduled piece of work and its timer; the timer goes when the work is done or cancelled.</summary>
    private sealed class Entry(IRunnable work, ICancelable? cancelable, bool once)
    {
        private ITimer? _timer;
        private CancellationTokenRegistration _registration;
        private int _done;

        public void Start(TimeProvider clock, TimeSpan delay, TimeSpan period)
        {
            // Created stopped, then armed: a zero delay must not fire before the cancellation hook is in place.
            _timer = clock.CreateTimer(static s => ((Entry)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (cancelable is not null)
            {
                _registration = cancelable.Token.Register(static s => ((Entry)s!).Stop(), this);
            }

            _timer.Change(delay, period);
        }

        private void Fire()
        {
            if (Volatile.Read(ref _done) != 0 || cancelable is { IsCancellationRequested: true })
            {
                return;
            }

            if (once)
            {
                Stop();
            }

            work.Run();
        }

        private void Stop()
        {
            if (Interlocked.Exchange(ref _done, 1) != 0)
            {
                return;
            }

            _timer?.Dispose();
            _registration.Dispose();
        }
    }

    private sealed class TellAction(ICanTell receiver, object message, IActorRef sender) : IRunnable
    {
        public void Run() => receiver.Tell(message, sender);

#pragma warning disable CA1822 // IThreadPoolWorkItem's member
        public void Execute() => Run();
#pragma warning restore CA1822
    }

    private sealed class ActionRunnable(Action action) : IRunnable
    {
        public void Run() => action();

        public void Execute() => Run();
    }
}
