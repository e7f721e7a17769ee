using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace HeMif.TestKit;

/// <summary>
/// Builds Router Advertisements byte by byte for tests, written from the RFCs' figures independently of the reader
/// (RFC 4861 §4.2 and §4.6, RFC 4191 §2.3, RFC 8106 §5, RFC 8801 §3.1). Each option method appends one option; the
/// raw forms (<see cref="Option"/>, <see cref="Bytes"/>) let a test write what no RFC allows.
/// </summary>
internal sealed class RaWire
{
    public static readonly IPAddress Router = IPAddress.Parse("fe80::1");

    private readonly List<byte> _bytes = [];

    /// <summary>The RA header: type 134, code, checksum 0, hop limit, flags (M, O, Prf), router lifetime, reachable, retrans.</summary>
    public static RaWire Advertisement(ushort routerLifetime = 1800, int prf = 0b00, bool managed = false, bool other = false,
        byte curHopLimit = 64, uint reachableMs = 0, uint retransMs = 0, byte code = 0, byte type = 134)
    {
        var w = new RaWire();
        w._bytes.AddRange(Header(routerLifetime, prf, managed, other, curHopLimit, reachableMs, retransMs, code, type));
        return w;
    }

    /// <summary>The 16 octets of an RA header.</summary>
    public static byte[] Header(ushort routerLifetime = 1800, int prf = 0b00, bool managed = false, bool other = false,
        byte curHopLimit = 64, uint reachableMs = 0, uint retransMs = 0, byte code = 0, byte type = 134)
    {
        var h = new byte[16];
        h[0] = type;
        h[1] = code;
        h[4] = curHopLimit;
        h[5] = (byte)((managed ? 0x80 : 0) | (other ? 0x40 : 0) | ((prf & 0b11) << 3));
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(6), routerLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(8), reachableMs);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(12), retransMs);
        return h;
    }

    public byte[] ToArray() => [.. _bytes];

    public RaWire Bytes(params byte[] raw)
    {
        _bytes.AddRange(raw);
        return this;
    }

    /// <summary>An option of <paramref name="type"/> whose body (after type and length) is <paramref name="body"/>, zero-padded to 8 octets; <paramref name="lengthUnits"/> overrides the length octet.</summary>
    public RaWire Option(byte type, byte[] body, int? lengthUnits = null)
    {
        _bytes.AddRange(OptionBytes(type, body, lengthUnits));
        return this;
    }

    public static byte[] OptionBytes(byte type, byte[] body, int? lengthUnits = null)
    {
        var total = (2 + body.Length + 7) / 8 * 8;
        var o = new byte[total];
        o[0] = type;
        o[1] = (byte)(lengthUnits ?? total / 8);
        body.CopyTo(o, 2);
        return o;
    }

    public RaWire Prefix(string prefix, uint valid = 86400, uint preferred = 14400, bool onLink = true, bool autonomous = true) =>
        Bytes(PrefixBytes(prefix, valid, preferred, onLink, autonomous));

    public static byte[] PrefixBytes(string prefix, uint valid = 86400, uint preferred = 14400, bool onLink = true, bool autonomous = true)
    {
        var (address, length) = Split(prefix);
        var body = new byte[30];
        body[0] = (byte)length;
        body[1] = (byte)((onLink ? 0x80 : 0) | (autonomous ? 0x40 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(2), valid);
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(6), preferred);
        address.GetAddressBytes().CopyTo(body, 14);
        return OptionBytes(3, body);
    }

    public RaWire Mtu(uint mtu)
    {
        var body = new byte[6];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(2), mtu);
        return Option(5, body);
    }

    /// <summary>RFC 4191 §2.3 with the shortest length for the prefix (or <paramref name="lengthUnits"/>).</summary>
    public RaWire Route(string prefix, int prf = 0b00, uint lifetime = 1800, int? lengthUnits = null) => Bytes(RouteBytes(prefix, prf, lifetime, lengthUnits));

    public static byte[] RouteBytes(string prefix, int prf = 0b00, uint lifetime = 1800, int? lengthUnits = null)
    {
        var (address, length) = Split(prefix);
        var units = lengthUnits ?? (length == 0 ? 1 : length <= 64 ? 2 : 3);
        var o = new byte[units * 8];
        o[0] = 24;
        o[1] = (byte)units;
        o[2] = (byte)length;
        o[3] = (byte)((prf & 0b11) << 3);
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), lifetime);
        var a = address.GetAddressBytes();
        Array.Copy(a, 0, o, 8, Math.Min(16, o.Length - 8));
        return o;
    }

    public RaWire Rdnss(uint lifetime, params string[] servers) => Bytes(RdnssBytes(lifetime, servers));

    public static byte[] RdnssBytes(uint lifetime, params string[] servers)
    {
        var o = new byte[8 + (16 * servers.Length)];
        o[0] = 25;
        o[1] = (byte)(1 + (2 * servers.Length));
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), lifetime);
        for (var i = 0; i < servers.Length; i++)
        {
            IPAddress.Parse(servers[i]).GetAddressBytes().CopyTo(o, 8 + (16 * i));
        }

        return o;
    }

    public RaWire Dnssl(uint lifetime, params string[] domains) => Bytes(DnsslBytes(lifetime, domains));

    public static byte[] DnsslBytes(uint lifetime, params string[] domains)
    {
        var names = domains.SelectMany(Name).ToArray();
        var body = new byte[6 + names.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(2), lifetime);
        names.CopyTo(body, 6);
        return OptionBytes(31, body);
    }

    /// <summary>
    /// RFC 8801 §3.1: flags H|L|R, Delay, Sequence Number, the PvD ID in DNS wire format, padding to 8 octets, the RA header
    /// when R is set, then <paramref name="nested"/> (whole options). <paramref name="rawName"/> replaces the encoded name.
    /// </summary>
    public RaWire Pvd(string pvdId, ushort sequence = 0, bool h = false, bool l = false, byte[]? raHeader = null, int delay = 0,
        byte[]? nested = null, byte[]? rawName = null) => Bytes(PvdBytes(pvdId, sequence, h, l, raHeader, delay, nested, rawName));

    public static byte[] PvdBytes(string pvdId, ushort sequence = 0, bool h = false, bool l = false, byte[]? raHeader = null, int delay = 0,
        byte[]? nested = null, byte[]? rawName = null)
    {
        var head = new List<byte> { 21, 0 };
        var flags = (ushort)((h ? 0x8000 : 0) | (l ? 0x4000 : 0) | (raHeader is null ? 0 : 0x2000) | (delay & 0xF));
        head.Add((byte)(flags >> 8));
        head.Add((byte)flags);
        head.Add((byte)(sequence >> 8));
        head.Add((byte)sequence);
        head.AddRange(rawName ?? Name(pvdId));
        while (head.Count % 8 != 0)
        {
            head.Add(0);
        }

        head.AddRange(raHeader ?? []);
        head.AddRange(nested ?? []);
        head[1] = (byte)(head.Count / 8);
        return [.. head];
    }

    /// <summary>A name in RFC 1035 §3.1 wire format, uncompressed, ending with the root label.</summary>
    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    private static (IPAddress Address, int Length) Split(string prefix)
    {
        var slash = prefix.IndexOf('/', StringComparison.Ordinal);
        return (IPAddress.Parse(prefix[..slash]), int.Parse(prefix[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
