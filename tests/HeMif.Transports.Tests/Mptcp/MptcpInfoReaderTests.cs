using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// MPTCP_INFO, MPTCP_SUBFLOW_ADDRS and MPTCP_FULL_INFO parsed from bytes laid out as include/uapi/linux/mptcp.h lays
/// them out; a field beyond what the kernel wrote is unknown (null), never zero.
/// </summary>
public sealed class MptcpInfoReaderTests
{
    [Fact]
    public void A_Linux_6_10_mptcp_info_gives_every_counter_and_counts_the_initial_subflow()
    {
        var info = new byte[96];
        info[0] = 1;            // mptcpi_subflows: additional subflows
        info[1] = 2;            // mptcpi_add_addr_signal
        info[2] = 3;            // mptcpi_add_addr_accepted
        info[3] = 8;            // mptcpi_subflows_max
        Write<uint>(info, 8, 2);             // mptcpi_flags: REMOTE_KEY_RECEIVED
        Write<uint>(info, 12, 0xdeadbeef);   // mptcpi_token
        info[40] = 1;           // mptcpi_local_addr_used
        Write<ulong>(info, 48, 7);           // mptcpi_bytes_retrans
        Write<ulong>(info, 56, 10_000_000);  // mptcpi_bytes_sent
        Write<ulong>(info, 64, 77);          // mptcpi_bytes_received
        Write<ulong>(info, 72, 9_999_000);   // mptcpi_bytes_acked
        info[80] = 2;           // mptcpi_subflows_total

        var counters = MptcpInfoReader.ParseInfo(info);

        Assert.Equal(2, counters.Subflows);
        Assert.Equal(8, counters.AdditionalSubflowsMax);
        Assert.Equal(2, counters.AddAddrSignalled);
        Assert.Equal(3, counters.AddAddrAccepted);
        Assert.Equal(1, counters.LocalAddressesUsed);
        Assert.False(counters.FellBack);
        Assert.Equal(0xdeadbeef, counters.Token);
        Assert.Equal(7, counters.BytesRetransmitted);
        Assert.Equal(10_000_000, counters.BytesSent);
        Assert.Equal(77, counters.BytesReceived);
        Assert.Equal(9_999_000, counters.BytesAcked);
    }

    [Fact]
    public void A_Linux_5_14_mptcp_info_of_43_bytes_leaves_the_newer_counters_unknown_and_counts_subflows_from_the_additional_ones()
    {
        var info = new byte[43];
        info[0] = 2;
        Write<uint>(info, 8, 1); // MPTCP_INFO_FLAG_FALLBACK

        var counters = MptcpInfoReader.ParseInfo(info);

        Assert.Equal(3, counters.Subflows);
        Assert.True(counters.FellBack);
        Assert.Null(counters.BytesSent);
        Assert.Null(counters.BytesAcked);
    }

