using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using HeMif.Engine;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Resolve;
using HeMif.Validate;

namespace HeMif.Benchmarks;

/// <summary>
/// The pure race planner: one whole race of two interfaces (draft §3.1: Wi-Fi blackholes, cellular wins after the
/// fallback delay), fed and drained exactly as the racer does. Goals (issue 4): at most 2 µs per command (median) and at
/// most 4 KB allocated per race. <see cref="CommandsPerRace"/> is printed once so time per command can be derived.
/// </summary>
[MemoryDiagnoser]
public class PlannerBenchmarks
{
    private static readonly RaceCandidate[] Candidates = [new("wlan0", 1), new("rmnet0", 2)];
    private static readonly IPAddress[] V6 = [IPAddress.Parse("2001:db8::1")];
    private static readonly IPAddress[] V4 = [IPAddress.Parse("192.0.2.1")];
    private static readonly RaceSettings Settings = new();

    /// <summary>How many commands one race produces (the planner's output count, WaitUntil included).</summary>
    public static int CommandsPerRace { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        CommandsPerRace = WiFiBrokenRace();
        Console.WriteLine($"// commands per race: {CommandsPerRace}");
    }

    [Benchmark]
    public int WiFiBrokenRace()
    {
        var planner = new RacePlanner(Candidates, 443, Settings);
        var commands = 0;
        var now = TimeSpan.Zero;
        void Drain()
        {
            while (planner.Poll(now) is { } c)
            {
                commands++;
                if (c is RaceCommand.WaitUntil)
                {
                    break;
                }
            }
        }

        Drain();
        now = TimeSpan.FromMilliseconds(20);
        planner.Handle(new RaceInput.ResolutionAnswered("wlan0", AddressFamily.InterNetworkV6, V6), now);
        planner.Handle(new RaceInput.ResolutionAnswered("wlan0", AddressFamily.InterNetwork, V4), now);
        Drain();
        now = TimeSpan.FromMilliseconds(270);
        Drain();
        now = Settings.InterfaceFallbackDelay;
        Drain();
        now += TimeSpan.FromMilliseconds(60);
        planner.Handle(new RaceInput.ResolutionAnswered("rmnet0", AddressFamily.InterNetworkV6, V6), now);
        planner.Handle(new RaceInput.ResolutionAnswered("rmnet0", AddressFamily.InterNetwork, V4), now);
        Drain();
        now += TimeSpan.FromMilliseconds(60);
        planner.Handle(new RaceInput.AttemptSucceeded(new AttemptId(2)), now);
        Drain();
        return commands;
    }
}

/// <summary>
/// Races per second through the actors (request actor, snapshots from two interface supervisors, the plan, the racer)
/// on an in-memory network that answers at once, at 1, 64 and 1024 requests in flight. The engine runs in real time,
/// its actors on Akka's default dispatcher over the thread pool, as in an application (the virtual-time pump runs
/// everything on one thread and would measure the simulator instead). Goals (issues 4 and 12): at least 50,000
/// races/s at 64 on these 2 cores, and at 1024 no lower than the kernel's 17,800/s. Time per race = the reported time /
/// <see cref="Races"/>. Enough warm-up for the tiered JIT to settle (the first iterations run unoptimized code).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(launchCount: 1, warmupCount: 6, iterationCount: 15)]
public class EngineThroughputBenchmarks
{
    private const int Races = 4096;
    private HeMifEngine _engine = null!;
    private readonly ConnectionRequest _request = new("www.example.com", 443);

    [Params(1, 64, 1024)]
    public int Concurrency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var network = new InstantNetwork();
        _engine = new HeMifEngine(new EngineOptions
        {
            Interfaces =
            [
                new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:1::10"), 64)] },
                new InterfaceFacts("rmnet0", InterfaceKind.Cellular) { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:2::10"), 64)] },
            ],
            Probe = network,
            Resolver = network,
            Tcp = network,
        });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_engine.CurrentStates.Count < 2 || _engine.CurrentStates.Values.Any(s => s.State != ValidationState.Validated))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException("the interfaces did not validate");
            }

            Thread.Sleep(1);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = Races)]
    public async Task RacesThroughTheActors()
    {
        var next = 0;
        async Task Worker()
        {
            while (Interlocked.Increment(ref next) <= Races)
            {
                var result = await _engine.ConnectAsync(_request).ConfigureAwait(false);
                if (result.Connection is null)
                {
                    throw new InvalidOperationException(result.Report.Failure);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Worker())).ConfigureAwait(false);
    }

    /// <summary>Answers everything at once: validated, one address, connected.</summary>
    internal sealed class InstantNetwork : IConnectivityProbe, IInterfaceResolver, IAttemptTransport
    {
        private static readonly ResolveResult V6 = new([IPAddress.Parse("2001:db8:ffff::80")]);
        private static readonly ResolveResult None = new([]);
        private static readonly Task<ValidationResult> Valid = Task.FromResult(new ValidationResult(ValidationState.Validated, "instant"));
        private static readonly Task<IConnectedPath> Connected = Task.FromResult<IConnectedPath>(new Path());

        public TransportProtocol Protocol => TransportProtocol.Tcp;

        public string? UnsupportedReason => null;

        public Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) => Valid;

        public Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            Task.FromResult(family == AddressFamily.InterNetworkV6 ? V6 : None);

        public Task<IConnectedPath> ConnectAsync(InterfaceFacts networkInterface, IPEndPoint remote, CancellationToken cancellationToken) => Connected;

        private sealed class Path : IConnectedPath
        {
            public IPEndPoint? LocalEndPoint => null;

            public IPEndPoint RemoteEndPoint { get; } = new(IPAddress.Parse("2001:db8:ffff::80"), 443);

            public Stream? Stream => null;

            public Socket? Socket => null;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
