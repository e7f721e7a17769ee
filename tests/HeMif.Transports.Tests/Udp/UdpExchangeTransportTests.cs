using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Transports.Tests.Resolve;
using HeMif.Transports.Udp;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Udp;

/// <summary>
/// One try of a UDP exchange (draft §7.1: "For connectionless transport protocols (e.g., UDP), a similar mechanism can
/// be used if the application has request/response semantics"), on loopback against responders of our own, on a fake
/// clock: the matcher, the source check, the resend backoff, ICMP port unreachable as a hard error, cancellation, and
/// no socket left open.
/// </summary>
[Collection(FileDescriptorCounting.Name)]
public sealed class UdpExchangeTransportTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private readonly FakeTimeProvider _clock = new();

    /// <summary>Requests are "Q" + an id byte; the response to id N is "A" + N.</summary>
    private static DatagramExchange Exchange(byte id) =>
        new(new byte[] { (byte)'Q', id }, r => r.Length == 2 && r[0] == (byte)'A' && r[1] == id);

    private static Socket Responder()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static AttemptContext Context(Socket responder, DatagramExchange? exchange) =>
        new(Loopback, (IPEndPoint)responder.LocalEndPoint!, "127.0.0.1", []) { Exchange = exchange };

    private static async Task<(byte[] Datagram, EndPoint From)> ReceiveAsync(Socket responder)
    {
        var buffer = new byte[2048];
        using var guard = new CancellationTokenSource(Guard);
        var got = await responder.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), guard.Token);
        return (buffer[..got.ReceivedBytes], got.RemoteEndPoint);
    }

    [Fact]
    public async Task The_matching_response_is_handed_back_with_where_it_came_from()
    {
        using var responder = Responder();
        var trying = new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, Exchange(7)), CancellationToken.None);

        var (request, from) = await ReceiveAsync(responder);
        Assert.Equal(new byte[] { (byte)'Q', 7 }, request);
        await responder.SendToAsync(new byte[] { (byte)'A', 7 }, from);

        var answer = Assert.IsType<DatagramAnswer>(await trying.WaitAsync(Guard));
        Assert.Equal(new byte[] { (byte)'A', 7 }, answer.Response);
        Assert.Equal(responder.LocalEndPoint, answer.RemoteEndPoint);
        Assert.Equal(from, answer.LocalEndPoint);
        Assert.Equal(1, answer.Sends);
        Assert.Equal(0, answer.Ignored);
        Assert.Equal(2, answer.Stream.Length);
    }

    /// <summary>
    /// UDP has no connection: "responses that do not match are ignored" (issue 16). Answers to other ids, garbage and an
    /// empty datagram are counted and the try listens on; the right answer behind them wins.
    /// </summary>
    [Fact]
    public async Task Datagrams_the_matcher_does_not_take_are_ignored_and_counted()
    {
        using var responder = Responder();
        var trying = new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, Exchange(7)), CancellationToken.None);

        var (_, from) = await ReceiveAsync(responder);
        await responder.SendToAsync(new byte[] { (byte)'A', 6 }, from);
        await responder.SendToAsync("garbage"u8.ToArray(), from);
        await responder.SendToAsync(Array.Empty<byte>(), from);
        await responder.SendToAsync(new byte[] { (byte)'A', 7 }, from);

        var answer = Assert.IsType<DatagramAnswer>(await trying.WaitAsync(Guard));
        Assert.Equal(new byte[] { (byte)'A', 7 }, answer.Response);
        Assert.Equal(3, answer.Ignored);
        Assert.Contains("a 7-byte datagram the matcher did not take", answer.IgnoredReasons, StringComparison.Ordinal);
    }

    /// <summary>
    /// "A response from a source address other than the one sent to is ignored" (issue 16): the try's socket is
    /// connected to the remote, so the kernel never hands it a datagram from another address or port, even one the
    /// matcher would take; the remote's own answer decides.
    /// </summary>
    [Fact]
    public async Task A_matching_response_from_another_source_is_never_taken()
    {
        using var responder = Responder();
        using var stranger = Responder();
        var trying = new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, Exchange(7)), CancellationToken.None);

        var (_, from) = await ReceiveAsync(responder);
        await stranger.SendToAsync(new byte[] { (byte)'A', 7 }, from);
        await responder.SendToAsync(new byte[] { (byte)'A', 7 }, from);

        var answer = Assert.IsType<DatagramAnswer>(await trying.WaitAsync(Guard));
        Assert.Equal(responder.LocalEndPoint, answer.RemoteEndPoint);
        Assert.Equal(0, answer.Ignored); // the stranger's datagram never reached the try
    }

    /// <summary>
    /// The documented backoff (<see cref="DatagramExchange.RetransmissionWait"/>): sends at 0, 1 and 3 s (1 s, then
    /// twice as long); nothing is resent before its time. The third send is answered.
    /// </summary>
    [Fact]
    public async Task The_request_is_resent_after_1_s_then_after_2_s_more()
    {
        using var responder = Responder();
        var trying = new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, Exchange(7)), CancellationToken.None);
        await ReceiveAsync(responder);

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, responder.Available);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await ReceiveAsync(responder);
        _clock.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(50);
        Assert.Equal(0, responder.Available);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var (_, from) = await ReceiveAsync(responder);
        await responder.SendToAsync(new byte[] { (byte)'A', 7 }, from);

        var answer = Assert.IsType<DatagramAnswer>(await trying.WaitAsync(Guard));
        Assert.Equal(3, answer.Sends);
    }

    /// <summary>
    /// Silence: four sends (0, 1, 3, 7 s), then 8 s more, and the try fails softly (the path may only be slow: the
    /// race's fallback delay runs on), saying how many sends went unanswered.
    /// </summary>
    [Fact]
    public async Task Silence_after_four_sends_and_8_s_more_is_a_soft_failure()
    {
        using var responder = Responder();
        var trying = new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, Exchange(7)), CancellationToken.None);
        foreach (var wait in new[] { 0, 1000, 2000, 4000 })
        {
            _clock.Advance(TimeSpan.FromMilliseconds(wait));
            await ReceiveAsync(responder);
        }

        _clock.Advance(TimeSpan.FromMilliseconds(7999));
        await Task.Delay(50);
        Assert.False(trying.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        var error = await Assert.ThrowsAsync<AttemptFailedException>(() => trying.WaitAsync(Guard));
        Assert.Equal(AttemptFailureKind.Soft, error.Kind);
        Assert.Contains("no answer from 127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("4 sends", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Nothing listens on the port: the host answers with ICMP port unreachable, which the connected socket reports; a
    /// hard error (draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback
    /// process"), at once, the clock never moved.
    /// </summary>
    [Fact]
    public async Task ICMP_port_unreachable_is_a_hard_error_at_once()
    {
        IPEndPoint closed;
        using (var gone = Responder())
        {
            closed = (IPEndPoint)gone.LocalEndPoint!;
        }

        var context = new AttemptContext(Loopback, closed, "127.0.0.1", []) { Exchange = Exchange(7) };
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() => new UdpExchangeTransport(_clock).ConnectAsync(context, CancellationToken.None).WaitAsync(Guard));

        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
        Assert.Contains($"ICMP port unreachable ({closed} on lo)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_attempt_without_a_request_fails_hard_saying_the_transport_is_for_exchanges()
    {
        using var responder = Responder();
        var error = await Assert.ThrowsAsync<AttemptFailedException>(() => new UdpExchangeTransport(_clock).ConnectAsync(Context(responder, null), CancellationToken.None));

        Assert.Equal(AttemptFailureKind.Hard, error.Kind);
        Assert.Contains("the udp transport carries request/response exchanges only", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Cancellation (the race's, for a loser, or the caller's) ends a try with <see cref="OperationCanceledException"/>;
    /// over a hundred tries cancelled, answered, refused and silent, no socket stays open.
    /// </summary>
    [Fact]
    public async Task Cancelled_answered_refused_and_timed_out_tries_leave_no_socket_open()
    {
        Assert.True(Directory.Exists("/proc/self/fd"), "this test needs Linux /proc/self/fd to count descriptors");
        using var responder = Responder();
        IPEndPoint closed;
        using (var gone = Responder())
        {
            closed = (IPEndPoint)gone.LocalEndPoint!;
        }

        var transport = new UdpExchangeTransport(_clock);
        var before = Directory.GetFiles("/proc/self/fd").Length;
        for (var i = 0; i < 30; i++)
        {
            using var cancel = new CancellationTokenSource();
            var cancelled = transport.ConnectAsync(Context(responder, Exchange(1)), cancel.Token);
            await ReceiveAsync(responder);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Guard));

            var answered = transport.ConnectAsync(Context(responder, Exchange(2)), CancellationToken.None);
            var (_, from) = await ReceiveAsync(responder);
            await responder.SendToAsync(new byte[] { (byte)'A', 2 }, from);
            await (await answered.WaitAsync(Guard)).DisposeAsync();

            var refused = transport.ConnectAsync(new AttemptContext(Loopback, closed, "127.0.0.1", []) { Exchange = Exchange(3) }, CancellationToken.None);
            await Assert.ThrowsAsync<AttemptFailedException>(() => refused.WaitAsync(Guard));
        }

        var silent = transport.ConnectAsync(Context(responder, Exchange(4)), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(15));
        await Assert.ThrowsAsync<AttemptFailedException>(() => silent.WaitAsync(Guard));

        for (var i = 0; i < 100 && Directory.GetFiles("/proc/self/fd").Length > before + 8; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(Directory.GetFiles("/proc/self/fd").Length <= before + 8, $"descriptors: {before} before, {Directory.GetFiles("/proc/self/fd").Length} after");
    }
}
