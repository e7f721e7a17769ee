using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.Sort;

/// <summary>A candidate source address for RFC 6724 §5, with the attributes the rules read.</summary>
/// <param name="Address">The address in the 128-bit form (IPv4 as IPv4-mapped).</param>
/// <param name="PrefixLength">The on-link prefix length in that 128-bit form (IPv4 /24 is 120).</param>
/// <param name="IsIPv4">The address is IPv4.</param>
/// <param name="Scope">Scope(S).</param>
/// <param name="Interface">Index of the interface the address is assigned to.</param>
internal readonly record struct SourceCandidate(UInt128 Address, int PrefixLength, bool IsIPv4, AddressScope Scope, int Interface)
{
    /// <summary>Rule 3: deprecated in the RFC 4862 sense.</summary>
    public bool Deprecated { get; init; }

    /// <summary>Rule 4: a Mobile IPv6 home address.</summary>
    public bool Home { get; init; }

    /// <summary>Rule 4: a Mobile IPv6 care-of address (an address can be both).</summary>
    public bool CareOf { get; init; }

    /// <summary>Rule 5.5: the address is in a prefix advertised by the next hop toward the destination.</summary>
    public bool AdvertisedByNextHop { get; init; }

    /// <summary>Rule 7: a temporary address.</summary>
    public bool Temporary { get; init; }

    /// <summary>Position of the address in its interface's address list (to name it in explanations).</summary>
    public int AddressIndex { get; init; }

    /// <summary>Builds a candidate from an interface address.</summary>
    public static SourceCandidate From(InterfaceAddress a, int interfaceIndex, int addressIndex = 0)
    {
        var v4 = a.Address.AddressFamily == AddressFamily.InterNetwork || a.Address.IsIPv4MappedToIPv6;
        var addr = Rfc6724.ToUInt128(a.Address);
        return new SourceCandidate(addr, v4 && a.Address.AddressFamily == AddressFamily.InterNetwork ? 96 + a.PrefixLength : a.PrefixLength,
            v4, a.Scope ?? Rfc6724.ScopeOf(addr), interfaceIndex)
        {
            Deprecated = a.Deprecated,
            Temporary = a.Temporary,
            AddressIndex = addressIndex,
        };
    }
}

/// <summary>A destination address for RFC 6724 §6 together with the source chosen for it (or none: unusable).</summary>
/// <param name="Address">The destination in the 128-bit form.</param>
/// <param name="Source">Source(D) as §5 chose it; null when there is none (Rule 1).</param>
internal readonly record struct DestinationCandidate(UInt128 Address, SourceCandidate? Source)
{
    /// <summary>Rule 1: known to be unreachable or failed.</summary>
    public bool Unusable { get; init; }

    /// <summary>Rule 7: reached through an encapsulating transition mechanism (e.g. IPv6 in IPv4).</summary>
    public bool Encapsulated { get; init; }
}

/// <summary>Which RFC 6724 §5 rule decided between two source addresses.</summary>
internal enum SourceRule
{
    None = 0,
    SameAddress = 1,
    AppropriateScope = 2,
    AvoidDeprecated = 3,
    HomeAddress = 4,
    OutgoingInterface = 5,
    AdvertisedByNextHop = 55,
    MatchingLabel = 6,
    Temporary = 7,
    LongestMatchingPrefix = 8,
}

/// <summary>Which RFC 6724 §6 rule decided between two destination addresses.</summary>
internal enum DestinationRule
{
    None = 0,
    AvoidUnusable = 1,
    MatchingScope = 2,
    AvoidDeprecated = 3,
    HomeAddress = 4,
    MatchingLabel = 5,
    HigherPrecedence = 6,
    NativeTransport = 7,
    SmallerScope = 8,
    LongestMatchingPrefix = 9,
}

/// <summary>
/// RFC 6724 "Default Address Selection for IPv6" as pure functions: §5 source address selection and §6 destination
/// address ordering over the §2.1 policy table. Comparers return a negative number when the first argument is
/// preferred. Used by the interface sort (§4.2.4 of the draft) and by the race planner's address ordering.
/// </summary>
internal static class Rfc6724
{
    private static readonly UInt128 V4MappedPrefix = new(0, 0xFFFF_0000_0000);

    /// <summary>The 128-bit form: IPv6 as is, IPv4 as IPv4-mapped (RFC 6724 §2.1 "IPv4 addresses ... as IPv4-mapped").</summary>
    public static UInt128 ToUInt128(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> b = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return V4MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(v4);
        }

        address.TryWriteBytes(b, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(b);
    }

    /// <summary>True for an IPv4-mapped address.</summary>
    public static bool IsIPv4(UInt128 a) => a >> 32 == V4MappedPrefix >> 32;

