using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace HeMif.Lab;

/// <summary>
/// The lab's router advertisement sender (radvd does not send the RFC 8801 PvD option): builds an RA from the command
/// line, written here from the RFCs' figures independently of HeMif's reader (RFC 4861 §4.2 header and Prefix
/// Information, RFC 4191 §2.3 Route Information, RFC 8106 §5 RDNSS and DNSSL, RFC 8801 §3.1 PvD option), and sends it
/// from the device's link-local address to ff02::1 with hop limit 255. With <c>--pvd</c> every option goes inside the
/// PvD option. The kernel fills in the ICMPv6 checksum.
/// </summary>
internal static class RaSender
{
    private const int IpProtoIpv6 = 41, Ipv6MulticastIf = 17, Ipv6MulticastHops = 18, Ipv6UnicastHops = 16;

    public sealed record Spec
    {
        public ushort RouterLifetime { get; init; } = 1800;

        public int Preference { get; init; } // RFC 4191 bits: 0b01 high, 0b00 medium, 0b11 low

        public string? PvdId { get; init; }

        public ushort Sequence { get; init; }

        public bool Http { get; init; }

        public int Delay { get; init; }

        public List<(IPAddress Server, uint Lifetime)> Rdnss { get; } = [];

        public List<(string Domain, uint Lifetime)> Dnssl { get; } = [];

        public List<(IPAddress Prefix, int Length, int Preference, uint Lifetime)> Routes { get; } = [];

        public List<(IPAddress Prefix, int Length, uint Valid, uint Preferred)> Prefixes { get; } = [];
    }

