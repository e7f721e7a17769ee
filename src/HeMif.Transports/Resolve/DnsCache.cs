namespace HeMif.Transports.Resolve;

/// <summary>
/// A small answer cache. The key starts with the interface name because the draft §7.3 warns that "A DNS answer may
/// be only valid for a specific provisioning domain": an answer learned on one interface is never served for another.
/// Entries live for the answer's TTL (RFC 1035 §3.2.1: "the time interval that the resource record may be cached"),
/// capped; only positive answers are kept (a NODATA or NXDOMAIN would need the SOA minimum of RFC 2308 §5 and is
/// cheap to ask again). When full, expired entries go first, then the one closest to expiry.
/// </summary>
internal sealed class DnsCache(int capacity, TimeSpan maxTtl, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Interface, string Name, ushort Type), Entry> _entries = [];

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

    /// <summary>The live entry for (interface, name, type), if any.</summary>
    public bool TryGet(string networkInterface, string name, ushort type, out IReadOnlyList<DnsRecord> records, out TimeSpan remaining)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var key = (networkInterface, name.ToLowerInvariant(), type);
            if (_entries.TryGetValue(key, out var entry))
            {
                if (entry.Expires > now)
                {
                    records = entry.Records;
                    remaining = entry.Expires - now;
                    return true;
                }

                _entries.Remove(key);
            }
        }

        records = [];
        remaining = TimeSpan.Zero;
        return false;
    }

    /// <summary>Keeps a positive answer for <paramref name="ttlSeconds"/> (capped); a TTL of 0 means "do not cache" (RFC 1035 §3.2.1).</summary>
    public void Add(string networkInterface, string name, ushort type, IReadOnlyList<DnsRecord> records, uint ttlSeconds)
    {
        if (capacity <= 0 || ttlSeconds == 0 || records.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var expires = now + TimeSpan.FromSeconds(Math.Min(ttlSeconds, maxTtl.TotalSeconds));
        lock (_lock)
        {
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

            _entries[key] = new Entry(records, expires);
        }
    }

    private sealed record Entry(IReadOnlyList<DnsRecord> Records, DateTimeOffset Expires);
}
