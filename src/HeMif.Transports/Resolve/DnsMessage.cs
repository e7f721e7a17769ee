// Why this codec is our own. The DNS libraries that restore here were tried on this file's own cases (the strict cases of
// DnsMessageTests and DnsParserFuzzTests' 44,000 mutated and noise messages, fed to each library's parser):
// - DnsClient 1.8.0 has no public parser (DnsMessageHandler.GetResponseMessage is internal; it runs only inside
//   LookupClient's exchange) and no SVCB/HTTPS type (type 65 stays an UnknownRecord of raw bytes). It accepts forward
//   compression pointers, the reserved label types 0x40 and 0x80, names over 255 octets and octets after the last
//   record the header counts, and it fails with ArgumentException and ArgumentOutOfRangeException besides its
//   DnsResponseParseException.
// - ARSoft.Tools.Net 3.6.1 has a public DnsMessage.Parse(ArraySegment<byte>) and SvcBRecord/HttpsRecord, but it accepts a
//   forward pointer, names over 255 octets, an A record of 5 or 16 octets, a CNAME whose name does not fill its RDATA,
//   octets after the last record, and five of RFC 9460 section 2.2's malformed SVCB cases (keys out of order, a SvcParam
//   running past the RDATA, an empty alpn, a 4-octet ipv6hint, a compressed TargetName); it throws on a valid AliasMode
//   record whose SvcParams, which AliasMode ignores, are malformed; failures come as ArgumentOutOfRangeException,
//   NotSupportedException, ArgumentException or FormatException, no one documented type.
// - Makaretu.Dns 2.0.1 reads A, AAAA, CNAME and the TC bit (Message.Read(byte[])) but has no SVCB/HTTPS type; it accepts
//   reserved label types, names over 255 octets, a 16-octet A and a 4-octet AAAA record and octets after the last record;
//   a pointer may only name an offset where it already read a name; failures come as EndOfStreamException,
//   KeyNotFoundException, InvalidDataException or ArgumentException.
// None of them hung on any case, but none rejects everything RFC 1035 sections 2.3.4 and 4.1.4 and RFC 9460 section 2.2
// call malformed, so this parser stays: a result with a reason for every input, never an exception.
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace HeMif.Transports.Resolve;

/// <summary>The outcome of <see cref="DnsMessage.Parse"/>: a message, or the reason it was rejected. Never an exception.</summary>
internal readonly record struct DnsParseResult(DnsMessage? Message, string? Error)
{
    /// <summary>The message was well formed.</summary>
    public bool Ok => Message is not null;
}

