using System.Net;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>The codec against hand-built bytes: RFC 1035 §4.1 layout, §4.1.4 compression, RFC 9460 SVCB/HTTPS RDATA.</summary>
public sealed class DnsMessageTests
{
    private const ushort Response = DnsResponses.ResponseFlags;

    private static DnsParseResult Parse(DnsWire w) => DnsMessage.Parse(w.ToArray());

    private static DnsWire QuestionExampleA(ushort id = 0x1234, int an = 1, int ns = 0, int ar = 0) =>
        DnsWire.Header(id, Response, 1, an, ns, ar).Name("www.example.com").U16(DnsType.A).U16(1);

    private static void AssertRejected(DnsParseResult result, string reasonPart)
    {
        Assert.False(result.Ok, "the message should have been rejected");
        Assert.Null(result.Message);
        Assert.Contains(reasonPart, result.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// RFC 1035 §4.1.1 header with RD ("Recursion Desired") set, QDCOUNT 1; RFC 6891 §6.1.2 OPT: "NAME domain name
    /// MUST be 0 (root domain)", "TYPE OPT (41)", "CLASS requestor's UDP payload size".
    /// </summary>
    [Fact]
    public void A_query_has_one_question_RD_set_and_an_OPT_record_advertising_1232_octets()
    {
        var q = DnsMessage.CreateQuery(0xBEEF, "www.example.com", DnsType.Aaaa, edns: true);
        var expected = DnsWire.Header(0xBEEF, 0x0100, 1, 0, 0, 1)
            .Name("www.example.com").U16(28).U16(1)
            .U8(0).U16(41).U16(1232).U32(0).U16(0)
            .ToArray();
        Assert.Equal(expected, q);

        var noEdns = DnsMessage.CreateQuery(7, "example.com", DnsType.A, edns: false);
        Assert.Equal(DnsWire.Header(7, 0x0100, 1, 0).Name("example.com").U16(1).U16(1).ToArray(), noEdns);
    }

    /// <summary>RFC 5452 §9.1: "Use an unpredictable query ID ... utilizing the full range available (0-65535)."</summary>
    [Fact]
    public void Query_IDs_are_spread_over_the_16_bit_range()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => DnsMessage.NewId()).ToList();
        Assert.True(ids.Distinct().Count() > 950, $"only {ids.Distinct().Count()} distinct IDs in 1000");
        Assert.Contains(ids, id => id >= 0x8000);
        Assert.Contains(ids, id => id < 0x8000);
    }

    /// <summary>RFC 1035 §2.3.4: "labels 63 octets or less", "names 255 octets or less"; IDNA for non-ASCII names.</summary>
    [Theory]
    [InlineData("www.example.com.", true, "www.example.com")]
    [InlineData("_8443._https.example.com", true, "_8443._https.example.com")]
    [InlineData("bücher.example", true, "xn--bcher-kva.example")]
    [InlineData("", false, "empty")]
    [InlineData("a..b", false, "label of 0 octets")]
    [InlineData("has space.example", false, "character")]
    [InlineData("evil\\.dot.example", false, "character")]
    public void Host_names_are_normalized_or_rejected(string host, bool ok, string expected)
    {
        var result = DnsMessage.TryNormalizeName(host, out var name, out var error);
        Assert.Equal(ok, result);
        if (ok)
        {
            Assert.Equal(expected, name);
        }
        else
        {
            Assert.Contains(expected, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_64_octet_label_and_a_256_octet_name_are_rejected_before_any_query()
    {
        Assert.False(DnsMessage.TryNormalizeName(new string('a', 64) + ".example", out _, out var labelError));
        Assert.Contains("1 to 63", labelError, StringComparison.Ordinal);
        Assert.True(DnsMessage.TryNormalizeName(new string('a', 63) + ".example", out _, out _));

        // 4 labels of 63 = 4 × 64 + 1 = 257 octets on the wire.
        var tooLong = string.Join('.', Enumerable.Repeat(new string('b', 63), 4));
        Assert.False(DnsMessage.TryNormalizeName(tooLong, out _, out var nameError));
        Assert.Contains("255 or less", nameError, StringComparison.Ordinal);
    }

    /// <summary>
    /// RFC 1035 §4.1.4: "an entire domain name or a list of labels at the end of a domain name is replaced with a
    /// pointer to a prior occurrence of the same name."
    /// </summary>
    [Fact]
    public void Compressed_owner_names_and_a_compressed_suffix_are_read()
    {
        // Answer 1 owner = pointer to the question (offset 12); answer 2 owner = "mail" + pointer to "example.com" (offset 16).
        var w = QuestionExampleA(an: 2)
            .Pointer(12).RecordTail(DnsType.A, 300, DnsWire.Address("192.0.2.1"))
            .Label("mail").Pointer(16).RecordTail(DnsType.A, 60, DnsWire.Address("192.0.2.2"));
        var m = Parse(w).Message!;
        Assert.Equal(0x1234, m.Id);
        Assert.True(m.IsResponse);
        Assert.Equal(DnsResponseCode.NoError, m.ResponseCode);
        Assert.Equal(new DnsQuestion("www.example.com", 1, 1), m.Questions.Single());
        Assert.Equal(["www.example.com", "mail.example.com"], m.Answers.Select(a => a.Name));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), ((DnsAddressRecord)m.Answers[1]).Address);
        Assert.Equal(60u, m.Answers[1].Ttl);
    }

    [Fact]
    public void A_pointer_to_itself_is_rejected()
    {
        var w = QuestionExampleA();
        w.Pointer(w.Length).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "points forward or into itself");
    }

