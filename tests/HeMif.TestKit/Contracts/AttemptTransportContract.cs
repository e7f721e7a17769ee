using System.Net;
using HeMif.Interfaces;
using Xunit;

namespace HeMif.TestKit.Contracts;

/// <summary>
/// What the engine expects of every <see cref="AttemptTransport"/> (its doc and docs/architecture.md, "Ports"), as one
/// suite any implementation runs against itself, the way System.Threading.Channels tests every channel kind with one
/// suite: derive a class in a test project, give the transport and loopback endpoints, and every case here runs for it.
/// <list type="bullet">
/// <item>A successful attempt hands back an open path (bytes go both ways) that closes on dispose (the peer sees it
/// closed); disposing twice is harmless.</item>
/// <item>Cancellation before and during the attempt ends it with <see cref="OperationCanceledException"/>, and nothing is
/// left open (the process's descriptors, counted over many attempts).</item>
/// <item>A refused connection is a hard failure (draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a
/// trigger for the fallback process"); silence is never hard (it stays pending until cancelled, or fails soft).</item>
/// <item>A lost attempt (it connected, then the race picked another and disposed it) leaves nothing open.</item>
/// </list>
/// A transport that cannot run on this host (<see cref="AttemptTransport.UnsupportedReason"/> set: QUIC without
/// libmsquic) is held, in every case, to the contract of an unsupported transport instead, explicitly, never skipped:
/// an attempt fails with an <see cref="AttemptFailedException"/> that gives that reason, and a cancelled token is still
/// <see cref="OperationCanceledException"/>.
/// The descriptor counts are the whole process's: a derived class belongs in a test collection with
/// <c>DisableParallelization = true</c>.
/// </summary>
public abstract class AttemptTransportContract
{
    /// <summary>How many attempts a leak check makes (a leak of one socket each would stand out of the slack).</summary>
    protected const int Repetitions = 12;

