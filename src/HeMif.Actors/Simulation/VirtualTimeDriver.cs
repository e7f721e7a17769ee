using HeMif.Runtime;

namespace HeMif.Simulation;

/// <summary>
/// Runs a virtual-time actor system as fast as the machine allows: run the pump until nothing is left to do but wait
/// for the clock, check the goal, then move the clock to the next timer and fire it, and again. A race that takes
/// seconds of virtual time takes milliseconds of wall time, and the same inputs give the same timeline, because all
/// work runs on the calling thread in one order.
/// </summary>
internal static class VirtualTimeDriver
{
    /// <summary>
    /// Advances until <paramref name="done"/> holds. Returns false if the clock would have to pass
    /// <paramref name="limit"/> (virtual time from now) or no timer is left that could change anything. Throws when work
    /// reached the system from another thread (see <see cref="VirtualTimePump.Strict"/>).
    /// </summary>
    public static bool RunUntil(VirtualTimePump pump, VirtualClock clock, Func<bool> done, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pump);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(done);
        using var noContext = VirtualTimePump.WithoutContext();
        var end = clock.Elapsed + limit;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            pump.RunUntilIdle();
            pump.ThrowIfForeignWork();
            if (done())
            {
                return true;
            }

            var left = end - clock.Elapsed;
            if (left < TimeSpan.Zero || !clock.AdvanceToNextTimer(left))
            {
                return false;
            }
        }
    }

    /// <summary>Runs the pump and fires every timer due up to <paramref name="delta"/> from now, then sets the clock there.</summary>
    public static void Advance(VirtualTimePump pump, VirtualClock clock, TimeSpan delta)
    {
        ArgumentNullException.ThrowIfNull(pump);
        ArgumentNullException.ThrowIfNull(clock);
        using var noContext = VirtualTimePump.WithoutContext();
        var end = clock.Elapsed + delta;
        while (true)
        {
            pump.RunUntilIdle();
            pump.ThrowIfForeignWork();
            var left = end - clock.Elapsed;
            if (left <= TimeSpan.Zero || !clock.AdvanceToNextTimer(left))
            {
                break;
            }
        }

        if (clock.Elapsed < end)
        {
            clock.Advance(end - clock.Elapsed);
        }

        pump.RunUntilIdle();
        pump.ThrowIfForeignWork();
    }
}