    /// <summary>Sends <paramref name="count"/> RAs <paramref name="interval"/> apart on <paramref name="device"/>; prints one JSON line.</summary>
    public static async Task<int> RunAsync(string device, Spec spec, int count, TimeSpan interval)
    {
        var message = Build(spec);
        var index = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == device)?.GetIPProperties().GetIPv6Properties().Index
                    ?? throw new UsageException($"no interface '{device}' in this namespace");
        using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
        socket.SetRawSocketOption(1, 25, [.. Encoding.UTF8.GetBytes(device), 0]); // SO_BINDTODEVICE
        // Linux's own option numbers (.NET's SocketOptionName maps its own names, not these).
        socket.SetRawSocketOption(IpProtoIpv6, Ipv6MulticastHops, BitConverter.GetBytes(255));
        socket.SetRawSocketOption(IpProtoIpv6, Ipv6UnicastHops, BitConverter.GetBytes(255));
        socket.SetRawSocketOption(IpProtoIpv6, Ipv6MulticastIf, BitConverter.GetBytes(index));
        // RFC 4861 §6.1.2: the source must be link-local. A link-local address is tentative for a moment after the link
        // comes up (duplicate address detection) and cannot be bound then: try for a few seconds.
        var source = await BindLinkLocalAsync(socket, device, index);
        var destination = new IPEndPoint(IPAddress.Parse("ff02::1"), 0) { Address = { ScopeId = index } };
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(interval);
            }

            await socket.SendToAsync(message, SocketFlags.None, destination);
        }

        Console.WriteLine($"{{\"device\":\"{device}\",\"source\":\"{source}\",\"sent\":{count},\"octets\":{message.Length}}}");
        return 0;
    }

    private static async Task<IPAddress> BindLinkLocalAsync(Socket socket, string device, int index)
    {
        for (var attempt = 0; ; attempt++)
        {
            var linkLocal = NetworkInterface.GetAllNetworkInterfaces().First(n => n.Name == device).GetIPProperties().UnicastAddresses
                .Select(u => u.Address).FirstOrDefault(a => a.IsIPv6LinkLocal);
            try
            {
                if (linkLocal is null)
                {
                    throw new SocketException((int)SocketError.AddressNotAvailable);
                }

                socket.Bind(new IPEndPoint(new IPAddress(linkLocal.GetAddressBytes(), index), 0));
                return linkLocal;
            }
            catch (SocketException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
            catch (SocketException e)
            {
                throw new IOException($"{device} has no usable link-local address to send Router Advertisements from: {e.Message}", e);
            }
        }
    }

    /// <summary>The ICMPv6 message: the RA header (checksum left 0 for the kernel), then the options.</summary>
    public static byte[] Build(Spec spec)
    {
        var header = new byte[16];
        header[0] = 134;
        header[4] = 64; // Cur Hop Limit
        header[5] = (byte)((spec.Preference & 0b11) << 3);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), spec.RouterLifetime);
        var options = new List<byte>();
        foreach (var (prefix, length, valid, preferred) in spec.Prefixes)
        {
            var o = new byte[32];
            o[0] = 3;
            o[1] = 4;
            o[2] = (byte)length;
            o[3] = 0xC0; // L and A
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), valid);
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(8), preferred);
            prefix.GetAddressBytes().CopyTo(o, 16);
            options.AddRange(o);
        }

        foreach (var (prefix, length, preference, lifetime) in spec.Routes)
        {
            var units = length == 0 ? 1 : length <= 64 ? 2 : 3;
            var o = new byte[units * 8];
            o[0] = 24;
            o[1] = (byte)units;
            o[2] = (byte)length;
            o[3] = (byte)((preference & 0b11) << 3);
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), lifetime);
            Array.Copy(prefix.GetAddressBytes(), 0, o, 8, o.Length - 8);
            options.AddRange(o);
        }

        foreach (var group in spec.Rdnss.GroupBy(r => r.Lifetime))
        {
            var servers = group.ToList();
            var o = new byte[8 + (16 * servers.Count)];
            o[0] = 25;
            o[1] = (byte)(1 + (2 * servers.Count));
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), group.Key);
            for (var i = 0; i < servers.Count; i++)
            {
                servers[i].Server.GetAddressBytes().CopyTo(o, 8 + (16 * i));
            }

            options.AddRange(o);
        }

        foreach (var group in spec.Dnssl.GroupBy(d => d.Lifetime))
        {
            var names = group.SelectMany(d => Name(d.Domain)).ToList();
            var o = new byte[Pad(8 + names.Count)];
            o[0] = 31;
            o[1] = (byte)(o.Length / 8);
            BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), group.Key);
            names.CopyTo(o, 8);
            options.AddRange(o);
        }

        if (spec.PvdId is null)
        {
            return [.. header, .. options];
        }

        // RFC 8801 §3.1: Type 21, Length, H|L|R|Reserved|Delay, Sequence Number, PvD ID FQDN, padding, options.
        var pvd = new List<byte> { 21, 0 };
        var flags = (ushort)((spec.Http ? 0x8000 : 0) | (spec.Delay & 0xF));
        pvd.AddRange([(byte)(flags >> 8), (byte)flags, (byte)(spec.Sequence >> 8), (byte)spec.Sequence]);
        pvd.AddRange(Name(spec.PvdId));
        while (pvd.Count % 8 != 0)
        {
            pvd.Add(0);
        }

        pvd.AddRange(options);
        pvd[1] = (byte)(pvd.Count / 8);
        return [.. header, .. pvd];
    }

    private static int Pad(int n) => (n + 7) / 8 * 8;

    private static byte[] Name(string name)
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

    /// <summary>RFC 4191 §2.1's preference bits for a word.</summary>
    public static int Preference(string word) => word switch
    {
        "high" => 0b01,
        "medium" => 0b00,
        "low" => 0b11,
        _ => throw new UsageException($"'{word}' is not a preference (high, medium, low)"),
    };

    /// <summary>"2001:db8::/48" into its address and length.</summary>
    public static (IPAddress Prefix, int Length) Prefix(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > 128)
        {
            throw new UsageException($"'{text}' is not an IPv6 prefix such as 2001:db8::/48");
        }

        return (address, length);
    }
}
