namespace HeMif.Validate;

/// <summary>
/// Exponential backoff between restarts of a crashed probe: <c>min(Max, Min · Factorⁿ) · (1 + Jitter · r)</c> where n
/// is the number of restarts already made inside the budget window and r is drawn uniformly from [0, 1) by the
/// settings' random source. <see cref="None"/> re-runs at once.
/// </summary>
internal sealed record RestartBackoff(TimeSpan Min, TimeSpan Max, double Factor, double Jitter)
{
    /// <summary>Re-run immediately, no delay.</summary>
    public static readonly RestartBackoff None = new(TimeSpan.Zero, TimeSpan.Zero, 1, 0);

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
/// At most <paramref name="budget"/> restarts within a sliding <paramref name="window"/>, measured on HeMif's clock
/// (Akka's own retry window runs on the wall clock, which virtual time never moves).
/// </summary>
internal sealed class RestartBudget(int budget, TimeSpan window, TimeProvider clock)
{
    private readonly Queue<long> _restarts = new();

    /// <summary>How many restarts the window holds now (the n of <see cref="RestartBackoff.DelayFor"/>).</summary>
    public int InWindow
    {
        get
        {
            Expire();
            return _restarts.Count;
        }
    }

    /// <summary>Takes one restart from the budget; false when the budget is spent (the child is then given up).</summary>
    public bool TryTake()
    {
        Expire();
        if (_restarts.Count >= budget)
        {
            return false;
        }

        _restarts.Enqueue(clock.GetTimestamp());
        return true;
    }

    private void Expire()
    {
        while (_restarts.Count > 0 && clock.GetElapsedTime(_restarts.Peek()) >= window)
        {
            _restarts.Dequeue();
        }
    }
}
