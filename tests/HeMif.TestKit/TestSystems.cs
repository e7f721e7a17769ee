using HeMif.Kernel;

namespace HeMif.TestKit;

/// <summary>Actor systems for tests: a manual clock and quiescence tracking, so every timing assertion is exact.</summary>
internal static class TestSystems
{
    /// <summary>A system on <paramref name="time"/> that tracks quiescence, with immediate restarts unless told otherwise.</summary>
    public static ActorSystem Create(ManualTimeProvider time, SupervisorStrategy? guardianStrategy = null, string name = "test") =>
        ActorSystem.Create(name, new ActorSystemSettings
        {
            TimeProvider = time,
            TrackQuiescence = true,
            GuardianStrategy = guardianStrategy ?? new SupervisorStrategy(_ => Directive.Restart, 10, TimeSpan.FromMinutes(1), RestartBackoff.None),
        });
}
