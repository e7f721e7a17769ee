using System.Globalization;
using Akka.Actor;
using Akka.Configuration;

namespace HeMif.Runtime;

/// <summary>
/// The actor systems HeMif creates for itself (outside an application's own Akka.Hosting system): real time on the
/// thread pool, or virtual time on one <see cref="VirtualTimePump"/>, both with every timer on one
/// <see cref="TimeProvider"/> (<see cref="TimeProviderScheduler"/>) and Akka's logging kept off stdout.
/// </summary>
internal static class HeMifActorSystem
{
    /// <summary>The assembly-qualified name of <see cref="TimeProviderScheduler"/> for <c>akka.scheduler.implementation</c>.</summary>
    public static readonly string SchedulerType = TypeName(typeof(TimeProviderScheduler));

    private static readonly string ExecutorType = TypeName(typeof(PumpedExecutorConfigurator));
    private static readonly string LoggerType = TypeName(typeof(SilentAkkaLogger));

    /// <summary>
    /// The HOCON that puts an actor system on <paramref name="clockKey"/>'s clock (null: <see cref="TimeProvider.System"/>).
    /// An application's own system gets this through <c>WithHeMif</c>.
    /// </summary>
    public static Config SchedulerConfig(string? clockKey) => ConfigurationFactory.ParseString(
        $"""
         akka.scheduler.implementation = "{SchedulerType}"
         {(clockKey is null ? "" : $"{ClockRegistry.ConfigKey} = \"{clockKey}\"")}
         """);

    /// <summary>
    /// Creates a system named <paramref name="name"/> on <paramref name="clock"/>; with <paramref name="pump"/>, every
    /// dispatcher runs on it (virtual time: the driver pumps). The clock's registration ends with the system.
    /// <paramref name="fallback"/> is configuration under HeMif's, for settings HeMif does not make (the actor tests pass
    /// Akka.TestKit's defaults: its <c>akka.test</c> section and the test actor's dispatcher); HeMif's scheduler,
    /// executors and logger win over it.
    /// </summary>
    public static ActorSystem Create(string name, TimeProvider clock, VirtualTimePump? pump = null, Config? fallback = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(clock);
        var key = ClockRegistry.Register(new ClockBinding(clock, pump));
        try
        {
            var config = ConfigurationFactory.ParseString(Hocon(pump is not null)).WithFallback(SchedulerConfig(key));
            if (fallback is not null)
            {
                config = config.WithFallback(fallback);
            }

            var system = ActorSystem.Create(name, config);
            _ = system.WhenTerminated.ContinueWith(_ => ClockRegistry.Remove(key), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return system;
        }
        catch
        {
            ClockRegistry.Remove(key);
            throw;
        }
    }

    /// <summary>
    /// Terminates a virtual-time system: its actors stop only when the pump runs them, so the shutdown is pumped until the
    /// root guardian has stopped (timers fire if the shutdown waits on one); Akka then completes
    /// <see cref="ActorSystem.WhenTerminated"/> from the thread pool, which is awaited last. Gives up, saying so, if the
    /// actors have not stopped after <paramref name="limit"/> of virtual time.
    /// </summary>
    public static async Task TerminateVirtualAsync(ActorSystem system, VirtualTimePump pump, Simulation.VirtualClock clock, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(pump);
        ArgumentNullException.ThrowIfNull(clock);
        _ = system.Terminate();
        var stopped = ((ExtendedActorSystem)system).Provider.TerminationTask; // completed as the root guardian stops
        var end = clock.Elapsed + limit;
        using (VirtualTimePump.WithoutContext())
        {
            Pump(system, pump, clock, stopped, end, limit);
        }

        await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    private static void Pump(ActorSystem system, VirtualTimePump pump, Simulation.VirtualClock clock, Task stopped, TimeSpan end, TimeSpan limit)
    {
        while (!stopped.IsCompleted)
        {
            if (pump.RunUntilIdle() > 0 || stopped.IsCompleted)
            {
                continue;
            }

            if (clock.Elapsed > end || !clock.AdvanceToNextTimer(end - clock.Elapsed))
            {
                throw new InvalidOperationException($"The virtual-time actor system '{system.Name}' did not stop its actors within {limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s of virtual time.");
            }
        }
    }

    private static string Hocon(bool pumped)
    {
        var executor = pumped
            ? $"""
               akka.actor.default-dispatcher.executor = "{ExecutorType}"
               akka.actor.internal-dispatcher.executor = "{ExecutorType}"
               akka.actor.default-blocking-io-dispatcher.executor = "{ExecutorType}"
               akka.coordinated-shutdown.run-by-actor-system-terminate = off
               """
            : "";
        return $"""
                akka.loglevel = WARNING
                akka.stdout-loglevel = OFF
                akka.loggers = ["{LoggerType}"]
                akka.stdout-logger-class = "{LoggerType}"
                akka.log-dead-letters = off
                akka.log-dead-letters-during-shutdown = off
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                {executor}
                """;
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
