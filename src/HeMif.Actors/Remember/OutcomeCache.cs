namespace HeMif.Remember;

/// <summary>Where a connection went: host (case-insensitive) and port.</summary>
internal readonly record struct Destination
{
    public Destination(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Host = host.TrimEnd('.').ToLowerInvariant();
        Port = port;
    }

    public string Host { get; }

    public int Port { get; }

    public override string ToString() => $"{Host}:{Port}";
}

/// <summary>What the cache knows about one interface and destination.</summary>
/// <param name="SmoothedRtt">RFC 6298 §2 smoothed handshake RTT of the successes (null before the first).</param>
/// <param name="RecentFailures">Failures since the last success.</param>
/// <param name="LastSucceeded">Whether the last outcome was a success.</param>
/// <param name="QuicBlocked">The last QUIC verdict on this path: true blocked, false reachable, null unknown.</param>
/// <param name="UpdatedAt">When it was last written (for ageing).</param>
internal sealed record OutcomeEntry(TimeSpan? SmoothedRtt, int RecentFailures, bool LastSucceeded, bool? QuicBlocked, DateTimeOffset UpdatedAt);

/// <summary>
/// The outcome cache of one interface (draft §5.2.3): "The node would cache information regarding the outcome of each
/// connection attempt. Cache entries would be flushed periodically. A system-defined timeout may take place to age the
/// state. Maximum on the order of 10 minutes … is recommended". Kept per interface identity — RFC 8305 §4: history
/// "MUST NOT be used across different network interfaces and SHOULD be flushed whenever a device changes the network
/// to which it is attached" — so the owning InterfaceSupervisor flushes it when the interface's addresses, PvD or link
/// change. Not thread-safe: it belongs to one actor.
/// </summary>
internal sealed class OutcomeCache
{
    /// <summary>Draft §5.2.3: "Maximum on the order of 10 minutes".</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromMinutes(10);

    private readonly TimeProvider _time;
    private readonly Dictionary<Destination, OutcomeEntry> _entries = [];

    public OutcomeCache(TimeProvider time, TimeSpan? maxAge = null)
    {
        _time = time;
        MaxAge = maxAge ?? DefaultMaxAge;
        if (MaxAge <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAge), MaxAge, "The outcome cache's maximum age must be positive.");
        }
    }

    public TimeSpan MaxAge { get; }

    /// <summary>How many entries are held (aged ones included until looked up or pruned).</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Records a success with its handshake RTT: RFC 6298 §2 smoothing, SRTT ← 7/8·SRTT + 1/8·R (the first sample
    /// sets it), and the failure count starts again.
    /// </summary>
    public void RecordSuccess(Destination destination, TimeSpan rtt)
    {
        var previous = Current(destination);
        var srtt = previous?.SmoothedRtt is { } s ? (s * 7 / 8) + (rtt / 8) : rtt;
        _entries[destination] = new OutcomeEntry(srtt, 0, true, previous?.QuicBlocked, _time.GetUtcNow());
    }

    /// <summary>Records a failed attempt; the RTT history is kept.</summary>
    public void RecordFailure(Destination destination)
    {
        var previous = Current(destination);
        _entries[destination] = new OutcomeEntry(previous?.SmoothedRtt, (previous?.RecentFailures ?? 0) + 1, false, previous?.QuicBlocked, _time.GetUtcNow());
    }

    /// <summary>Records whether QUIC got through on this path.</summary>
    public void RecordQuicVerdict(Destination destination, bool blocked)
    {
        var previous = Current(destination);
        _entries[destination] = (previous ?? new OutcomeEntry(null, 0, false, null, default)) with { QuicBlocked = blocked, UpdatedAt = _time.GetUtcNow() };
    }

    /// <summary>What is known, or null when nothing is, or it is older than <see cref="MaxAge"/> (then it is dropped).</summary>
    public OutcomeEntry? Lookup(Destination destination) => Current(destination);

    /// <summary>Forgets everything (the interface changed network).</summary>
    public void Flush() => _entries.Clear();

    /// <summary>Drops every aged entry ("Cache entries would be flushed periodically").</summary>
    public int Prune()
    {
        var now = _time.GetUtcNow();
        var aged = _entries.Where(e => now - e.Value.UpdatedAt >= MaxAge).Select(e => e.Key).ToList();
        aged.ForEach(k => _entries.Remove(k));
        return aged.Count;
    }

    private OutcomeEntry? Current(Destination destination)
    {
        if (!_entries.TryGetValue(destination, out var entry))
        {
            return null;
        }

        if (_time.GetUtcNow() - entry.UpdatedAt >= MaxAge)
        {
            _entries.Remove(destination);
            return null;
        }

        return entry;
    }
}