/// <summary>
/// A parsed DNS message (RFC 1035 §4.1) and the codec for the one kind of message a stub sends: a recursive query
/// with one question. The parser is strict on purpose: every read is bounded by the message, names obey RFC 1035
/// §2.3.4 limits, compression pointers may only point backwards, RDATA lengths must fit their type, and the header
/// counts must account for every octet. Anything else is a <see cref="DnsParseResult"/> with a reason.
/// </summary>
internal sealed record DnsMessage(
    ushort Id,
    ushort Flags,
    IReadOnlyList<DnsQuestion> Questions,
    IReadOnlyList<DnsRecord> Answers,
    IReadOnlyList<DnsRecord> Authorities,
    IReadOnlyList<DnsRecord> Additionals)
{
    /// <summary>RFC 1035 §4.1.1: the fixed header is 12 octets.</summary>
    public const int HeaderLength = 12;

    /// <summary>RFC 1035 §2.3.4: "labels 63 octets or less".</summary>
    public const int MaxLabelLength = 63;

    /// <summary>RFC 1035 §2.3.4: "names 255 octets or less" (label octets and label length octets).</summary>
    public const int MaxNameLength = 255;

    /// <summary>
    /// The EDNS(0) UDP payload size we advertise: 1232 octets, the value of DNS Flag Day 2020, which fits the
    /// IPv6 minimum MTU of 1280 without fragmentation (RFC 6891 §6.2.5 leaves the value to the requestor).
    /// </summary>
    public const ushort EdnsUdpPayloadSize = 1232;

    /// <summary>
    /// Pointer hops allowed while reading one name. Real compressors point once (to a suffix that may itself end in a
    /// pointer); the backwards-only rule already forbids loops, this bounds the work per name.
    /// </summary>
    public const int MaxPointerHops = 64;

    /// <summary>CNAME hops followed within one answer (RFC 1034 §3.6.2 chains; bounded because a chain can loop).</summary>
    public const int MaxCnameChain = 8;

    private const ushort QrBit = 0x8000;
    private const ushort TcBit = 0x0200;
    private const ushort RdBit = 0x0100;

    /// <summary>RFC 1035 §4.1.1 QR: "whether this message is a query (0), or a response (1)".</summary>
    public bool IsResponse => (Flags & QrBit) != 0;

    /// <summary>RFC 1035 §4.1.1 OPCODE; 0 is "a standard query (QUERY)".</summary>
    public int Opcode => (Flags >> 11) & 0xF;

    /// <summary>RFC 1035 §4.1.1 TC: "this message was truncated due to length greater than that permitted on the transmission channel".</summary>
    public bool Truncated => (Flags & TcBit) != 0;

    /// <summary>RFC 1035 §4.1.1 RD: "Recursion Desired".</summary>
    public bool RecursionDesired => (Flags & RdBit) != 0;

    /// <summary>
    /// The response code: the header's 4 bits, extended by the OPT record's upper 8 bits when there is one
    /// (RFC 6891 §6.1.3: "Forms the upper 8 bits of extended 12-bit RCODE").
    /// </summary>
    public DnsResponseCode ResponseCode
    {
        get
        {
            var code = Flags & 0xF;
            foreach (var r in Additionals)
            {
                if (r.Type == DnsType.Opt)
                {
                    code |= (int)(r.Ttl >> 24) << 4;
                    break;
                }
            }

            return (DnsResponseCode)code;
        }
    }

    /// <summary>
    /// A fresh query ID from a CSPRNG. RFC 5452 §9.1: resolvers MUST "Use an unpredictable query ID for outgoing
    /// queries, utilizing the full range available (0-65535)."
    /// </summary>
    public static ushort NewId()
    {
        Span<byte> id = stackalloc byte[2];
        RandomNumberGenerator.Fill(id);
        return BinaryPrimitives.ReadUInt16BigEndian(id);
    }

    /// <summary>
    /// Builds a standard recursive query: RD set (RFC 1035 §4.1.1, a stub relies on the server's recursion), one
    /// question of class IN, and when <paramref name="edns"/> an OPT pseudo-RR (RFC 6891 §6.1.2: "NAME domain name
    /// MUST be 0 (root domain)", "CLASS requestor's UDP payload size") advertising <see cref="EdnsUdpPayloadSize"/>.
    /// </summary>
    /// <param name="id">The query ID (<see cref="NewId"/>).</param>
    /// <param name="name">A name already checked by <see cref="TryNormalizeName"/>.</param>
    /// <param name="type">The QTYPE.</param>
    /// <param name="edns">Add the EDNS(0) OPT record.</param>
    public static byte[] CreateQuery(ushort id, string name, ushort type, bool edns)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = name.Length == 0 ? [] : name.Split('.');
        var nameLength = 1 + labels.Sum(l => 1 + l.Length);
        var length = HeaderLength + nameLength + 4 + (edns ? 11 : 0);
        var m = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(m, id);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(2), RdBit);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(4), 1); // QDCOUNT
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(10), edns ? (ushort)1 : (ushort)0); // ARCOUNT
        var p = HeaderLength;
        foreach (var label in labels)
        {
            m[p++] = (byte)label.Length;
            p += Encoding.ASCII.GetBytes(label, m.AsSpan(p));
        }

        m[p++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p), type);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 2), DnsClass.In);
        p += 4;
        if (edns)
        {
            m[p] = 0; // root owner
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 1), DnsType.Opt);
            BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(p + 3), EdnsUdpPayloadSize);
            // TTL (extended RCODE, version 0, DO clear) and RDLENGTH stay 0.
        }

        return m;
    }

    /// <summary>
    /// Turns a host name into the name a query asks for: international names through IDNA (the wire carries ASCII
    /// labels only), the final dot dropped, and every label checked against RFC 1035 §2.3.4 (1–63 octets, 255 in
    /// all) and the host-name characters of RFC 952/1123 plus "_" (service names such as "_8443._https").
    /// </summary>
    public static bool TryNormalizeName(string host, out string name, out string? error)
    {
        name = "";
        error = null;
        if (string.IsNullOrWhiteSpace(host))
        {
            error = "empty host name";
            return false;
        }

        var ascii = host.EndsWith('.') ? host[..^1] : host;
        if (ascii.Any(c => c > 0x7F))
        {
            try
            {
                ascii = new IdnMapping().GetAscii(ascii);
            }
            catch (ArgumentException e)
            {
                error = "host name is not a valid international name: " + e.Message;
                return false;
            }
        }

        var labels = ascii.Split('.');
        var wire = 1;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > MaxLabelLength)
            {
                error = $"label of {label.Length} octets in '{host}' (RFC 1035: 1 to 63)";
                return false;
            }

            if (!label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                error = $"'{host}' has a character a host name cannot have";
                return false;
            }

            wire += 1 + label.Length;
        }

        if (wire > MaxNameLength)
        {
            error = $"'{host}' is {wire} octets on the wire (RFC 1035: 255 or less)";
            return false;
        }

        name = ascii;
        return true;
    }

    /// <summary>DNS names compare without regard to ASCII case (RFC 4343 §3). Presentation names here are ASCII only.</summary>
    public static bool NamesEqual(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses a whole message. Never throws for any input; a malformed message is a result with a reason.</summary>
    public static DnsParseResult Parse(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength)
        {
            return new(null, $"message of {message.Length} octets is shorter than the 12-octet header");
        }

        var reader = new DnsReader(message) { Position = HeaderLength };
        var id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var qd = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var an = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var ns = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        var ar = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);

        var questions = new List<DnsQuestion>(Math.Min((int)qd, 4));
        for (var i = 0; i < qd; i++)
        {
            if (!reader.TryReadName(true, out var qname) || !reader.TryReadUInt16(out var qtype) || !reader.TryReadUInt16(out var qclass))
            {
                return new(null, $"question {i + 1} of {qd}: {reader.Error}");
            }

            questions.Add(new DnsQuestion(qname, qtype, qclass));
        }

        if (!TryReadSection(ref reader, an, "answer", out var answers, out var error)
            || !TryReadSection(ref reader, ns, "authority", out var authorities, out error)
            || !TryReadSection(ref reader, ar, "additional", out var additionals, out error))
        {
            return new(null, error);
        }

        if (reader.Position != message.Length)
        {
            return new(null, $"{message.Length - reader.Position} octets after the last record the header counts");
        }

        return new(new DnsMessage(id, flags, questions, answers, authorities, additionals), null);
    }

    /// <summary>
    /// The records of the question's type at the end of the CNAME chain that starts at the question's name, within
    /// the answer section (RFC 1034 §3.6.2: the server "restarts the query at the domain name specified in the data
    /// field of the CNAME RR", and a recursive server returns the whole chain). An empty list with no error is
    /// NODATA. <paramref name="ttl"/> is the smallest TTL along the chain: the answer is only as fresh as its
    /// weakest link.
    /// </summary>
    public IReadOnlyList<DnsRecord> FollowChain(DnsQuestion question, out uint ttl, out string? error)
    {
        ArgumentNullException.ThrowIfNull(question);
        ttl = uint.MaxValue;
        error = null;
        var current = question.Name;
        for (var hop = 0; hop <= MaxCnameChain; hop++)
        {
            var found = new List<DnsRecord>();
            DnsCnameRecord? alias = null;
            foreach (var r in Answers)
            {
                if (r.Class != question.Class || !NamesEqual(r.Name, current))
                {
                    continue;
                }

                if (r.Type == question.Type)
                {
                    found.Add(r);
                }
                else if (r is DnsCnameRecord c)
                {
                    alias ??= c;
                }
            }

            if (found.Count > 0)
            {
                ttl = Math.Min(ttl, found.Min(r => r.Ttl));
                return found;
            }

            if (alias is null)
            {
                if (ttl == uint.MaxValue)
                {
                    ttl = 0;
                }

                return [];
            }

            ttl = Math.Min(ttl, alias.Ttl);
            current = alias.Target;
        }

        error = $"CNAME chain from {question.Name} longer than {MaxCnameChain} (or a loop)";
        ttl = 0;
        return [];
    }

    /// <summary>
    /// How long a negative answer (NXDOMAIN or NODATA) to <paramref name="question"/> may be cached, in seconds, or null
    /// when it must not be. RFC 2308 §5: "Like normal answers negative answers have a time to live (TTL) ... The TTL of
    /// this record is set from the minimum of the MINIMUM field of the SOA record and the TTL of the SOA itself", and
    /// "Negative responses without SOA records SHOULD NOT be cached as there is no way to prevent the negative responses
    /// looping forever between a pair of servers even with a TTL." The SOA counts only when it is in the authority
    /// section, of the question's class, and owned by the zone of the name the answer is about: the end of the CNAME
    /// chain in the answer section (RFC 2308 §2.1: "the NXDOMAIN ... applies to the last name in the chain"), or one of
    /// its ancestors. An SOA for an unrelated zone (a spoofer's, or a confused server's) says nothing about this name.
    /// Cached under the question's name, the answer cannot outlive the CNAMEs that led to it either.
    /// </summary>
    public uint? NegativeTtl(DnsQuestion question)
    {
        ArgumentNullException.ThrowIfNull(question);
        var current = question.Name;
        var ttl = uint.MaxValue;
        for (var hop = 0; hop < MaxCnameChain; hop++)
        {
            var alias = Answers.OfType<DnsCnameRecord>().FirstOrDefault(c => c.Class == question.Class && NamesEqual(c.Name, current));
            if (alias is null)
            {
                break;
            }

            ttl = Math.Min(ttl, alias.Ttl);
            current = alias.Target;
        }

        uint? negative = null;
        foreach (var r in Authorities)
        {
            if (r is DnsSoaRecord soa && soa.Class == question.Class && IsSelfOrAncestor(soa.Name, current))
            {
                var value = Math.Min(Math.Min(soa.Ttl, soa.Minimum), ttl);
                negative = negative is { } n ? Math.Min(n, value) : value;
            }
        }

        return negative;
    }

    /// <summary>Whether <paramref name="zone"/> is <paramref name="name"/> or one of its ancestors ("" is the root).</summary>
    private static bool IsSelfOrAncestor(string zone, string name) =>
        zone.Length == 0 || NamesEqual(zone, name) || (name.Length > zone.Length && name[^(zone.Length + 1)] == '.' && NamesEqual(zone, name[^zone.Length..]));

    private static bool TryReadSection(ref DnsReader reader, int count, string section, out List<DnsRecord> records, out string? error)
    {
        records = new List<DnsRecord>(Math.Min(count, 16));
        error = null;
        for (var i = 0; i < count; i++)
        {
            if (!TryReadRecord(ref reader, out var record))
            {
                error = $"{section} record {i + 1} of {count}: {reader.Error}";
                return false;
            }

            records.Add(record);
        }

        return true;
    }

    private static bool TryReadRecord(ref DnsReader reader, out DnsRecord record)
    {
        record = null!;
        if (!reader.TryReadName(true, out var owner)
            || !reader.TryReadUInt16(out var type)
            || !reader.TryReadUInt16(out var cls)
            || !reader.TryReadUInt32(out var ttl)
            || !reader.TryReadUInt16(out var rdLength))
        {
            return false;
        }

        var start = reader.Position;
        var end = start + rdLength;
        if (end > reader.Length)
        {
            return reader.Fail($"RDATA of {rdLength} octets runs past the end of the message");
        }

        // RFC 2181 §8: "implementations should treat TTL values received with the most significant bit set as if the
        // entire value received was zero."
        if (ttl > int.MaxValue)
        {
            ttl = 0;
        }

        switch (type)
        {
            case DnsType.A or DnsType.Aaaa when cls == DnsClass.In:
            {
                var expected = type == DnsType.A ? 4 : 16;
                if (rdLength != expected)
                {
                    return reader.Fail($"{DnsType.Name(type)} RDATA is {rdLength} octets, not {expected}");
                }

                record = new DnsAddressRecord(owner, type, cls, ttl, new IPAddress(reader.Slice(start, rdLength)));
                reader.Position = end;
                return true;
            }

            case DnsType.Cname:
            {
                if (!reader.TryReadName(true, out var target))
                {
                    return false;
                }

                if (reader.Position != end)
                {
                    return reader.Fail($"CNAME RDATA is {rdLength} octets but its name takes {reader.Position - start}");
                }

                record = new DnsCnameRecord(owner, cls, ttl, target);
                return true;
            }

            case DnsType.Soa:
            {
                // RFC 1035 §3.3.13: MNAME, RNAME (names, which may be compressed: RFC 3597 §4 lists SOA among the types
                // whose names may be), then SERIAL, REFRESH, RETRY, EXPIRE and MINIMUM, 32 bits each.
                if (!reader.TryReadName(true, out _) || !reader.TryReadName(true, out _))
                {
                    return false;
                }

                if (end - reader.Position != 20)
                {
                    return reader.Fail($"SOA RDATA is {rdLength} octets but its names and five 32-bit fields take {reader.Position - start + 20}");
                }

                reader.Position += 16; // SERIAL, REFRESH, RETRY, EXPIRE: nothing a stub uses
                if (!reader.TryReadUInt32(out var minimum))
                {
                    return false;
                }

                record = new DnsSoaRecord(owner, cls, ttl, minimum);
                return true;
            }

            case DnsType.Svcb or DnsType.Https:
            {
                // Bound the nested reader by the RDATA: RFC 9460 §2.2: a client "MUST consider an RR malformed if
                // the end of the RDATA occurs within a SvcParam".
                var inner = new DnsReader(reader.Window(end)) { Position = start };
                if (!TryReadServiceBinding(ref inner, owner, type, cls, ttl, end, out var svcb))
                {
                    return reader.Fail(inner.Error!);
                }

                record = svcb;
                reader.Position = end;
                return true;
            }

            default:
                record = new DnsOtherRecord(owner, type, cls, ttl, rdLength);
                reader.Position = end;
                return true;
        }
    }

    private static bool TryReadServiceBinding(ref DnsReader reader, string owner, ushort type, ushort cls, uint ttl, int end, out DnsServiceBindingRecord record)
    {
        record = null!;
        var name = DnsType.Name(type);

        // RFC 9460 §2.2: "TargetName: The domain name of either the alias target (for AliasMode) or the alternative
        // endpoint (for ServiceMode)", and the wire format is "an uncompressed domain name" (RFC 3597 §4 likewise
        // forbids compression in new types): a pointer here is malformed.
        if (!reader.TryReadUInt16(out var priority) || !reader.TryReadName(false, out var target))
        {
            return false;
        }

        var alpn = new List<string>();
        var v4 = new List<IPAddress>();
        var v6 = new List<IPAddress>();
        int? port = null;
        var last = -1;
        while (reader.Position < end)
        {
            if (end - reader.Position < 4 || !reader.TryReadUInt16(out var key) || !reader.TryReadUInt16(out var length))
            {
                return reader.Fail($"{name} RDATA ends inside a SvcParam header");
            }

            // RFC 9460 §2.2: malformed if "SvcParamKeys are not in strictly increasing numeric order".
            if (key <= last)
            {
                return reader.Fail($"{name} SvcParamKeys not in strictly increasing order ({key} after {last})");
            }

            last = key;
            if (reader.Position + length > end)
            {
                return reader.Fail($"{name} RDATA ends inside SvcParam {key}");
            }

            var value = reader.Slice(reader.Position, length);
            reader.Position += length;

            // §2.4.2: in AliasMode "recipients MUST ignore any SvcParams that are present".
            if (priority == 0)
            {
                continue;
            }

            // RFC 9460 §2.2: malformed if "the SvcParamValue for a SvcParamKey does not have the expected format".
            switch (key)
            {
                case 1: // alpn, §7.1.1: "a sequence of alpn-ids ... each alpn-id prefixed by its length as a single octet"
                    if (length == 0)
                    {
                        return reader.Fail($"{name} alpn is empty");
                    }

                    for (var i = 0; i < value.Length;)
                    {
                        var n = value[i];
                        if (n == 0 || i + 1 + n > value.Length)
                        {
                            return reader.Fail($"{name} alpn-id of {n} octets does not fit");
                        }

                        alpn.Add(Encoding.Latin1.GetString(value.Slice(i + 1, n)));
                        i += 1 + n;
                    }

                    break;
                case 3: // port, §7.2: "the value of the SvcParamValue is a single 16-bit integer in network byte order"
                    if (length != 2)
                    {
                        return reader.Fail($"{name} port is {length} octets, not 2");
                    }

                    port = BinaryPrimitives.ReadUInt16BigEndian(value);
                    break;
                case 4 or 6: // ipv4hint / ipv6hint, §7.3: "a sequence of IP addresses in network byte order"
                    var size = key == 4 ? 4 : 16;
                    if (length == 0 || length % size != 0)
                    {
                        return reader.Fail($"{name} {(key == 4 ? "ipv4hint" : "ipv6hint")} is {length} octets, not a non-empty multiple of {size}");
                    }

                    for (var i = 0; i < length; i += size)
                    {
                        (key == 4 ? v4 : v6).Add(new IPAddress(value.Slice(i, size)));
                    }

                    break;
            }
        }

        record = new DnsServiceBindingRecord(owner, type, cls, ttl, priority, target, alpn, port, v4, v6);
        return true;
    }
}