    [Fact]
    public void A_forward_pointer_is_rejected()
    {
        var w = QuestionExampleA();
        w.Pointer(w.Length + 2).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "points forward");
    }

    /// <summary>Two names pointing at each other: each pointer is "backwards" from where it sits, but the walk would loop.</summary>
    [Fact]
    public void Two_pointers_that_point_at_each_other_are_rejected()
    {
        // Question name at 12: label "a" then pointer to 20; at 20 (the first answer's owner): label "b" then pointer to 12.
        var w = DnsWire.Header(1, Response, 1, 1).Label("a").Pointer(20).U16(1).U16(1); // 12..19
        Assert.Equal(20, w.Length);
        w.Label("b").Pointer(12).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "points forward or into itself");
    }

    [Fact]
    public void A_pointer_beyond_the_end_of_the_message_is_rejected()
    {
        var w = QuestionExampleA();
        w.Pointer(0x3FFF).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "points forward");

        var cut = QuestionExampleA().U8(0xC0); // the pointer's second octet is missing
        AssertRejected(Parse(cut), "cut off");
    }

    /// <summary>RFC 1035 §4.1.4: "The 10 and 01 combinations are reserved for future use."</summary>
    [Theory]
    [InlineData(0x40)]
    [InlineData(0x80)]
    public void Reserved_label_types_are_rejected(int lengthOctet)
    {
        var w = DnsWire.Header(1, Response, 1, 0).U8(lengthOctet).Raw(new byte[70]).U8(0).U16(1).U16(1);
        AssertRejected(Parse(w), "reserved");
    }

    /// <summary>RFC 1035 §2.3.4 "names 255 octets or less", also when the length is reached through pointers.</summary>
    [Fact]
    public void A_name_over_255_octets_is_rejected_even_when_built_from_pointers()
    {
        var plain = DnsWire.Header(1, Response, 1, 0);
        for (var i = 0; i < 5; i++)
        {
            plain.Label(new string('x', 60));
        }

        AssertRejected(Parse(plain.U8(0).U16(1).U16(1)), "longer than 255");

        // Question: 4 × 60-octet labels (245 octets); answer owner: one more 60-octet label, then a pointer to it.
        var viaPointer = DnsWire.Header(1, Response, 1, 1);
        for (var i = 0; i < 4; i++)
        {
            viaPointer.Label(new string('y', 60));
        }

        viaPointer.U8(0).U16(1).U16(1).Label(new string('z', 60)).Pointer(12).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(viaPointer), "longer than 255");
    }

    [Fact]
    public void Messages_shorter_than_the_header_are_rejected()
    {
        AssertRejected(DnsMessage.Parse([]), "shorter than the 12-octet header");
        AssertRejected(DnsMessage.Parse(new byte[11]), "shorter than the 12-octet header");
    }

    /// <summary>Header counts must account for exactly the records present.</summary>
    [Fact]
    public void An_answer_count_larger_than_the_records_present_is_rejected()
    {
        var w = QuestionExampleA(an: 2).Pointer(12).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "answer record 2 of 2");
    }

    [Fact]
    public void An_answer_count_smaller_than_the_records_present_is_rejected()
    {
        var w = QuestionExampleA(an: 0).Pointer(12).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"));
        AssertRejected(Parse(w), "octets after the last record");
    }

    [Fact]
    public void A_question_count_with_no_question_is_rejected()
    {
        AssertRejected(DnsMessage.Parse(DnsWire.Header(1, Response, 3, 0).ToArray()), "question 1 of 3");
    }

    [Fact]
    public void A_message_cut_inside_the_question_or_inside_RDATA_is_rejected()
    {
        var full = QuestionExampleA().Pointer(12).RecordTail(DnsType.Aaaa, 1, DnsWire.Address("2001:db8::1")).ToArray();
        Assert.True(DnsMessage.Parse(full).Ok);
        AssertRejected(DnsMessage.Parse(full.AsSpan(0, 20)), "question 1 of 1");
        AssertRejected(DnsMessage.Parse(full.AsSpan(0, full.Length - 3)), "runs past the end");
    }

    /// <summary>RFC 1035 §3.4.1 "A RDATA format: ADDRESS A 32 bit Internet address"; RFC 3596 §2.2: "a 128 bit IPv6 address".</summary>
    [Theory]
    [InlineData(DnsType.A, 5)]
    [InlineData(DnsType.A, 16)]
    [InlineData(DnsType.Aaaa, 4)]
    [InlineData(DnsType.Aaaa, 0)]
    public void Address_records_with_the_wrong_RDATA_length_are_rejected(ushort type, int length)
    {
        var w = QuestionExampleA().Pointer(12).RecordTail(type, 1, new byte[length]);
        AssertRejected(Parse(w), $"RDATA is {length} octets");
    }

    [Fact]
    public void A_CNAME_whose_name_does_not_fill_its_RDATA_is_rejected()
    {
        var w = QuestionExampleA().Pointer(12).RecordTail(DnsType.Cname, 1, [.. DnsWire.NameBytes("alias.example"), 0xFF]);
        AssertRejected(Parse(w), "CNAME RDATA is");
    }

    /// <summary>RFC 2181 §8: a TTL with the most significant bit set is treated "as if the entire value received was zero".</summary>
    [Fact]
    public void A_TTL_with_the_top_bit_set_reads_as_zero()
    {
        var m = Parse(QuestionExampleA().Pointer(12).RecordTail(DnsType.A, 0x80000001, DnsWire.Address("192.0.2.1"))).Message!;
        Assert.Equal(0u, m.Answers[0].Ttl);
    }

    [Fact]
    public void Label_octets_outside_the_host_name_alphabet_are_escaped_in_presentation()
    {
        var w = DnsWire.Header(1, Response, 1, 0).U8(4).Raw((byte)'a', (byte)'.', 0x00, (byte)'\\').Label("example").U8(0).U16(1).U16(1);
        Assert.Equal(@"a\.\000\\.example", Parse(w).Message!.Questions[0].Name);
    }

    /// <summary>RFC 6891 §6.1.3: the OPT TTL's first octet "Forms the upper 8 bits of extended 12-bit RCODE".</summary>
    [Fact]
    public void The_OPT_record_extends_the_response_code()
    {
        var w = QuestionExampleA(an: 0, ar: 1).U8(0).U16(DnsType.Opt).U16(1232).U32(0x01000000).U16(0);
        Assert.Equal(16, (int)Parse(w).Message!.ResponseCode); // BADVERS
    }

    /// <summary>RFC 1034 §3.6.2: an alias is followed to its canonical name, within the answer.</summary>
    [Fact]
    public void A_CNAME_chain_in_the_answer_leads_to_the_addresses_of_the_canonical_name()
    {
        var w = QuestionExampleA(an: 3)
            .Pointer(12).RecordTail(DnsType.Cname, 600, DnsWire.NameBytes("edge.cdn.example"))
            .Name("edge.cdn.example").RecordTail(DnsType.Cname, 30, DnsWire.NameBytes("node7.cdn.example"))
            .Name("NODE7.cdn.example").RecordTail(DnsType.A, 120, DnsWire.Address("192.0.2.7"));
        var m = Parse(w).Message!;
        var records = m.FollowChain(new DnsQuestion("www.example.com", DnsType.A, 1), out var ttl, out var error);
        Assert.Null(error);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), ((DnsAddressRecord)Assert.Single(records)).Address);
        Assert.Equal(30u, ttl); // the weakest link of the chain
    }

    [Fact]
    public void A_CNAME_loop_is_a_failure_not_a_hang()
    {
        var w = QuestionExampleA(an: 2)
            .Pointer(12).RecordTail(DnsType.Cname, 60, DnsWire.NameBytes("b.example"))
            .Name("b.example").RecordTail(DnsType.Cname, 60, DnsWire.NameBytes("www.example.com"));
        var records = Parse(w).Message!.FollowChain(new DnsQuestion("www.example.com", DnsType.A, 1), out _, out var error);
        Assert.Empty(records);
        Assert.Contains("CNAME chain", error, StringComparison.Ordinal);
    }

    /// <summary>RFC 2308 §2.2 NODATA: "the RCODE set to NOERROR and no relevant answers in the answer section".</summary>
    [Fact]
    public void Records_of_another_type_or_owner_are_NODATA()
    {
        var w = QuestionExampleA(an: 2)
            .Pointer(12).RecordTail(DnsType.Aaaa, 60, DnsWire.Address("2001:db8::1"))
            .Name("other.example").RecordTail(DnsType.A, 60, DnsWire.Address("192.0.2.9"));
        var records = Parse(w).Message!.FollowChain(new DnsQuestion("www.example.com", DnsType.A, 1), out _, out var error);
        Assert.Null(error);
        Assert.Empty(records);
    }

    /// <summary>RFC 9460 §2.2 RDATA "SvcPriority ... TargetName ... SvcParams"; keys alpn=1, port=3, ipv4hint=4, ipv6hint=6.</summary>
    [Fact]
    public void An_HTTPS_record_gives_its_ALPN_ids_port_and_address_hints()
    {
        var rdata = DnsWire.ServiceBinding(1, "svc.example.com",
            DnsWire.SvcParam(1, DnsWire.Alpn("h3", "h2")),
            DnsWire.SvcParam(3, [0x20, 0xFB]),
            DnsWire.SvcParam(4, [.. DnsWire.Address("192.0.2.1"), .. DnsWire.Address("192.0.2.2")]),
            DnsWire.SvcParam(5, [1, 2, 3]), // ech: not used here, skipped
            DnsWire.SvcParam(6, DnsWire.Address("2001:db8::1")));
        var w = DnsWire.Header(9, Response, 1, 1).Name("example.com").U16(65).U16(1).Pointer(12).RecordTail(DnsType.Https, 300, rdata);
        var r = Assert.IsType<DnsServiceBindingRecord>(Parse(w).Message!.Answers.Single());
        Assert.Equal(1, r.Priority);
        Assert.False(r.IsAliasMode);
        Assert.Equal("svc.example.com", r.Target);
        Assert.Equal(["h3", "h2"], r.Alpn);
        Assert.Equal(8443, r.Port);
        Assert.Equal([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")], r.Ipv4Hints);
        Assert.Equal([IPAddress.Parse("2001:db8::1")], r.Ipv6Hints);
    }

    /// <summary>RFC 9460 §2.4.2: in AliasMode "recipients MUST ignore any SvcParams that are present"; the root target is ".".</summary>
    [Fact]
    public void An_AliasMode_record_keeps_its_target_and_ignores_its_params()
    {
        var rdata = DnsWire.ServiceBinding(0, "pool.example.net", DnsWire.SvcParam(3, [1])); // a malformed port, ignored
        var w = DnsWire.Header(9, Response, 1, 1).Name("example.com").U16(65).U16(1).Pointer(12).RecordTail(DnsType.Https, 300, rdata);
        var r = Assert.IsType<DnsServiceBindingRecord>(Parse(w).Message!.Answers.Single());
        Assert.True(r.IsAliasMode);
        Assert.Equal("pool.example.net", r.Target);
        Assert.Null(r.Port);
    }

    /// <summary>
    /// RFC 9460 §2.2: "Clients MUST consider an RR malformed if: the end of the RDATA occurs within a SvcParam;
    /// SvcParamKeys are not in strictly increasing numeric order; the SvcParamValue for a SvcParamKey does not have
    /// the expected format"; the TargetName is uncompressed.
    /// </summary>
    [Theory]
    [InlineData("order", "strictly increasing")]
    [InlineData("duplicate", "strictly increasing")]
    [InlineData("overrun", "ends inside SvcParam")]
    [InlineData("header", "inside a SvcParam header")]
    [InlineData("port", "port is 3 octets")]
    [InlineData("ipv4hint", "ipv4hint is 5 octets")]
    [InlineData("ipv6hint", "ipv6hint is 4 octets")]
    [InlineData("alpn-empty", "alpn is empty")]
    [InlineData("alpn-overrun", "alpn-id of 9 octets")]
    [InlineData("compressed-target", "must be uncompressed")]
    public void Malformed_HTTPS_records_are_rejected(string fault, string reason)
    {
        byte[] rdata = fault switch
        {
            "order" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(3, [0, 80]), DnsWire.SvcParam(1, DnsWire.Alpn("h2"))),
            "duplicate" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(3, [0, 80]), DnsWire.SvcParam(3, [0, 81])),
            "overrun" => [.. DnsWire.ServiceBinding(1, "."), 0, 3, 0, 9, 0, 80],
            "header" => [.. DnsWire.ServiceBinding(1, "."), 0, 3, 0],
            "port" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(3, [0, 80, 1])),
            "ipv4hint" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(4, [192, 0, 2, 1, 9])),
            "ipv6hint" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(6, [0, 0, 0, 0])),
            "alpn-empty" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(1, [])),
            "alpn-overrun" => DnsWire.ServiceBinding(1, ".", DnsWire.SvcParam(1, [9, (byte)'h', (byte)'2'])),
            "compressed-target" => [0, 1, 0xC0, 12],
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };
        var w = DnsWire.Header(9, Response, 1, 1).Name("example.com").U16(65).U16(1).Pointer(12).RecordTail(DnsType.Https, 300, rdata);
        AssertRejected(Parse(w), reason);
    }
}
