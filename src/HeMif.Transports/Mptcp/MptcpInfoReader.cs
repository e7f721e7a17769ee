using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HeMif.Multipath;

namespace HeMif.Transports.Mptcp;

/// <summary>A subflow as the kernel reports it, before its interface is looked up.</summary>
internal sealed record RawSubflow(IPEndPoint Local, IPEndPoint Remote)
{
    public uint? Id { get; init; }

    public uint? RttMicroseconds { get; init; }

    public long? BytesAcked { get; init; }

    public long? BytesReceived { get; init; }
}

/// <summary>
/// Reads and parses the MPTCP socket options of linux/mptcp.h. The structures only grow (fields are added at the
/// end; the kernel writes <c>min(optlen, its size)</c> bytes and says how many), so every offset below is the one in
/// the header, and a field beyond what the kernel wrote is reported as unknown, never as zero.
/// </summary>
internal static class MptcpInfoReader
{
    /// <summary><c>sizeof(struct mptcp_info)</c> in Linux 6.10+ (the last field, <c>mptcpi_last_ack_recv</c>, ends at 96).</summary>
    public const int InfoSize = 96;

    /// <summary><c>MPTCP_INFO_FLAG_FALLBACK</c>.</summary>
    public const uint FlagFallback = 1;

    /// <summary><c>sizeof(struct mptcp_subflow_data)</c>: four u32, aligned to 8.</summary>
    public const int SubflowDataSize = 16;

    /// <summary><c>sizeof(struct mptcp_subflow_addrs)</c>: two unions the size of <c>__kernel_sockaddr_storage</c>.</summary>
    public const int SubflowAddrsSize = 256;

    /// <summary><c>sizeof(struct mptcp_subflow_info)</c>: u32 id, 4 bytes of padding (the addresses are 8-aligned), the addresses.</summary>
    public const int SubflowInfoSize = 8 + SubflowAddrsSize;

    /// <summary><c>offsetof(struct mptcp_full_info, mptcp_info)</c>: six u32 and two aligned u64 pointers.</summary>
    public const int FullInfoHeaderSize = 40;

    /// <summary>The prefix of <c>struct tcp_info</c> read per subflow: up to <c>tcpi_bytes_received</c>.</summary>
    public const int TcpInfoSize = 136;

    /// <summary>How many subflows one read asks for (the in-kernel path manager allows at most 8 additional ones).</summary>
    public const int MaxSubflows = 16;

    // struct mptcp_info offsets (include/uapi/linux/mptcp.h).
    private const int OffSubflows = 0;
    private const int OffAddAddrSignal = 1;
    private const int OffAddAddrAccepted = 2;
    private const int OffSubflowsMax = 3;
    private const int OffFlags = 8;
    private const int OffToken = 12;
    private const int OffLocalAddrUsed = 40;
    private const int OffBytesRetrans = 48;
    private const int OffBytesSent = 56;
    private const int OffBytesReceived = 64;
    private const int OffBytesAcked = 72;
    private const int OffSubflowsTotal = 80;

    // struct tcp_info offsets (include/uapi/linux/tcp.h).
    private const int OffTcpRtt = 68;
    private const int OffTcpBytesAcked = 120;
    private const int OffTcpBytesReceived = 128;

    private const ushort AfInet = 2;
    private const ushort AfInet6 = 10;

    /// <summary>
    /// Parses the bytes the kernel wrote for <c>MPTCP_INFO</c>. <c>mptcpi_subflows</c> counts additional subflows only;
    /// <c>mptcpi_subflows_total</c> (6.8+) counts the initial one too, and is used when present.
    /// </summary>
    public static MptcpCounters ParseInfo(ReadOnlySpan<byte> written)
    {
        if (written.Length < OffLocalAddrUsed + 1)
        {
            throw new ArgumentException($"MPTCP_INFO wrote {written.Length} bytes; at least {OffLocalAddrUsed + 1} (Linux 5.12) are needed.", nameof(written));
        }

        var flags = MemoryMarshal.Read<uint>(written[OffFlags..]);
        var total = written.Length > OffSubflowsTotal && written[OffSubflowsTotal] != 0 ? written[OffSubflowsTotal] : written[OffSubflows] + 1;
        return new MptcpCounters(total, written[OffSubflowsMax], written[OffAddAddrSignal], written[OffAddAddrAccepted], written[OffLocalAddrUsed],
            (flags & FlagFallback) != 0, MemoryMarshal.Read<uint>(written[OffToken..]))
        {
            BytesRetransmitted = U64(written, OffBytesRetrans),
            BytesSent = U64(written, OffBytesSent),
            BytesReceived = U64(written, OffBytesReceived),
            BytesAcked = U64(written, OffBytesAcked),
        };
    }

