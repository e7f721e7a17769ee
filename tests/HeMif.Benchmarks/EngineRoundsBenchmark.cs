using System.Diagnostics;
using System.Globalization;
using System.Net;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Validate;

namespace HeMif.Benchmarks;

/// <summary>
/// The races of <see cref="EngineThroughputBenchmarks"/> in plain rounds, for a quick before/after of one change: each
/// round prints races per second, CPU time and bytes allocated per race, methods compiled by the JIT during the round
/// (a round that still compiles is still warming up) and collections. Bytes per race are exact; rates on a shared
/// machine are not, so compare several rounds, alternating the builds.
/// Run: <c>dotnet run -c Release --project tests/HeMif.Benchmarks -- races [IN_FLIGHT=64] [RACES=20000] [ROUNDS=6]</c>.
/// </summary>
public static class EngineRoundsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var inFlight = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 64;
        var races = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20000;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 6;
        var network = new EngineThroughputBenchmarks.InstantNetwork();
        await using var engine = await InstantEngineAsync(network);
        var request = new ConnectionRequest("www.example.com", 443);
        for (var round = 0; round < rounds; round++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var gen0 = GC.CollectionCount(0);
            var gen2 = GC.CollectionCount(2);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var next = 0;
            async Task Worker()
            {
                while (Interlocked.Increment(ref next) <= races)
                {
                    var result = await engine.ConnectAsync(request).ConfigureAwait(false);
                    if (result.Connection is null)
                    {
                        throw new InvalidOperationException(result.Report.Failure);
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Worker()));
            watch.Stop();
            var cpuPerRace = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / races;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{races / watch.Elapsed.TotalSeconds,8:F0} races/s ({watch.Elapsed.TotalMicroseconds / races:F1} µs, CPU {cpuPerRace:F1} µs per race), "
                + $"{(GC.GetTotalAllocatedBytes(precise: true) - allocated) / races} B per race, JIT +{System.Runtime.JitInfo.GetCompiledMethodCount() - compiled} methods, "
                + $"gen0 {GC.CollectionCount(0) - gen0}, gen2 {GC.CollectionCount(2) - gen2}"));
        }

        return 0;
    }

    /// <summary>
    /// An engine with Wi-Fi and cellular on the instant in-memory network (every part of a race but the sockets), once
    /// both interfaces are validated. Also the soak's first phase (SoakBenchmark).
    /// </summary>
    internal static async Task<HeMifEngine> InstantEngineAsync(EngineThroughputBenchmarks.InstantNetwork? network = null)
    {
        network ??= new EngineThroughputBenchmarks.InstantNetwork();
        var engine = new HeMifEngine(new EngineOptions
        {
            Interfaces =
            [
                new InterfaceFacts("wlan0", InterfaceKind.Wifi) { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:1::10"), 64)] },
                new InterfaceFacts("rmnet0", InterfaceKind.Cellular) { Addresses = [new InterfaceAddress(IPAddress.Parse("2001:db8:2::10"), 64)] },
            ],
            Probe = new EngineThroughputBenchmarks.InstantProbe(),
            Resolver = new EngineThroughputBenchmarks.InstantResolver(),
            Transports = new TransportRegistry([network], [TransportName.Tcp]),
        });
        while (engine.CurrentStates.Count < 2 || engine.CurrentStates.Values.Any(s => s.State != ValidationState.Validated))
        {
            await Task.Delay(1);
        }

        return engine;
    }
}
