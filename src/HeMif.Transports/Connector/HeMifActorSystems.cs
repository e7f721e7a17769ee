using Akka.Actor;
using Akka.Configuration;
using HeMif.Runtime;

namespace HeMif;

/// <summary>
/// What an application's actor system needs so that HeMif's actors keep one clock in it: Akka's scheduler over the
/// application's <see cref="TimeProvider"/> (the host's <c>WithHeMif</c> adds this to the system's HOCON).
/// </summary>
internal static class HeMifActorSystems
{
    /// <summary>
    /// The HOCON that makes a system's scheduler follow <paramref name="clock"/>, and the action that forgets the
    /// clock's registration once that system has terminated (call it with the system when it has started).
    /// </summary>
    public static (Config Hocon, Action<ActorSystem> Started) SchedulerFor(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (ReferenceEquals(clock, TimeProvider.System))
        {
            return (HeMifActorSystem.SchedulerConfig(null), _ => { });
        }

        var key = ClockRegistry.Register(new ClockBinding(clock, null));
        return (HeMifActorSystem.SchedulerConfig(key), system =>
            system.WhenTerminated.ContinueWith(_ => ClockRegistry.Remove(key), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
    }

    /// <summary>
    /// Why <paramref name="system"/>'s timers would not follow <paramref name="clock"/> (its scheduler is not HeMif's on
    /// that clock), or null when they do. Timers on a second clock would make races and validation disagree with the
    /// application's clock.
    /// </summary>
    public static string? ClockMismatch(ActorSystem system, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(clock);
        if (system.Scheduler is TimeProviderScheduler ours)
        {
            return ReferenceEquals(ours.Clock, clock) ? null
                : $"actor system '{system.Name}' runs HeMif's scheduler on another TimeProvider than the application's";
        }

        return ReferenceEquals(clock, TimeProvider.System) ? null
            : $"actor system '{system.Name}' runs Akka's own scheduler (wall clock), but the application's TimeProvider is {clock.GetType().Name}";
    }
}
