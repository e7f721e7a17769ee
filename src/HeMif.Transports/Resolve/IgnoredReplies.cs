namespace HeMif.Transports.Resolve;

/// <summary>
/// The replies a listener ignored (spoofed, mismatched, malformed), for its result's note: every one is counted, but
/// only the first <see cref="MaxReasons"/> distinct reasons are kept. A flood of spoofed datagrams, each with a reason
/// of the attacker's choosing (another question name, another source port), then costs a counter, not memory.
/// Not thread-safe: one listener owns it.
/// </summary>
internal sealed class IgnoredReplies
{
    /// <summary>How many distinct reasons a note names at most.</summary>
    public const int MaxReasons = 8;

    private readonly List<string> _reasons = new(MaxReasons);

    /// <summary>How many replies were ignored.</summary>
    public int Count { get; private set; }

    /// <summary>The distinct reasons kept, in the order first seen.</summary>
    public IReadOnlyList<string> Reasons => _reasons;

    /// <summary>Whether some distinct reasons were left out.</summary>
    public bool Truncated { get; private set; }

    /// <summary>Counts one ignored reply and keeps its reason if it is new and there is room.</summary>
    public void Add(string reason)
    {
        Count++;
        if (_reasons.Contains(reason, StringComparer.Ordinal))
        {
            return;
        }

        if (_reasons.Count < MaxReasons)
        {
            _reasons.Add(reason);
        }
        else
        {
            Truncated = true;
        }
    }

    /// <summary>The kept reasons joined by <paramref name="separator"/>, with "…" when some were left out.</summary>
    public string Describe(string separator) => string.Join(separator, _reasons) + (Truncated ? separator + "…" : "");
}
