using System.Globalization;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Sort;

/// <summary>
/// §5.2 "Second Step, Sort": "to influence how a node makes a connection when multiple interfaces still remain in
/// the candidate list after first step". Each §4.2 factor adds points; the weights follow the draft's order of §4.2
/// (PvD, then DNS selection, then next hop, then source address selection, then common practice), below explicit
/// Prefer/Avoid rules. A factor with nothing to say adds nothing, so interfaces about which nothing is known score
/// alike and are "treated equally" (§5.2.3).
/// </summary>
internal static class SoftSetRanker
{
    /// <summary>§4.2.1: "a PVD-aware node uses PvD Identity(PvD-ID) to select a PvD with a matching ID".</summary>
    internal const int PvdZoneMatchPoints = 3_000;

    /// <summary>§4.2.2: RFC 6731 selection at Medium preference; High adds and Low subtracts <see cref="DnsPreferenceStep"/>.</summary>
    internal const int DnsSelectionPoints = 2_000;

    /// <summary>Step between the RFC 6731 preference levels.</summary>
    internal const int DnsPreferenceStep = 100;

    /// <summary>§4.2.3: base for a more-specific RFC 4191 route; plus 3 per prefix bit, plus the preference (0–2).</summary>
    internal const int SpecificRoutePoints = 500;

    /// <summary>§4.2.4: points of the best RFC 6724 class; each following class gets <see cref="Rfc6724ClassStep"/> fewer.</summary>
    internal const int Rfc6724BestPoints = 300;

    /// <summary>Step between RFC 6724 classes.</summary>
    internal const int Rfc6724ClassStep = 50;

    /// <summary>§4.2.5: points per place in the kind order (the last listed kind gets one step).</summary>
    internal const int KindOrderStep = 10;

    /// <summary>Penalty per recent failure to this destination (at most <see cref="MaxCountedFailures"/> counted).</summary>
    internal const int FailurePenalty = 400;

    /// <summary>Failures beyond this add nothing more.</summary>
    internal const int MaxCountedFailures = 5;

    /// <summary>
    /// RTT points: one per 10 ms faster than the slowest interface whose RTT to this destination is known, at most this
    /// many. Only relative: an interface is never outranked merely for having no history (after its network changed and
    /// its history was flushed it would otherwise never be tried again; state that sticks is a common complaint about other Happy Eyeballs implementations).
    /// </summary>
    internal const int RttBestPoints = 100;

    private static readonly string[] KindNames = Enum.GetNames<InterfaceKind>();
    private static readonly string[] FailureCounts = Enumerable.Range(0, MaxCountedFailures + 1)
        .Select(n => n.ToString(CultureInfo.InvariantCulture) + (n == 1 ? " failed attempt" : " failed attempts")).ToArray();

    /// <summary>Adds the §4.2 components of every candidate and computes its score.</summary>
    public static void Score(Span<InterfaceState> states, ConnectionRequest request, ReadOnlySpan<UInt128> destinations,
        IReadOnlyList<PathHistory>? history, HeMifPolicy policy, int[] kindPoints, DateTimeOffset now, ComponentSink components)
    {
        var table = policy.AddressSelectionTable;
        var slowestKnownRtt = SlowestKnownRtt(states, history);
        var historyIndex = HistoryIndex(history);
        Span<DestinationCandidate> best = states.Length <= 64 ? stackalloc DestinationCandidate[states.Length] : new DestinationCandidate[states.Length];
        Span<bool> hasBest = states.Length <= 64 ? stackalloc bool[states.Length] : new bool[states.Length];
        hasBest.Clear();
        var anyDestinations = false;

        for (var i = 0; i < states.Length; i++)
        {
            ref var s = ref states[i];
            if (s.Excluded)
            {
                continue;
            }

            var f = s.Facts;
            components.Owner = i;

            // Resolved per interface before the sort: each interface is judged by its own answers (draft §7.3).
            var own = s.Destinations is { } d ? d.AsSpan() : destinations;
            anyDestinations |= own.Length > 0;
            Pvd(f, request.Host, now, components);
            Dns(f, request.Host, own, components);
            if (own.Length > 0)
            {
                NextHop(f, own, components);
                hasBest[i] = BestPair(f, i, own, table, out best[i]);
            }
        }

        // §4.2.4 ranks interfaces by the best (destination, source) pair each offers, compared by RFC 6724 §6.
        if (anyDestinations)
        {
            SourceAddressClasses(states, best, hasBest, table, components);
        }

        for (var i = 0; i < states.Length; i++)
        {
            ref var s = ref states[i];
            if (s.Excluded)
            {
                continue;
            }

            components.Owner = i;
            var kind = (int)s.Facts.Kind;
            var kp = s.Required && kindPoints.Length > 0 ? KindOrderStep * KindOrderCount(kindPoints) : kindPoints[kind];
            if (kp != 0)
            {
                components.Add(new ScoreComponent(SoftFactor.CommonPractice, kp,
                    s.Required && kp != kindPoints[kind] ? KindNames[kind] + " (required by a rule)" : KindNames[kind]) { Source = Learned(s.Facts.Sources.Kind) });
            }

            History(s.Facts.Name, history, historyIndex, slowestKnownRtt, components);
        }
    }

