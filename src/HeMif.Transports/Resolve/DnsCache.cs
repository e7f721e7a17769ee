namespace HeMif.Transports.Resolve;

/// <summary>What the cache holds for a question: records, or a negative answer (RFC 2308).</summary>
internal enum CachedKind
{
    /// <summary>Records of the asked type (a positive answer).</summary>
    Records,

    /// <summary>RFC 2308 §2.2 NODATA: the name exists, but has no records of the asked type.</summary>
    NoData,

    /// <summary>RFC 2308 §2.1 NXDOMAIN (Name Error): the name does not exist, whatever the type.</summary>
    NameError,
}

/// <summary>A live cache entry: what it says and how long it has left.</summary>
internal readonly record struct CachedAnswer(CachedKind Kind, IReadOnlyList<DnsRecord> Records, TimeSpan Remaining);

/// <summary>
/// A small answer cache. The key starts with the interface name because the draft §7.3 warns that "A DNS answer may
/// be only valid for a specific provisioning domain": an answer learned on one interface is never served for another,
/// and when the interface's network, addresses or PvD change (<see cref="Forget"/>) what it learned is dropped, and a
/// lookup under way then does not add what it gets. Positive entries live for the answer's TTL (RFC 1035 §3.2.1: "the
/// time interval that the resource record may be cached"), capped; negative ones for the negative TTL of RFC 2308 §5
/// that the caller computes from the SOA record, capped lower. A NXDOMAIN answers every type of its name (RFC 2308 §5:
/// "returned in response to another query for the same &lt;QNAME, QCLASS&gt;"), a NODATA only its own type
/// ("&lt;QNAME, QTYPE, QCLASS&gt;"). When full, expired entries go first, then the one closest to expiry.
/// </summary>
internal sealed class DnsCache(int capacity, TimeSpan maxTtl, TimeSpan maxNegativeTtl, TimeProvider time)
{
    /// <summary>The type under which a NXDOMAIN is kept: it holds for every type of the name (0 is no real type).</summary>
    private const ushort AnyType = 0;

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Interface, string Name, ushort Type), Entry> _entries = [];
    private readonly Dictionary<string, long> _generations = new(StringComparer.Ordinal);

    /// <summary>How many entries are held (expired ones included until they are pruned).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// The interface's generation: read it before a lookup and give it to <see cref="Add"/> or <see cref="AddNegative"/>,
    /// so that an answer that arrives after <see cref="Forget"/> is not kept.
    /// </summary>
    public long Generation(string networkInterface)
    {
        lock (_lock)
        {
            return _generations.GetValueOrDefault(networkInterface);
        }
    }

    /// <summary>Drops every answer learned on <paramref name="networkInterface"/> and starts a new generation for it.</summary>
    public void Forget(string networkInterface)
    {
        lock (_lock)
        {
            _generations[networkInterface] = _generations.GetValueOrDefault(networkInterface) + 1;
            foreach (var key in _entries.Keys.Where(k => string.Equals(k.Interface, networkInterface, StringComparison.Ordinal)).ToList())
            {
                _entries.Remove(key);
            }
        }
    }

    /// <summary>The live entry for (interface, name, type), if any: a NXDOMAIN for the name counts for every type.</summary>
    public bool TryGet(string networkInterface, string name, ushort type, out CachedAnswer answer)
    {
        var now = time.GetUtcNow();
        var lower = name.ToLowerInvariant();
        lock (_lock)
        {
            if (Live((networkInterface, lower, AnyType), now) is { } nameError)
            {
                answer = new CachedAnswer(CachedKind.NameError, [], nameError.Expires - now);
                return true;
            }

            if (Live((networkInterface, lower, type), now) is { } entry)
            {
                answer = new CachedAnswer(entry.Kind, entry.Records, entry.Expires - now);
                return true;
            }
        }

        answer = default;
        return false;
    }

    /// <summary>Keeps a positive answer for <paramref name="ttlSeconds"/> (capped); a TTL of 0 means "do not cache" (RFC 1035 §3.2.1).</summary>
    public void Add(string networkInterface, string name, ushort type, IReadOnlyList<DnsRecord> records, uint ttlSeconds, long generation)
    {
        if (records.Count == 0)
        {
            return;
        }

        Put(networkInterface, name, type, new Entry(CachedKind.Records, records, default), ttlSeconds, maxTtl, generation);
    }

    /// <summary>
    /// Keeps a negative answer (<see cref="CachedKind.NoData"/> for this type, <see cref="CachedKind.NameError"/> for
    /// the name) for its negative TTL of RFC 2308 §5, capped at the negative maximum; 0 means "do not cache".
    /// </summary>
    public void AddNegative(string networkInterface, string name, ushort type, CachedKind kind, uint ttlSeconds, long generation)
    {
        if (kind == CachedKind.Records)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "a negative answer is NoData or NameError");
        }

        Put(networkInterface, name, kind == CachedKind.NameError ? AnyType : type, new Entry(kind, [], default), ttlSeconds, maxNegativeTtl, generation);
    }

    private void Put(string networkInterface, string name, ushort type, Entry entry, uint ttlSeconds, TimeSpan cap, long generation)
    {
        if (capacity <= 0 || ttlSeconds == 0 || cap <= TimeSpan.Zero)
        {
            return;
        }

        var now = time.GetUtcNow();
        var expires = now + TimeSpan.FromSeconds(Math.Min(ttlSeconds, cap.TotalSeconds));
        lock (_lock)
        {
            if (_generations.GetValueOrDefault(networkInterface) != generation)
            {
                return; // learned on the interface's old network: forgotten before it arrived
            }

            var key = (networkInterface, name.ToLowerInvariant(), type);
            if (!_entries.ContainsKey(key) && _entries.Count >= capacity)
            {
                foreach (var expired in _entries.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList())
                {
                    _entries.Remove(expired);
                }

                if (_entries.Count >= capacity)
                {
                    _entries.Remove(_entries.MinBy(e => e.Value.Expires).Key);
                }
            }

            _entries[key] = entry with { Expires = expires };
        }
    }

    private Entry? Live((string, string, ushort) key, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (entry.Expires > now)
        {
            return entry;
        }

        _entries.Remove(key);
        return null;
    }

    private sealed record Entry(CachedKind Kind, IReadOnlyList<DnsRecord> Records, DateTimeOffset Expires);
}
