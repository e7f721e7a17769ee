using System.Net;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// RFC 4861 §4.2 Router Advertisements with the options HeMif learns from (RFC 4861 §4.6, RFC 4191, RFC 8106, RFC 8801),
/// and RFC 4861 §6.1.2: "Hosts MUST silently discard any received Router Advertisement messages that do not satisfy all
/// of the following validity checks".
/// </summary>
public sealed class RouterAdvertisementReaderTests
{
    private static readonly IPAddress Router = RaWire.Router;

    private static RouterAdvertisement Accept(byte[] bytes)
    {
        var result = RouterAdvertisementReader.Read(Router, 255, bytes);
        Assert.True(result.Ok, result.ToString());
        return result.Advertisement!;
    }

    private static byte[] With(byte[] bytes, int index, byte value)
    {
        bytes[index] = value;
        return bytes;
    }

    private static RaReadResult Reject(byte[] bytes, RaRejection expected, IPAddress? source = null, int hopLimit = 255)
    {
        var result = RouterAdvertisementReader.Read(source ?? Router, hopLimit, bytes);
        Assert.False(result.Ok);
        Assert.Equal(expected, result.Rejection);
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
        return result;
    }

    [Fact]
    public void The_header_and_every_option_are_read()
    {
        var ra = Accept(RaWire.Advertisement(routerLifetime: 1800, prf: 0b01, managed: true, other: true, curHopLimit: 64, reachableMs: 30000, retransMs: 1000)
            .Prefix("2001:db8:1::/64", valid: 86400, preferred: 14400)
            .Mtu(1480)
            .Route("2001:db8:99::/48", prf: 0b01, lifetime: 600)
            .Rdnss(300, "2001:db8:1::53", "2001:db8:1::54")
            .Dnssl(300, "corp.example", "lab.example")
            .ToArray());

        Assert.Equal(new RaHeader(64, true, true, RoutePreference.High, 1800, 30000, 1000), ra.Header);
        Assert.Null(ra.Pvd);
        Assert.Empty(ra.Ignored);
        var p = Assert.Single(ra.Options.Prefixes);
        Assert.Equal(IPNetwork.Parse("2001:db8:1::/64"), p.Prefix);
        Assert.True(p.OnLink && p.Autonomous);
        Assert.Equal(86400u, p.ValidLifetime.Seconds);
        Assert.Equal(14400u, p.PreferredLifetime.Seconds);
        Assert.Equal(1480u, ra.Options.Mtu);
        var route = Assert.Single(ra.Options.Routes);
        Assert.Equal((IPNetwork.Parse("2001:db8:99::/48"), RoutePreference.High, 600u), (route.Prefix, route.Preference, route.Lifetime.Seconds));
        var dns = Assert.Single(ra.Options.DnsServers);
        Assert.Equal(["2001:db8:1::53", "2001:db8:1::54"], dns.Servers.Select(s => s.ToString()));
        Assert.Equal(["corp.example", "lab.example"], Assert.Single(ra.Options.SearchLists).Domains);
    }

    /// <summary>RFC 4861 §6.1.2: "IP Source Address is a link-local address."</summary>
    [Theory]
    [InlineData("2001:db8::1")]
    [InlineData("::1")]
    [InlineData("192.0.2.1")]
    [InlineData("ff02::1")]
    public void An_RA_from_a_source_that_is_not_link_local_is_ignored(string source) =>
        Reject(RaWire.Advertisement().Rdnss(300, "2001:db8::53").ToArray(), RaRejection.SourceNotLinkLocal, IPAddress.Parse(source));

    /// <summary>RFC 4861 §6.1.2: "The IP Hop Limit field has a value of 255, i.e., the packet could not possibly have been forwarded by a router."</summary>
    [Theory]
    [InlineData(254)]
    [InlineData(64)]
    [InlineData(0)]
    [InlineData(256)]
    public void An_RA_whose_hop_limit_is_not_255_is_ignored(int hopLimit) =>
        Reject(RaWire.Advertisement().ToArray(), RaRejection.HopLimitNot255, hopLimit: hopLimit);

