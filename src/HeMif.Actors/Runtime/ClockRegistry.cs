using System.Collections.Concurrent;
using System.Globalization;

namespace HeMif.Runtime;

/// <summary>
/// What an actor system's <see cref="TimeProviderScheduler"/> runs on: the clock, and for virtual-time runs the pump
/// that every dispatcher of that system executes on.
/// </summary>
/// <param name="Clock">The one clock of the system: every timer, backoff and ask timeout follows it.</param>
/// <param name="Pump">The single-threaded executor of a virtual-time run; null in real time (the thread pool).</param>
internal sealed record ClockBinding(TimeProvider Clock, VirtualTimePump? Pump);

/// <summary>
/// Akka builds its scheduler and executors from configuration alone (a type name and the system's HOCON), so an
/// object such as a <see cref="TimeProvider"/> reaches them through a key written into that HOCON
/// (<see cref="ConfigKey"/>). Registered before the system is created, removed when it has terminated.
/// </summary>
internal static class ClockRegistry
{
    /// <summary>The HOCON path that holds a system's registry key.</summary>
    public const string ConfigKey = "hemif.clock-id";

    private static readonly ConcurrentDictionary<string, ClockBinding> Bindings = new(StringComparer.Ordinal);
    private static long _next;

    /// <summary>Registers <paramref name="binding"/> and returns its key.</summary>
    public static string Register(ClockBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var key = "clock-" + Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture);
        Bindings[key] = binding;
        return key;
    }

    /// <summary>The binding registered under <paramref name="key"/>, or null.</summary>
    public static ClockBinding? Find(string key) => Bindings.TryGetValue(key, out var binding) ? binding : null;

    /// <summary>Forgets <paramref name="key"/> (the system it served has terminated).</summary>
    public static void Remove(string key) => Bindings.TryRemove(key, out _);

    /// <summary>How many bindings are registered (tests check that terminated systems leave none behind).</summary>
    public static int Count => Bindings.Count;
}
