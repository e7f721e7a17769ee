using System.Net;
using System.Net.Sockets;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Race;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Engine;

/// <summary>What one interface's path does in <see cref="FakeNetwork"/>.</summary>
internal sealed record FakePath
{
    public ValidationState Probe { get; init; } = ValidationState.Validated;

    public TimeSpan Rtt { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long the connectivity probe takes; null: one <see cref="Rtt"/>.</summary>
    public TimeSpan? ProbeDelay { get; init; }

    /// <summary>Per family: "ok", "blackhole", "reject", "throw" (the transport throws before it returns a task).</summary>
    public string IPv6 { get; init; } = "ok";

    public string IPv4 { get; init; } = "ok";

    public bool ProbeThrows { get; set; }

    /// <summary>How long this interface's DNS takes to answer (default 5 ms); <see cref="Timeout.InfiniteTimeSpan"/>: never.</summary>
    public TimeSpan DnsDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>This interface's AAAA answer; null: the test server's IPv6 address. Empty: NODATA.</summary>
    public IReadOnlyList<IPAddress>? AaaaAnswer { get; init; }

    /// <summary>This interface's A answer; null: the test server's IPv4 address. Empty: NODATA.</summary>
    public IReadOnlyList<IPAddress>? AAnswer { get; init; }
}

/// <summary>
/// A tiny scripted network for engine tests: answers come from timers on the given clock, completed inline (no
/// RunContinuationsAsynchronously) so the virtual-time driver sees their effects before it moves the clock again.
/// </summary>
internal sealed class FakeNetwork(TimeProvider clock)
{
    public static readonly IPAddress ServerV6 = IPAddress.Parse("2001:db8:ff::1");
    public static readonly IPAddress ServerV4 = IPAddress.Parse("192.0.2.200");

    /// <summary>The Wi-Fi interface the engine tests race on (documentation addresses).</summary>
    public static readonly InterfaceFacts Wifi = new("wlan0", InterfaceKind.Wifi)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:1::10"), 64), new InterfaceAddress(IPAddress.Parse("192.0.2.10"), 24)],
    };