    /// <summary>A guard against a hang; never what a case checks.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>The interface attempts leave from: loopback, IPv4 and IPv6.</summary>
    protected virtual InterfaceFacts From { get; } = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8), new InterfaceAddress(IPAddress.IPv6Loopback, 128)],
    };

    /// <summary>The ALPN protocol IDs attempts offer (default h3, as a request that names none).</summary>
    protected virtual IReadOnlyList<string> ApplicationProtocols => AttemptTransportExtensions.H3;

    /// <summary>A new transport under test.</summary>
    protected abstract AttemptTransport CreateTransport();

    /// <summary>A peer that accepts this transport's connections (a <see cref="TcpEchoPeer"/> for the TCP family).</summary>
    protected abstract ContractPeer StartPeer();

    /// <summary>An endpoint that refuses this transport's connections (TCP: <see cref="RefusingPort"/>), and what holds it.</summary>
    protected abstract (IPEndPoint EndPoint, IDisposable Owner) Refusing();

    /// <summary>An endpoint that never answers (TCP: <see cref="SilentTcpPort"/>), and what holds it.</summary>
    protected abstract (IPEndPoint EndPoint, IDisposable Owner) Silent();

    [Fact]
    public async Task A_successful_attempt_hands_back_an_open_path_that_closes_on_dispose()
    {
        var transport = CreateTransport();
        if (await HeldToUnsupportedContract(transport))
        {
            return;
        }

        await using var peer = StartPeer();
        var path = await Attempt(transport, peer.EndPoint, CancellationToken.None);

        Assert.Equal(peer.EndPoint, path.RemoteEndPoint);
        await path.Stream.WriteAsync("ping"u8.ToArray()).AsTask().WaitAsync(Bound);
        var echo = new byte[4];
        await path.Stream.ReadExactlyAsync(echo).AsTask().WaitAsync(Bound);
        Assert.Equal("ping"u8.ToArray(), echo);

        await path.DisposeAsync();
        await path.DisposeAsync(); // twice: nothing the second time
        await Descriptors.EventuallyAsync(() => peer.ClosedByClient == 1, "the peer sees the connection closed after DisposeAsync");
    }

    [Fact]
    public async Task A_token_cancelled_before_the_attempt_fails_at_once_and_leaves_nothing_open()
    {
        var transport = CreateTransport();
        await using var peer = transport.UnsupportedReason is null ? StartPeer() : null;
        var target = peer?.EndPoint ?? new IPEndPoint(IPAddress.Loopback, 9);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var before = Descriptors.Open();

        for (var i = 0; i < Repetitions; i++)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Attempt(transport, target, cancelled.Token));
        }

        await Descriptors.NoneLeftOpenAsync(before);
        Assert.Equal(0, peer?.Accepted ?? 0);
    }

    [Fact]
    public async Task Cancellation_during_the_attempt_ends_it_and_leaves_nothing_open()
    {
        var transport = CreateTransport();
        if (await HeldToUnsupportedContract(transport))
        {
            return;
        }

        var (silent, owner) = Silent();
        using (owner)
        {
            var before = Descriptors.Open();
            for (var i = 0; i < Repetitions; i++)
            {
                using var cts = new CancellationTokenSource();
                var attempt = Attempt(transport, silent, cts.Token);
                await Task.Yield();
                cts.CancelAfter(TimeSpan.FromMilliseconds(20)); // while it waits for an answer that never comes
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => attempt.WaitAsync(Bound));
            }

            await Descriptors.NoneLeftOpenAsync(before);
        }
    }

    [Fact]
    public async Task A_refused_attempt_is_a_hard_failure_and_leaves_nothing_open()
    {
        var transport = CreateTransport();
        if (await HeldToUnsupportedContract(transport))
        {
            return;
        }

        var (refusing, owner) = Refusing();
        using (owner)
        {
            var before = Descriptors.Open();
            for (var i = 0; i < Repetitions; i++)
            {
                var failure = await Assert.ThrowsAsync<AttemptFailedException>(() => Attempt(transport, refusing, CancellationToken.None).WaitAsync(Bound));
                Assert.Equal(AttemptFailureKind.Hard, failure.Kind);
                Assert.False(string.IsNullOrWhiteSpace(failure.Message));
            }

            await Descriptors.NoneLeftOpenAsync(before);
        }
    }

    [Fact]
    public async Task A_silent_peer_is_never_a_hard_failure()
    {
        var transport = CreateTransport();
        if (await HeldToUnsupportedContract(transport))
        {
            return;
        }

        var (silent, owner) = Silent();
        using (owner)
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
            var outcome = await Record.ExceptionAsync(() => Attempt(transport, silent, patience.Token).WaitAsync(Bound));

            // Still waiting when the race gave up (the fallback delay runs on), or a soft failure of its own: not hard.
            Assert.NotNull(outcome);
            Assert.True(outcome is OperationCanceledException or AttemptFailedException { Kind: AttemptFailureKind.Soft },
                $"a silent peer must not be a hard failure; got {outcome.GetType().Name}: {outcome.Message}");
        }
    }

    [Fact]
    public async Task A_lost_attempt_disposed_by_the_race_leaves_nothing_open()
    {
        var transport = CreateTransport();
        if (await HeldToUnsupportedContract(transport))
        {
            return;
        }

        await using var peer = StartPeer();
        var before = Descriptors.Open();
        for (var i = 0; i < Repetitions; i++)
        {
            using var race = new CancellationTokenSource();
            var path = await Attempt(transport, peer.EndPoint, race.Token);
            await race.CancelAsync(); // another attempt won: the racer cancels this one's token, then disposes its path
            await path.DisposeAsync();
        }

        await Descriptors.EventuallyAsync(() => peer.ClosedByClient == Repetitions, $"the peer sees all {Repetitions} lost connections closed");
        await Descriptors.NoneLeftOpenAsync(before);
    }

    /// <summary>One attempt from <see cref="From"/> to <paramref name="remote"/>.</summary>
    protected Task<ConnectedPath> Attempt(AttemptTransport transport, IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return transport.ConnectAsync(new AttemptContext(From, remote, remote.Address.ToString(), ApplicationProtocols), cancellationToken);
    }

    /// <summary>
    /// Where the transport says it cannot run here, the case checks what an unsupported transport owes instead (and says
    /// so by returning true): an attempt fails with <see cref="AttemptFailedException"/> giving the reason, never with a
    /// platform exception, and leaves nothing open.
    /// </summary>
    private async Task<bool> HeldToUnsupportedContract(AttemptTransport transport)
    {
        if (transport.UnsupportedReason is not { } reason)
        {
            return false;
        }

        Assert.False(string.IsNullOrWhiteSpace(reason), "UnsupportedReason must say why in words");
        var before = Descriptors.Open();
        for (var i = 0; i < Repetitions; i++)
        {
            var failure = await Assert.ThrowsAsync<AttemptFailedException>(() => Attempt(transport, new IPEndPoint(IPAddress.Loopback, 9), CancellationToken.None).WaitAsync(Bound));
            Assert.Contains(reason, failure.Message, StringComparison.Ordinal);
        }

        await Descriptors.NoneLeftOpenAsync(before);
        return true;
    }
}
