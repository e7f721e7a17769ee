using HeMif.Simulation;
using HeMif.TestKit;
using static HeMif.Actors.Tests.Simulation.Sim;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// Connection attempts on the simulated network: timings to the tick, the per-family behaviours, seeded jitter, loss
/// with RFC 6298 retransmissions, QUIC, cancellation, and that nothing is left open or armed.
/// </summary>
public sealed class SimulatedAttemptTests
{
    [Fact]
    public async Task A_connect_completes_exactly_one_round_trip_after_it_starts_and_not_a_tick_sooner()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20) });

        var connect = net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None);
        clock.Advance(Ms(20) - Tick);
        Assert.False(connect.IsCompleted);
        Assert.Equal(1, clock.ArmedTimerCount);

        clock.Advance(Tick);
        Assert.True(connect.IsCompletedSuccessfully);
        await using var path = await connect;
        Assert.Equal(V6, path.RemoteEndPoint);
        Assert.Equal(Wlan.Addresses[0].Address, path.LocalEndPoint!.Address);
        Assert.Same(Stream.Null, path.Stream); // a simulated connection carries no bytes
        Assert.Equal(1, net.OpenConnections);
        Assert.Equal(0, clock.ArmedTimerCount);
        Assert.Equal(0, net.PendingOperations);
        var connected = Assert.Single(net.Log, o => o.Kind == NetworkOperationKind.Connected);
        Assert.Equal((Ms(20), "wlan0"), (connected.At, connected.Interface));
    }

    [Fact]
    public async Task Disposing_a_connection_closes_it_once_and_logs_it()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock);
        var connect = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        clock.Advance(Ms(50));
        var path = await connect;
        Assert.Equal(1, net.OpenConnections);

        await path.DisposeAsync();
        await path.DisposeAsync();

        Assert.Equal(0, net.OpenConnections);
        Assert.Single(net.Log, o => o.Kind == NetworkOperationKind.Closed);
    }

    [Fact]
    public void A_per_family_round_trip_overrides_the_path_round_trip_for_that_family_only()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Ipv6Rtt = Ms(80) });

        var v6 = net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None);
        var v4 = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        clock.Advance(Ms(20));
        Assert.True(v4.IsCompletedSuccessfully);
        Assert.False(v6.IsCompleted);
        clock.Advance(Ms(60));
        Assert.True(v6.IsCompletedSuccessfully);
    }

    /// <summary>
    /// The driver's contract: code awaiting the network with <c>ConfigureAwait(false)</c> (all library code) runs inline
    /// inside <c>Advance</c>, so it sees the answer, and starts what follows, at the answer's virtual instant. This holds
    /// when the thread calling <c>Advance</c> has no <see cref="SynchronizationContext"/>: under one (xunit installs one
    /// on test threads), .NET queues such continuations to the thread pool instead of inlining them.
    /// </summary>
    [Fact]
    public void Awaiting_code_runs_inline_inside_Advance_so_a_follow_up_attempt_starts_at_the_virtual_instant_of_the_first_answer()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            var clock = new ManualTimeProvider();
            var net = Network(clock, new SimulatedPath { Rtt = Ms(20) });

            async Task<TimeSpan> TwoInARow()
            {
                var first = await net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None).ConfigureAwait(false);
                await first.DisposeAsync().ConfigureAwait(false);
                var second = await net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None).ConfigureAwait(false);
                await second.DisposeAsync().ConfigureAwait(false);
                return clock.Elapsed;
            }

            var run = TwoInARow();
            clock.Advance(Ms(100));

            Assert.Equal(Ms(40), Done(run));
            Assert.Equal([Ms(20), Ms(40)], net.Log.Where(o => o.Kind == NetworkOperationKind.Connected).Select(o => o.At));
            Assert.Equal(0, net.OpenConnections);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private static List<TimeSpan> ConnectTimes(int seed, SimulatedPath path, int attempts, TimeSpan runFor)
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, path, seed: seed);
        var tasks = Enumerable.Range(0, attempts).Select(_ => net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None)).ToList();
        clock.Advance(runFor);
        Assert.All(tasks, t => Assert.True(t.IsCompleted));
        Assert.Equal(0, clock.ArmedTimerCount);
        return net.Log.Where(o => o.Kind is NetworkOperationKind.Connected or NetworkOperationKind.ConnectFailed).Select(o => o.At).ToList();
    }

    [Fact]
    public void Jitter_is_drawn_from_the_seed_the_same_seed_gives_the_same_timings_and_each_lies_within_rtt_plus_jitter()
    {
        var path = new SimulatedPath { Rtt = Ms(20), Jitter = Ms(10) };

        var first = ConnectTimes(seed: 7, path, attempts: 20, runFor: Ms(100));
        var again = ConnectTimes(seed: 7, path, attempts: 20, runFor: Ms(100));
        var other = ConnectTimes(seed: 8, path, attempts: 20, runFor: Ms(100));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.All(first, t => Assert.InRange(t, Ms(20), Ms(30)));
        Assert.True(first.Distinct().Count() > 10, "jitter should spread 20 attempts over many instants");
    }

    /// <summary>
    /// RFC 6298 §2.1: "the sender SHOULD set RTO &lt;- 1 second"; §5.5: "The host MUST set RTO &lt;- RTO * 2". A lost SYN
    /// is sent again 1 s after the first, then 2 s after that; with three tries the attempt gives up at 7 s.
    /// </summary>
    [Fact]
    public void With_loss_a_handshake_answers_one_round_trip_after_the_first_second_or_third_SYN_or_times_out_at_7_s()
    {
        var times = ConnectTimes(seed: 3, new SimulatedPath { Rtt = Ms(20), Loss = 0.5 }, attempts: 200, runFor: TimeSpan.FromSeconds(10));

        Assert.Equal(200, times.Count);
        Assert.All(times, t => Assert.Contains(t, new[] { Ms(20), Ms(1020), Ms(3020), Ms(7000) }));
        Assert.Equal(4, times.Distinct().Count());
        Assert.Equal(times, ConnectTimes(seed: 3, new SimulatedPath { Rtt = Ms(20), Loss = 0.5 }, attempts: 200, runFor: TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task When_every_SYN_is_lost_the_attempt_fails_soft_with_timed_out_after_its_last_retransmission_timeout()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Loss = 1, MaxTries = 3 });

        var connect = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(7) - Tick);
        Assert.False(connect.IsCompleted);
        clock.Advance(Tick);

        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => connect);
        Assert.Equal(AttemptFailureKind.Soft, e.Kind);
        Assert.StartsWith("timed out", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void The_number_of_tries_is_configurable()
    {
        var times = ConnectTimes(seed: 1, new SimulatedPath { Loss = 1, MaxTries = 1 }, attempts: 1, runFor: TimeSpan.FromSeconds(2));
        Assert.Equal([TimeSpan.FromSeconds(1)], times);
    }

    [Fact]
    public async Task A_rejecting_path_answers_with_a_hard_connection_refused_after_one_round_trip()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Ipv6 = FamilyBehavior.Reject });

        var connect = net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None);
        clock.Advance(Ms(20) - Tick);
        Assert.False(connect.IsCompleted);
        clock.Advance(Tick);

        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => connect);
        Assert.Equal(AttemptFailureKind.Hard, e.Kind);
        Assert.StartsWith("connection refused", e.Message, StringComparison.Ordinal);
        Assert.Contains("wlan0", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, net.OpenConnections);
    }

    [Fact]
    public async Task An_unreachable_path_answers_with_a_hard_host_unreachable_after_half_a_round_trip()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Ipv4 = FamilyBehavior.Unreachable });

        var connect = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        clock.Advance(Ms(10) - Tick);
        Assert.False(connect.IsCompleted);
        clock.Advance(Tick);

        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => connect);
        Assert.Equal(AttemptFailureKind.Hard, e.Kind);
        Assert.StartsWith("host unreachable", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_absent_family_fails_at_once_with_a_hard_network_unreachable_and_arms_nothing()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Ipv6 = FamilyBehavior.Absent });

        var connect = net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None);

        Assert.True(connect.IsFaulted);
        Assert.Equal(0, clock.ArmedTimerCount);
        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => connect);
        Assert.Equal(AttemptFailureKind.Hard, e.Kind);
        Assert.StartsWith("network unreachable", e.Message, StringComparison.Ordinal);
        Assert.Equal([NetworkOperationKind.ConnectStarted, NetworkOperationKind.ConnectFailed], net.Log.Select(o => o.Kind));
    }

    [Fact]
    public async Task On_a_link_that_is_down_attempts_fail_at_once_with_network_is_down()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { LinkDown = true });

        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None));
        Assert.Equal(AttemptFailureKind.Hard, e.Kind);
        Assert.StartsWith("network is down", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blackholed_attempt_never_completes_arms_no_timer_and_ends_as_cancelled_at_once_when_cancelled()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Ipv6 = FamilyBehavior.Blackhole, Ipv4 = FamilyBehavior.Blackhole });
        using var cts = new CancellationTokenSource();

        var connect = net.Tcp.ConnectAsync(Wlan, V6, cts.Token);
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.False(connect.IsCompleted);
        Assert.Equal(0, clock.ArmedTimerCount);
        Assert.Equal(1, net.PendingOperations);

        await cts.CancelAsync();

        Assert.True(connect.IsCanceled);
        Assert.Equal(0, net.PendingOperations);
        Assert.Equal(NetworkOperationKind.Cancelled, net.Log[^1].Kind);
        Assert.Equal(TimeSpan.FromMinutes(10), net.Log[^1].At);
    }

    [Fact]
    public async Task Cancelling_an_attempt_in_flight_disposes_its_timer_and_opens_no_connection()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20) });
        using var cts = new CancellationTokenSource();

        var connect = net.Tcp.ConnectAsync(Wlan, V6, cts.Token);
        clock.Advance(Ms(10));
        Assert.Equal(1, clock.ArmedTimerCount);

        await cts.CancelAsync();
        Assert.True(connect.IsCanceled);
        Assert.Equal(0, clock.ArmedTimerCount);

        clock.Advance(Ms(100));
        Assert.Equal(0, net.OpenConnections);
        Assert.Equal(0, net.PendingOperations);
        Assert.DoesNotContain(net.Log, o => o.Kind == NetworkOperationKind.Connected);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect);
    }

    [Fact]
    public void An_attempt_with_an_already_cancelled_token_is_cancelled_and_touches_nothing()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock);

        var connect = net.Tcp.ConnectAsync(Wlan, V6, new CancellationToken(canceled: true));

        Assert.True(connect.IsCanceled);
        Assert.Empty(net.Log);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void Cancelling_the_losers_of_a_race_leaves_only_the_winner_open_and_no_timer_armed()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Ipv6 = FamilyBehavior.Blackhole }, new SimulatedPath { Rtt = Ms(60) });
        using var losers = new CancellationTokenSource();

        var wifiV6 = net.Tcp.ConnectAsync(Wlan, V6, losers.Token);
        var wifiV4 = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        var cell = net.Tcp.ConnectAsync(Rmnet, V6, losers.Token);
        clock.Advance(Ms(20));
        Assert.True(wifiV4.IsCompletedSuccessfully);
        losers.Cancel();

        Assert.True(wifiV6.IsCanceled && cell.IsCanceled);
        Assert.Equal(1, net.OpenConnections);
        Assert.Equal(0, net.PendingOperations);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public async Task Blocked_QUIC_blackholes_QUIC_attempts_while_TCP_on_the_same_interface_works()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Rtt = Ms(20), Quic = QuicBehavior.Blocked });
        using var cts = new CancellationTokenSource();

        var quic = net.Quic.ConnectAsync(Wlan, V6, cts.Token);
        var tcp = net.Tcp.ConnectAsync(Wlan, V6, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));

        Assert.True(tcp.IsCompletedSuccessfully);
        Assert.False(quic.IsCompleted);
        await cts.CancelAsync();
        Assert.True(quic.IsCanceled);
        Assert.Equal((TransportName.Quic, true), (net.Quic.Name, net.Quic.RunsOverUdp));
        Assert.Contains(net.Log, o => o.Kind == NetworkOperationKind.ConnectStarted && o.Detail.StartsWith("QUIC", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QUIC_where_the_path_allows_it_completes_like_TCP_after_one_round_trip()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, rmnet: new SimulatedPath { Rtt = Ms(60) });

        var quic = net.Quic.ConnectAsync(Rmnet, V4, CancellationToken.None);
        clock.Advance(Ms(60));

        await using var path = await quic;
        Assert.Equal(V4, path.RemoteEndPoint);
        Assert.Null(net.Quic.UnsupportedReason);
    }

    [Fact]
    public async Task A_host_without_QUIC_says_why_and_a_QUIC_attempt_fails_at_once_with_that_reason()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, quicSupported: false);

        Assert.Equal("QUIC unsupported on this host (no libmsquic)", net.Quic.UnsupportedReason);
        Assert.Null(net.Tcp.UnsupportedReason);
        var e = await Assert.ThrowsAsync<AttemptFailedException>(() => net.Quic.ConnectAsync(Wlan, V6, CancellationToken.None));
        Assert.StartsWith("QUIC unsupported on this host", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void The_log_says_which_interface_each_operation_touched_so_an_untouched_interface_can_be_asserted()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock);

        _ = net.Tcp.ConnectAsync(Rmnet, V4, CancellationToken.None);
        clock.Advance(Ms(50));

        Assert.Empty(net.LogOf("wlan0"));
        Assert.Equal([NetworkOperationKind.ConnectStarted, NetworkOperationKind.Connected], net.LogOf("rmnet0").Select(o => o.Kind));
        Assert.Equal($"TCP {V4}", net.LogOf("rmnet0")[0].Detail);
    }
}
