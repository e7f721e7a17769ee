using System.Net;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>What happened to one PvD when an RA was learned or time passed.</summary>
internal enum PvdChangeKind
{
    /// <summary>A PvD not known before.</summary>
    Added,

    /// <summary>Facts added, refreshed or withdrawn; the same PvD.</summary>
    Updated,

    /// <summary>RFC 8801 §3.1: a new sequence number: the PvD's facts were replaced by the RA's and its history must be flushed.</summary>
    Replaced,

    /// <summary>Everything it had expired or was withdrawn: the PvD is gone.</summary>
    Removed,
}

/// <summary>One change to one PvD.</summary>
/// <param name="Key">The PvD's key (<see cref="ProvisioningDomain.Key"/>).</param>
/// <param name="Kind">What happened.</param>
internal sealed record PvdChange(string Key, PvdChangeKind Kind);

/// <summary>
/// The provisioning domains one interface learned from Router Advertisements, as a pure state machine: RAs and the
/// time go in (<see cref="Learn"/>, <see cref="Expire"/>), changes and a snapshot come out; no clock, socket or actor.
/// <list type="bullet">
/// <item>An RA with a PvD Option belongs to that PvD (RFC 8801: hosts associate the RA's information "with the explicit
/// PvD identified by the first PvD Option present in the received RA, if any, or with the implicit PvD otherwise"); the
/// implicit PvD is the advertising router's own.</item>
/// <item>Each fact (prefix, route, DNS server, search domain, the default route) lives until its lifetime ends; an RA
/// that repeats it sets its lifetime anew, one with lifetime 0 withdraws it (RFC 8106 §5.3.1, RFC 4191 §3.1,
/// RFC 4861 §6.3.4: a Router Lifetime of 0 ends the default route).</item>
/// <item>A new sequence number replaces the PvD's facts with the RA's (<see cref="PvdChangeKind.Replaced"/>): the network
/// said its configuration changed.</item>
/// <item>A PvD with nothing left is removed.</item>
/// <item>Bounded against floods: at most <see cref="MaxPvds"/> PvDs and <see cref="MaxFactsPerList"/> facts of each kind
/// per PvD; what does not fit is refused and counted (<see cref="Refused"/>), never kept.</item>
/// </list>
/// </summary>
internal sealed class PvdTable
{
    /// <summary>The most PvDs one interface keeps.</summary>
    public const int MaxPvds = 16;

    /// <summary>The most facts of one kind (prefixes, routes, servers, domains) one PvD keeps.</summary>
    public const int MaxFactsPerList = 32;

    private readonly SortedDictionary<string, Entry> _pvds = new(StringComparer.Ordinal);

    /// <summary>How many PvDs or facts were refused because a limit was reached.</summary>
    public long Refused { get; private set; }

    /// <summary>The PvDs now, in key order.</summary>
    public IReadOnlyList<ProvisioningDomain> Snapshot() => [.. _pvds.Values.Select(e => e.ToDomain())];

    /// <summary>The earliest instant a fact expires, or null when none will.</summary>
    public DateTimeOffset? NextExpiry()
    {
        DateTimeOffset? next = null;
        foreach (var e in _pvds.Values)
        {
            foreach (var t in e.Deadlines())
            {
                if (next is null || t < next)
                {
                    next = t;
                }
            }
        }

        return next;
    }

    /// <summary>Learns one RA received at <paramref name="now"/>; returns what changed (empty when nothing did but lifetimes).</summary>
    public IReadOnlyList<PvdChange> Learn(RouterAdvertisement ra, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ra);
        var key = ra.Pvd?.PvdId ?? "implicit:" + ra.Source;
        var changes = new List<PvdChange>();
        var kind = PvdChangeKind.Updated;
        if (!_pvds.TryGetValue(key, out var entry))
        {
            if (_pvds.Count >= MaxPvds)
            {
                Refused++;
                return changes;
            }

            entry = new Entry(ra.Pvd?.PvdId);
            _pvds[key] = entry;
            kind = PvdChangeKind.Added;
        }
        else if (ra.Pvd is { } p && entry.Sequence != p.SequenceNumber)
        {
            entry = new Entry(p.PvdId);
            _pvds[key] = entry;
            kind = PvdChangeKind.Replaced;
        }