    /// <summary>The slowest known smoothed RTT among the candidates, or null when fewer than two candidates have one.</summary>
    private static TimeSpan? SlowestKnownRtt(ReadOnlySpan<InterfaceState> states, IReadOnlyList<PathHistory>? history)
    {
        if (history is null)
        {
            return null;
        }

        var known = 0;
        var slowest = TimeSpan.Zero;
        for (var h = 0; h < history.Count; h++)
        {
            if (history[h].SmoothedRtt is { } rtt && HasInterface(states, history[h].Interface))
            {
                known++;
                slowest = rtt > slowest ? rtt : slowest;
            }
        }

        return known >= 2 ? slowest : null;
    }

    /// <summary>Whether an interface of <paramref name="states"/> (in ordinal name order, as the planner sorts them) is named <paramref name="name"/>.</summary>
    private static bool HasInterface(ReadOnlySpan<InterfaceState> states, string name)
    {
        var lo = 0;
        var hi = states.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) / 2);
            var c = string.CompareOrdinal(states[mid].Facts.Name, name);
            if (c == 0)
            {
                return true;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return false;
    }

    /// <summary>
    /// For a long history, each interface's first entry by name (so that each interface finds its own in O(1), not by
    /// a scan of every entry: thousands of interfaces with history made that quadratic); null for a short one, which
    /// is scanned.
    /// </summary>
    private static Dictionary<string, int>? HistoryIndex(IReadOnlyList<PathHistory>? history)
    {
        if (history is null || history.Count <= 8)
        {
            return null;
        }

        var index = new Dictionary<string, int>(history.Count, StringComparer.Ordinal);
        for (var h = 0; h < history.Count; h++)
        {
            index.TryAdd(history[h].Interface, h);
        }

        return index;
    }

    private static int KindOrderCount(int[] kindPoints)
    {
        var max = 0;
        foreach (var p in kindPoints)
        {
            max = Math.Max(max, p);
        }

        return max / KindOrderStep;
    }

    /// <summary>§4.2.1 with RFC 8801 additional information: dnsZones match, or noInternet outside them.</summary>
    private static void Pvd(InterfaceFacts f, string host, DateTimeOffset now, ComponentSink components)
    {
        if (f.PvdInfo is not { } info || !info.IsValidAt(now))
        {
            // RFC 8801 §4.3: expired additional information must not be used.
            return;
        }

        for (var iZone18 = 0; iZone18 < info.DnsZones.Count; iZone18++)
        {
            var zone = info.DnsZones[iZone18];
            if (DomainNames.IsInZone(host, zone))
            {
                components.Add(new ScoreComponent(SoftFactor.PvdIdentity, PvdZoneMatchPoints, zone) { Source = Learned(PvdInfoSource(f)) });
                return;
            }
        }

        if (info.NoInternet)
        {
            components.Add(new ScoreComponent(SoftFactor.PvdIdentity, -PvdZoneMatchPoints, "noInternet: " + info.Identifier) { Source = Learned(PvdInfoSource(f)) });
        }
    }

    /// <summary>A fact's source for the plan's explanation: null for a fact the application gave (nothing to add).</summary>
    private static FactSource? Learned(FactSource source) => source == FactSource.Configuration ? null : source;

    /// <summary>A PvD learned from Router Advertisements has its Additional Information fetched (RFC 8801 §4); one given has it given.</summary>
    private static FactSource PvdInfoSource(InterfaceFacts f) =>
        f.Sources.PvdId == FactSource.RouterAdvertisement ? FactSource.PvdAdditionalInformation : f.Sources.PvdId;

    /// <summary>§4.2.2: "A HE-MIF node should take the parameter of RDNSS Selection DHCP Option [RFC6731] to select an interface for a particular namespace."</summary>
    private static void Dns(InterfaceFacts f, string host, ReadOnlySpan<UInt128> destinations, ComponentSink components)
    {
        DnsServerSelection? best = null;
        string? subject = null;
        for (var iSel17 = 0; iSel17 < f.DnsSelection.Count; iSel17++)
        {
            var sel = f.DnsSelection[iSel17];
            if (best is not null && sel.Preference <= best.Preference)
            {
                continue;
            }

            for (var iD16 = 0; iD16 < sel.Domains.Count; iD16++)
            {
                var d = sel.Domains[iD16];
                if (DomainNames.IsInZone(host, d))
                {
                    best = sel;
                    subject = d;
                    break;
                }
            }

            if (best != sel)
            {
                for (var iNet15 = 0; iNet15 < sel.Networks.Count; iNet15++)
                {
                    var net = sel.Networks[iNet15];
                    var prefix = Rfc6724.ToUInt128(net.BaseAddress);
                    var len = net.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 96 + net.PrefixLength : net.PrefixLength;
                    foreach (var d in destinations)
                    {
                        if (Rfc6724.PrefixMatches(d, prefix, len))
                        {
                            best = sel;
                            subject = net.ToString();
                        }
                    }
                }
            }
        }

        if (best is not null)
        {
            var points = DnsSelectionPoints + ((int)best.Preference - (int)RoutePreference.Medium) * DnsPreferenceStep;
            components.Add(new ScoreComponent(SoftFactor.DnsSelection, points, subject!));
        }
    }

    /// <summary>
    /// §4.2.3: "[RFC4191] allows the configuration of specific routes to a destination. A HE-MIF node should take the
    /// parameters of router preference and route information to identify the next hop." The longest live route
    /// covering a destination wins; among equally long routes, the higher preference.
    /// </summary>
    private static void NextHop(InterfaceFacts f, ReadOnlySpan<UInt128> destinations, ComponentSink components)
    {
        RouteInformation? best = null;
        var bestLen = -1;
        for (var iRoute14 = 0; iRoute14 < f.Routes.Count; iRoute14++)
        {
            var route = f.Routes[iRoute14];
            if (route.Lifetime <= TimeSpan.Zero)
            {
                // RFC 4191 §2.3: a Route Lifetime of zero withdraws the route.
                continue;
            }

            var isV4 = route.Prefix.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
            var prefix = Rfc6724.ToUInt128(route.Prefix.BaseAddress);
            var len128 = isV4 ? 96 + route.Prefix.PrefixLength : route.Prefix.PrefixLength;
            foreach (var d in destinations)
            {
                if (Rfc6724.IsIPv4(d) != isV4 || !Rfc6724.PrefixMatches(d, prefix, len128))
                {
                    continue;
                }

                var len = route.Prefix.PrefixLength;
                if (len > bestLen || (len == bestLen && route.Preference > best!.Preference))
                {
                    best = route;
                    bestLen = len;
                }
            }
        }

        if (best is null)
        {
            return;
        }

        var points = (best.IsDefault ? 0 : SpecificRoutePoints + 3 * bestLen) + (int)best.Preference;
        if (points != 0)
        {
            components.Add(new ScoreComponent(SoftFactor.NextHop, points,
                string.Create(CultureInfo.InvariantCulture, $"{best.Prefix} ({best.Preference})")) { Source = Learned(best.Source) });
        }
    }

    /// <summary>The interface's best (destination, Source(destination)) pair by RFC 6724 §5 then §6.</summary>
    private static bool BestPair(InterfaceFacts f, int index, ReadOnlySpan<UInt128> destinations, AddressSelectionPolicyTable table,
        out DestinationCandidate best)
    {
        var count = f.Addresses.Count;
        Span<SourceCandidate> sources = count <= 32 ? stackalloc SourceCandidate[count] : new SourceCandidate[count];
        for (var a = 0; a < count; a++)
        {
            sources[a] = SourceCandidate.From(f.Addresses[a], index, a);
        }

        best = default;
        var found = false;
        foreach (var d in destinations)
        {
            // Rule 5 ("Prefer outgoing interface") is satisfied by construction: only this interface's addresses.
            var src = Rfc6724.SelectSource(sources, d, index, table);
            var candidate = new DestinationCandidate(d, src);
            if (!found || Rfc6724.CompareDestinations(candidate, best, table, out _) < 0)
            {
                best = candidate;
                found = true;
            }
        }

        return found && best.Source is not null;
    }

    private static void SourceAddressClasses(Span<InterfaceState> states, ReadOnlySpan<DestinationCandidate> best, ReadOnlySpan<bool> hasBest,
        AddressSelectionPolicyTable table, ComponentSink components)
    {
        // Stable sort of the interfaces that offer a usable pair (states are already in name order, so the result
        // does not depend on the caller's order); then equal neighbours share a class. Insertion sort for a few (no
        // allocation), merge sort for many (insertion is quadratic: thousands of interfaces took seconds).
        Span<int> order = states.Length <= 64 ? stackalloc int[states.Length] : new int[states.Length];
        var n = 0;
        for (var i = 0; i < states.Length; i++)
        {
            if (states[i].Excluded || !hasBest[i])
            {
                continue;
            }

            if (states.Length > 64)
            {
                order[n++] = i;
                continue;
            }

            var j = n - 1;
            while (j >= 0 && Rfc6724.CompareDestinations(best[i], best[order[j]], table, out _) < 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = i;
            n++;
        }

        if (states.Length > 64)
        {
            MergeSort(order[..n], best, table);
        }

        var cls = 0;
        for (var k = 0; k < n; k++)
        {
            if (k > 0 && Rfc6724.CompareDestinations(best[order[k - 1]], best[order[k]], table, out _) < 0)
            {
                cls++;
            }

            var i = order[k];
            components.Owner = i;
            var points = Math.Max(Rfc6724ClassStep, Rfc6724BestPoints - cls * Rfc6724ClassStep);
            var src = best[i].Source!.Value;

            // IPAddress caches its text, so naming the chosen source costs nothing after the first decision.
            components.Add(new ScoreComponent(SoftFactor.SourceAddressSelection, points,
                states[i].Facts.Addresses[src.AddressIndex].Address.ToString()) { Source = Learned(states[i].Facts.Sources.Addresses) });
        }
    }

    /// <summary>Stable bottom-up merge sort of <paramref name="order"/> by each interface's best pair (RFC 6724 §6).</summary>
    private static void MergeSort(Span<int> order, ReadOnlySpan<DestinationCandidate> best, AddressSelectionPolicyTable table)
    {
        var from = order.ToArray();
        var to = new int[order.Length];
        for (var width = 1; width < order.Length; width *= 2)
        {
            for (var lo = 0; lo < order.Length; lo += 2 * width)
            {
                var mid = Math.Min(lo + width, order.Length);
                var hi = Math.Min(lo + (2 * width), order.Length);
                int a = lo, b = mid, k = lo;
                while (a < mid && b < hi)
                {
                    // Equal pairs keep their order: the right one goes first only when strictly better.
                    to[k++] = Rfc6724.CompareDestinations(best[from[b]], best[from[a]], table, out _) < 0 ? from[b++] : from[a++];
                }

                while (a < mid)
                {
                    to[k++] = from[a++];
                }

                while (b < hi)
                {
                    to[k++] = from[b++];
                }
            }

            var swap = from;
            from = to;
            to = swap;
        }

        from.CopyTo(order);
    }

    /// <summary>History: "recent attempts to this destination failed ranks lower; lower smoothed RTT ranks higher".</summary>
    private static void History(string name, IReadOnlyList<PathHistory>? history, Dictionary<string, int>? index, TimeSpan? slowestKnownRtt, ComponentSink components)
    {
        if (history is null)
        {
            return;
        }

        var from = 0;
        if (index is not null)
        {
            if (!index.TryGetValue(name, out from))
            {
                return;
            }
        }

        for (var iH13 = from; iH13 < history.Count; iH13++)
        {
            var h = history[iH13];
            if (!string.Equals(h.Interface, name, StringComparison.Ordinal))
            {
                continue;
            }

            var failures = Math.Clamp(h.RecentFailures, 0, MaxCountedFailures);
            if (failures > 0)
            {
                components.Add(new ScoreComponent(SoftFactor.RecentFailures, -FailurePenalty * failures, FailureCounts[failures]));
            }

            if (h.SmoothedRtt is { } rtt && rtt >= TimeSpan.Zero && slowestKnownRtt is { } slowest)
            {
                var points = Math.Min(RttBestPoints, (int)((slowest - rtt).TotalMilliseconds / 10));
                if (points > 0)
                {
                    components.Add(new ScoreComponent(SoftFactor.RoundTripTime, points,
                        string.Create(CultureInfo.InvariantCulture, $"{rtt.TotalMilliseconds:0.#} ms")));
                }
            }

            return;
        }
    }
}