    /// <summary>The first <paramref name="length"/> bits of <paramref name="a"/> equal those of <paramref name="prefix"/>.</summary>
    public static bool PrefixMatches(UInt128 a, UInt128 prefix, int length) =>
        length <= 0 || ((a ^ prefix) >> (128 - Math.Min(length, 128))) == UInt128.Zero;

    /// <summary>
    /// Scope(A), RFC 6724 §3.1: multicast scope from the address; fe80::/10 and the loopback are link-local;
    /// fec0::/10 is site-local; "IPv4 auto-configuration addresses [RFC3927] have link-local scope. IPv4 loopback
    /// addresses ... have link-local scope. Other IPv4 addresses ... have global scope"; everything else global.
    /// </summary>
    public static AddressScope ScopeOf(UInt128 a)
    {
        if (IsIPv4(a))
        {
            var v4 = (uint)(a & 0xFFFF_FFFF);
            return (v4 >> 24) == 127 || (v4 >> 16) == 0xA9FE ? AddressScope.LinkLocal : AddressScope.Global;
        }

        var top = (ulong)(a >> 64);
        if ((top >> 56) == 0xFF)
        {
            var s = (int)((top >> 48) & 0xF);
            return s switch
            {
                1 => AddressScope.InterfaceLocal,
                2 => AddressScope.LinkLocal,
                4 => AddressScope.AdminLocal,
                5 => AddressScope.SiteLocal,
                8 => AddressScope.OrganizationLocal,
                _ => AddressScope.Global,
            };
        }

        if (a == UInt128.One || (top >> 54) == (0xFE80UL >> 6))
        {
            return AddressScope.LinkLocal;
        }

        return (top >> 54) == (0xFEC0UL >> 6) ? AddressScope.SiteLocal : AddressScope.Global;
    }

    /// <summary>Scope(A) of an <see cref="IPAddress"/>.</summary>
    public static AddressScope ScopeOf(IPAddress a) => ScopeOf(ToUInt128(a));

    /// <summary>
    /// CommonPrefixLen(S, D), RFC 6724 §2.2: "the length of the longest prefix ... that the two addresses have in
    /// common, up to the length of S's prefix (i.e., the portion of the address not including the interface ID)."
    /// </summary>
    public static int CommonPrefixLength(UInt128 s, int sourcePrefixLength, UInt128 d)
    {
        var x = s ^ d;
        var common = x == UInt128.Zero ? 128 : (int)UInt128.LeadingZeroCount(x);
        return Math.Min(common, sourcePrefixLength);
    }

    /// <summary>
    /// RFC 6724 §5: "the rules [are] applied to the candidate source addresses SA and SB for destination D ... If
    /// the eight rules fail to choose a single address, some unspecified tie-breaker should be used."
    /// <paramref name="outgoingInterface"/> is the interface that will send to D, or -1 when not known (Rule 5 skipped).
    /// </summary>
    public static int CompareSources(in SourceCandidate sa, in SourceCandidate sb, UInt128 d, int outgoingInterface,
        AddressSelectionPolicyTable table, out SourceRule rule)
    {
        // Rule 1: Prefer same address. "If SA = D, then prefer SA. Similarly, if SB = D, then prefer SB."
        rule = SourceRule.SameAddress;
        if (sa.Address == d && sb.Address != d)
        {
            return -1;
        }

        if (sb.Address == d && sa.Address != d)
        {
            return 1;
        }

        // Rule 2: Prefer appropriate scope. "If Scope(SA) < Scope(SB): If Scope(SA) < Scope(D), then prefer SB and
        // otherwise prefer SA. Similarly, if Scope(SB) < Scope(SA): If Scope(SB) < Scope(D), then prefer SA and
        // otherwise prefer SB."
        rule = SourceRule.AppropriateScope;
        var scopeD = ScopeOf(d);
        if (sa.Scope < sb.Scope)
        {
            return sa.Scope < scopeD ? 1 : -1;
        }

        if (sb.Scope < sa.Scope)
        {
            return sb.Scope < scopeD ? -1 : 1;
        }

        // Rule 3: Avoid deprecated addresses.
        rule = SourceRule.AvoidDeprecated;
        if (sa.Deprecated != sb.Deprecated)
        {
            return sa.Deprecated ? 1 : -1;
        }

        // Rule 4: Prefer home addresses. "If SA is simultaneously a home address and care-of address and SB is not,
        // then prefer SA. ... If SA is just a home address and SB is just a care-of address, then prefer SA."
        rule = SourceRule.HomeAddress;
        if (CompareHome(sa, sb) is var home and not 0)
        {
            return home;
        }

        // Rule 5: Prefer outgoing interface.
        rule = SourceRule.OutgoingInterface;
        if (outgoingInterface >= 0 && (sa.Interface == outgoingInterface) != (sb.Interface == outgoingInterface))
        {
            return sa.Interface == outgoingInterface ? -1 : 1;
        }

        // Rule 5.5: Prefer addresses in a prefix advertised by the next-hop.
        rule = SourceRule.AdvertisedByNextHop;
        if (sa.AdvertisedByNextHop != sb.AdvertisedByNextHop)
        {
            return sa.AdvertisedByNextHop ? -1 : 1;
        }

        // Rule 6: Prefer matching label. "If Label(SA) = Label(D) and Label(SB) <> Label(D), then prefer SA."
        rule = SourceRule.MatchingLabel;
        var labelD = table.Lookup(d).Label;
        var matchA = table.Lookup(sa.Address).Label == labelD;
        var matchB = table.Lookup(sb.Address).Label == labelD;
        if (matchA != matchB)
        {
            return matchA ? -1 : 1;
        }

        // Rule 7: Prefer temporary addresses.
        rule = SourceRule.Temporary;
        if (sa.Temporary != sb.Temporary)
        {
            return sa.Temporary ? -1 : 1;
        }

        // Rule 8: Use longest matching prefix. "If CommonPrefixLen(SA, D) > CommonPrefixLen(SB, D), then prefer SA."
        rule = SourceRule.LongestMatchingPrefix;
        var lenA = CommonPrefixLength(sa.Address, sa.PrefixLength, d);
        var lenB = CommonPrefixLength(sb.Address, sb.PrefixLength, d);
        if (lenA != lenB)
        {
            return lenA > lenB ? -1 : 1;
        }

        rule = SourceRule.None;
        return 0;
    }