    /// <summary>
    /// Parses an <c>MPTCP_SUBFLOW_ADDRS</c> answer: <c>struct mptcp_subflow_data</c> (its <c>num_subflows</c> and
    /// <c>size_kernel</c> filled in by the kernel; <c>size_user</c> is the stride), then the array.
    /// </summary>
    public static IReadOnlyList<RawSubflow> ParseSubflowAddrs(ReadOnlySpan<byte> written)
    {
        if (written.Length < SubflowDataSize)
        {
            throw new ArgumentException($"MPTCP_SUBFLOW_ADDRS wrote {written.Length} bytes, less than its {SubflowDataSize}-byte header.", nameof(written));
        }

        // The kernel's fields are unsigned 32-bit: read and added as long, so that no size wraps into a negative offset
        // (found by fuzzing: a header of 2^31 - 1 bytes with a stride as large sliced at a negative offset).
        long headerSize = MemoryMarshal.Read<uint>(written);
        long count = MemoryMarshal.Read<uint>(written[4..]);
        long stride = MemoryMarshal.Read<uint>(written[12..]);
        if (headerSize < SubflowDataSize || stride < SubflowAddrsSize)
        {
            throw new ArgumentException($"MPTCP_SUBFLOW_ADDRS header says header {headerSize} bytes, element {stride} bytes: not a struct mptcp_subflow_data.", nameof(written));
        }

        var list = new List<RawSubflow>();
        for (long i = 0; i < count && headerSize + ((i + 1) * stride) <= written.Length; i++)
        {
            if (ParseAddrs(written.Slice((int)(headerSize + (i * stride)), SubflowAddrsSize)) is { } subflow)
            {
                list.Add(subflow);
            }
        }

        return list;
    }

    /// <summary>
    /// Parses an <c>MPTCP_FULL_INFO</c> answer: the header (the kernel's subflow count and element sizes), the
    /// <c>struct mptcp_subflow_info</c> array and the <c>struct tcp_info</c> array it filled, element by element in
    /// the same order, at the strides the caller gave.
    /// </summary>
    public static IReadOnlyList<RawSubflow> ParseFullInfo(ReadOnlySpan<byte> header, ReadOnlySpan<byte> subflowInfos, int subflowStride, ReadOnlySpan<byte> tcpInfos, int tcpStride)
    {
        if (header.Length < FullInfoHeaderSize)
        {
            throw new ArgumentException($"MPTCP_FULL_INFO wrote {header.Length} bytes, less than its {FullInfoHeaderSize}-byte header.", nameof(header));
        }

        // Unsigned 32-bit fields, compared unsigned (a size of 2^31 or more read as int was a negative slice length).
        var tcpKernel = MemoryMarshal.Read<uint>(header);
        var count = Math.Min(MemoryMarshal.Read<uint>(header[16..]), MemoryMarshal.Read<uint>(header[20..]));
        var tcpWritten = (int)Math.Min(tcpKernel, (uint)tcpStride);
        var list = new List<RawSubflow>();
        for (var i = 0; i < count && (i + 1) * subflowStride <= subflowInfos.Length; i++)
        {
            var element = subflowInfos.Slice(i * subflowStride, SubflowInfoSize);
            if (ParseAddrs(element.Slice(8, SubflowAddrsSize)) is not { } subflow)
            {
                continue;
            }

            subflow = subflow with { Id = MemoryMarshal.Read<uint>(element) };
            if ((i + 1) * tcpStride <= tcpInfos.Length)
            {
                var tcp = tcpInfos.Slice(i * tcpStride, tcpWritten);
                subflow = subflow with
                {
                    RttMicroseconds = tcp.Length >= OffTcpRtt + 4 ? MemoryMarshal.Read<uint>(tcp[OffTcpRtt..]) : null,
                    BytesAcked = U64(tcp, OffTcpBytesAcked),
                    BytesReceived = U64(tcp, OffTcpBytesReceived),
                };
            }

            list.Add(subflow);
        }

        return list;
    }