    [Fact]
    public void Messages_that_fail_the_other_validity_checks_are_ignored()
    {
        Reject(RaWire.Advertisement().ToArray()[..15], RaRejection.TooShort);
        Reject([], RaRejection.TooShort);
        Reject(RaWire.Advertisement(type: 133).ToArray(), RaRejection.NotRouterAdvertisement);
        Reject(RaWire.Advertisement(code: 1).ToArray(), RaRejection.NonZeroCode);
        // "All included options have a length that is greater than zero."
        Reject(RaWire.Advertisement().Rdnss(300, "2001:db8::53").Option(99, new byte[6], lengthUnits: 0).ToArray(), RaRejection.ZeroLengthOption);
        // An option that claims more octets than the packet has, and a lone octet after the last option.
        Reject(RaWire.Advertisement().Option(25, new byte[22], lengthUnits: 5).ToArray(), RaRejection.OptionTruncated);
        Reject(RaWire.Advertisement().Rdnss(300, "2001:db8::53").Bytes(25).ToArray(), RaRejection.OptionTruncated);
        var full = RaWire.Advertisement().Rdnss(300, "2001:db8::53").ToArray();
        Reject(full[..^1], RaRejection.OptionTruncated);
    }

    /// <summary>RFC 4191 §2.2: "If the Reserved (10) value is received, the receiver MUST treat the value as if it were (00)"; "If the Router Lifetime is zero, the preference value ... MUST be ignored by the receiver."</summary>
    [Theory]
    [InlineData(1800, 0b01, RoutePreference.High)]
    [InlineData(1800, 0b00, RoutePreference.Medium)]
    [InlineData(1800, 0b11, RoutePreference.Low)]
    [InlineData(1800, 0b10, RoutePreference.Medium)]
    [InlineData(0, 0b01, RoutePreference.Medium)]
    [InlineData(0, 0b11, RoutePreference.Medium)]
    public void The_default_router_preference_follows_RFC_4191(int lifetime, int prf, RoutePreference expected) =>
        Assert.Equal(expected, Accept(RaWire.Advertisement((ushort)lifetime, prf).ToArray()).Header.DefaultRouterPreference);

    /// <summary>RFC 4861 §4.6: "Receivers MUST silently ignore any options they do not recognize and continue processing the message."</summary>
    [Fact]
    public void Unknown_options_are_skipped_and_the_rest_is_read()
    {
        var ra = Accept(RaWire.Advertisement().Option(1, [0x02, 0, 0, 0, 0, 1]).Option(200, new byte[30]).Rdnss(60, "2001:db8::53").ToArray());
        Assert.Single(ra.Options.DnsServers);
        Assert.Empty(ra.Ignored);
    }

    /// <summary>
    /// RFC 8801 §3.1: the PvD Option carries the PvD ID FQDN, the H, L and R flags, Delay and a Sequence Number, the RA
    /// header when R is set, and options "that would otherwise be valid as part of the" RA.
    /// </summary>
    [Fact]
    public void A_PvD_option_is_read_with_its_flags_its_header_and_its_nested_options()
    {
        byte[] nested = [.. RaWire.PrefixBytes("2001:db8:a::/64"), .. RaWire.RdnssBytes(600, "2001:db8:a::53"), .. RaWire.DnsslBytes(600, "corp.example"),
            .. RaWire.RouteBytes("2001:db8:ff::/48", prf: 0b01)];
        var ra = Accept(RaWire.Advertisement(routerLifetime: 0)
            .Pvd("pvd.corp.example", sequence: 7, h: true, l: true, delay: 3, raHeader: RaWire.Header(routerLifetime: 900, prf: 0b11), nested: nested)
            .Rdnss(300, "2001:db8::53")
            .ToArray());

        var pvd = ra.Pvd!;
        Assert.Equal(("pvd.corp.example", true, true, (ushort)7, (byte)3), (pvd.PvdId, pvd.HttpFlag, pvd.LegacyFlag, pvd.SequenceNumber, pvd.Delay));
        Assert.Equal(TimeSpan.FromMilliseconds(64), pvd.MaxFetchDelay);
        Assert.Equal(900, pvd.Header!.RouterLifetime);
        Assert.Equal(RoutePreference.Low, ra.EffectiveHeader.DefaultRouterPreference);
        Assert.Equal(0, ra.Header.RouterLifetime);
        Assert.Equal(IPNetwork.Parse("2001:db8:a::/64"), Assert.Single(pvd.Options.Prefixes).Prefix);
        Assert.Equal("2001:db8:a::53", Assert.Single(Assert.Single(pvd.Options.DnsServers).Servers).ToString());
        Assert.Equal(["corp.example"], Assert.Single(pvd.Options.SearchLists).Domains);
        Assert.Equal(RoutePreference.High, Assert.Single(pvd.Options.Routes).Preference);
        // The option outside the PvD Option stays at the RA's level.
        Assert.Equal("2001:db8::53", Assert.Single(Assert.Single(ra.Options.DnsServers).Servers).ToString());
        Assert.Empty(ra.Ignored);
    }