    /// <summary>The cellular interface the engine tests race on.</summary>
    public static readonly InterfaceFacts Cellular = new("rmnet0", InterfaceKind.Cellular)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:2::10"), 64), new InterfaceAddress(IPAddress.Parse("198.51.100.10"), 24)],
    };

    public Dictionary<string, FakePath> Paths { get; } = [];

    /// <summary>Healthy paths for <see cref="Wifi"/> (20 ms) and <see cref="Cellular"/> (60 ms).</summary>
    public static FakeNetwork WifiAndCellular(TimeProvider clock)
    {
        var network = new FakeNetwork(clock);
        network.Paths[Wifi.Name] = new FakePath { Rtt = TimeSpan.FromMilliseconds(20) };
        network.Paths[Cellular.Name] = new FakePath { Rtt = TimeSpan.FromMilliseconds(60) };
        return network;
    }

    /// <summary>
    /// The engine options of a test on this network: <paramref name="interfaces"/> (default Wi-Fi and cellular) probed,
    /// resolved and connected here, on <paramref name="clock"/>, in virtual time (one pump the test drives)
    /// and a seeded validation jitter.
    /// </summary>
    public EngineOptions Options(TimeProvider clock, IReadOnlyList<InterfaceFacts>? interfaces = null) => new()
    {
        Interfaces = interfaces ?? [Wifi, Cellular],
        Probe = new ProbePort(this),
        Resolver = new ResolverPort(this),
        Transports = new TransportRegistry([new TcpPort(this)], [TransportName.Tcp]),
        TimeProvider = clock,
        VirtualTime = true,
        Validation = new ValidationSettings { Random = new Random(1) },
    };

    public int OpenConnections;
    public int ProbeCalls;
    public List<string> Log { get; } = [];

    /// <summary>Every interface a connectivity probe ran on, in order.</summary>
    public List<string> Probed { get; } = [];

    /// <summary>Each lookup and attempt as it started, with the clock's time: "resolve wlan0 InterNetworkV6", "connect wlan0 …".</summary>
    public List<(DateTimeOffset At, string What)> Timed { get; } = [];

    public Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref ProbeCalls);
        lock (Probed)
        {
            Probed.Add(networkInterface.Name);
        }

        var path = Paths[networkInterface.Name];
        if (path.ProbeThrows)
        {
            throw new InvalidOperationException("probe bug");
        }

        return After(path.ProbeDelay ?? path.Rtt, () => new ValidationResult(path.Probe, $"fake probe: {path.Probe}"), cancellationToken);
    }

    public Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
    {
        var path = Paths.GetValueOrDefault(networkInterface.Name) ?? new FakePath();
        lock (Log)
        {
            Timed.Add((clock.GetUtcNow(), $"resolve {networkInterface.Name} {family}"));
        }

        IReadOnlyList<IPAddress> answer = family == AddressFamily.InterNetworkV6 ? path.AaaaAnswer ?? [ServerV6] : path.AAnswer ?? [ServerV4];
        return After(path.DnsDelay, () => new ResolveResult(answer), cancellationToken);
    }

    public Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        var (networkInterface, remote) = (context.Interface, context.Remote);
        var path = Paths[networkInterface.Name];
        var mode = remote.AddressFamily == AddressFamily.InterNetworkV6 ? path.IPv6 : path.IPv4;
        lock (Log)
        {
            Log.Add($"connect {networkInterface.Name} {remote}");
            Timed.Add((clock.GetUtcNow(), $"connect {networkInterface.Name} {remote}"));
        }

        if (mode == "throw")
        {
            throw new InvalidOperationException("transport bug");
        }

        return mode switch
        {
            "ok" => After<ConnectedPath>(path.Rtt, () =>
            {
                Interlocked.Increment(ref OpenConnections);
                return new FakeConnection(this, remote);
            }, cancellationToken),
            "reject" => After<ConnectedPath>(path.Rtt, () => throw new AttemptFailedException(AttemptFailureKind.Hard, "connection refused"), cancellationToken),
            _ => After<ConnectedPath>(Timeout.InfiniteTimeSpan, () => throw new InvalidOperationException("a blackhole never answers"), cancellationToken),
        };
    }

    private Task<T> After<T>(TimeSpan delay, Func<T> result, CancellationToken cancellationToken) => FakeTimers.After(clock, delay, result, cancellationToken);

    /// <summary>The network as the engine's connectivity probe.</summary>
    public sealed class ProbePort(FakeNetwork network) : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) =>
            network.ProbeAsync(networkInterface, cancellationToken);
    }

    /// <summary>The network as the engine's resolver.</summary>
    public sealed class ResolverPort(FakeNetwork network) : InterfaceResolver
    {
        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            network.ResolveAsync(networkInterface, host, family, cancellationToken);
    }

    /// <summary>The network as the engine's TCP transport.</summary>
    public sealed class TcpPort(FakeNetwork network) : AttemptTransport
    {
        public override TransportName Name => TransportName.Tcp;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken) =>
            network.ConnectAsync(context, cancellationToken);
    }

    private sealed class FakeConnection(FakeNetwork owner, IPEndPoint remote) : ConnectedPath
    {
        private int _closed;

        public override IPEndPoint? LocalEndPoint => null;

        public override IPEndPoint RemoteEndPoint => remote;

        public override Stream Stream => Stream.Null;

        public override ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                Interlocked.Decrement(ref owner.OpenConnections);
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Answers on the virtual clock, completed inline in the timer callback (so the driver sees them before it moves on).</summary>
internal static class FakeTimers
{
    /// <summary><paramref name="result"/> after <paramref name="delay"/> (never for an infinite one), or cancelled.</summary>
    public static Task<T> After<T>(TimeProvider clock, TimeSpan delay, Func<T> result, CancellationToken cancellationToken)
    {
        var source = new TaskCompletionSource<T>();
        ITimer? timer = null;
        var registration = cancellationToken.Register(() =>
        {
            timer?.Dispose();
            source.TrySetCanceled(cancellationToken);
        });
        timer = clock.CreateTimer(_ =>
        {
            registration.Dispose();
            timer?.Dispose();
            try
            {
                source.TrySetResult(result());
            }
            catch (Exception e)
            {
                source.TrySetException(e);
            }
        }, null, delay, Timeout.InfiniteTimeSpan);
        if (cancellationToken.IsCancellationRequested)
        {
            timer.Dispose();
        }

        return source.Task;
    }
}
