using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// Hostile bytes through the parser: real responses bit-flipped, truncated, extended and spliced, and pure noise. The
/// parser must always return (a bounded loop over the cases is the "never hangs" check) and never throw; what it
/// accepts must respect RFC 1035 §2.3.4's limits.
/// </summary>
public sealed class DnsParserFuzzTests
{
    private const int CasesPerSeed = 6_000;

    private static readonly byte[][] Seeds =
    [
        DnsResponses.Build(0x1111, "www.example.com", DnsType.A, 0, [TestRecord.Address("192.0.2.1"), TestRecord.Address("192.0.2.2")]),
        DnsResponses.Build(0x2222, "www.example.com", DnsType.Aaaa, 0,
            [TestRecord.Cname("edge.cdn.example"), TestRecord.Cname("n1.cdn.example", name: "edge.cdn.example"), TestRecord.Address("2001:db8::7", name: "n1.cdn.example")]),
        DnsResponses.Build(0x3333, "example.com", DnsType.Https, 0,
            [new TestRecord(null, DnsType.Https, 300, DnsWire.ServiceBinding(1, "svc.example.com",
                DnsWire.SvcParam(1, DnsWire.Alpn("h3", "h2")),
                DnsWire.SvcParam(3, [0x01, 0xBB]),
                DnsWire.SvcParam(4, DnsWire.Address("192.0.2.3")),
                DnsWire.SvcParam(6, DnsWire.Address("2001:db8::3"))))]),
        // NXDOMAIN with an SOA in the authority section and an OPT in the additional section.
        DnsWire.Header(0x4444, 0x8183, 1, 0, 1, 1).Name("nope.example.com").U16(1).U16(1)
            .Pointer(17).RecordTail(DnsType.Soa, 900, [.. DnsWire.NameBytes("ns.example.com"), 0xC0, 17, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5])
            .U8(0).U16(DnsType.Opt).U16(1232).U32(0).U16(0).ToArray(),
        DnsMessage.CreateQuery(0x5555, "a.b.c.example", DnsType.A, edns: true),
    ];

    [Fact]
    public void The_seeds_are_well_formed()
    {
        foreach (var seed in Seeds)
        {
            var parsed = DnsMessage.Parse(seed);
            Assert.True(parsed.Ok, parsed.Error);
        }
    }

    /// <summary>Mutations of real responses: never an exception, only a message or a reason.</summary>
    [Fact]
    public void Mutated_responses_give_a_message_or_a_reason_and_never_throw()
    {
        var random = new Random(20_161_117);
        var accepted = 0;
        var rejected = 0;
        foreach (var seed in Seeds)
        {
            for (var i = 0; i < CasesPerSeed; i++)
            {
                var bytes = Mutate(seed, random);
                var result = DnsMessage.Parse(bytes);
                if (result.Ok)
                {
                    accepted++;
                    AssertWithinLimits(result.Message!);
                }
                else
                {
                    rejected++;
                    Assert.False(string.IsNullOrEmpty(result.Error));
                }
            }
        }

        // Both outcomes must occur, or the mutations are not exercising the parser.
        Assert.True(accepted > 100, $"only {accepted} mutants parsed");
        Assert.True(rejected > 1000, $"only {rejected} mutants rejected");
    }

    [Fact]
    public void Random_noise_gives_a_reason_and_never_throws()
    {
        var random = new Random(7_766);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 600)];
            random.NextBytes(bytes);
            if (bytes.Length >= 12 && random.Next(2) == 0)
            {
                // Small counts make the noise reach the name and record readers instead of failing on the counts.
                bytes[4] = 0;
                bytes[5] = (byte)random.Next(0, 3);
                bytes[6] = 0;
                bytes[7] = (byte)random.Next(0, 4);
                bytes[8] = bytes[9] = bytes[10] = 0;
                bytes[11] = (byte)random.Next(0, 2);
            }

            var result = DnsMessage.Parse(bytes);
            if (result.Ok)
            {
                AssertWithinLimits(result.Message!);
            }
        }
    }

    /// <summary>
    /// Thousands of pointers, each pointing at the one before it: every one points backwards, so only the hop limit
    /// stops the walk, early. The chain sits in the RDATA of an unknown type; the next record's owner enters it at the end.
    /// </summary>
    [Fact]
    public void A_chain_of_thousands_of_backward_pointers_is_cut_off_by_the_hop_limit()
    {
        const int Links = 4000;
        var chain = new DnsWire().Pointer(12); // the first link points at the question's root name
        var header = DnsWire.Header(1, DnsResponses.ResponseFlags, 1, 2).U8(0).U16(1).U16(1); // 17 octets
        var chainStart = header.Length + 11; // after the first record's root owner, type, class, TTL and RDLENGTH
        for (var i = 1; i < Links; i++)
        {
            chain.Pointer(chainStart + ((i - 1) * 2));
        }

        var bytes = header.U8(0).RecordTail(99, 1, chain.ToArray())
            .Pointer(chainStart + ((Links - 1) * 2)).RecordTail(DnsType.A, 1, DnsWire.Address("192.0.2.1"))
            .ToArray();
        var result = DnsMessage.Parse(bytes);
        Assert.False(result.Ok);
        Assert.Contains($"more than {DnsMessage.MaxPointerHops} pointers", result.Error, StringComparison.Ordinal);
    }

    private static void AssertWithinLimits(DnsMessage m)
    {
        foreach (var name in m.Questions.Select(q => q.Name).Concat(m.Answers.Concat(m.Authorities).Concat(m.Additionals).Select(r => r.Name)))
        {
            // Presentation adds at most 3 characters per octet (\DDD) and the dots; the wire bound is what matters:
            // 255 octets can show as at most 4 × 255 characters.
            Assert.True(name.Length <= 4 * DnsMessage.MaxNameLength, $"name of {name.Length} characters");
        }
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        switch (random.Next(6))
        {
            case 0: // flip 1..8 bits
                for (var n = random.Next(1, 9); n > 0; n--)
                {
                    var at = random.Next(bytes.Length);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1: // truncate
                return bytes[..random.Next(bytes.Length)];
            case 2: // extend with noise
                var tail = new byte[random.Next(1, 64)];
                random.NextBytes(tail);
                return [.. bytes, .. tail];
            case 3: // overwrite one byte with a pointer-ish or length-ish value
                bytes[random.Next(bytes.Length)] = (byte)(random.Next(2) == 0 ? 0xC0 | random.Next(64) : random.Next(64));
                return bytes;
            case 4: // duplicate a slice somewhere (repeated names, records)
                var start = random.Next(bytes.Length);
                var length = random.Next(1, Math.Min(40, bytes.Length - start) + 1);
                var insertAt = random.Next(bytes.Length + 1);
                return [.. bytes[..insertAt], .. bytes.AsSpan(start, length).ToArray(), .. bytes[insertAt..]];
            default: // tweak the counts
                bytes[4 + (2 * random.Next(4)) + 1] = (byte)random.Next(0, 5);
                return bytes;
        }
    }
}
