using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Transports.Mptcp;
using HeMif.Transports.Tcp;
using HeMif.TestKit;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// The MPTCP transport on loopback: MPTCP when both ends do it, a TCP fallback said when the peer or the kernel does not
/// (RFC 8684 §3.7), and the subflows read back from the kernel.
/// </summary>
public sealed class MptcpTransportTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
    };

    [MptcpFact]
    public async Task A_peer_without_MPTCP_gives_a_TCP_connection_that_says_so()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var transport = new MptcpTransport(new TcpTransport());

        await using var path = (MptcpConnectedPath)await transport.ConnectAsync(Loopback, (IPEndPoint)listener.LocalEndpoint, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();

        Assert.Equal(MptcpStatus.TcpFallback, path.Status);
        Assert.Equal("TCP (peer does not support MPTCP)", path.Description);
        Assert.Null(path.ReadCounters());
        Assert.Empty(path.ReadSubflows());
        await AssertCarriesBytesAsync(path, accepted);
    }

    [MptcpFact]
    public async Task Both_ends_MPTCP_give_an_MPTCP_connection_with_one_subflow_from_the_bound_address()
    {
        using var listener = MptcpSupport.Listen(IPAddress.Loopback);
        var remote = (IPEndPoint)listener.LocalEndPoint!;
        var transport = new MptcpTransport(new TcpTransport());

        await using var path = (MptcpConnectedPath)await transport.ConnectAsync(Loopback, remote, CancellationToken.None);
        using var accepted = await listener.AcceptAsync();
        await AssertCarriesBytesAsync(path, accepted);

        Assert.Equal(MptcpStatus.Mptcp, path.Status);
        Assert.Equal("MPTCP", path.Description);
        var counters = path.ReadCounters();
        Assert.NotNull(counters);
        Assert.Equal(1, counters.Subflows);
        Assert.False(counters.FellBack);
        var subflow = Assert.Single(path.ReadSubflows());
        Assert.Equal(path.LocalEndPoint, subflow.Local);
        Assert.Equal(remote, subflow.Remote);
    }

    [MptcpFact]
    public async Task An_IPv6_MPTCP_connection_reads_its_subflow_too()
    {
        using var listener = MptcpSupport.Listen(IPAddress.IPv6Loopback);
        var remote = (IPEndPoint)listener.LocalEndPoint!;

        await using var path = (MptcpConnectedPath)await new MptcpTransport(new TcpTransport()).ConnectAsync(Loopback, remote, CancellationToken.None);
        using var accepted = await listener.AcceptAsync();

        Assert.Equal(MptcpStatus.Mptcp, path.Status);
        Assert.Equal(remote, Assert.Single(path.ReadSubflows()).Remote);
    }

    [Fact]
    public async Task A_kernel_that_refuses_MPTCP_gives_a_plain_TCP_connection_naming_the_refusal()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var refusal = MptcpNative.Describe(92);
        var transport = new MptcpTransport(new TcpTransport(), (AddressFamily _, out string? why) =>
        {
            why = refusal;
            return null;
        });

        await using var path = (MptcpConnectedPath)await transport.ConnectAsync(Loopback, (IPEndPoint)listener.LocalEndpoint, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();

        Assert.Equal(MptcpStatus.KernelRefused, path.Status);
        Assert.StartsWith("TCP (kernel refused MPTCP: ENOPROTOOPT", path.Description, StringComparison.Ordinal);
        Assert.Contains("net.mptcp.enabled is 0", path.Description, StringComparison.Ordinal);
        Assert.Equal(ProtocolType.Tcp, path.Socket!.ProtocolType);
        await AssertCarriesBytesAsync(path, accepted);
    }

    [Theory]
    [InlineData(93, "EPROTONOSUPPORT", "no MPTCP")]
    [InlineData(92, "ENOPROTOOPT", "net.mptcp.enabled is 0")]
    [InlineData(22, "EINVAL", "")]
    public void A_refusal_names_the_errno_and_what_it_means(int errno, string name, string meaning)
    {
        var text = MptcpNative.Describe(errno);
        Assert.StartsWith(name + ": ", text, StringComparison.Ordinal);
        Assert.Contains(meaning, text, StringComparison.Ordinal);
    }

    [MptcpFact]
    public async Task A_refused_MPTCP_attempt_is_a_hard_error_like_TCPs()
    {
        using var refusing = new TestKit.RefusingPort();
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() =>
            new MptcpTransport(new TcpTransport()).ConnectAsync(Loopback, refusing.EndPoint, CancellationToken.None));
        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
    }

    private static async Task AssertCarriesBytesAsync(MptcpConnectedPath path, Socket accepted)
    {
        await path.Stream!.WriteAsync("hello"u8.ToArray());
        var buffer = new byte[5];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < buffer.Length)
        {
            read += await accepted.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
        }

        Assert.Equal("hello"u8.ToArray(), buffer);
    }
}
