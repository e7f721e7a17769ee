using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>
/// Reads an ICMPv6 Router Advertisement (RFC 4861 §4.2) with the options HeMif learns from: Prefix Information
/// (RFC 4861 §4.6.2), MTU (§4.6.4), Route Information (RFC 4191 §2.3), RDNSS and DNSSL (RFC 8106 §5) and the PvD
/// Option (RFC 8801 §3.1) with the same options nested in it. Pure: bytes in, typed data out, no I/O.
/// <para>
/// Strict and total: every input, however hostile, gives a <see cref="RaReadResult"/> (never an exception), in time
/// linear in its length (each option consumes at least 8 octets, each name label at least one, and PvD Options nest one
/// level only). A packet that fails RFC 4861 §6.1.2's checks is ignored whole ("Hosts MUST silently discard any
/// received Router Advertisement messages that do not satisfy all of the following validity checks"), and so is one
/// whose first PvD Option cannot be read (its options could not be told from the implicit PvD's); an option that is
/// wrong on its own is ignored alone and reported, as each RFC says for its option.
/// </para>
/// </summary>
internal static class RouterAdvertisementReader
{
    /// <summary>ICMPv6 type of a Router Advertisement (RFC 4861 §4.2).</summary>
    public const byte Icmpv6RouterAdvertisement = 134;

    /// <summary>The RA header's length: type, code, checksum, hop limit, flags, router lifetime, reachable time, retrans timer.</summary>
    public const int HeaderLength = 16;

    /// <summary>RFC 4861 §6.1.2: "The IP Hop Limit field has a value of 255, i.e., the packet could not possibly have been forwarded by a router."</summary>
    public const int RequiredHopLimit = 255;

    /// <summary>Option types (IANA "IPv6 Neighbor Discovery Option Formats").</summary>
    public const byte PrefixInformationType = 3, MtuType = 5, PvdType = 21, RouteInformationType = 24, RdnssType = 25, DnsslType = 31;

    /// <summary>RFC 1035 §2.3.4: a name is at most 255 octets on the wire, a label at most 63.</summary>
    private const int MaxNameOctets = 255, MaxLabelOctets = 63;

    /// <summary>
    /// Reads one RA. <paramref name="source"/> and <paramref name="hopLimit"/> come from the IPv6 header (a raw ICMPv6
    /// socket gives the source address and, with IPV6_RECVHOPLIMIT, the hop limit); <paramref name="message"/> is the
    /// ICMPv6 message from its type octet on (the kernel has checked the checksum: RFC 4861 §6.1.2's "ICMP Checksum is
    /// valid").
    /// </summary>
    public static RaReadResult Read(IPAddress source, int hopLimit, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.AddressFamily != AddressFamily.InterNetworkV6 || !source.IsIPv6LinkLocal)
        {
            return RaReadResult.Rejected(RaRejection.SourceNotLinkLocal, $"source {source} is not an IPv6 link-local address (fe80::/10)");
        }

        if (hopLimit != RequiredHopLimit)
        {
            return RaReadResult.Rejected(RaRejection.HopLimitNot255, $"hop limit {hopLimit}, not 255: the packet was forwarded by a router");
        }

        if (message.Length < HeaderLength)
        {
            return RaReadResult.Rejected(RaRejection.TooShort, $"{message.Length} octets, fewer than the RA header's 16");
        }

        if (message[0] != Icmpv6RouterAdvertisement)
        {
            return RaReadResult.Rejected(RaRejection.NotRouterAdvertisement, $"ICMPv6 type {message[0]}, not 134");
        }

        if (message[1] != 0)
        {
            return RaReadResult.Rejected(RaRejection.NonZeroCode, $"ICMP code {message[1]}, not 0");
        }

