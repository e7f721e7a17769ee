using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace HeMif.Transports.Tests.Support;

/// <summary>
/// Writes DNS bytes by hand for tests, independently of the codec under test: header fields, labels, pointers and
/// RDATA exactly as RFC 1035 §4.1 lays them out, so a test can build both well-formed and deliberately broken messages.
/// </summary>
internal sealed class DnsWire
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    /// <summary>A header (RFC 1035 §4.1.1): ID, flags, QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT.</summary>
    public static DnsWire Header(ushort id, ushort flags, int qd, int an, int ns = 0, int ar = 0) =>
        new DnsWire().U16(id).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);

    public DnsWire U8(int value)
    {
        _bytes.Add((byte)value);
        return this;
    }

    public DnsWire U16(int value) => U8(value >> 8).U8(value);

    public DnsWire U32(uint value) => U16((int)(value >> 16)).U16((int)(value & 0xFFFF));

    public DnsWire Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>One label: its length octet, then its octets.</summary>
    public DnsWire Label(string label) => U8(label.Length).Raw(Encoding.ASCII.GetBytes(label));

    /// <summary>An uncompressed name ending in the root label.</summary>
    public DnsWire Name(string name)
    {
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            Label(label);
        }

        return U8(0);
    }

    /// <summary>RFC 1035 §4.1.4 pointer: "| 1 1| OFFSET |".</summary>
    public DnsWire Pointer(int offset) => U16(0xC000 | offset);

    /// <summary>TYPE, CLASS, TTL, then RDLENGTH computed from <paramref name="rdata"/>, then the RDATA.</summary>
    public DnsWire RecordTail(ushort type, uint ttl, byte[] rdata, ushort cls = 1) =>
        U16(type).U16(cls).U32(ttl).U16(rdata.Length).Raw(rdata);

    public byte[] ToArray() => [.. _bytes];

    public static byte[] NameBytes(string name) => new DnsWire().Name(name).ToArray();

    public static byte[] Address(string address) => IPAddress.Parse(address).GetAddressBytes();

    /// <summary>One SvcParam (RFC 9460 §2.2): key, length, value.</summary>
    public static byte[] SvcParam(ushort key, byte[] value)
    {
        var p = new byte[4 + value.Length];
        BinaryPrimitives.WriteUInt16BigEndian(p, key);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)value.Length);
        value.CopyTo(p, 4);
        return p;
    }

    /// <summary>SVCB/HTTPS RDATA: priority, uncompressed target, params in the given order.</summary>
    public static byte[] ServiceBinding(ushort priority, string target, params byte[][] svcParams) =>
        new DnsWire().U16(priority).Name(target).Raw([.. svcParams.SelectMany(p => p)]).ToArray();

    /// <summary>The alpn value: each id prefixed by its length (RFC 9460 §7.1.1).</summary>
    public static byte[] Alpn(params string[] ids) => [.. ids.SelectMany(id => new[] { (byte)id.Length }.Concat(Encoding.ASCII.GetBytes(id)))];
}

/// <summary>A record a scripted answer carries; a null <see cref="Name"/> means the question's name.</summary>
internal sealed record TestRecord(string? Name, ushort Type, uint Ttl, byte[] Data)
{
    public static TestRecord Address(string address, uint ttl = 300, string? name = null)
    {
        var ip = IPAddress.Parse(address);
        return new(name, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? (ushort)28 : (ushort)1, ttl, ip.GetAddressBytes());
    }

    public static TestRecord Cname(string target, string? name = null, uint ttl = 300) => new(name, 5, ttl, DnsWire.NameBytes(target));

    /// <summary>
    /// An SOA record of <paramref name="zone"/> (RFC 1035 §3.3.13: MNAME, RNAME, SERIAL, REFRESH, RETRY, EXPIRE,
    /// MINIMUM), as a negative answer carries it in its authority section (RFC 2308 §3).
    /// </summary>
    public static TestRecord Soa(string zone, uint ttl, uint minimum) =>
        new(zone, 6, ttl, new DnsWire().Name("ns1." + zone).Name("hostmaster." + zone).U32(2026120301).U32(7200).U32(3600).U32(1209600).U32(minimum).ToArray());
}

/// <summary>Builds whole responses the way real servers do: the question echoed, owners equal to it compressed to 0xC00C.</summary>
internal static class DnsResponses
{
    public const ushort ResponseFlags = 0x8180; // QR, RD, RA

    public static byte[] Build(ushort id, string qname, ushort qtype, int rcode, IReadOnlyList<TestRecord> answers, bool truncated = false, ushort qclass = 1,
        IReadOnlyList<TestRecord>? authority = null)
    {
        authority ??= [];
        var flags = (ushort)(ResponseFlags | rcode | (truncated ? 0x0200 : 0));
        var w = DnsWire.Header(id, flags, 1, answers.Count, authority.Count).Name(qname).U16(qtype).U16(qclass);
        foreach (var r in answers.Concat(authority))
        {
            if (r.Name is null || string.Equals(r.Name, qname, StringComparison.OrdinalIgnoreCase))
            {
                w.Pointer(12);
            }
            else
            {
                w.Name(r.Name);
            }

            w.RecordTail(r.Type, r.Ttl, r.Data);
        }

        return w.ToArray();
    }
}