    [Fact]
    public void Without_the_R_flag_the_RA_header_applies_to_the_PvD()
    {
        var ra = Accept(RaWire.Advertisement(routerLifetime: 1200, prf: 0b01).Pvd("a.example", nested: RaWire.RdnssBytes(60, "2001:db8::1")).ToArray());
        Assert.Null(ra.Pvd!.Header);
        Assert.Same(ra.Header, ra.EffectiveHeader);
    }

    /// <summary>The brief and RFC 4861 §6.1.2's spirit: an RA whose PvD ID is not a valid FQDN is ignored whole, since its options could not be told apart from the implicit PvD's.</summary>
    [Theory]
    [InlineData(new byte[] { 0 }, "root")]
    [InlineData(new byte[] { 3, (byte)'p', (byte)'v', (byte)'d', 0xC0, 0x06 }, "compression")]
    [InlineData(new byte[] { 3, (byte)'a', (byte)' ', (byte)'b', 0 }, "0x20")]
    [InlineData(new byte[] { 3, (byte)'a', (byte)'.', (byte)'b', 0 }, "0x2e")]
    [InlineData(new byte[] { 0x45, 0 }, "not a length")]
    public void An_RA_whose_PvD_ID_is_not_a_valid_FQDN_is_ignored(byte[] name, string reason)
    {
        var result = Reject(RaWire.Advertisement().Pvd("x", rawName: name, nested: RaWire.RdnssBytes(60, "2001:db8::1")).ToArray(), RaRejection.InvalidPvdId);
        Assert.Contains(reason, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_PvD_ID_with_a_label_of_64_octets_or_a_name_past_255_octets_is_invalid()
    {
        Reject(RaWire.Advertisement().Pvd(new string('a', 64) + ".example").ToArray(), RaRejection.InvalidPvdId);
        var long256 = string.Join('.', Enumerable.Repeat(new string('b', 63), 4)); // 4 × 64 + 1 = 257 octets
        Reject(RaWire.Advertisement().Pvd(long256).ToArray(), RaRejection.InvalidPvdId);
        var at255 = string.Join('.', Enumerable.Repeat(new string('c', 63), 3)) + "." + new string('d', 61); // 3 × 64 + 62 + 1 = 255
        Assert.Equal(at255, Accept(RaWire.Advertisement().Pvd(at255).ToArray()).Pvd!.PvdId);
    }

    /// <summary>A name that does not end inside the option (its root label would be in the next option) is invalid.</summary>
    [Fact]
    public void A_PvD_ID_that_runs_past_its_option_is_invalid()
    {
        var bytes = RaWire.Advertisement().Pvd("pvd.example").ToArray();
        // The root label (octet 34: RA header 16, PvD header 6, "pvd.example" 12) becomes a label of 6 octets, and only
        // 5 remain in the option.
        bytes[34] = 6;
        bytes.AsSpan(35).Fill((byte)'a');

        Assert.Contains("past the end", Reject(bytes, RaRejection.InvalidPvdId).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_PvD_option_makes_the_RA_ignored()
    {
        // The R-flag without room for the 16-octet header.
        var rFlag = RaWire.Advertisement().Pvd("a.example").ToArray();
        rFlag[16 + 2] |= 0x20;
        Reject(rFlag, RaRejection.MalformedPvdOption);
        // A nested option with length zero, and one that runs past the PvD Option.
        Reject(RaWire.Advertisement().Pvd("a.example", nested: RaWire.OptionBytes(25, new byte[6], lengthUnits: 0)).ToArray(), RaRejection.MalformedPvdOption);
        var overrun = RaWire.Advertisement().Pvd("a.example", nested: RaWire.OptionBytes(25, new byte[6], lengthUnits: 3)).Rdnss(60, "2001:db8::1", "2001:db8::2").ToArray();
        Reject(overrun, RaRejection.MalformedPvdOption);
    }

    /// <summary>PvD Options nest one level: one inside another is ignored, however deep the nesting goes, and the rest of the outer PvD stands.</summary>
    [Fact]
    public void A_PvD_option_nested_in_a_PvD_option_is_ignored_however_deep()
    {
        var deepest = RaWire.PvdBytes("c.example", nested: RaWire.RdnssBytes(60, "2001:db8::c"));
        var middle = RaWire.PvdBytes("b.example", nested: deepest);
        var ra = Accept(RaWire.Advertisement().Pvd("a.example", nested: [.. middle, .. RaWire.RdnssBytes(60, "2001:db8::a")]).ToArray());

        Assert.Equal("a.example", ra.Pvd!.PvdId);
        Assert.Equal("2001:db8::a", Assert.Single(Assert.Single(ra.Pvd.Options.DnsServers).Servers).ToString());
        var report = Assert.Single(ra.Ignored);
        Assert.Equal(RaOptionProblem.NestedPvdOption, report.Problem);
    }

    /// <summary>RFC 8801 §3.4: "hosts MUST ignore all but the first PvD Option".</summary>
    [Fact]
    public void Only_the_first_PvD_option_counts()
    {
        var ra = Accept(RaWire.Advertisement().Pvd("first.example").Pvd("second.example", nested: RaWire.RdnssBytes(60, "2001:db8::2")).ToArray());
        Assert.Equal("first.example", ra.Pvd!.PvdId);
        Assert.Empty(ra.Pvd.Options.DnsServers);
        Assert.Equal(RaOptionProblem.SecondPvdOption, Assert.Single(ra.Ignored).Problem);
    }

    /// <summary>RFC 4191 §2.3's lengths; §3.1 "If the Reserved (10) value is received, the Route Information Option MUST be ignored"; prefix bits after the length are "ignored by the receiver".</summary>
    [Fact]
    public void Route_information_options_follow_RFC_4191()
    {
        var ra = Accept(RaWire.Advertisement()
            .Route("::/0", lifetime: 60)                                    // length 1
            .Route("2001:db8:1:2::/64", prf: 0b11)                          // length 2
            .Route("2001:db8:1:2:3::/80")                                   // length 3
            .Route("2001:db8:5::/48", lengthUnits: 3)                       // a longer option than needed is fine
            .Route("2001:db8:6:7::/80", lengthUnits: 2)                     // above 64 needs 3
            .Route("2001:db8:8::/48", lengthUnits: 1)                       // above 0 needs 2 or 3
            .Route("2001:db8:9::/48", prf: 0b10)                            // reserved preference
            .Option(24, [129, 0, 0, 0, 0, 60, .. new byte[16]])             // prefix length 129
            .Option(24, [48, 0, 0, 0, 0, 60, .. new byte[24]])              // length 4
            .Option(24, [32, 0, 0, 0, 0, 60, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0xff, 0xff]) // bits past /32 set
            .ToArray());

        Assert.Equal(["::/0", "2001:db8:1:2::/64", "2001:db8:1:2:3::/80", "2001:db8:5::/48", "2001:db8::/32"], ra.Options.Routes.Select(r => r.Prefix.ToString()));
        Assert.Equal(RoutePreference.Low, ra.Options.Routes[1].Preference);
        Assert.Equal(
            [RaOptionProblem.BadPrefixLength, RaOptionProblem.BadPrefixLength, RaOptionProblem.ReservedPreference, RaOptionProblem.BadPrefixLength, RaOptionProblem.BadLength],
            ra.Ignored.Select(i => i.Problem));
    }

    /// <summary>RFC 4861 §4.6.2 and RFC 4862 §5.5.3: preferred above valid and the link-local prefix are ignored; bits past the length are cleared.</summary>
    [Fact]
    public void Prefix_information_options_follow_RFC_4861_and_4862()
    {
        var ra = Accept(RaWire.Advertisement()
            .Prefix("2001:db8:1::/64", valid: 100, preferred: 200)
            .Prefix("fe80::/64")
            .Prefix("2001:db8:2::/64", valid: uint.MaxValue, preferred: uint.MaxValue)
            .Option(3, new byte[22])                                        // 24 octets, not 32
            .Bytes(With(RaWire.PrefixBytes("2001:db8:3::/64"), 2, 200))     // prefix length 200
            .Bytes(With(RaWire.PrefixBytes("2001:db8:4::/48"), 26, 0xff))   // bits set past /48
            .ToArray());

        Assert.Equal(["2001:db8:2::/64", "2001:db8:4::/48"], ra.Options.Prefixes.Select(p => p.Prefix.ToString()));
        Assert.True(ra.Options.Prefixes[0].ValidLifetime.IsInfinite);
        Assert.Equal(
            [RaOptionProblem.PreferredAboveValid, RaOptionProblem.LinkLocalPrefix, RaOptionProblem.BadLength, RaOptionProblem.BadPrefixLength],
            ra.Ignored.Select(i => i.Problem));
    }

    /// <summary>RFC 8106 §5.1: length 3 + 2 per further address; an address that cannot be a server is dropped alone.</summary>
    [Fact]
    public void RDNSS_options_follow_RFC_8106()
    {
        var ra = Accept(RaWire.Advertisement()
            .Rdnss(60, "2001:db8::53", "ff02::1", "::", "::1", "fe80::53")
            .Option(25, new byte[6 + 16 + 8])          // length 4: even
            .Option(25, new byte[6])                   // length 1: no address
            .ToArray());

        Assert.Equal(["2001:db8::53", "fe80::53"], Assert.Single(ra.Options.DnsServers).Servers.Select(s => s.ToString()));
        Assert.Equal(
            [RaOptionProblem.BadServerAddress, RaOptionProblem.BadServerAddress, RaOptionProblem.BadServerAddress, RaOptionProblem.BadLength, RaOptionProblem.BadLength],
            ra.Ignored.Select(i => i.Problem));
    }

    /// <summary>RFC 8106 §5.2: names in RFC 1035 §3.1 form, no compression, zero padding after them.</summary>
    [Fact]
    public void DNSSL_options_follow_RFC_8106()
    {
        var ra = Accept(RaWire.Advertisement()
            .Dnssl(60, "a.example", "b.example", "c.example")
            .Option(31, [0, 0, 0, 0, 0, 60, 1, (byte)'a', 0xC0, 0x08])      // compression
            .Option(31, [0, 0, 0, 0, 0, 60, 0, 0])                          // padding only
            .Option(31, [0, 0, 0, 0, 0, 60])                                // length 1
            .Option(31, [0, 0, 0, 0, 0, 60, 8, (byte)'a', (byte)'b'])       // a label past the end
            .ToArray());

        Assert.Equal(["a.example", "b.example", "c.example"], Assert.Single(ra.Options.SearchLists).Domains);
        Assert.Equal(
            [RaOptionProblem.BadDomainName, RaOptionProblem.BadDomainName, RaOptionProblem.BadLength, RaOptionProblem.BadDomainName],
            ra.Ignored.Select(i => i.Problem));
    }

    /// <summary>Lifetimes at their limits: 0 withdraws, 0xffffffff is infinity ("A value of all one bits (0xffffffff) represents infinity"), 0xfffffffe is finite.</summary>
    [Fact]
    public void Lifetimes_at_their_limits()
    {
        var ra = Accept(RaWire.Advertisement(routerLifetime: ushort.MaxValue)
            .Rdnss(0, "2001:db8::1").Rdnss(uint.MaxValue, "2001:db8::2").Rdnss(uint.MaxValue - 1, "2001:db8::3").Rdnss(1, "2001:db8::4")
            .ToArray());
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var l = ra.Options.DnsServers.Select(d => d.Lifetime).ToList();

        Assert.Equal(ushort.MaxValue, ra.Header.RouterLifetime);
        Assert.True(l[0].IsZero);
        Assert.Equal(now, l[0].ExpiresAt(now));
        Assert.True(l[1].IsInfinite);
        Assert.Null(l[1].ExpiresAt(now));
        Assert.Equal(TimeSpan.MaxValue, l[1].Duration);
        Assert.False(l[2].IsInfinite);
        Assert.Equal(now.AddSeconds(uint.MaxValue - 1.0), l[2].ExpiresAt(now));
        Assert.Equal(now.AddSeconds(1), l[3].ExpiresAt(now));
    }
}
