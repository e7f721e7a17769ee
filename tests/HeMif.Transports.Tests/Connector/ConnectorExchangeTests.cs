using System.Net;
using System.Net.Sockets;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Report;

namespace HeMif.Transports.Tests.Connector;

/// <summary>
/// <see cref="IHeMifConnector.ExchangeAsync"/> (issue 16, draft §7.1) through the real engine and the real
/// <c>udp</c> transport on loopback: the answer with its interface, addresses and time; failures and cancellation with
/// every try listed; the per-request choice; bad input refused before any packet is sent.
/// </summary>
public sealed class ConnectorExchangeTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private static IHeMifConnector Connector() =>
        HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true });

    private static bool IsAnswer(ReadOnlySpan<byte> response) => response.StartsWith("A:"u8);

    /// <summary>A responder that answers each request "X" with "A:X" (after a datagram the matcher must ignore).</summary>
    private static async Task AnswerAsync(Socket responder, bool decoyFirst)
    {
        var buffer = new byte[2048];
        using var guard = new CancellationTokenSource(Guard);
        var got = await responder.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), guard.Token);
        if (decoyFirst)
        {
            await responder.SendToAsync("stale answer"u8.ToArray(), got.RemoteEndPoint);
        }

        byte[] answer = [.. "A:"u8, .. buffer.AsSpan(0, got.ReceivedBytes)];
        await responder.SendToAsync(answer, got.RemoteEndPoint);
    }

    private static Socket Responder()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    [Fact]
    public async Task The_first_matching_response_comes_back_with_interface_addresses_and_time()
    {
        using var responder = Responder();
        var remote = (IPEndPoint)responder.LocalEndPoint!;
        await using var connector = Connector();
        var answering = AnswerAsync(responder, decoyFirst: true);

        var exchange = await connector.ExchangeAsync("127.0.0.1", remote.Port, "ping"u8.ToArray(), IsAnswer).WaitAsync(Guard);
        await answering;

        Assert.Equal("A:ping", System.Text.Encoding.ASCII.GetString(exchange.Response.Span));
        Assert.Equal("lo", exchange.Interface);
        Assert.Equal(remote, exchange.RemoteEndPoint);
        Assert.Equal(IPAddress.Loopback, exchange.LocalEndPoint!.Address);
        Assert.Equal(1, exchange.Sends);
        Assert.Equal(1, exchange.IgnoredDatagrams);
        Assert.True(exchange.ReceivedAfter > TimeSpan.Zero);
        Assert.Equal(RaceOutcome.Connected, exchange.Report.Outcome);
        Assert.Equal("udp", exchange.Report.Winner!.Transport);
        Assert.All(exchange.Report.Attempts, a => Assert.Equal("udp", a.Transport));
    }

    /// <summary>Nothing listens: ICMP port unreachable fails the only try, and the exception lists it with its error.</summary>
    [Fact]
    public async Task Port_unreachable_everywhere_fails_with_every_try_listed()
    {
        int port;
        using (var gone = Responder())
        {
            port = ((IPEndPoint)gone.LocalEndPoint!).Port;
        }

        await using var connector = Connector();
        var error = await Assert.ThrowsAsync<HeMifExchangeException>(() => connector.ExchangeAsync("127.0.0.1", port, "ping"u8.ToArray(), IsAnswer).WaitAsync(Guard));

        Assert.StartsWith($"No answer from 127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("ICMP port unreachable", error.Message, StringComparison.Ordinal);
        var attempt = Assert.Single(error.Report.Attempts);
        Assert.Equal("failed", attempt.Result);
    }

    /// <summary>The deadline (<see cref="ExchangeOptions.Timeout"/>) ends a silent exchange with the try listed, as a failure, not a cancellation.</summary>
    [Fact]
    public async Task The_deadline_ends_a_silent_exchange_with_every_try_listed()
    {
        using var silent = Responder();
        await using var connector = Connector();
        var error = await Assert.ThrowsAsync<HeMifExchangeException>(() => connector.ExchangeAsync("127.0.0.1", ((IPEndPoint)silent.LocalEndPoint!).Port,
            "ping"u8.ToArray(), IsAnswer, new ExchangeOptions { Timeout = TimeSpan.FromMilliseconds(300) }).WaitAsync(Guard));

        Assert.Contains("no answer within the race timeout of 300 ms", error.Report.Failure, StringComparison.Ordinal);
        Assert.Equal("cancelled", Assert.Single(error.Report.Attempts).Result);
    }

    /// <summary>The caller cancels: an <see cref="OperationCanceledException"/> that still carries the report of the try made.</summary>
    [Fact]
    public async Task Cancellation_ends_it_as_cancelled_with_the_report()
    {
        using var silent = Responder();
        await using var connector = Connector();
        using var cancel = new CancellationTokenSource();
        var exchanging = connector.ExchangeAsync("127.0.0.1", ((IPEndPoint)silent.LocalEndPoint!).Port, "ping"u8.ToArray(), IsAnswer, cancellationToken: cancel.Token);
        var buffer = new byte[64];
        using (var guard = new CancellationTokenSource(Guard))
        {
            await silent.ReceiveAsync(buffer, SocketFlags.None, guard.Token); // the request went out
        }

        await cancel.CancelAsync();
        var error = await Assert.ThrowsAsync<HeMifExchangeCanceledException>(() => exchanging.WaitAsync(Guard));

        Assert.Equal(cancel.Token, error.CancellationToken);
        Assert.Single(error.Report.Attempts);
    }

    /// <summary>The per-request choice applies as for a connection: an interface the host lacks excludes every one, said so.</summary>
    [Fact]
    public async Task A_choice_that_excludes_every_interface_fails_naming_the_exclusion()
    {
        using var responder = Responder();
        await using var connector = Connector();
        var error = await Assert.ThrowsAsync<HeMifExchangeException>(() => connector.ExchangeAsync("127.0.0.1", ((IPEndPoint)responder.LocalEndPoint!).Port,
            "ping"u8.ToArray(), IsAnswer, new ExchangeOptions { Choice = new InterfaceChoice { ProhibitKinds = [InterfaceKind.Loopback] } }).WaitAsync(Guard));

        Assert.Empty(error.Report.Attempts);
        Assert.Contains(error.Report.Excluded, x => x.Interface == "lo");
        Assert.Equal(0, responder.Available);
    }

    [Fact]
    public async Task Bad_input_is_refused_before_any_packet_naming_what_was_wrong()
    {
        await using var connector = Connector();

        var empty = await Assert.ThrowsAsync<ArgumentException>(() => connector.ExchangeAsync("127.0.0.1", 53, ReadOnlyMemory<byte>.Empty, IsAnswer));
        Assert.Contains("The request datagram must be 1 to 65507 bytes; got 0", empty.Message, StringComparison.Ordinal);
        var port = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connector.ExchangeAsync("127.0.0.1", 0, "x"u8.ToArray(), IsAnswer));
        Assert.Contains("between 1 and 65535", port.Message, StringComparison.Ordinal);
        var timeout = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connector.ExchangeAsync("127.0.0.1", 53, "x"u8.ToArray(), IsAnswer,
            new ExchangeOptions { Timeout = TimeSpan.Zero }));
        Assert.Contains("ExchangeOptions.Timeout must be positive", timeout.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentNullException>(() => connector.ExchangeAsync("127.0.0.1", 53, "x"u8.ToArray(), null!));
        await Assert.ThrowsAsync<ArgumentException>(() => connector.ExchangeAsync("bad host!", 53, "x"u8.ToArray(), IsAnswer));
    }
}