        var before = entry.Fingerprint();
        if (!entry.Routers.Contains(ra.Source))
        {
            entry.Routers.Add(ra.Source);
        }

        entry.LastAdvertised = now;
        if (ra.Pvd is { } pvd)
        {
            entry.Sequence = pvd.SequenceNumber;
            entry.Http = pvd.HttpFlag;
            entry.MaxFetchDelay = pvd.MaxFetchDelay;
            entry.Legacy = pvd.LegacyFlag;
        }

        var header = ra.EffectiveHeader;
        entry.DefaultRoute = header.IsDefaultRouter
            ? new LearnedRoute(new IPNetwork(IPAddress.IPv6Any, 0), header.DefaultRouterPreference, Expiry(new RaLifetime(header.RouterLifetime), now))
            : null;
        Refused += entry.Merge(ra.Options, now) + (ra.Pvd is null ? 0 : entry.Merge(ra.Pvd.Options, now));
        if (kind != PvdChangeKind.Updated || before != entry.Fingerprint())
        {
            changes.Add(new PvdChange(key, kind));
        }

        if (entry.IsEmpty)
        {
            // An RA that withdrew everything the PvD had (or brought nothing at all) leaves nothing to keep.
            _pvds.Remove(key);
            changes.Clear();
            if (kind != PvdChangeKind.Added)
            {
                changes.Add(new PvdChange(key, PvdChangeKind.Removed));
            }
        }

