using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Race;
using HeMif.TestKit;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Tests.Tcp;

/// <summary>
/// The TCP transport on loopback: pinned to the interface, hard and soft errors told apart, nothing leaked. In the
/// descriptor-counting collection: the leak check counts the whole process's descriptors, which another test class
/// opening sockets in parallel (the hostile HTTP servers, for one) would change under it.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
public sealed class TcpTransportTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
    };

    [Fact]
    public async Task A_connection_is_made_from_the_interfaces_own_address_and_handed_over_with_its_stream()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var remote = (IPEndPoint)listener.LocalEndpoint;
        var transport = new TcpTransport();

        await using var path = await transport.ConnectAsync(Loopback, remote, CancellationToken.None);
        using var accepted = await listener.AcceptSocketAsync();

        Assert.Equal(remote, path.RemoteEndPoint);
        Assert.Equal(IPAddress.Loopback, path.LocalEndPoint!.Address);
        await path.Stream!.WriteAsync("hi"u8.ToArray());
        var buffer = new byte[2];
        Assert.Equal(2, await accepted.ReceiveAsync(buffer));
        Assert.Equal("hi"u8.ToArray(), buffer);
    }

    /// <summary>A RST is a hard error (draft §7.2 lets it trigger the fallback at once).</summary>
    [Fact]
    public async Task A_refused_connection_is_a_hard_error_naming_the_endpoint_and_the_interface()
    {
        using var refusing = new RefusingPort();
        var closedPort = refusing.EndPoint;
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() => new TcpTransport().ConnectAsync(Loopback, closedPort, CancellationToken.None));
        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
        Assert.Contains(closedPort.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("on lo", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_interface_without_an_address_of_the_destinations_family_fails_hard_without_a_socket()
    {
        var v4Only = Loopback with { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] };
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() => new TcpTransport().ConnectAsync(v4Only, new IPEndPoint(IPAddress.IPv6Loopback, 9), CancellationToken.None));
        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
        Assert.Contains("no IPv6 address", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A listener whose accept queue is full drops further SYNs (Linux): the attempt hangs like a blackhole, and the
    /// caller's cancellation ends it with OperationCanceledException, not a failure.
    /// </summary>
    [Fact]
    public async Task Cancellation_ends_a_hanging_attempt_and_is_told_apart_from_a_failure()
    {
        using var full = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        full.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        full.Listen(0);
        var remote = (IPEndPoint)full.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            // Fill the accept queue until an attempt hangs, then cancel it. Whether an attempt hangs is judged by a
            // wall-clock wait, so an attempt that was only slow (a loaded machine) may still complete after the cancel:
            // it then becomes one more filler and the next attempt is tried — the assertion never depends on timing.
            var transport = new TcpTransport();
            var cancelledWhileHanging = false;
            for (var i = 0; i < 16 && !cancelledWhileHanging; i++)
            {
                using var cts = new CancellationTokenSource();
                var attempt = transport.ConnectAsync(Loopback, remote, cts.Token);
                if (await Task.WhenAny(attempt, Task.Delay(500)) != attempt)
                {
                    await cts.CancelAsync();
                }

                try
                {
                    fillers.Add((await attempt).Socket!);
                }
                catch (OperationCanceledException)
                {
                    cancelledWhileHanging = true;
                }
            }

            Assert.True(cancelledWhileHanging, "no attempt hung on the full accept queue, so cancellation could not be checked");
        }
        finally
        {
            fillers.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData(SocketError.ConnectionRefused, true)]
    [InlineData(SocketError.HostUnreachable, true)]
    [InlineData(SocketError.NetworkUnreachable, true)]
    [InlineData(SocketError.AccessDenied, true)]
    [InlineData(SocketError.TimedOut, false)]
    [InlineData(SocketError.TryAgain, false)]
    public void Socket_errors_are_classified_hard_or_soft(SocketError error, bool hard) =>
        Assert.Equal(hard ? AttemptFailureKind.Hard : AttemptFailureKind.Soft, TcpTransport.Classify(error));

    /// <summary>Issue 5: no leaked socket — count open file descriptors before and after 1,000 failing attempts.</summary>
    [Fact]
    public async Task A_thousand_failing_attempts_leave_no_file_descriptor_behind()
    {
        if (!Directory.Exists("/proc/self/fd"))
        {
            Assert.Fail("This check needs /proc/self/fd (Linux); it could not run here.");
        }

        var transport = new TcpTransport();
        using var refusing = new RefusingPort();
        var closedPort = refusing.EndPoint;
        for (var i = 0; i < 50; i++)
        {
            await Assert.ThrowsAsync<AttemptFailedException>(() => transport.ConnectAsync(Loopback, closedPort, CancellationToken.None));
        }

        var before = Directory.GetFiles("/proc/self/fd").Length;
        for (var i = 0; i < 1000; i++)
        {
            await Assert.ThrowsAsync<AttemptFailedException>(() => transport.ConnectAsync(Loopback, closedPort, CancellationToken.None));
        }

        var after = Directory.GetFiles("/proc/self/fd").Length;
        Assert.True(after - before < 20, $"{after - before} more file descriptors after 1,000 failing attempts");
    }

    [Fact]
    public void The_source_address_follows_RFC_6724_among_the_interfaces_own_addresses()
    {
        var facts = new InterfaceFacts("wlan0", InterfaceKind.Wifi)
        {
            Addresses =
            [
                new InterfaceAddress(IPAddress.Parse("fe80::1"), 64),
                new InterfaceAddress(IPAddress.Parse("2001:db8:1::5"), 64) { Deprecated = true },
                new InterfaceAddress(IPAddress.Parse("2001:db8:1::6"), 64),
                new InterfaceAddress(IPAddress.Parse("192.0.2.7"), 24),
            ],
        };
        Assert.Equal(IPAddress.Parse("2001:db8:1::6"), TcpTransport.SourceAddress(facts, IPAddress.Parse("2001:db8:ff::80"))); // rule 3: not the deprecated one
        Assert.Equal(IPAddress.Parse("192.0.2.7"), TcpTransport.SourceAddress(facts, IPAddress.Parse("198.51.100.1")));
    }

}