    /// <summary>
    /// Picks Source(D) from <paramref name="candidates"/>: only addresses of D's family take part (§4 "the candidate
    /// set"); ties keep the earlier candidate (the "unspecified tie-breaker"). Null when there is none.
    /// </summary>
    public static SourceCandidate? SelectSource(ReadOnlySpan<SourceCandidate> candidates, UInt128 d, int outgoingInterface,
        AddressSelectionPolicyTable table)
    {
        var dv4 = IsIPv4(d);
        SourceCandidate? best = null;
        foreach (ref readonly var c in candidates)
        {
            if (c.IsIPv4 != dv4)
            {
                continue;
            }

            if (best is not { } b || CompareSources(c, b, d, outgoingInterface, table, out _) < 0)
            {
                best = c;
            }
        }

        return best;
    }

    /// <summary>
    /// RFC 6724 §6: "The pair-wise comparison of destination addresses consists of ten rules, which MUST be applied
    /// in order." Rule 10 ("Otherwise, leave the order unchanged") is a zero result; callers sort stably.
    /// </summary>
    public static int CompareDestinations(in DestinationCandidate da, in DestinationCandidate db, AddressSelectionPolicyTable table,
        out DestinationRule rule)
    {
        // Rule 1: Avoid unusable destinations. "If DB is known to be unreachable or if Source(DB) is undefined, then
        // prefer DA."
        rule = DestinationRule.AvoidUnusable;
        var usableA = !da.Unusable && da.Source is not null;
        var usableB = !db.Unusable && db.Source is not null;
        if (usableA != usableB)
        {
            return usableA ? -1 : 1;
        }

        if (!usableA)
        {
            rule = DestinationRule.None;
            return 0;
        }

        var sa = da.Source!.Value;
        var sb = db.Source!.Value;

        // Rule 2: Prefer matching scope. "If Scope(DA) = Scope(Source(DA)) and Scope(DB) <> Scope(Source(DB)), then prefer DA."
        rule = DestinationRule.MatchingScope;
        var scopeA = ScopeOf(da.Address);
        var scopeB = ScopeOf(db.Address);
        var matchScopeA = scopeA == sa.Scope;
        var matchScopeB = scopeB == sb.Scope;
        if (matchScopeA != matchScopeB)
        {
            return matchScopeA ? -1 : 1;
        }

        // Rule 3: Avoid deprecated addresses. "If Source(DA) is deprecated and Source(DB) is not, then prefer DB."
        rule = DestinationRule.AvoidDeprecated;
        if (sa.Deprecated != sb.Deprecated)
        {
            return sa.Deprecated ? 1 : -1;
        }

        // Rule 4: Prefer home addresses.
        rule = DestinationRule.HomeAddress;
        if (CompareHome(sa, sb) is var home and not 0)
        {
            return home;
        }

        // Rule 5: Prefer matching label. "If Label(Source(DA)) = Label(DA) and Label(Source(DB)) <> Label(DB), then prefer DA."
        rule = DestinationRule.MatchingLabel;
        var (precA, labelA) = table.Lookup(da.Address);
        var (precB, labelB) = table.Lookup(db.Address);
        var labelMatchA = table.Lookup(sa.Address).Label == labelA;
        var labelMatchB = table.Lookup(sb.Address).Label == labelB;
        if (labelMatchA != labelMatchB)
        {
            return labelMatchA ? -1 : 1;
        }

        // Rule 6: Prefer higher precedence. "If Precedence(DA) > Precedence(DB), then prefer DA."
        rule = DestinationRule.HigherPrecedence;
        if (precA != precB)
        {
            return precA > precB ? -1 : 1;
        }

        // Rule 7: Prefer native transport. "If DA is reached via an encapsulating transition mechanism ... and DB is
        // not, then prefer DB."
        rule = DestinationRule.NativeTransport;
        if (da.Encapsulated != db.Encapsulated)
        {
            return da.Encapsulated ? 1 : -1;
        }

        // Rule 8: Prefer smaller scope. "If Scope(DA) < Scope(DB), then prefer DA."
        rule = DestinationRule.SmallerScope;
        if (scopeA != scopeB)
        {
            return scopeA < scopeB ? -1 : 1;
        }

        // Rule 9: Use longest matching prefix. "When DA and DB belong to the same address family ...: If
        // CommonPrefixLen(Source(DA), DA) > CommonPrefixLen(Source(DB), DB), then prefer DA."
        rule = DestinationRule.LongestMatchingPrefix;
        if (IsIPv4(da.Address) == IsIPv4(db.Address))
        {
            var lenA = CommonPrefixLength(sa.Address, sa.PrefixLength, da.Address);
            var lenB = CommonPrefixLength(sb.Address, sb.PrefixLength, db.Address);
            if (lenA != lenB)
            {
                return lenA > lenB ? -1 : 1;
            }
        }

        // Rule 10: Otherwise, leave the order unchanged.
        rule = DestinationRule.None;
        return 0;
    }

