using System.Net;

namespace HeMif.Transports.Resolve;

/// <summary>The RR TYPE values this stub understands (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 6891 §6.1.1, RFC 9460 §14.2).</summary>
internal static class DnsType
{
    /// <summary>RFC 1035 §3.2.2: "A 1 a host address".</summary>
    public const ushort A = 1;

    /// <summary>RFC 1035 §3.2.2: "CNAME 5 the canonical name for an alias".</summary>
    public const ushort Cname = 5;

    /// <summary>RFC 1035 §3.2.2: "SOA 6 marks the start of a zone of authority" (carried by negative answers).</summary>
    public const ushort Soa = 6;

    /// <summary>RFC 3596 §2.1: "The AAAA resource record type is a record specific to the Internet class ... The value of the type is 28".</summary>
    public const ushort Aaaa = 28;

    /// <summary>RFC 6891 §6.1.1: the EDNS(0) pseudo-RR "OPT", type 41.</summary>
    public const ushort Opt = 41;

    /// <summary>RFC 9460 §14.2: SVCB, type 64.</summary>
    public const ushort Svcb = 64;

    /// <summary>RFC 9460 §14.2: HTTPS, type 65.</summary>
    public const ushort Https = 65;

    /// <summary>A short mnemonic for messages and notes.</summary>
    public static string Name(ushort type) => type switch
    {
        A => "A",
        Cname => "CNAME",
        Soa => "SOA",
        Aaaa => "AAAA",
        Opt => "OPT",
        Svcb => "SVCB",
        Https => "HTTPS",
        _ => "TYPE" + type,
    };
}

/// <summary>RFC 1035 §3.2.4: "IN 1 the Internet" — the only class a stub for connection set-up asks about.</summary>
internal static class DnsClass
{
    /// <summary>The Internet class.</summary>
    public const ushort In = 1;
}

/// <summary>RFC 1035 §4.1.1 RCODE values (and RFC 6891's 12-bit extension of them).</summary>
internal enum DnsResponseCode
{
    /// <summary>"0 No error condition".</summary>
    NoError = 0,

    /// <summary>"1 Format error - The name server was unable to interpret the query."</summary>
    FormatError = 1,

    /// <summary>"2 Server failure - The name server was unable to process this query due to a problem with the name server."</summary>
    ServerFailure = 2,

    /// <summary>"3 Name Error - ... the domain name referenced in the query does not exist." (NXDOMAIN).</summary>
    NameError = 3,

    /// <summary>"4 Not Implemented - The name server does not support the requested kind of query."</summary>
    NotImplemented = 4,

    /// <summary>"5 Refused - The name server refuses to perform the specified operation for policy reasons."</summary>
    Refused = 5,
}

/// <summary>A question: RFC 1035 §4.1.2 QNAME, QTYPE, QCLASS. Names are in presentation form without the final dot.</summary>
internal sealed record DnsQuestion(string Name, ushort Type, ushort Class);

/// <summary>A resource record (RFC 1035 §4.1.3). Names are in presentation form without the final dot (the root is "").</summary>
internal abstract record DnsRecord(string Name, ushort Type, ushort Class, uint Ttl);

/// <summary>An A (RFC 1035 §3.4.1) or AAAA (RFC 3596 §2.2) record.</summary>
internal sealed record DnsAddressRecord(string Name, ushort Type, ushort Class, uint Ttl, IPAddress Address) : DnsRecord(Name, Type, Class, Ttl);

/// <summary>A CNAME record (RFC 1035 §3.3.1): <paramref name="Target"/> is the canonical name.</summary>
internal sealed record DnsCnameRecord(string Name, ushort Class, uint Ttl, string Target) : DnsRecord(Name, DnsType.Cname, Class, Ttl);

/// <summary>
/// An SVCB or HTTPS record (RFC 9460 §2.2), with the SvcParams a connection race uses: "alpn" (key 1), "port" (key 3),
/// "ipv4hint" (key 4) and "ipv6hint" (key 6). Priority 0 is AliasMode, where §2.4.2 says "recipients MUST ignore any
/// SvcParams that are present", so those lists are empty then.
/// </summary>
internal sealed record DnsServiceBindingRecord(
    string Name,
    ushort Type,
    ushort Class,
    uint Ttl,
    ushort Priority,
    string Target,
    IReadOnlyList<string> Alpn,
    int? Port,
    IReadOnlyList<IPAddress> Ipv4Hints,
    IReadOnlyList<IPAddress> Ipv6Hints) : DnsRecord(Name, Type, Class, Ttl)
{
    /// <summary>RFC 9460 §2.4.2: "When SvcPriority is 0, the SVCB record is in AliasMode".</summary>
    public bool IsAliasMode => Priority == 0;
}

/// <summary>
/// An SOA record (RFC 1035 §3.3.13), as a negative answer carries it in its authority section (RFC 2308 §3): only what
/// negative caching needs. <paramref name="Minimum"/> is the MINIMUM field, which RFC 2308 §4 redefines as "the TTL to
/// be used for negative responses".
/// </summary>
internal sealed record DnsSoaRecord(string Name, ushort Class, uint Ttl, uint Minimum) : DnsRecord(Name, DnsType.Soa, Class, Ttl);

/// <summary>Any other record: kept by type and RDATA length only, so counts and positions stay checked.</summary>
internal sealed record DnsOtherRecord(string Name, ushort Type, ushort Class, uint Ttl, int DataLength) : DnsRecord(Name, Type, Class, Ttl);
