using HeMif.Kernel;

namespace HeMif.Simulation;

/// <summary>
/// Runs an actor system on a <see cref="VirtualClock"/> as fast as the machine allows: wait until nothing is left to
/// do but wait for the clock (<see cref="ActorSystem.WhenIdleAsync"/>), then move the clock to the next timer. A race
/// that takes seconds of virtual time takes milliseconds of wall time, and the same inputs give the same timeline.
/// </summary>
internal static class VirtualTimeDriver
{
    /// <summary>
    /// Advances until <paramref name="done"/> holds. Returns false if the clock would have to pass
    /// <paramref name="limit"/> (virtual time from now) or no timer is left that could change anything.
    /// </summary>
    public static async Task<bool> RunUntilAsync(ActorSystem system, VirtualClock clock, Func<bool> done, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(done);
        var end = clock.Elapsed + limit;
        while (true)
        {
            await system.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
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
}
