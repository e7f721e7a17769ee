using HeMif.Engine;
using HeMif.Simulation;

namespace HeMif.TestKit;

/// <summary>
/// Drives a virtual-time engine from a test: every call runs the engine's pump on the test's thread and moves the
/// virtual clock only when nothing else is left to do, so "no attempt on cellular within 2 s" is exact. Asks and
/// other tasks of the engine complete only while it is driven: <see cref="Await{T}"/> drives until they do.
/// </summary>
internal sealed class EngineDriver(HeMifEngine engine, VirtualClock clock)
{
    /// <summary>How much virtual time a condition may take before the test fails.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>The engine driven.</summary>
    public HeMifEngine Engine => engine;

    /// <summary>Runs until <paramref name="done"/> holds; false when virtual time ran out first.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan? limit = null) =>
        VirtualTimeDriver.RunUntil(engine.Pump ?? throw new InvalidOperationException("The engine does not run in virtual time."), clock, done, limit ?? Limit);

    /// <summary>Runs until <paramref name="done"/> holds; throws when virtual time ran out first.</summary>
    public void Until(Func<bool> done, TimeSpan? limit = null)
    {
        if (!RunUntil(done, limit))
        {
            throw new TestKitException($"Virtual time ran out (after {(limit ?? Limit).TotalSeconds} s) before the condition held.");
        }
    }

    /// <summary>Runs everything that is ready, without moving the clock.</summary>
    public void Idle()
    {
        var pump = engine.Pump!;
        pump.RunUntilIdle();
        pump.ThrowIfForeignWork();
    }

    /// <summary>Moves the clock by <paramref name="delta"/>, running the engine between the timers it passes.</summary>
    public void Advance(TimeSpan delta) => VirtualTimeDriver.Advance(engine.Pump!, clock, delta);

    /// <summary>Drives until <paramref name="task"/> completes and returns its result (or throws its exception).</summary>
    public T Await<T>(Task<T> task)
    {
        Until(() => task.IsCompleted);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Drives until <paramref name="task"/> completes (or throws its exception).</summary>
    public void Await(Task task)
    {
        Until(() => task.IsCompleted);
        task.GetAwaiter().GetResult();
    }
}