    /// <summary>A <c>struct sockaddr_in</c> or <c>sockaddr_in6</c> (family in host order, port in network order).</summary>
    public static IPEndPoint? ParseSockaddr(ReadOnlySpan<byte> sa)
    {
        if (sa.Length < 2)
        {
            return null;
        }

        var family = MemoryMarshal.Read<ushort>(sa);
        if (family == AfInet && sa.Length >= 8)
        {
            return new IPEndPoint(new IPAddress(sa.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(sa[2..]));
        }

        if (family == AfInet6 && sa.Length >= 28)
        {
            return new IPEndPoint(new IPAddress(sa.Slice(8, 16), MemoryMarshal.Read<uint>(sa[24..])), BinaryPrimitives.ReadUInt16BigEndian(sa[2..]));
        }

        return null;
    }

    /// <summary>The connection's counters, or null when it fell back to TCP (EOPNOTSUPP for IPv4, ENOPROTOOPT for IPv6) or is closed.</summary>
    public static MptcpCounters? ReadCounters(Socket socket)
    {
        var buffer = new byte[InfoSize];
        try
        {
            var written = socket.GetRawSocketOption(MptcpNative.SolMptcp, MptcpNative.MptcpInfo, buffer);
            return ParseInfo(buffer.AsSpan(0, written));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Whether <c>MPTCP_INFO</c> says this connected socket is MPTCP (and not fallen back).</summary>
    public static bool IsMptcp(Socket socket) => ReadCounters(socket) is { FellBack: false };

    /// <summary>
    /// The connection's subflows: <c>MPTCP_FULL_INFO</c> (one consistent read of addresses and TCP counters, Linux
    /// 6.5+), else <c>MPTCP_SUBFLOW_ADDRS</c> (5.16+); empty when neither answers (TCP fallback, closed socket).
    /// </summary>
    public static IReadOnlyList<RawSubflow> ReadSubflows(Socket socket)
    {
        try
        {
            return ReadFullInfo(socket) ?? ReadSubflowAddrs(socket);
        }
        catch (ObjectDisposedException)
        {
            return [];
        }
    }

    private static IReadOnlyList<RawSubflow>? ReadFullInfo(Socket socket)
    {
        // The kernel writes the arrays through the two pointers in the header: pinned arrays, never moved by the GC.
        var subflows = GC.AllocateArray<byte>(MaxSubflows * SubflowInfoSize, pinned: true);
        var tcpInfos = GC.AllocateArray<byte>(MaxSubflows * TcpInfoSize, pinned: true);
        var header = new byte[FullInfoHeaderSize + InfoSize];
        MemoryMarshal.Write(header.AsSpan(4), (uint)TcpInfoSize);
        MemoryMarshal.Write(header.AsSpan(12), (uint)SubflowInfoSize);
        MemoryMarshal.Write(header.AsSpan(20), (uint)MaxSubflows);
        MemoryMarshal.Write(header.AsSpan(24), (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(subflows, 0));
        MemoryMarshal.Write(header.AsSpan(32), (ulong)Marshal.UnsafeAddrOfPinnedArrayElement(tcpInfos, 0));
        try
        {
            var written = socket.GetRawSocketOption(MptcpNative.SolMptcp, MptcpNative.MptcpFullInfo, header);
            return ParseFullInfo(header.AsSpan(0, written), subflows, SubflowInfoSize, tcpInfos, TcpInfoSize);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return null;
        }
        finally
        {
            GC.KeepAlive(subflows);
            GC.KeepAlive(tcpInfos);
        }
    }

    private static IReadOnlyList<RawSubflow> ReadSubflowAddrs(Socket socket)
    {
        var buffer = new byte[SubflowDataSize + (MaxSubflows * SubflowAddrsSize)];
        MemoryMarshal.Write(buffer.AsSpan(0), (uint)SubflowDataSize);
        MemoryMarshal.Write(buffer.AsSpan(12), (uint)SubflowAddrsSize);
        try
        {
            var written = socket.GetRawSocketOption(MptcpNative.SolMptcp, MptcpNative.MptcpSubflowAddrs, buffer);
            return ParseSubflowAddrs(buffer.AsSpan(0, written));
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return [];
        }
    }

    private static RawSubflow? ParseAddrs(ReadOnlySpan<byte> addrs) =>
        ParseSockaddr(addrs[..128]) is { } local && ParseSockaddr(addrs.Slice(128, 128)) is { } remote ? new RawSubflow(local, remote) : null;

    private static long? U64(ReadOnlySpan<byte> written, int offset) =>
        written.Length >= offset + 8 ? (long)MemoryMarshal.Read<ulong>(written[offset..]) : null;
}