        return changes;
    }

    /// <summary>Drops every fact whose lifetime has ended at <paramref name="now"/>, and every PvD left with nothing.</summary>
    public IReadOnlyList<PvdChange> Expire(DateTimeOffset now)
    {
        var changes = new List<PvdChange>();
        foreach (var (key, entry) in _pvds.ToList())
        {
            if (!entry.Expire(now))
            {
                continue;
            }

            if (entry.IsEmpty)
            {
                _pvds.Remove(key);
                changes.Add(new PvdChange(key, PvdChangeKind.Removed));
            }
            else
            {
                changes.Add(new PvdChange(key, PvdChangeKind.Updated));
            }
        }

        return changes;
    }

    /// <summary>When a lifetime received at <paramref name="now"/> ends: null for infinity; capped at the latest representable instant.</summary>
    private static DateTimeOffset? Expiry(RaLifetime lifetime, DateTimeOffset now) =>
        lifetime.IsInfinite ? null : now <= DateTimeOffset.MaxValue.AddSeconds(-lifetime.Seconds) ? now.AddSeconds(lifetime.Seconds) : DateTimeOffset.MaxValue;

    private sealed class Entry(string? id)
    {
        public string? Id { get; } = id;

        public List<IPAddress> Routers { get; } = [];

        public ushort? Sequence { get; set; }

        public bool Http { get; set; }

        public TimeSpan MaxFetchDelay { get; set; }

        public bool Legacy { get; set; }

        public DateTimeOffset LastAdvertised { get; set; }

        public LearnedRoute? DefaultRoute { get; set; }

        public List<LearnedValue<IPNetwork>> Prefixes { get; } = [];

        public List<LearnedRoute> Routes { get; } = [];

        public List<LearnedValue<IPAddress>> Servers { get; } = [];

        public List<LearnedValue<string>> Domains { get; } = [];

        public bool IsEmpty => DefaultRoute is null && Prefixes.Count == 0 && Routes.Count == 0 && Servers.Count == 0 && Domains.Count == 0;

        /// <summary>Merges one level of options; returns how many facts were refused for lack of room.</summary>
        public int Merge(RaOptions options, DateTimeOffset now)
        {
            var refused = 0;
            foreach (var p in options.Prefixes)
            {
                refused += Set(Prefixes, p.ValidLifetime, now, v => v.Value == p.Prefix, e => new LearnedValue<IPNetwork>(p.Prefix, e));
            }

            foreach (var r in options.Routes)
            {
                refused += Set(Routes, r.Lifetime, now, v => v.Prefix == r.Prefix, e => new LearnedRoute(r.Prefix, r.Preference, e));
            }

            foreach (var d in options.DnsServers)
            {
                foreach (var s in d.Servers)
                {
                    refused += Set(Servers, d.Lifetime, now, v => v.Value.Equals(s), e => new LearnedValue<IPAddress>(s, e));
                }
            }

            foreach (var d in options.SearchLists)
            {
                foreach (var name in d.Domains)
                {
                    refused += Set(Domains, d.Lifetime, now, v => string.Equals(v.Value, name, StringComparison.OrdinalIgnoreCase), e => new LearnedValue<string>(name, e));
                }
            }

            return refused;
        }

        /// <summary>Sets, refreshes or (lifetime 0) withdraws one fact in place, keeping the order first advertised.</summary>
        private static int Set<T>(List<T> list, RaLifetime lifetime, DateTimeOffset now, Predicate<T> same, Func<DateTimeOffset?, T> make)
        {
            var at = list.FindIndex(same);
            if (lifetime.IsZero)
            {
                if (at >= 0)
                {
                    list.RemoveAt(at);
                }

                return 0;
            }

            var fact = make(Expiry(lifetime, now));
            if (at >= 0)
            {
                list[at] = fact;
                return 0;
            }

            if (list.Count >= MaxFactsPerList)
            {
                return 1;
            }

            list.Add(fact);
            return 0;
        }


        /// <summary>Drops what expired; true when anything was dropped.</summary>
        public bool Expire(DateTimeOffset now)
        {
            var dropped = Prefixes.RemoveAll(p => !p.IsValidAt(now)) + Routes.RemoveAll(r => r.Expires is { } e && now >= e)
                          + Servers.RemoveAll(s => !s.IsValidAt(now)) + Domains.RemoveAll(d => !d.IsValidAt(now));
            if (DefaultRoute is { Expires: { } until } && now >= until)
            {
                DefaultRoute = null;
                dropped++;
            }

            return dropped > 0;
        }

        public IEnumerable<DateTimeOffset> Deadlines()
        {
            if (DefaultRoute?.Expires is { } d)
            {
                yield return d;
            }

            foreach (var e in Prefixes.Select(p => p.Expires).Concat(Routes.Select(r => r.Expires)).Concat(Servers.Select(s => s.Expires)).Concat(Domains.Select(x => x.Expires)))
            {
                if (e is { } t)
                {
                    yield return t;
                }
            }
        }

        /// <summary>What the PvD says, without lifetimes: a refresh that only renews lifetimes changes nothing.</summary>
        public string Fingerprint() => string.Join("|",
            string.Join(",", Routers), Sequence, Http, Legacy, DefaultRoute?.Preference, DefaultRoute is null,
            string.Join(",", Prefixes.Select(p => p.Value)), string.Join(",", Routes.Select(r => r.Prefix + "/" + r.Preference)),
            string.Join(",", Servers.Select(s => s.Value)), string.Join(",", Domains.Select(d => d.Value)));

        public ProvisioningDomain ToDomain() => new(Id, [.. Routers])
        {
            SequenceNumber = Sequence,
            HasAdditionalInformation = Http,
            MaxFetchDelay = MaxFetchDelay,
            Legacy = Legacy,
            DefaultRoute = DefaultRoute,
            Prefixes = [.. Prefixes],
            Routes = [.. Routes],
            DnsServers = [.. Servers],
            SearchDomains = [.. Domains],
            LastAdvertised = LastAdvertised,
        };
    }
}
