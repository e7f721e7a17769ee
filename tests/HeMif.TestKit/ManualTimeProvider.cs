using HeMif.Simulation;

namespace HeMif.TestKit;

/// <summary>
/// The test kit's manual clock: the engine's <see cref="VirtualClock"/> (which the simulator also runs on), under
/// the name tests use. <c>Advance</c> fires due timers in due-time order, deterministically.
/// </summary>
internal sealed class ManualTimeProvider(DateTimeOffset? start = null) : VirtualClock(start);
