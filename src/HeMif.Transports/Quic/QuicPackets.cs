using System.Buffers.Binary;
using System.Globalization;

namespace HeMif.Transports.Quic;

/// <summary>
/// The client Initial that <see cref="QuicPathProbe"/> sends: its version, its connection IDs and the datagram itself.
/// </summary>
/// <param name="Version">A reserved version of the form 0x?a?a?a?a (RFC 9000 §15).</param>
/// <param name="DestinationConnectionId">Random, 8 to 20 bytes (RFC 9000 §7.2).</param>
/// <param name="SourceConnectionId">Random, 8 to 20 bytes.</param>
/// <param name="Datagram">The whole UDP payload, at least 1200 bytes (RFC 9000 §14.1).</param>
internal sealed record ProbeInitial(uint Version, byte[] DestinationConnectionId, byte[] SourceConnectionId, byte[] Datagram);

/// <summary>The version-independent part of a long header (RFC 8999 §5.1), as read from a datagram.</summary>
/// <param name="FirstByte">The first byte (form bit set; the other seven bits are version-specific).</param>
/// <param name="Version">The version field.</param>
/// <param name="DestinationConnectionId">The destination connection ID.</param>
/// <param name="SourceConnectionId">The source connection ID.</param>
/// <param name="PayloadOffset">Where the version-specific rest starts.</param>
internal sealed record LongHeader(byte FirstByte, uint Version, byte[] DestinationConnectionId, byte[] SourceConnectionId, int PayloadOffset);

/// <summary>
/// The few QUIC packets a path probe needs, written and read strictly: a client Initial with a reserved version (to
/// force version negotiation without TLS), and the Version Negotiation packet that answers it. Every reading either
/// returns the packet or says exactly what was wrong with the datagram.
/// </summary>
internal static class QuicPackets
{
    /// <summary>
    /// RFC 9000 §14.1: "A client MUST expand the payload of all UDP datagrams carrying Initial packets to at least the
    /// smallest allowed maximum datagram size of 1200 bytes by adding PADDING frames to the Initial packet", and "A
    /// server MUST discard an Initial packet that is carried in a UDP datagram with a payload that is smaller than the
    /// smallest allowed maximum datagram size of 1200 bytes." A shorter probe would be dropped, not negotiated.
    /// </summary>
    public const int MinInitialDatagramSize = 1200;

    /// <summary>RFC 9000 §7.2: "the Destination Connection ID … is at least 8 bytes in length".</summary>
    public const int MinInitialConnectionIdLength = 8;

    /// <summary>RFC 9000 §17.2: "In QUIC version 1, this value MUST NOT exceed 20 bytes."</summary>
    public const int MaxConnectionIdLength = 20;

    /// <summary>The long header's form bit (RFC 9000 §17.2: "Header Form: The most significant bit (0x80) of byte 0").</summary>
    private const byte LongHeaderForm = 0x80;

    /// <summary>RFC 9000 §17.2: "Fixed Bit: The next bit (0x40) of byte 0 is set to 1".</summary>
    private const byte FixedBit = 0x40;

    /// <summary>
    /// RFC 9000 §15: "Versions that follow the pattern 0x?a?a?a?a are reserved for use in forcing version negotiation
    /// to be exercised — that is, any version number where the low four bits of all bytes is 1010 (in binary)."
    /// </summary>
    public static bool IsReservedVersion(uint version) => (version & 0x0f0f0f0f) == 0x0a0a0a0a;

    /// <summary>One of the 65,536 reserved versions, chosen at random (the high nibbles of each byte).</summary>
    public static uint RandomReservedVersion(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var nibbles = (uint)random.Next(0, 0x10000);
        var version = 0x0a0a0a0au;
        for (var i = 0; i < 4; i++)
        {
            version |= ((nibbles >> (4 * i)) & 0xf) << ((8 * i) + 4);
        }

        return version;
    }