        var header = ReadHeader(message);
        var options = new OptionsBuilder();
        var ignored = new List<RaOptionReport>();
        PvdOption? pvd = null;
        for (var at = HeaderLength; at < message.Length;)
        {
            if (!Frame(message, at, message.Length, out var length, out var rejection, out var detail))
            {
                return RaReadResult.Rejected(rejection, detail);
            }

            var option = message.Slice(at, length);
            if (option[0] == PvdType)
            {
                if (pvd is not null)
                {
                    ignored.Add(new RaOptionReport(at, PvdType, RaOptionProblem.SecondPvdOption, "only the first PvD Option of an RA counts (RFC 8801 §3.4)"));
                }
                else if (ReadPvd(option, at, ignored, out pvd) is { } failure)
                {
                    return failure;
                }
            }
            else
            {
                ReadOption(option, at, options, ignored);
            }

            at += length;
        }

        return RaReadResult.Accepted(new RouterAdvertisement(source, header, options.Build(), pvd, ignored));
    }

    /// <summary>RFC 4191 §2.1's preference bits: "01 High, 00 Medium (default), 11 Low, 10 Reserved"; null for the reserved value.</summary>
    internal static RoutePreference? Preference(int twoBits) => twoBits switch
    {
        0b01 => RoutePreference.High,
        0b00 => RoutePreference.Medium,
        0b11 => RoutePreference.Low,
        _ => null,
    };

    private static RaHeader ReadHeader(ReadOnlySpan<byte> h)
    {
        var lifetime = BinaryPrimitives.ReadUInt16BigEndian(h[6..]);
        // RFC 4191 §2.2: "If the Router Lifetime is zero, the preference value MUST be set to (00) by the sender and
        // MUST be ignored by the receiver. If the Reserved (10) value is received, the receiver MUST treat the value as
        // if it were (00)."
        var preference = lifetime == 0 ? RoutePreference.Medium : Preference((h[5] >> 3) & 0b11) ?? RoutePreference.Medium;
        return new RaHeader(h[4], (h[5] & 0x80) != 0, (h[5] & 0x40) != 0, preference, lifetime,
            BinaryPrimitives.ReadUInt32BigEndian(h[8..]), BinaryPrimitives.ReadUInt32BigEndian(h[12..]));
    }

    /// <summary>The option at <paramref name="at"/>: its length in octets, or why the packet cannot be read on.</summary>
    private static bool Frame(ReadOnlySpan<byte> message, int at, int end, out int length, out RaRejection rejection, out string detail)
    {
        length = 0;
        rejection = default;
        detail = "";
        if (end - at < 2)
        {
            rejection = RaRejection.OptionTruncated;
            detail = $"{end - at} octet(s) at octet {at}, too few for an option's type and length";
            return false;
        }

        length = message[at + 1] * 8;
        if (length == 0)
        {
            rejection = RaRejection.ZeroLengthOption;
            detail = $"option type {message[at]} at octet {at} has length 0";
            return false;
        }

        if (length > end - at)
        {
            rejection = RaRejection.OptionTruncated;
            detail = $"option type {message[at]} at octet {at} is {length} octets long, but only {end - at} remain";
            return false;
        }

        return true;
    }

    /// <summary>Reads one non-PvD option into <paramref name="into"/>, or reports why it is ignored. Unknown types are skipped.</summary>
    private static void ReadOption(ReadOnlySpan<byte> o, int at, OptionsBuilder into, List<RaOptionReport> ignored)
    {
        switch (o[0])
        {
            case PrefixInformationType:
                ReadPrefixInformation(o, at, into, ignored);
                break;
            case MtuType:
                if (o.Length != 8)
                {
                    ignored.Add(new RaOptionReport(at, MtuType, RaOptionProblem.BadLength, $"{o.Length} octets, RFC 4861 §4.6.4 defines 8"));
                    break;
                }

                into.Mtu = BinaryPrimitives.ReadUInt32BigEndian(o[4..]);
                break;
            case RouteInformationType:
                ReadRouteInformation(o, at, into, ignored);
                break;
            case RdnssType:
                ReadRdnss(o, at, into, ignored);
                break;
            case DnsslType:
                ReadDnssl(o, at, into, ignored);
                break;
            default:
                // RFC 4861 §4.6: "Receivers MUST silently ignore any options they do not recognize and continue
                // processing the message."
                break;
        }
    }

    private static void ReadPrefixInformation(ReadOnlySpan<byte> o, int at, OptionsBuilder into, List<RaOptionReport> ignored)
    {
        if (o.Length != 32)
        {
            ignored.Add(new RaOptionReport(at, PrefixInformationType, RaOptionProblem.BadLength, $"{o.Length} octets, RFC 4861 §4.6.2 defines 32"));
            return;
        }

        var prefixLength = o[2];
        if (prefixLength > 128)
        {
            ignored.Add(new RaOptionReport(at, PrefixInformationType, RaOptionProblem.BadPrefixLength, $"prefix length {prefixLength}, above 128"));
            return;
        }

        var valid = new RaLifetime(BinaryPrimitives.ReadUInt32BigEndian(o[4..]));
        var preferred = new RaLifetime(BinaryPrimitives.ReadUInt32BigEndian(o[8..]));
        if (preferred.Seconds > valid.Seconds)
        {
            ignored.Add(new RaOptionReport(at, PrefixInformationType, RaOptionProblem.PreferredAboveValid, $"preferred lifetime {preferred} above valid lifetime {valid}"));
            return;
        }

        var prefix = Masked(o.Slice(16, 16), prefixLength);
        if (prefix.BaseAddress.IsIPv6LinkLocal)
        {
            ignored.Add(new RaOptionReport(at, PrefixInformationType, RaOptionProblem.LinkLocalPrefix, $"prefix {prefix} is link-local"));
            return;
        }

        into.Prefixes.Add(new PrefixInformationOption(prefix, (o[3] & 0x80) != 0, (o[3] & 0x40) != 0, valid, preferred));
    }

    private static void ReadRouteInformation(ReadOnlySpan<byte> o, int at, OptionsBuilder into, List<RaOptionReport> ignored)
    {
        // RFC 4191 §2.3: "The Length field is 1, 2, or 3 depending on the Prefix Length. If Prefix Length is greater than
        // 64, then Length must be 3. If Prefix Length is greater than 0, then Length must be 2 or 3."
        var units = o.Length / 8;
        var prefixLength = o[2];
        if (units > 3)
        {
            ignored.Add(new RaOptionReport(at, RouteInformationType, RaOptionProblem.BadLength, $"length {units}, RFC 4191 §2.3 allows 1 to 3"));
            return;
        }

        if (prefixLength > 128 || (prefixLength > 64 && units < 3) || (prefixLength > 0 && units < 2))
        {
            ignored.Add(new RaOptionReport(at, RouteInformationType, RaOptionProblem.BadPrefixLength,
                $"prefix length {prefixLength} with length {units} (RFC 4191 §2.3: above 64 needs 3, above 0 needs 2 or 3, at most 128)"));
            return;
        }

        if (Preference((o[3] >> 3) & 0b11) is not { } preference)
        {
            ignored.Add(new RaOptionReport(at, RouteInformationType, RaOptionProblem.ReservedPreference, "Prf is the reserved value 10"));
            return;
        }

        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        o[8..].CopyTo(bytes);
        into.Routes.Add(new RouteInformationOption(Masked(bytes, prefixLength), preference, new RaLifetime(BinaryPrimitives.ReadUInt32BigEndian(o[4..]))));
    }

    private static void ReadRdnss(ReadOnlySpan<byte> o, int at, OptionsBuilder into, List<RaOptionReport> ignored)
    {
        // RFC 8106 §5.1: "The minimum value is 3 if one IPv6 address is contained in the option. Every additional
        // RDNSS address increases the length by 2."
        var units = o.Length / 8;
        if (units < 3 || units % 2 == 0)
        {
            ignored.Add(new RaOptionReport(at, RdnssType, RaOptionProblem.BadLength, $"length {units}; RFC 8106 §5.1 needs 3 + 2 per further address"));
            return;
        }

        var servers = new List<IPAddress>();
        for (var i = 8; i + 16 <= o.Length; i += 16)
        {
            var address = new IPAddress(o.Slice(i, 16));
            if (address.Equals(IPAddress.IPv6Any) || IPAddress.IsLoopback(address) || address.IsIPv6Multicast || address.IsIPv4MappedToIPv6)
            {
                ignored.Add(new RaOptionReport(at, RdnssType, RaOptionProblem.BadServerAddress, $"{address} cannot be a DNS server"));
                continue;
            }

            servers.Add(address);
        }

        if (servers.Count > 0)
        {
            into.DnsServers.Add(new RdnssOption(servers, new RaLifetime(BinaryPrimitives.ReadUInt32BigEndian(o[4..]))));
        }
    }

    private static void ReadDnssl(ReadOnlySpan<byte> o, int at, OptionsBuilder into, List<RaOptionReport> ignored)
    {
        // RFC 8106 §5.2: Length "The minimum value is 2 if at least one domain name is contained in the option";
        // names "MUST be encoded using the technique described in Section 3.1 of [RFC1035]", without compression,
        // followed by zero padding.
        if (o.Length < 16)
        {
            ignored.Add(new RaOptionReport(at, DnsslType, RaOptionProblem.BadLength, $"length {o.Length / 8}; RFC 8106 §5.2 needs at least 2"));
            return;
        }

        var names = new List<string>();
        var pos = 8;
        while (pos < o.Length && o[pos] != 0)
        {
            if (ReadName(o, ref pos, out var name) is { } why)
            {
                ignored.Add(new RaOptionReport(at, DnsslType, RaOptionProblem.BadDomainName, $"search domain {names.Count + 1}: {why}"));
                return;
            }

            names.Add(name);
        }

        if (names.Count == 0)
        {
            ignored.Add(new RaOptionReport(at, DnsslType, RaOptionProblem.BadDomainName, "no domain name in the option"));
            return;
        }

        into.SearchLists.Add(new DnsslOption(names, new RaLifetime(BinaryPrimitives.ReadUInt32BigEndian(o[4..]))));
    }

    /// <summary>
    /// Reads the PvD Option. Returns a rejection for the whole RA when it cannot be read (its PvD ID is not a valid FQDN,
    /// or its header, RA header or nested options do not fit in it); reports nested PvD Options as ignored.
    /// </summary>
    private static RaReadResult? ReadPvd(ReadOnlySpan<byte> o, int at, List<RaOptionReport> ignored, out PvdOption? pvd)
    {
        pvd = null;
        // RFC 8801 §3.1: Type, Length, H|L|R|Reserved(9)|Delay(4), Sequence Number, PvD ID FQDN, padding to 8 octets,
        // the RA header when R is set, then the nested options.
        if (o.Length < 8)
        {
            return RaReadResult.Rejected(RaRejection.MalformedPvdOption, $"PvD Option at octet {at} is {o.Length} octets, too short for its header");
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(o[2..]);
        var h = (flags & 0x8000) != 0;
        var l = (flags & 0x4000) != 0;
        var r = (flags & 0x2000) != 0;
        var delay = (byte)(flags & 0x000F);
        var sequence = BinaryPrimitives.ReadUInt16BigEndian(o[4..]);
        var pos = 6;
        if (o[pos] == 0)
        {
            return RaReadResult.Rejected(RaRejection.InvalidPvdId, $"PvD Option at octet {at}: the PvD ID is the root name, not an FQDN");
        }

        if (ReadName(o, ref pos, out var pvdId) is { } why)
        {
            return RaReadResult.Rejected(RaRejection.InvalidPvdId, $"PvD Option at octet {at}: the PvD ID is not a valid FQDN: {why}");
        }

        // "Padding: Zero or more padding octets to the next 8-octet boundary" (ignored by the receiver).
        pos = (pos + 7) & ~7;
        RaHeader? header = null;
        if (r)
        {
            if (pos + HeaderLength > o.Length)
            {
                return RaReadResult.Rejected(RaRejection.MalformedPvdOption,
                    $"PvD Option at octet {at} ({pvdId}) has the R-flag set but no room for the 16-octet RA header");
            }

            // The header's type, code and checksum carry nothing here: only the RA's own were checked.
            header = ReadHeader(o.Slice(pos, HeaderLength));
            pos += HeaderLength;
        }

        var options = new OptionsBuilder();
        while (pos < o.Length)
        {
            if (!Frame(o, pos, o.Length, out var length, out _, out var detail))
            {
                return RaReadResult.Rejected(RaRejection.MalformedPvdOption, $"PvD Option at octet {at} ({pvdId}): {detail}");
            }

            var inner = o.Slice(pos, length);
            if (inner[0] == PvdType)
            {
                ignored.Add(new RaOptionReport(at + pos, PvdType, RaOptionProblem.NestedPvdOption, $"a PvD Option inside the PvD Option of {pvdId}"));
            }
            else
            {
                ReadOption(inner, at + pos, options, ignored);
            }

            pos += length;
        }

        pvd = new PvdOption(pvdId, h, l, sequence, delay, header, options.Build());
        return null;
    }

    /// <summary>
    /// Reads an uncompressed RFC 1035 §3.1 name at <paramref name="pos"/> (moved past its root label). Returns why it is
    /// not a valid host name (RFC 1123 letters, digits, hyphens; underscores as <see cref="DomainNames.IsValid"/> allows),
    /// or null.
    /// </summary>
    internal static string? ReadName(ReadOnlySpan<byte> span, ref int pos, out string name)
    {
        name = "";
        var text = new StringBuilder();
        var octets = 0;
        while (true)
        {
            if (pos >= span.Length)
            {
                return "the name runs past the end of the option (no root label)";
            }

            var label = span[pos];
            if (label == 0)
            {
                pos++;
                octets++;
                break;
            }

            if ((label & 0xC0) != 0)
            {
                return (label & 0xC0) == 0xC0 ? "a compression pointer (compression MUST NOT be used)" : $"label length octet 0x{label:x2} is not a length";
            }

            if (label > MaxLabelOctets)
            {
                return $"a label of {label} octets, above 63";
            }

            octets += 1 + label;
            if (octets > MaxNameOctets)
            {
                return "longer than 255 octets";
            }

            if (pos + 1 + label > span.Length)
            {
                return "a label runs past the end of the option";
            }

            foreach (var c in span.Slice(pos + 1, label))
            {
                if (!(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'-' or (byte)'_'))
                {
                    return $"octet 0x{c:x2} in a label (letters, digits, hyphens only)";
                }
            }

            if (text.Length > 0)
            {
                text.Append('.');
            }

            text.Append(Encoding.ASCII.GetString(span.Slice(pos + 1, label)));
            pos += 1 + label;
        }

        if (text.Length == 0)
        {
            return "the root name";
        }

        name = text.ToString().ToLowerInvariant();
        return DomainNames.IsValid(name) ? null : $"\"{name}\" is not a valid domain name";
    }

    /// <summary>The prefix with its bits after <paramref name="length"/> cleared (RFC 4861 §4.6.2, RFC 4191 §2.3: "ignored by the receiver").</summary>
    private static IPNetwork Masked(ReadOnlySpan<byte> sixteen, int length)
    {
        Span<byte> bytes = stackalloc byte[16];
        sixteen.CopyTo(bytes);
        for (var bit = length; bit < 128; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), length);
    }

    private sealed class OptionsBuilder
    {
        public List<PrefixInformationOption> Prefixes { get; } = [];

        public List<RouteInformationOption> Routes { get; } = [];

        public List<RdnssOption> DnsServers { get; } = [];

        public List<DnsslOption> SearchLists { get; } = [];

        public uint? Mtu { get; set; }

        public RaOptions Build() => Prefixes.Count + Routes.Count + DnsServers.Count + SearchLists.Count == 0 && Mtu is null
            ? RaOptions.Empty
            : new RaOptions { Prefixes = Prefixes, Routes = Routes, DnsServers = DnsServers, SearchLists = SearchLists, Mtu = Mtu };
    }
}
