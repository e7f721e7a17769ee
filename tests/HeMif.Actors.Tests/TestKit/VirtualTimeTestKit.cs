using Akka.Actor;
using Akka.Configuration;
using HeMif.Runtime;
using HeMif.Simulation;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>
/// Akka.TestKit.Xunit2's <see cref="Akka.TestKit.Xunit2.TestKit"/> on HeMif's own runtime in virtual time, for testing
/// one actor at a time with <see cref="Akka.TestKit.TestProbe"/>s: the actor system is
/// <see cref="HeMifActorSystem.Create"/>'s, with <see cref="TimeProviderScheduler"/> over a <see cref="ManualTimeProvider"/>
/// (<see cref="Clock"/>) and every dispatcher on one <see cref="VirtualTimePump"/> (<see cref="Pump"/>) that the test's
/// own thread runs. Nothing moves unless the test moves it, so the same test always sees the same messages at the
/// same virtual instants.
/// <para>
/// The pattern: send, <see cref="Idle"/> (or <see cref="Advance"/>), then expect. The test actor and every probe use
/// the TestKit's calling-thread dispatcher, so what an actor tells them while the pump runs is already in their queue
/// when the pump stops: <c>ExpectMsg</c> and <c>ExpectNoMsg</c> only look, they never wait (this kit sets
/// <c>akka.test.single-expect-default</c> and <c>akka.test.expect-no-message-default</c> to zero, so an expectation
/// without a timeout does not wait on the wall clock either). "No attempt on cellular within 2 s" reads
/// <c>Advance(TimeSpan.FromSeconds(2)); transport.ExpectNoMsg(TimeSpan.Zero);</c> and is exact.
/// </para>
/// <para>
/// A fake that completes a task an actor awaits (a transport's handshake, a probe's verdict) does so from the test's
/// thread, which carries xunit's and the TestKit's <see cref="SynchronizationContext"/>: with one in place the actor's
/// continuation is posted to the thread pool instead of running here. Complete such tasks on the clock (a timer fires
/// inside <see cref="Advance"/>, where no context is set) or inside <c>using (VirtualTimePump.WithoutContext())</c>.
/// </para>
/// <para>
/// At dispose the system's shutdown is pumped (timers fire if it waits on one) until every actor has stopped, the
/// clock's registration ends with the system, and the test fails if any work reached the pump from another thread
/// (a continuation that left for the thread pool would make the run depend on the machine's timing).
/// </para>
/// </summary>
public abstract class VirtualTimeTestKit : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>How much virtual time <see cref="AdvanceUntil"/> and the shutdown at dispose may take before they fail.</summary>
    protected static readonly TimeSpan Limit = TimeSpan.FromMinutes(30);

    // The TestKit's defaults (akka.test, the calling-thread dispatcher of the test actor and probes) under HeMif's
    // runtime; expectations look at what is there now instead of waiting 3 s of wall-clock time for it.
    private static readonly Config TestKitConfig = ConfigurationFactory.ParseString(
        """
        akka.test.single-expect-default = 0s
        akka.test.expect-no-message-default = 0s
        """).WithFallback(DefaultConfig);

    private bool _terminated;

    /// <summary>A system named <c>test</c> at <see cref="VirtualClock.DefaultStart"/>, with nothing run yet but its start.</summary>
    protected VirtualTimeTestKit()
        : this(new ManualTimeProvider(), new VirtualTimePump())
    {
    }

    private VirtualTimeTestKit(ManualTimeProvider clock, VirtualTimePump pump)
        : base(StartSystem(clock, pump))
    {
        Clock = clock;
        Pump = pump;
    }

    /// <summary>The system's one clock: every timer, backoff and ask timeout of the actors under test follows it.</summary>
    internal ManualTimeProvider Clock { get; }

    /// <summary>The one executor of every dispatcher; the test's thread runs it (<see cref="Idle"/>, <see cref="Advance"/>).</summary>
    internal VirtualTimePump Pump { get; }

    /// <summary>Virtual time since the system started.</summary>
    protected TimeSpan Elapsed => Clock.Elapsed;

    /// <summary>Runs every actor that has work until none has, without moving the clock (and without the test thread's SynchronizationContext).</summary>
    protected void Idle()
    {
        Pump.RunUntilIdle();
        Pump.ThrowIfForeignWork();
    }

    /// <summary>
    /// Moves the clock by <paramref name="delta"/>: the actors run until idle, then the clock goes to the next timer
    /// due within it and fires it, and again; the clock ends exactly <paramref name="delta"/> later with the actors idle.
    /// </summary>
    protected void Advance(TimeSpan delta) => VirtualTimeDriver.Advance(Pump, Clock, delta);

    /// <summary>
    /// Runs the actors and moves the clock timer by timer until <paramref name="done"/> holds; fails the test when it
    /// still does not after <paramref name="limit"/> (default <see cref="Limit"/>) of virtual time, or when no timer is left.
    /// </summary>
    protected void AdvanceUntil(Func<bool> done, TimeSpan? limit = null)
    {
        if (!VirtualTimeDriver.RunUntil(Pump, Clock, done, limit ?? Limit))
        {
            throw new TestKitException($"The condition did not hold after {Elapsed} of virtual time (limit {limit ?? Limit} from the start of the wait, or no timer was left).");
        }
    }

    /// <summary>
    /// The result of <paramref name="task"/>, which must have completed successfully by now (an actor completes it on
    /// the pump, so after <see cref="Idle"/> or <see cref="Advance"/> it either has or the test fails; this never waits).
    /// </summary>
    protected static T Completed<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        Assert.True(task.IsCompletedSuccessfully, $"The task has not completed successfully by now: {task.Status} {task.Exception?.InnerException?.Message}");
        return task.Result;
    }

    /// <summary>Creates a top-level actor and runs its start (its constructor and <c>PreStart</c>) before returning.</summary>
    protected IActorRef Start(Props props, string? name = null)
    {
        var actor = name is null ? Sys.ActorOf(props) : Sys.ActorOf(props, name);
        Idle();
        return actor;
    }

    /// <summary>Terminates the system on the pump (see the class summary), then lets the TestKit finish its own dispose.</summary>
    protected override void Dispose(bool disposing)
    {
        if (!disposing || _terminated)
        {
            base.Dispose(disposing);
            return;
        }

        _terminated = true;
        try
        {
            HeMifActorSystem.TerminateVirtualAsync(Sys, Pump, Clock, Limit).GetAwaiter().GetResult();
            Pump.ThrowIfForeignWork();
        }
        finally
        {
            base.Dispose(disposing); // the system has terminated: the TestKit's own shutdown finds nothing left to wait for
        }
    }

    private static ActorSystem StartSystem(ManualTimeProvider clock, VirtualTimePump pump)
    {
        var system = HeMifActorSystem.Create("test", clock, pump, TestKitConfig);
        pump.RunUntilIdle(); // the guardians start before the TestKit creates its test actor under them
        return system;
    }
}
