using System.Net.Sockets;

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

/// <summary>How one attempt of a race ended, as the outcome cache keeps it.</summary>
internal enum AttemptVerdict
{
    /// <summary>It connected and won.</summary>
    Won,

    /// <summary>It failed with an answer (RST, ICMP unreachable: a hard error) or with its own timeout.</summary>
    Failed,

    /// <summary>
    /// It stayed silent: it started before the winning attempt on its interface started, and had no answer when that one
    /// connected (a blackhole, or a path far slower than the winner's).
    /// </summary>
    Silent,
}

/// <summary>One attempt of a race, as the race tells the outcome cache about it.</summary>
/// <param name="Family">IPv6 or IPv4.</param>
/// <param name="Transport">TCP or QUIC.</param>
/// <param name="Verdict">How it ended.</param>
internal readonly record struct AttemptSummary(AddressFamily Family, TransportName Transport, AttemptVerdict Verdict);

/// <summary>
/// What the cache knows about one address family on one interface and destination (RFC 8305 §4 keeps history per
/// address; the draft §7.5: "The interface state management in HE-MIF is designed to synchronize with IP family
/// states").
/// </summary>
/// <param name="Won">How many races this family won here.</param>
/// <param name="Silent">Attempts of this family that stayed silent since it last won.</param>
/// <param name="Failed">Attempts of this family that failed since it last won.</param>
internal readonly record struct FamilyHistory(int Won, int Silent, int Failed)
{
    /// <summary>Whether this family has been tried here and did not connect since it last did.</summary>
    public bool Unanswered => Silent + Failed > 0;

    /// <summary>This history with <paramref name="verdict"/> added.</summary>
    public FamilyHistory With(AttemptVerdict verdict) => verdict switch
    {
        AttemptVerdict.Won => new FamilyHistory(Won + 1, 0, 0),
        AttemptVerdict.Silent => this with { Silent = Silent + 1 },
        _ => this with { Failed = Failed + 1 },
    };
}

/// <summary>What the cache knows about one interface and destination.</summary>
/// <param name="SmoothedRtt">RFC 6298 §2 smoothed handshake RTT of the successes (null before the first).</param>
/// <param name="RecentFailures">Failures since the last success.</param>
/// <param name="LastSucceeded">Whether the last outcome was a success.</param>
/// <param name="QuicBlocked">The last QUIC verdict on this path: true blocked, false reachable, null unknown.</param>
/// <param name="UpdatedAt">When it was last written (for ageing).</param>
internal sealed record OutcomeEntry(TimeSpan? SmoothedRtt, int RecentFailures, bool LastSucceeded, bool? QuicBlocked, DateTimeOffset UpdatedAt)
{
    /// <summary>RFC 6298 §2 RTTVAR, the RTT variation (null before the first success).</summary>
    public TimeSpan? RttVariance { get; init; }

    /// <summary>The address family of the last winning attempt here (null: none won yet).</summary>
    public AddressFamily? WinningFamily { get; init; }

    /// <summary>The transport of the last winning attempt here (null: none won yet).</summary>
    public TransportName? WinningTransport { get; init; }

    /// <summary>IPv6's history here.</summary>
    public FamilyHistory IPv6 { get; init; }

    /// <summary>IPv4's history here.</summary>
    public FamilyHistory IPv4 { get; init; }

