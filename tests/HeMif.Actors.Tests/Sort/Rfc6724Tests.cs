using System.Net;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif.Actors.Tests.Sort;

/// <summary>
/// RFC 6724 §5 and §6, checked with every example of RFC 6724 §10 ("Examples"). The draft's §4.2.4: "the node should
/// consider IP prefix and precedence parameter in policy table to select the best source address according to the
/// rule defined in [RFC6724]".
/// </summary>
public class Rfc6724Tests
{
    private static readonly AddressSelectionPolicyTable Table = AddressSelectionPolicyTable.Default;

    private static UInt128 A(string s) => Rfc6724.ToUInt128(IPAddress.Parse(s));

    /// <summary>A source candidate; flags: d = deprecated, t = temporary, h = home, c = care-of.</summary>
    private static SourceCandidate S(string address, string flags = "", int iface = 0)
    {
        var ip = IPAddress.Parse(address);
        var c = SourceCandidate.From(new InterfaceAddress(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 16 : 64), iface);
        return c with
        {
            Deprecated = flags.Contains('d', StringComparison.Ordinal),
            Temporary = flags.Contains('t', StringComparison.Ordinal),
            Home = flags.Contains('h', StringComparison.Ordinal),
            CareOf = flags.Contains('c', StringComparison.Ordinal),
        };
    }

    private static string Chosen(string destination, params SourceCandidate[] candidates)
    {
        var best = Rfc6724.SelectSource(candidates, A(destination), -1, Table);
        Assert.NotNull(best);
        return Format(best.Value.Address);
    }

    private static string Format(UInt128 a)
    {
        Span<byte> b = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(b, a);
        var ip = new IPAddress(b);
        return ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4().ToString() : ip.ToString();
    }

    private static SourceRule DecidingSourceRule(string destination, SourceCandidate a, SourceCandidate b)
    {
        Rfc6724.CompareSources(a, b, A(destination), -1, Table, out var rule);
        return rule;
    }

    // ---- §10.1 Default Source Address Selection ----

    /// <summary>"Destination: 2001:db8:1::1 / Candidate Source Addresses: 2001:db8:3::1 or fe80::1 / Result: 2001:db8:3::1 (prefer appropriate scope)"</summary>
    [Fact]
    public void Source_example_1_prefers_appropriate_scope()
    {
        Assert.Equal("2001:db8:3::1", Chosen("2001:db8:1::1", S("2001:db8:3::1"), S("fe80::1")));
        Assert.Equal(SourceRule.AppropriateScope, DecidingSourceRule("2001:db8:1::1", S("2001:db8:3::1"), S("fe80::1")));
    }

    /// <summary>"Destination: ff05::1 / Candidate Source Addresses: 2001:db8:3::1 or fe80::1 / Result: 2001:db8:3::1 (prefer appropriate scope)"</summary>
    [Fact]
    public void Source_example_2_prefers_appropriate_scope_for_site_multicast()
    {
        Assert.Equal("2001:db8:3::1", Chosen("ff05::1", S("2001:db8:3::1"), S("fe80::1")));
        Assert.Equal(SourceRule.AppropriateScope, DecidingSourceRule("ff05::1", S("2001:db8:3::1"), S("fe80::1")));
    }

    /// <summary>"Destination: 2001:db8:1::1 / Candidate Source Addresses: 2001:db8:1::1 (deprecated) or 2001:db8:2::1 / Result: 2001:db8:1::1 (prefer same address)"</summary>
    [Fact]
    public void Source_example_3_prefers_the_same_address_even_deprecated()
    {
        Assert.Equal("2001:db8:1::1", Chosen("2001:db8:1::1", S("2001:db8:1::1", "d"), S("2001:db8:2::1")));
        Assert.Equal(SourceRule.SameAddress, DecidingSourceRule("2001:db8:1::1", S("2001:db8:1::1", "d"), S("2001:db8:2::1")));
    }