    /// <summary>
    /// A client Initial (RFC 9000 §17.2.2) with a reserved version, random connection IDs of 8 to 20 bytes, an empty
    /// token, a one-byte packet number and random bytes as payload, filling the datagram to exactly
    /// <see cref="MinInitialDatagramSize"/> bytes. The payload is never read: a server that does not know the version
    /// only looks at the version and the connection IDs (RFC 9000 §5.2.2, §6.1).
    /// </summary>
    public static ProbeInitial CreateInitial(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var version = RandomReservedVersion(random);
        var dcid = RandomConnectionId(random);
        byte[] scid;
        do
        {
            scid = RandomConnectionId(random);
        }
        while (scid.AsSpan().SequenceEqual(dcid)); // a reply must tell the two apart to prove it echoed them

        var datagram = new byte[MinInitialDatagramSize];
        var at = 0;
        // Header Form 1, Fixed Bit 1, Long Packet Type 0 (Initial), Reserved Bits 0, Packet Number Length 0 (one byte).
        datagram[at++] = LongHeaderForm | FixedBit;
        BinaryPrimitives.WriteUInt32BigEndian(datagram.AsSpan(at), version);
        at += 4;
        datagram[at++] = (byte)dcid.Length;
        dcid.CopyTo(datagram, at);
        at += dcid.Length;
        datagram[at++] = (byte)scid.Length;
        scid.CopyTo(datagram, at);
        at += scid.Length;
        datagram[at++] = 0; // Token Length (i) = 0
        // Length (i): the packet number and the payload, as a two-byte variable-length integer (RFC 9000 §16: 0b01 prefix).
        var length = MinInitialDatagramSize - at - 2;
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(at), (ushort)(0x4000 | length));
        at += 2;
        datagram[at++] = 0; // Packet Number
        random.NextBytes(datagram.AsSpan(at));
        return new ProbeInitial(version, dcid, scid, datagram);
    }

    /// <summary>
    /// Reads the version-independent long header (RFC 8999 §5.1): form bit, version, and both connection IDs with
    /// their lengths, each within the datagram. Returns null and says why when the datagram is not one.
    /// </summary>
    public static LongHeader? ReadLongHeader(ReadOnlySpan<byte> datagram, out string? error)
    {
        // 1 (first byte) + 4 (version) + 1 (DCID length) + 1 (SCID length): the shortest long header.
        if (datagram.Length < 7)
        {
            error = $"too short for a long header ({datagram.Length} bytes)";
            return null;
        }

        if ((datagram[0] & LongHeaderForm) == 0)
        {
            error = "a short-header packet, not a long header";
            return null;
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(datagram[1..]);
        var at = 5;
        var dcidLength = datagram[at++];
        if (at + dcidLength + 1 > datagram.Length)
        {
            error = $"the destination connection ID length ({dcidLength}) runs past the end of the datagram";
            return null;
        }

        var dcid = datagram.Slice(at, dcidLength).ToArray();
        at += dcidLength;
        var scidLength = datagram[at++];
        if (at + scidLength > datagram.Length)
        {
            error = $"the source connection ID length ({scidLength}) runs past the end of the datagram";
            return null;
        }

        var scid = datagram.Slice(at, scidLength).ToArray();
        at += scidLength;
        error = null;
        return new LongHeader(datagram[0], version, dcid, scid, at);
    }

    /// <summary>
    /// Reads a Version Negotiation packet (RFC 9000 §17.2.1) that answers <paramref name="sent"/>, strictly: a long
    /// header with version 0; its Destination Connection ID echoes our Source Connection ID and its Source Connection
    /// ID echoes our Destination Connection ID ("The server MUST include the value from the Source Connection ID field
    /// of the packet it receives in the Destination Connection ID field. The value for Source Connection ID MUST be
    /// copied from the Destination Connection ID of the received packet"); a non-empty list of 32-bit versions that
    /// fills the rest of the datagram exactly (a Version Negotiation packet has no Length field, so nothing can follow
    /// it, RFC 9000 §12.2); and not our own version (§6.2: "A client MUST discard a Version Negotiation packet that
    /// lists the QUIC version selected by the client"). The Unused bits are ignored, as §17.2.1 requires.
    /// Returns the supported versions, or null and why the datagram was rejected.
    /// </summary>
    public static IReadOnlyList<uint>? ReadVersionNegotiation(ReadOnlySpan<byte> datagram, ProbeInitial sent, out string? rejection)
    {
        ArgumentNullException.ThrowIfNull(sent);
        if (ReadLongHeader(datagram, out var error) is not { } header)
        {
            rejection = error;
            return null;
        }

        if (header.Version != 0)
        {
            rejection = $"a long-header packet of version {Hex(header.Version)}, not Version Negotiation (version 0)";
            return null;
        }

        if (!header.DestinationConnectionId.AsSpan().SequenceEqual(sent.SourceConnectionId))
        {
            rejection = $"its destination connection ID ({Hex(header.DestinationConnectionId)}) does not echo our source connection ID ({Hex(sent.SourceConnectionId)})";
            return null;
        }

        if (!header.SourceConnectionId.AsSpan().SequenceEqual(sent.DestinationConnectionId))
        {
            rejection = $"its source connection ID ({Hex(header.SourceConnectionId)}) does not echo our destination connection ID ({Hex(sent.DestinationConnectionId)})";
            return null;
        }

        var list = datagram[header.PayloadOffset..];
        if (list.Length == 0)
        {
            rejection = "its supported-version list is empty";
            return null;
        }

        if (list.Length % 4 != 0)
        {
            rejection = $"its supported-version list is {list.Length} bytes, not a multiple of 4";
            return null;
        }

        var versions = new uint[list.Length / 4];
        for (var i = 0; i < versions.Length; i++)
        {
            versions[i] = BinaryPrimitives.ReadUInt32BigEndian(list[(4 * i)..]);
            if (versions[i] == sent.Version)
            {
                rejection = $"it lists the version we offered ({Hex(sent.Version)}), which a Version Negotiation packet must not (RFC 9000 §6.2)";
                return null;
            }
        }

        rejection = null;
        return versions;
    }

    /// <summary>A version as RFC 9000 writes it: eight hex digits after <c>0x</c>, as in <c>0x00000001</c>.</summary>
    public static string Hex(uint version) => "0x" + version.ToString("x8", CultureInfo.InvariantCulture);

    private static string Hex(byte[] bytes) => bytes.Length == 0 ? "empty" : Convert.ToHexStringLower(bytes);

    private static byte[] RandomConnectionId(Random random)
    {
        var id = new byte[random.Next(MinInitialConnectionIdLength, MaxConnectionIdLength + 1)];
        random.NextBytes(id);
        return id;
    }
}