    /// <summary>
    /// Orders one interface's destination addresses by §6, each with its Source(D) chosen by §5 from that interface's
    /// own addresses (the race's per-interface ordering, RFC 8305 §4). Stable: equal destinations keep their order.
    /// </summary>
    public static IReadOnlyList<IPAddress> SortDestinations(IReadOnlyList<IPAddress> destinations, InterfaceFacts facts, AddressSelectionPolicyTable table)
    {
        ArgumentNullException.ThrowIfNull(destinations);
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(table);
        var sources = new SourceCandidate[facts.Addresses.Count];
        for (var a = 0; a < sources.Length; a++)
        {
            sources[a] = SourceCandidate.From(facts.Addresses[a], 0, a);
        }

        var candidates = new DestinationCandidate[destinations.Count];
        var keys = new UInt128[destinations.Count];
        for (var i = 0; i < candidates.Length; i++)
        {
            keys[i] = ToUInt128(destinations[i]);
            candidates[i] = new DestinationCandidate(keys[i], SelectSource(sources, keys[i], 0, table));
        }

        SortDestinations(candidates, table);
        // Back to the caller's address objects, the first one of equal addresses for each. An interface has a few
        // destinations, so a scan; it runs on every request (a dictionary and a LINQ projection allocated per race).
        var sorted = new List<IPAddress>(candidates.Length);
        foreach (var c in candidates)
        {
            sorted.Add(destinations[Array.IndexOf(keys, c.Address)]);
        }

        return sorted;
    }

    /// <summary>
    /// Rule 4 of both §5 and §6 (for §6, of the sources): "If SA is simultaneously a home address and care-of address
    /// and SB is not, then prefer SA. ... If SA is just a home address and SB is just a care-of address, then prefer SA."
    /// Negative prefers A, positive prefers B, 0 decides nothing.
    /// </summary>
    private static int CompareHome(in SourceCandidate sa, in SourceCandidate sb)
    {
        var bothA = sa.Home && sa.CareOf;
        var bothB = sb.Home && sb.CareOf;
        if (bothA != bothB)
        {
            return bothA ? -1 : 1;
        }

        if (sa.Home && !sa.CareOf && sb.CareOf && !sb.Home)
        {
            return -1;
        }

        return sb.Home && !sb.CareOf && sa.CareOf && !sa.Home ? 1 : 0;
    }

    /// <summary>Sorts destinations by §6, stably (Rule 10). Insertion sort: destination lists are short.</summary>
    public static void SortDestinations(Span<DestinationCandidate> destinations, AddressSelectionPolicyTable table)
    {
        for (var i = 1; i < destinations.Length; i++)
        {
            var x = destinations[i];
            var j = i - 1;
            while (j >= 0 && CompareDestinations(x, destinations[j], table, out _) < 0)
            {
                destinations[j + 1] = destinations[j];
                j--;
            }

            destinations[j + 1] = x;
        }
    }
}