    /// <summary>"Destination: fe80::1 / Candidate Source Addresses: fe80::2 (deprecated) or 2001:db8:1::1 / Result: fe80::2 (prefer appropriate scope)"</summary>
    [Fact]
    public void Source_example_4_prefers_appropriate_scope_over_avoiding_deprecated()
    {
        Assert.Equal("fe80::2", Chosen("fe80::1", S("fe80::2", "d"), S("2001:db8:1::1")));
        Assert.Equal(SourceRule.AppropriateScope, DecidingSourceRule("fe80::1", S("fe80::2", "d"), S("2001:db8:1::1")));
    }

    /// <summary>"Destination: 2001:db8:1::1 / Candidate Source Addresses: 2001:db8:1::2 or 2001:db8:3::2 / Result: 2001:db8:1::2 (longest matching prefix)"</summary>
    [Fact]
    public void Source_example_5_uses_the_longest_matching_prefix()
    {
        Assert.Equal("2001:db8:1::2", Chosen("2001:db8:1::1", S("2001:db8:3::2"), S("2001:db8:1::2")));
        Assert.Equal(SourceRule.LongestMatchingPrefix, DecidingSourceRule("2001:db8:1::1", S("2001:db8:1::2"), S("2001:db8:3::2")));
    }

    /// <summary>"Destination: 2001:db8:1::1 / Candidate Source Addresses: 2001:db8:1::2 (care-of address) or 2001:db8:3::2 (home address) / Result: 2001:db8:3::2 (prefer home address)"</summary>
    [Fact]
    public void Source_example_6_prefers_the_home_address()
    {
        Assert.Equal("2001:db8:3::2", Chosen("2001:db8:1::1", S("2001:db8:1::2", "c"), S("2001:db8:3::2", "h")));
        Assert.Equal(SourceRule.HomeAddress, DecidingSourceRule("2001:db8:1::1", S("2001:db8:1::2", "c"), S("2001:db8:3::2", "h")));
    }

    /// <summary>"Destination: 2002:c633:6401::1 / Candidate Source Addresses: 2002:c633:6401::d5e3:7953:13eb:22e8 (temporary) or 2001:db8:1::2 / Result: 2002:c633:6401::d5e3:7953:13eb:22e8 (prefer matching label)"</summary>
    [Fact]
    public void Source_example_7_prefers_the_matching_label()
    {
        Assert.Equal("2002:c633:6401:0:d5e3:7953:13eb:22e8", Chosen("2002:c633:6401::1", S("2001:db8:1::2"), S("2002:c633:6401::d5e3:7953:13eb:22e8", "t")));
        Assert.Equal(SourceRule.MatchingLabel, DecidingSourceRule("2002:c633:6401::1", S("2002:c633:6401::d5e3:7953:13eb:22e8", "t"), S("2001:db8:1::2")));
    }

    /// <summary>"Destination: 2001:db8:1::d5e3:0:0:1 / Candidate Source Addresses: 2001:db8:1::2 or 2001:db8:1::d5e3:7953:13eb:22e8 (temporary) / Result: 2001:db8:1::d5e3:7953:13eb:22e8 (prefer temporary address)"</summary>
    [Fact]
    public void Source_example_8_prefers_the_temporary_address()
    {
        Assert.Equal("2001:db8:1:0:d5e3:7953:13eb:22e8", Chosen("2001:db8:1::d5e3:0:0:1", S("2001:db8:1::2"), S("2001:db8:1::d5e3:7953:13eb:22e8", "t")));
        Assert.Equal(SourceRule.Temporary, DecidingSourceRule("2001:db8:1::d5e3:0:0:1", S("2001:db8:1::2"), S("2001:db8:1::d5e3:7953:13eb:22e8", "t")));
    }

    /// <summary>Rule 3 "Avoid deprecated addresses" and Rule 5 "Prefer outgoing interface" (no §10 example of their own).</summary>
    [Fact]
    public void Source_rules_3_and_5_avoid_deprecated_and_prefer_the_outgoing_interface()
    {
        Assert.Equal(SourceRule.AvoidDeprecated, DecidingSourceRule("2001:db8:9::1", S("2001:db8:1::2"), S("2001:db8:1::3", "d")));
        var onOutgoing = S("2001:db8:1::2", iface: 1);
        var elsewhere = S("2001:db8:1::3", iface: 2);
        Assert.True(Rfc6724.CompareSources(onOutgoing, elsewhere, A("2001:db8:9::1"), 1, Table, out var rule) < 0);
        Assert.Equal(SourceRule.OutgoingInterface, rule);
        Assert.True(Rfc6724.CompareSources(onOutgoing with { AdvertisedByNextHop = false }, elsewhere with { AdvertisedByNextHop = true },
            A("2001:db8:9::1"), -1, Table, out rule) > 0);
        Assert.Equal(SourceRule.AdvertisedByNextHop, rule);
    }

