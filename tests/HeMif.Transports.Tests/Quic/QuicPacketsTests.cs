using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.TestKit;
using HeMif.Transports.Quic;

namespace HeMif.Transports.Tests.Quic;

/// <summary>The probe's packets: an Initial a QUIC server must negotiate, and a strict reading of Version Negotiation (RFC 9000 §6, §14.1, §15, §17.2).</summary>
public sealed class QuicPacketsTests
{
    private static readonly ProbeInitial Sent = QuicPackets.CreateInitial(new Random(7));

    /// <summary>
    /// RFC 9000 §14.1: "A client MUST expand the payload of all UDP datagrams carrying Initial packets to at least the
    /// smallest allowed maximum datagram size of 1200 bytes"; §17.2.2: Initial is long packet type 0.
    /// </summary>
    [Fact]
    public void The_Initial_is_a_1200_byte_long_header_Initial_with_a_reserved_version_and_random_connection_IDs()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var initial = QuicPackets.CreateInitial(new Random(seed));
            Assert.Equal(1200, initial.Datagram.Length);
            Assert.Equal(0xC0, initial.Datagram[0] & 0xF0); // form 1, fixed bit 1, type 0 (Initial)
            Assert.True(QuicPackets.IsReservedVersion(initial.Version), QuicPackets.Hex(initial.Version));
            Assert.InRange(initial.DestinationConnectionId.Length, 8, 20);
            Assert.InRange(initial.SourceConnectionId.Length, 8, 20);
            Assert.False(initial.DestinationConnectionId.AsSpan().SequenceEqual(initial.SourceConnectionId));

            var header = QuicPackets.ReadLongHeader(initial.Datagram, out var error);
            Assert.True(header is not null, error);
            Assert.Equal(initial.Version, header.Version);
            Assert.Equal(initial.DestinationConnectionId, header.DestinationConnectionId);
            Assert.Equal(initial.SourceConnectionId, header.SourceConnectionId);
            Assert.Equal(0, initial.Datagram[header.PayloadOffset]); // Token Length 0
            var length = BinaryPrimitives.ReadUInt16BigEndian(initial.Datagram.AsSpan(header.PayloadOffset + 1)) & 0x3FFF;
            Assert.Equal(1200 - header.PayloadOffset - 3, length); // the Length field covers the rest exactly
        }
    }

    /// <summary>RFC 9000 §15: "any version number where the low four bits of all bytes is 1010 (in binary)".</summary>
    [Theory]
    [InlineData(0x1a2a3a4au, true)]
    [InlineData(0x0a0a0a0au, true)]
    [InlineData(0xfafafafau, true)]
    [InlineData(0x00000001u, false)]
    [InlineData(0x6b3343cfu, false)]
    [InlineData(0x1a2a3a4bu, false)]
    public void Reserved_versions_are_those_of_the_form_0x_a_a_a_a(uint version, bool reserved) =>
        Assert.Equal(reserved, QuicPackets.IsReservedVersion(version));

    [Fact]
    public void Every_version_drawn_is_reserved_and_the_draw_covers_many_of_them()
    {
        var random = new Random(11);
        var drawn = Enumerable.Range(0, 1000).Select(_ => QuicPackets.RandomReservedVersion(random)).ToList();
        Assert.All(drawn, v => Assert.True(QuicPackets.IsReservedVersion(v)));
        Assert.True(drawn.Distinct().Count() > 900, "the high nibbles are random");
    }

    [Fact]
    public void A_valid_Version_Negotiation_gives_its_versions()
    {
        var reply = FakeQuicServer.VersionNegotiation(Sent.SourceConnectionId, Sent.DestinationConnectionId, [0x00000001, 0x6b3343cf]);
        var versions = QuicPackets.ReadVersionNegotiation(reply, Sent, out var rejection);
        Assert.True(versions is not null, rejection);
        Assert.Equal([0x00000001u, 0x6b3343cfu], versions);
    }

    /// <summary>RFC 9000 §17.2.1: "The value in the Unused field is set to an arbitrary value by the server. Clients MUST ignore the value of this field."</summary>
    [Theory]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    [InlineData(0xC0)]
    public void The_unused_bits_are_ignored(byte firstByte)
    {
        var reply = FakeQuicServer.VersionNegotiation(Sent.SourceConnectionId, Sent.DestinationConnectionId, [1], firstByte);
        Assert.NotNull(QuicPackets.ReadVersionNegotiation(reply, Sent, out _));
    }

    /// <summary>Every way a reply can fail to be our Version Negotiation, each rejected with its own reason.</summary>
    [Theory]
    [MemberData(nameof(BadReplies))]
    public void A_reply_that_is_not_our_Version_Negotiation_is_rejected_saying_why(string what, byte[] reply, string reason)
    {
        Assert.Null(QuicPackets.ReadVersionNegotiation(reply, Sent, out var rejection));
        Assert.True(rejection?.Contains(reason, StringComparison.Ordinal), $"{what}: {rejection}");
    }

    public static TheoryData<string, byte[], string> BadReplies() => Bad(Sent);

    /// <summary>The crafted replies of <see cref="A_reply_that_is_not_our_Version_Negotiation_is_rejected_saying_why"/> (also sent over UDP by the probe tests).</summary>
    internal static TheoryData<string, byte[], string> Bad(ProbeInitial sent)
    {
        var ours = sent.SourceConnectionId;
        var theirs = sent.DestinationConnectionId;
        byte[] Vn(byte[] d, byte[] s, uint[] v, byte first = 0x80, uint version = 0) => FakeQuicServer.VersionNegotiation(d, s, v, first, version);
        var good = Vn(ours, theirs, [1]);
        return new TheoryData<string, byte[], string>
        {
            { "too short", good[..6], "too short" },
            { "a short header", [0x40, .. good[1..]], "short-header" },
            { "another version", Vn(ours, theirs, [1], version: 1), "not Version Negotiation" },
            { "DCID not echoing our SCID", Vn([.. ours[..^1], (byte)(ours[^1] ^ 1)], theirs, [1]), "does not echo our source connection ID" },
            { "SCID not echoing our DCID", Vn(ours, [.. theirs[..^1], (byte)(theirs[^1] ^ 1)], [1]), "does not echo our destination connection ID" },
            { "connection IDs not swapped", Vn(theirs, ours, [1]), "does not echo" },
            { "a DCID length past the end", [.. good[..5], 200, .. good[6..12]], "runs past the end" },
            { "an SCID length past the end", [.. good[..(6 + ours.Length)], 60, .. theirs], "runs past the end" },
            { "an empty version list", Vn(ours, theirs, []), "empty" },
            { "a version list of 6 bytes", [.. good, 0, 0], "not a multiple of 4" },
            { "our own version listed", Vn(ours, theirs, [1, sent.Version]), "lists the version we offered" },
        };
    }

    /// <summary>Noise never passes for an answer (and never throws): the check is on the echoed IDs, not on luck.</summary>
    [Property(MaxTest = 2000)]
    public Property Random_bytes_are_never_taken_for_a_Version_Negotiation()
    {
        var gen = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b));
        return Prop.ForAll(Arb.From(gen), bytes => QuicPackets.ReadVersionNegotiation(bytes, Sent, out var why) is null && why is not null);
    }
}