    /// <summary>The history of <paramref name="family"/>.</summary>
    public FamilyHistory Of(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? IPv6 : IPv4;

    /// <summary>
    /// RFC 6298 §2.3: "RTO &lt;- SRTT + max (G, K*RTTVAR) where K = 4", §2.4: "if it is less than 1 second, then the RTO
    /// SHOULD be rounded up to 1 second", §2.5: "A maximum value MAY be placed on RTO provided it is at least 60
    /// seconds"; null before the first measurement (§2.1: the initial RTO is then 1 second).
    /// </summary>
    public TimeSpan? RetransmissionTimeout => SmoothedRtt is { } srtt
        ? TimeSpan.FromTicks(Math.Clamp((srtt + Max(ClockGranularity, 4 * (RttVariance ?? srtt / 2))).Ticks, OneSecond.Ticks, SixtySeconds.Ticks))
        : null;

    /// <summary>RFC 6298's G: the clock granularity (HeMif's clock reads far finer; one millisecond stands for a kernel's timer).</summary>
    internal static readonly TimeSpan ClockGranularity = TimeSpan.FromMilliseconds(1);

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SixtySeconds = TimeSpan.FromSeconds(60);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

/// <summary>
/// The outcome cache of one interface (draft §5.2.3): "The node would cache information regarding the outcome of each
/// connection attempt. Cache entries would be flushed periodically. A system-defined timeout may take place to age the
/// state. Maximum on the order of 10 minutes … is recommended". Kept per interface identity — RFC 8305 §4: history
/// "MUST NOT be used across different network interfaces and SHOULD be flushed whenever a device changes the network
/// to which it is attached" — so the owning InterfaceSupervisor flushes it when the interface's addresses, PvD or link
/// change. Per entry it keeps the smoothed RTT and its variation, failures, the QUIC verdict, and per address family what
/// won, stayed silent or failed (RFC 8305 §4, draft §7.5), and which family and transport won last.
/// <para>
/// It drops aged entries on its own ("Cache entries would be flushed periodically"): every write prunes what aged,
/// oldest first, at most once per <see cref="PruneInterval"/>, and it never holds more than its capacity (the least
/// recently written entry goes first), so destinations that are never visited again do not pile up. Entries are kept in
/// write order, so both cost what they drop, not what the cache holds. Not thread-safe: it belongs to one actor.
/// </para>
/// </summary>
internal sealed class OutcomeCache
{
    /// <summary>Draft §5.2.3: "Maximum on the order of 10 minutes".</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>The most destinations one interface remembers (beyond it, the least recently written entry goes).</summary>
    public const int DefaultCapacity = 4096;

    private readonly TimeProvider _time;
    private readonly Dictionary<Destination, LinkedListNode<(Destination Key, OutcomeEntry Entry)>> _entries = [];
    private readonly LinkedList<(Destination Key, OutcomeEntry Entry)> _byAge = new();
    private DateTimeOffset _lastPrune;

    public OutcomeCache(TimeProvider time, TimeSpan? maxAge = null, int capacity = DefaultCapacity)
    {
        _time = time;
        MaxAge = maxAge ?? DefaultMaxAge;
        if (MaxAge <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(maxAge), MaxAge, "The outcome cache's maximum age must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _lastPrune = time.GetUtcNow();
    }

    public TimeSpan MaxAge { get; }

    /// <summary>The most entries held.</summary>
    public int Capacity { get; }

    /// <summary>How often a write also drops the aged entries: a tenth of <see cref="MaxAge"/>.</summary>
    public TimeSpan PruneInterval => MaxAge / 10;

    /// <summary>How many entries are held (aged ones included until they are pruned).</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Records a success with its handshake RTT: RFC 6298 §2.2 for the first sample (SRTT ← R, RTTVAR ← R/2), §2.3 after it
    /// (RTTVAR ← 3/4·RTTVAR + 1/4·|SRTT − R'|, SRTT ← 7/8·SRTT + 1/8·R'), and the failure count starts again.
    /// </summary>
    public void RecordSuccess(Destination destination, TimeSpan rtt) => Record(destination, true, rtt, []);

    /// <summary>Records a failed race on this interface; the RTT history is kept.</summary>
    public void RecordFailure(Destination destination) => Record(destination, false, null, []);

    /// <summary>
    /// Records what one race learned here: success (with the winner's RTT) or failure, and each attempt's verdict by family
    /// and transport (the winner's family and transport are remembered as what worked).
    /// </summary>
    public void Record(Destination destination, bool succeeded, TimeSpan? rtt, IReadOnlyList<AttemptSummary> attempts)
    {
        var previous = Current(destination);
        var entry = previous ?? new OutcomeEntry(null, 0, false, null, default);
        if (succeeded)
        {
            var r = rtt ?? TimeSpan.Zero;
            entry = previous?.SmoothedRtt is { } s
                ? entry with
                {
                    RttVariance = ((previous.RttVariance ?? s / 2) * 3 / 4) + ((s - r).Duration() / 4),
                    SmoothedRtt = (s * 7 / 8) + (r / 8),
                }
                : entry with { SmoothedRtt = r, RttVariance = r / 2 };
            entry = entry with { RecentFailures = 0, LastSucceeded = true };
        }
        else
        {
            entry = entry with { RecentFailures = entry.RecentFailures + 1, LastSucceeded = false };
        }

        foreach (var a in attempts)
        {
            entry = a.Family == AddressFamily.InterNetworkV6 ? entry with { IPv6 = entry.IPv6.With(a.Verdict) } : entry with { IPv4 = entry.IPv4.With(a.Verdict) };
            if (a.Verdict == AttemptVerdict.Won)
            {
                entry = entry with { WinningFamily = a.Family, WinningTransport = a.Transport };
            }
        }

        Write(destination, entry);
    }

    /// <summary>Records whether QUIC got through on this path.</summary>
    public void RecordQuicVerdict(Destination destination, bool blocked)
    {
        var previous = Current(destination);
        Write(destination, (previous ?? new OutcomeEntry(null, 0, false, null, default)) with { QuicBlocked = blocked });
    }

    /// <summary>What is known, or null when nothing is, or it is older than <see cref="MaxAge"/> (then it is dropped).</summary>
    public OutcomeEntry? Lookup(Destination destination) => Current(destination);

    /// <summary>Forgets everything (the interface changed network).</summary>
    public void Flush()
    {
        _entries.Clear();
        _byAge.Clear();
    }

    /// <summary>Drops every aged entry ("Cache entries would be flushed periodically"), oldest first; returns how many.</summary>
    public int Prune()
    {
        var now = _time.GetUtcNow();
        _lastPrune = now;
        var dropped = 0;
        while (_byAge.First is { } oldest && now - oldest.Value.Entry.UpdatedAt >= MaxAge)
        {
            Remove(oldest);
            dropped++;
        }

        return dropped;
    }

    private void Write(Destination destination, OutcomeEntry entry)
    {
        var now = _time.GetUtcNow();
        if (now - _lastPrune >= PruneInterval)
        {
            Prune();
        }

        entry = entry with { UpdatedAt = now };
        if (_entries.TryGetValue(destination, out var node))
        {
            // Written now: it moves to the young end, so the list stays in write order (the clock never runs back).
            _byAge.Remove(node);
            node.Value = (destination, entry);
            _byAge.AddLast(node);
            return;
        }

        if (_entries.Count >= Capacity && _byAge.First is { } leastRecent)
        {
            Remove(leastRecent);
        }

        _entries[destination] = _byAge.AddLast((destination, entry));
    }

    private void Remove(LinkedListNode<(Destination Key, OutcomeEntry Entry)> node)
    {
        _entries.Remove(node.Value.Key);
        _byAge.Remove(node);
    }

    private OutcomeEntry? Current(Destination destination)
    {
        if (!_entries.TryGetValue(destination, out var node))
        {
            return null;
        }

        if (_time.GetUtcNow() - node.Value.Entry.UpdatedAt >= MaxAge)
        {
            Remove(node);
            return null;
        }

        return node.Value.Entry;
    }
}
