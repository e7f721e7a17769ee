using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace HeMif.Benchmarks;

/// <summary>
/// Issue 17, "Scale": races per second at 64 and at 1,024 races in flight through one connector on loopback, in one
/// run, and the allocation per race ("throughput at 1,024 races in flight is a quarter of that at 64 today (Gen2
/// collections, about 18 KB per race); goal: ≥ 0.8× of the 64-in-flight figure, with the allocation per race halved").
/// Each round runs both levels one after the other (the order alternates between rounds, so a drift in the machine's
/// speed favours neither) and takes the ratio 1,024 / 64 within the round; the medians of the rounds are printed, with
/// bytes allocated per race (whole process) and the collections of each generation per 1,000 races. Every connection
/// is closed with a reset (linger 0), as in <see cref="LoopbackConnectBenchmark"/>, so the local ports never run out;
/// the listener accepts and closes. The connector is the one an application makes for a host with only loopback.
/// <c>--allocations</c> also samples what is allocated (the runtime's allocation tick, about one sample per 100 KB,
/// naming the type) over the measured rounds and prints the types that take the most, to find what to remove.
/// Run: <c>dotnet run -c Release --project tests/HeMif.Benchmarks -- scale [--rounds 7] [--races 4096] [--in-flight 64,1024] [--allocations]</c>.
/// </summary>
public static class ScaleBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 7;
        var races = 4096;
        int[] levels = [64, 1024];
        var sampleAllocations = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--races":
                    races = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--in-flight":
                    levels = [.. args[++i].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
                    break;
                case "--allocations":
                    sampleAllocations = true;
                    break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; usage: scale [--rounds N] [--races N] [--in-flight 64,1024] [--allocations]");
                    return 2;
            }
        }

        if (levels.Length != 2)
        {
            Console.Error.WriteLine("--in-flight takes two levels, the base first: 64,1024");
            return 2;
        }

        await using var listener = new LoopbackListener(8192);
        var endpoint = listener.Endpoint;
        await using var connector = LoopbackListener.CreateConnector();
        var host = endpoint.Address.ToString();

        Console.WriteLine($"scale: one connector, loopback listener {endpoint}, {races} races per level per round, {rounds} rounds (+1 warm-up), "
            + $"{Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}");
        await MeasureAsync(connector, host, endpoint.Port, races, levels[0]);
        await MeasureAsync(connector, host, endpoint.Port, races, levels[1]);
        using var sampler = sampleAllocations ? new AllocationSampler() : null;
        var low = new List<Round>();
        var high = new List<Round>();
        var ratios = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            Round l, h;
            if (round % 2 == 0)
            {
                l = await MeasureAsync(connector, host, endpoint.Port, races, levels[0]);
                h = await MeasureAsync(connector, host, endpoint.Port, races, levels[1]);
            }
            else
            {
                h = await MeasureAsync(connector, host, endpoint.Port, races, levels[1]);
                l = await MeasureAsync(connector, host, endpoint.Port, races, levels[0]);
            }

            low.Add(l);
            high.Add(h);
            ratios.Add(h.Rate / l.Rate);
        }

        foreach (var (level, measured) in new[] { (levels[0], low), (levels[1], high) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"in flight {level,5}: {Median(measured.Select(m => m.Rate)),7:F0} races/s (rounds {measured.Min(m => m.Rate):F0}-{measured.Max(m => m.Rate):F0}), "
                + $"{Median(measured.Select(m => m.Bytes)) / 1024:F1} KB per race, per 1,000 races: gen0 {Median(measured.Select(m => m.Gen0)):F1}, "
                + $"gen1 {Median(measured.Select(m => m.Gen1)):F1}, gen2 {Median(measured.Select(m => m.Gen2)):F1}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratio {levels[1]} / {levels[0]} in flight: median {Median(ratios):F2}x (rounds {ratios.Min():F2}-{ratios.Max():F2}); goal >= 0.80x"));

        if (sampler is not null)
        {
            var total = sampler.Total;
            Console.WriteLine($"allocation samples ({sampler.Count} of ~100 KB each; share of what was sampled):");
            foreach (var (type, bytes) in sampler.Top(40))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {100.0 * bytes / total,5:F1} %  {type}"));
            }
        }

        return 0;
    }

    /// <summary>One level of one round: races per second, bytes allocated per race, collections per 1,000 races.</summary>
    private sealed record Round(double Rate, double Bytes, double Gen0, double Gen1, double Gen2);

    private static async Task<Round> MeasureAsync(IHeMifConnector connector, string host, int port, int races, int inFlight)
    {
        var next = 0;
        async Task Worker()
        {
            while (Interlocked.Increment(ref next) <= races)
            {
                await using var connection = await connector.ConnectAsync(host, port).ConfigureAwait(false);
                connection.Socket!.LingerState = new LingerOption(true, 0);
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(Worker)));
        watch.Stop();
        var per1000 = 1000.0 / races;
        return new Round(races / watch.Elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)races,
            (GC.CollectionCount(0) - gen0) * per1000, (GC.CollectionCount(1) - gen1) * per1000, (GC.CollectionCount(2) - gen2) * per1000);
    }

    /// <summary>The runtime's GCAllocationTick events (keyword GC, verbose), summed by type.</summary>
    private sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public long Total => Math.Max(1, _bytes.Values.Sum());

        public IEnumerable<(string Type, long Bytes)> Top(int n) => _bytes.OrderByDescending(kv => kv.Value).Take(n).Select(kv => (kv.Key, kv.Value));

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
            {
                return;
            }

            var type = eventData.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload![t] as string ?? "?" : "?";
            var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload![a], CultureInfo.InvariantCulture) : 100_000;
            _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
            Interlocked.Increment(ref _count);
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