    // ---- §10.2 Default Destination Address Selection ----

    private static string[] Ordered(string[] sources, params string[] destinations)
    {
        var candidates = sources.Select(s => Parse(s)).ToArray();
        var list = destinations.Select(d => new DestinationCandidate(A(d), Rfc6724.SelectSource(candidates, A(d), -1, Table))).ToArray();
        Rfc6724.SortDestinations(list, Table);
        return list.Select(d => Format(d.Address)).ToArray();
    }

    private static SourceCandidate Parse(string s)
    {
        var open = s.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return S(s);
        }

        var flags = s[(open + 1)..^1] switch { "deprecated" => "d", "care-of" => "c", "home" => "h", _ => "" };
        return S(s[..open].Trim(), flags);
    }

    private static DestinationRule DecidingDestinationRule(string[] sources, string da, string db)
    {
        var candidates = sources.Select(s => Parse(s)).ToArray();
        var a = new DestinationCandidate(A(da), Rfc6724.SelectSource(candidates, A(da), -1, Table));
        var b = new DestinationCandidate(A(db), Rfc6724.SelectSource(candidates, A(db), -1, Table));
        Rfc6724.CompareDestinations(a, b, Table, out var rule);
        return rule;
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 or fe80::1 or 169.254.13.78 / Destination Address List: 2001:db8:1::1 or 198.51.100.121 / Result: 2001:db8:1::1 (prefer matching scope) then 198.51.100.121"</summary>
    [Fact]
    public void Destination_example_1_prefers_matching_scope()
    {
        string[] sources = ["2001:db8:1::2", "fe80::1", "169.254.13.78"];
        Assert.Equal(["2001:db8:1::1", "198.51.100.121"], Ordered(sources, "198.51.100.121", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.MatchingScope, DecidingDestinationRule(sources, "2001:db8:1::1", "198.51.100.121"));
    }

    /// <summary>"Candidate Source Addresses: fe80::1 or 198.51.100.117 / Destination Address List: 2001:db8:1::1 or 198.51.100.121 / Result: 198.51.100.121 (prefer matching scope) then 2001:db8:1::1"</summary>
    [Fact]
    public void Destination_example_2_prefers_matching_scope_for_IPv4()
    {
        string[] sources = ["fe80::1", "198.51.100.117"];
        Assert.Equal(["198.51.100.121", "2001:db8:1::1"], Ordered(sources, "2001:db8:1::1", "198.51.100.121"));
        Assert.Equal(DestinationRule.MatchingScope, DecidingDestinationRule(sources, "198.51.100.121", "2001:db8:1::1"));
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 or fe80::1 or 10.1.2.4 / Destination Address List: 2001:db8:1::1 or 10.1.2.3 / Result: 2001:db8:1::1 (prefer higher precedence) then 10.1.2.3"</summary>
    [Fact]
    public void Destination_example_3_prefers_higher_precedence()
    {
        string[] sources = ["2001:db8:1::2", "fe80::1", "10.1.2.4"];
        Assert.Equal(["2001:db8:1::1", "10.1.2.3"], Ordered(sources, "10.1.2.3", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.HigherPrecedence, DecidingDestinationRule(sources, "2001:db8:1::1", "10.1.2.3"));
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 or fe80::2 / Destination Address List: 2001:db8:1::1 or fe80::1 / Result: fe80::1 (prefer smaller scope) then 2001:db8:1::1"</summary>
    [Fact]
    public void Destination_example_4_prefers_smaller_scope()
    {
        string[] sources = ["2001:db8:1::2", "fe80::2"];
        Assert.Equal(["fe80::1", "2001:db8:1::1"], Ordered(sources, "2001:db8:1::1", "fe80::1"));
        Assert.Equal(DestinationRule.SmallerScope, DecidingDestinationRule(sources, "fe80::1", "2001:db8:1::1"));
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 (care-of address) or 2001:db8:3::1 (home address) or fe80::2 (care-of address) / Destination Address List: 2001:db8:1::1 or fe80::1 / Result: 2001:db8:1::1 (prefer home address) then fe80::1"</summary>
    [Fact]
    public void Destination_example_5_prefers_home_address()
    {
        string[] sources = ["2001:db8:1::2 (care-of)", "2001:db8:3::1 (home)", "fe80::2 (care-of)"];
        Assert.Equal(["2001:db8:1::1", "fe80::1"], Ordered(sources, "fe80::1", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.HomeAddress, DecidingDestinationRule(sources, "2001:db8:1::1", "fe80::1"));
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 or fe80::2 (deprecated) / Destination Address List: 2001:db8:1::1 or fe80::1 / Result: 2001:db8:1::1 (avoid deprecated addresses) then fe80::1"</summary>
    [Fact]
    public void Destination_example_6_avoids_deprecated_sources()
    {
        string[] sources = ["2001:db8:1::2", "fe80::2 (deprecated)"];
        Assert.Equal(["2001:db8:1::1", "fe80::1"], Ordered(sources, "fe80::1", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.AvoidDeprecated, DecidingDestinationRule(sources, "2001:db8:1::1", "fe80::1"));
    }

    /// <summary>"Candidate Source Addresses: 2001:db8:1::2 or 2001:db8:3f44::2 or fe80::2 / Destination Address List: 2001:db8:1::1 or 2001:db8:3ffe::1 / Result: 2001:db8:1::1 (longest matching prefix) then 2001:db8:3ffe::1"</summary>
    [Fact]
    public void Destination_example_7_uses_the_longest_matching_prefix()
    {
        string[] sources = ["2001:db8:1::2", "2001:db8:3f44::2", "fe80::2"];
        Assert.Equal(["2001:db8:1::1", "2001:db8:3ffe::1"], Ordered(sources, "2001:db8:3ffe::1", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.LongestMatchingPrefix, DecidingDestinationRule(sources, "2001:db8:1::1", "2001:db8:3ffe::1"));
    }

    /// <summary>"Candidate Source Addresses: 2002:c633:6401::2 or fe80::2 / Destination Address List: 2002:c633:6401::1 or 2001:db8:1::1 / Result: 2002:c633:6401::1 (prefer matching label) then 2001:db8:1::1"</summary>
    [Fact]
    public void Destination_example_8_prefers_matching_label()
    {
        string[] sources = ["2002:c633:6401::2", "fe80::2"];
        Assert.Equal(["2002:c633:6401::1", "2001:db8:1::1"], Ordered(sources, "2001:db8:1::1", "2002:c633:6401::1"));
        Assert.Equal(DestinationRule.MatchingLabel, DecidingDestinationRule(sources, "2002:c633:6401::1", "2001:db8:1::1"));
    }

    /// <summary>"Candidate Source Addresses: 2002:c633:6401::2 or 2001:db8:1::2 or fe80::2 / Destination Address List: 2002:c633:6401::1 or 2001:db8:1::1 / Result: 2001:db8:1::1 (prefer higher precedence) then 2002:c633:6401::1"</summary>
    [Fact]
    public void Destination_example_9_prefers_higher_precedence()
    {
        string[] sources = ["2002:c633:6401::2", "2001:db8:1::2", "fe80::2"];
        Assert.Equal(["2001:db8:1::1", "2002:c633:6401::1"], Ordered(sources, "2002:c633:6401::1", "2001:db8:1::1"));
        Assert.Equal(DestinationRule.HigherPrecedence, DecidingDestinationRule(sources, "2001:db8:1::1", "2002:c633:6401::1"));
    }

    /// <summary>Rule 1 "Avoid unusable destinations" and Rule 7 "Prefer native transport"; Rule 10 keeps the order.</summary>
    [Fact]
    public void Destination_rules_1_7_and_10()
    {
        var src = S("2001:db8:1::2");
        var usable = new DestinationCandidate(A("2001:db8:1::1"), src);
        var noSource = new DestinationCandidate(A("198.51.100.1"), null);
        Assert.True(Rfc6724.CompareDestinations(usable, noSource, Table, out var rule) < 0);
        Assert.Equal(DestinationRule.AvoidUnusable, rule);
        Assert.True(Rfc6724.CompareDestinations(usable with { Unusable = true }, usable, Table, out rule) > 0);
        Assert.Equal(DestinationRule.AvoidUnusable, rule);

        var tunnelled = usable with { Encapsulated = true };
        var native = new DestinationCandidate(A("2001:db8:1::3"), src);
        Assert.True(Rfc6724.CompareDestinations(tunnelled, native, Table, out rule) > 0);
        Assert.Equal(DestinationRule.NativeTransport, rule);

        DestinationCandidate[] same = [native, usable];
        Rfc6724.SortDestinations(same, Table);
        Assert.Equal(A("2001:db8:1::3"), same[0].Address);
    }

    /// <summary>RFC 6724 §2.1: the default table, and a configured table changing the outcome (§2.1 "can be changed").</summary>
    [Fact]
    public void The_policy_table_is_the_RFC_default_and_can_be_replaced()
    {
        Assert.Equal((50, 0), Table.Lookup(A("::1")));
        Assert.Equal((40, 1), Table.Lookup(A("2001:db8::1")));
        Assert.Equal((35, 4), Table.Lookup(A("192.0.2.1")));
        Assert.Equal((30, 2), Table.Lookup(A("2002::1")));
        Assert.Equal((5, 5), Table.Lookup(A("2001::1")));
        Assert.Equal((3, 13), Table.Lookup(A("fd00::1")));
        Assert.Equal((1, 3), Table.Lookup(A("::192.0.2.1")));
        Assert.Equal((1, 11), Table.Lookup(A("fec0::1")));
        Assert.Equal((1, 12), Table.Lookup(A("3ffe::1")));

        // Prefer IPv4 over IPv6, as RFC 6724 §10.3 describes administrators doing.
        var v4First = new AddressSelectionPolicyTable(Table.Entries.Select(e => e.Prefix.ToString() == "::ffff:0:0/96" ? e with { Precedence = 100 } : e));
        var a = new DestinationCandidate(A("2001:db8:1::1"), S("2001:db8:1::2"));
        var b = new DestinationCandidate(A("10.1.2.3"), S("10.1.2.4"));
        Assert.True(Rfc6724.CompareDestinations(a, b, Table, out _) < 0);
        Assert.True(Rfc6724.CompareDestinations(a, b, v4First, out _) > 0);
    }

    /// <summary>RFC 6724 §3.1 scopes, including IPv4 ("auto-configuration ... and loopback addresses have link-local scope").</summary>
    [Theory]
    [InlineData("fe80::1", AddressScope.LinkLocal)]
    [InlineData("::1", AddressScope.LinkLocal)]
    [InlineData("fec0::1", AddressScope.SiteLocal)]
    [InlineData("ff02::1", AddressScope.LinkLocal)]
    [InlineData("ff05::1", AddressScope.SiteLocal)]
    [InlineData("ff0e::1", AddressScope.Global)]
    [InlineData("2001:db8::1", AddressScope.Global)]
    [InlineData("fd00::1", AddressScope.Global)]
    [InlineData("169.254.13.78", AddressScope.LinkLocal)]
    [InlineData("127.0.0.1", AddressScope.LinkLocal)]
    [InlineData("10.1.2.3", AddressScope.Global)]
    public void Scopes_follow_section_3_1(string address, AddressScope scope) =>
        Assert.Equal(scope, Rfc6724.ScopeOf(IPAddress.Parse(address)));

    /// <summary>§2.2: "CommonPrefixLen(fe80::1, fe80::2) is 64" (limited to the source's prefix).</summary>
    [Fact]
    public void Common_prefix_length_stops_at_the_source_prefix() =>
        Assert.Equal(64, Rfc6724.CommonPrefixLength(A("fe80::1"), 64, A("fe80::2")));
}
