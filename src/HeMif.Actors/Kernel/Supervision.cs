namespace HeMif.Kernel;

/// <summary>What a supervisor does with a child that threw (Akka's directives).</summary>
internal enum Directive
{
    /// <summary>Keep the actor and its state; drop the failed message and go on with the next.</summary>
    Resume,

    /// <summary>Discard the actor's state, create a fresh instance from its <see cref="Props"/>, keep the mailbox.</summary>
    Restart,

    /// <summary>Stop the actor (and its children).</summary>
    Stop,

    /// <summary>Suspend the actor and let the supervisor's own supervisor decide, as if the supervisor had failed.</summary>
    Escalate,
}

/// <summary>
/// Exponential backoff between restarts: <c>min(Max, Min · Factorⁿ) · (1 + Jitter · r)</c> where n is the number
/// of restarts already made inside the budget window and r is drawn uniformly from [0, 1) by the strategy's
/// random source. <see cref="None"/> restarts at once.
/// </summary>
internal sealed record RestartBackoff(TimeSpan Min, TimeSpan Max, double Factor, double Jitter)
{
    /// <summary>Restart immediately, no delay.</summary>
    public static readonly RestartBackoff None = new(TimeSpan.Zero, TimeSpan.Zero, 1, 0);

    /// <summary>100 ms doubling up to 30 s, with up to 20 % jitter.</summary>
    public static readonly RestartBackoff Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 2, 0.2);

    /// <summary>The delay before restart number <paramref name="restartsSoFar"/> + 1.</summary>
    public TimeSpan DelayFor(int restartsSoFar, double random01)
    {
        if (Min <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        var raw = Min.TotalMilliseconds * Math.Pow(Factor, restartsSoFar);
        var capped = Math.Min(Max.TotalMilliseconds, raw);
        return TimeSpan.FromMilliseconds(capped * (1 + (Jitter * random01)));
    }

    /// <summary>Throws when the numbers make no sense, naming the one that is wrong.</summary>
    public void Validate()
    {
        if (Min < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Min), Min, "The minimum restart backoff must not be negative.");
        }

        if (Max < Min)
        {
            throw new ArgumentOutOfRangeException(nameof(Max), Max, $"The maximum restart backoff must be at least the minimum ({Min}).");
        }

        if (Factor < 1 || double.IsNaN(Factor) || double.IsInfinity(Factor))
        {
            throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "The backoff factor must be a finite number >= 1.");
        }

        if (Jitter < 0 || Jitter > 1 || double.IsNaN(Jitter))
        {
            throw new ArgumentOutOfRangeException(nameof(Jitter), Jitter, "The backoff jitter must be between 0 and 1.");
        }
    }
}

/// <summary>
/// How a parent treats its children's failures (one-for-one: only the failing child is affected).
/// <list type="bullet">
/// <item>The <see cref="Decider"/> maps the exception to a <see cref="Directive"/>.</item>
/// <item>A child may restart at most <see cref="MaxRestarts"/> times within <see cref="Window"/>; one more failure
/// that asks for a restart stops it instead (reported as an <see cref="ActorFailure"/>).</item>
/// <item>Restarts wait <see cref="Backoff"/>; messages arriving meanwhile stay in the mailbox.</item>
/// <item>The message that failed is never redelivered, whatever the directive; it is reported in the
/// <see cref="ActorFailure"/> published on <see cref="ActorSystem.Failures"/>.</item>
/// </list>
/// </summary>
internal sealed class SupervisorStrategy
{
    private readonly Random _random;

    /// <summary>Creates a strategy; <paramref name="random"/> defaults to a shared source (inject a seeded one in tests).</summary>
    public SupervisorStrategy(Func<Exception, Directive> decider, int maxRestarts, TimeSpan window, RestartBackoff backoff, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(decider);
        ArgumentNullException.ThrowIfNull(backoff);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRestarts);
        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "The restart budget window must be positive.");
        }

        backoff.Validate();
        Decider = decider;
        MaxRestarts = maxRestarts;
        Window = window;
        Backoff = backoff;
        _random = random ?? Random.Shared;
    }

    /// <summary>Restart on any exception, at most 10 times a minute, with <see cref="RestartBackoff.Default"/>.</summary>
    public static SupervisorStrategy Default { get; } = new(_ => Directive.Restart, 10, TimeSpan.FromMinutes(1), RestartBackoff.Default);

    /// <summary>Stop on any exception (used for actors whose state cannot be rebuilt).</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new(_ => Directive.Stop, 0, TimeSpan.FromMinutes(1), RestartBackoff.None);

    /// <summary>Maps a child's exception to what happens to the child.</summary>
    public Func<Exception, Directive> Decider { get; }

    /// <summary>How many restarts <see cref="Window"/> allows.</summary>
    public int MaxRestarts { get; }

    /// <summary>The sliding window of the restart budget.</summary>
    public TimeSpan Window { get; }

    /// <summary>The delay before each restart.</summary>
    public RestartBackoff Backoff { get; }

    /// <summary>Decides, turning an exception thrown by the decider itself into <see cref="Directive.Stop"/>.</summary>
    public Directive Decide(Exception exception)
    {
        try
        {
            return Decider(exception);
        }
#pragma warning disable CA1031 // A broken decider must not take the supervisor down with it: stopping the child is the safe answer.
        catch (Exception)
#pragma warning restore CA1031
        {
            return Directive.Stop;
        }
    }

    /// <summary>A uniform draw in [0, 1) from the injected source (serialised: children fail concurrently).</summary>
    public double NextJitter()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