    [Fact]
    public void Fewer_bytes_than_Linux_5_12_wrote_is_refused_naming_the_length()
    {
        var error = Assert.Throws<ArgumentException>(() => MptcpInfoReader.ParseInfo(new byte[24]));
        Assert.Contains("wrote 24 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Subflow_addresses_are_read_at_the_kernels_stride_for_both_families()
    {
        const int stride = 256;
        var buffer = new byte[16 + (2 * stride)];
        Write<uint>(buffer, 0, 16);    // size_subflow_data
        Write<uint>(buffer, 4, 2);     // num_subflows
        Write<uint>(buffer, 8, 256);   // size_kernel
        Write<uint>(buffer, 12, stride);
        SockaddrIn(buffer.AsSpan(16), IPAddress.Parse("198.18.1.2"), 40000);
        SockaddrIn(buffer.AsSpan(16 + 128), IPAddress.Parse("198.19.0.10"), 5201);
        SockaddrIn6(buffer.AsSpan(16 + stride), IPAddress.Parse("2001:db8:2::2"), 40001);
        SockaddrIn6(buffer.AsSpan(16 + stride + 128), IPAddress.Parse("2001:db8:100::10"), 5201);

        var subflows = MptcpInfoReader.ParseSubflowAddrs(buffer);

        Assert.Equal(2, subflows.Count);
        Assert.Equal(IPEndPoint.Parse("198.18.1.2:40000"), subflows[0].Local);
        Assert.Equal(IPEndPoint.Parse("198.19.0.10:5201"), subflows[0].Remote);
        Assert.Equal(IPEndPoint.Parse("[2001:db8:2::2]:40001"), subflows[1].Local);
        Assert.Equal(IPEndPoint.Parse("[2001:db8:100::10]:5201"), subflows[1].Remote);
        Assert.Null(subflows[0].Id);
    }

    [Fact]
    public void Full_info_pairs_each_subflows_addresses_with_its_tcp_info()
    {
        var header = new byte[40 + 96];
        Write<uint>(header, 0, 248);  // size_tcpinfo_kernel
        Write<uint>(header, 8, 264);  // size_sfinfo_kernel
        Write<uint>(header, 16, 2);   // num_subflows
        Write<uint>(header, 20, 16);  // size_arrays_user
        var subflows = new byte[16 * MptcpInfoReader.SubflowInfoSize];
        var tcp = new byte[16 * MptcpInfoReader.TcpInfoSize];
        for (var i = 0; i < 2; i++)
        {
            var element = subflows.AsSpan(i * MptcpInfoReader.SubflowInfoSize);
            Write<uint>(element, 0, (uint)(i + 1));
            SockaddrIn6(element[8..], IPAddress.Parse(i == 0 ? "2001:db8:1::2" : "2001:db8:2::2"), 50000 + i);
            SockaddrIn6(element[(8 + 128)..], IPAddress.Parse("2001:db8:100::10"), 5201);
            var info = tcp.AsSpan(i * MptcpInfoReader.TcpInfoSize);
            Write<uint>(info, 68, (uint)(20_000 + (60_000 * i))); // tcpi_rtt, µs
            Write<ulong>(info, 120, (ulong)(1000 * (i + 1)));     // tcpi_bytes_acked
            Write<ulong>(info, 128, 42);                          // tcpi_bytes_received
        }

        var parsed = MptcpInfoReader.ParseFullInfo(header, subflows, MptcpInfoReader.SubflowInfoSize, tcp, MptcpInfoReader.TcpInfoSize);

        Assert.Equal(2, parsed.Count);
        Assert.Equal((1u, 20_000u, 1000L, 42L), (parsed[0].Id!.Value, parsed[0].RttMicroseconds!.Value, parsed[0].BytesAcked!.Value, parsed[0].BytesReceived!.Value));
        Assert.Equal(IPEndPoint.Parse("[2001:db8:2::2]:50001"), parsed[1].Local);
        Assert.Equal(80_000u, parsed[1].RttMicroseconds);
        Assert.Equal(2000, parsed[1].BytesAcked);
    }

    [Fact]
    public void Full_info_never_reads_more_subflows_than_the_arrays_hold()
    {
        var header = new byte[40];
        Write<uint>(header, 16, 9);  // num_subflows: the kernel's real count
        Write<uint>(header, 20, 1);  // size_arrays_user: what we asked for
        var subflows = new byte[MptcpInfoReader.SubflowInfoSize];
        SockaddrIn(subflows.AsSpan(8), IPAddress.Parse("192.0.2.1"), 1);
        SockaddrIn(subflows.AsSpan(8 + 128), IPAddress.Parse("192.0.2.2"), 2);

        var parsed = MptcpInfoReader.ParseFullInfo(header, subflows, MptcpInfoReader.SubflowInfoSize, [], MptcpInfoReader.TcpInfoSize);

        Assert.Null(Assert.Single(parsed).BytesAcked);
    }

    /// <summary>
    /// Found by fuzzing (tests/HeMif.Fuzz/regressions/mptcp-info): the header's sizes are unsigned 32-bit, and read as
    /// int a header of 2^31 - 1 bytes plus an element as large wrapped to a negative offset, which escaped as
    /// ArgumentOutOfRangeException. Sizes past what was written now simply hold no subflow.
    /// </summary>
    [Theory]
    [InlineData(0x7fffffffu, 0x7fffffffu)]
    [InlineData(16u, 0xffffffffu)]
    [InlineData(0xffffffffu, 256u)]
    [InlineData(0x80000000u, 0x80000000u)]
    public void Subflow_addresses_with_sizes_past_2_to_the_31_hold_no_subflow(uint headerSize, uint stride)
    {
        var buffer = new byte[16 + 256];
        Write(buffer, 0, headerSize);
        Write<uint>(buffer, 4, 0xffffffff); // num_subflows
        Write(buffer, 12, stride);
        SockaddrIn(buffer.AsSpan(16), IPAddress.Parse("198.18.1.2"), 40000);
        SockaddrIn(buffer.AsSpan(16 + 128), IPAddress.Parse("198.19.0.10"), 5201);

        Assert.Empty(MptcpInfoReader.ParseSubflowAddrs(buffer));
    }

    /// <summary>
    /// Found by fuzzing, as above: a kernel tcp_info size of 2^31 or more was a negative slice length; it is capped at
    /// the stride we asked for, like any size larger than ours.
    /// </summary>
    [Fact]
    public void Full_info_with_a_tcp_info_size_past_2_to_the_31_reads_at_our_stride()
    {
        var header = new byte[40];
        Write<uint>(header, 0, 0x80000000);  // size_tcpinfo_kernel
        Write<uint>(header, 16, 0xffffffff); // num_subflows
        Write<uint>(header, 20, 0xffffffff); // size_arrays_user
        var subflows = new byte[MptcpInfoReader.SubflowInfoSize];
        SockaddrIn(subflows.AsSpan(8), IPAddress.Parse("192.0.2.1"), 1);
        SockaddrIn(subflows.AsSpan(8 + 128), IPAddress.Parse("192.0.2.2"), 2);
        var tcp = new byte[MptcpInfoReader.TcpInfoSize];
        Write<ulong>(tcp, 120, 7); // tcpi_bytes_acked

        var parsed = MptcpInfoReader.ParseFullInfo(header, subflows, MptcpInfoReader.SubflowInfoSize, tcp, MptcpInfoReader.TcpInfoSize);

        Assert.Equal(7, Assert.Single(parsed).BytesAcked);
    }

    [Fact]
    public void An_unknown_address_family_is_no_endpoint()
    {
        var sa = new byte[128];
        Write<ushort>(sa, 0, 1); // AF_UNIX
        Assert.Null(MptcpInfoReader.ParseSockaddr(sa));
    }

    private static void SockaddrIn(Span<byte> sa, IPAddress address, int port)
    {
        Write<ushort>(sa, 0, 2);
        BinaryPrimitives.WriteUInt16BigEndian(sa[2..], (ushort)port);
        address.GetAddressBytes().CopyTo(sa[4..]);
    }

    private static void SockaddrIn6(Span<byte> sa, IPAddress address, int port)
    {
        Write<ushort>(sa, 0, 10);
        BinaryPrimitives.WriteUInt16BigEndian(sa[2..], (ushort)port);
        address.GetAddressBytes().CopyTo(sa[8..]);
    }

    private static void Write<T>(Span<byte> buffer, int offset, T value)
        where T : struct => MemoryMarshal.Write(buffer[offset..], in value);
}
