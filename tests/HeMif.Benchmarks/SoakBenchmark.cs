using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using HeMif.Planning;

namespace HeMif.Benchmarks;

/// <summary>
/// The soak (issue 17: "a soak of one million simulated races and 100,000 real loopback connects shows memory and
/// descriptors flat (printed every 10 %)"). Two phases, each with many races in flight: the engine on an instant
/// in-memory network (every part of a race but the sockets), then <see cref="IHeMifConnector.ConnectAsync"/> to a loopback
/// listener (real sockets, closed with a reset so that no TIME_WAIT piles up). After every tenth of a phase it collects
/// garbage fully and prints the managed heap, the working set, the process's descriptors and threads, and the gen2
/// collections so far. At the end of each phase it compares the last point with the first: flat means the heap grew by
/// less than 10 % + 1 MiB and the descriptors by at most 8 (the runtime opens a few of its own as it warms up).
/// Exit 0: both flat; 1: something grew.
/// Run: <c>dotnet run -c Release --project tests/HeMif.Benchmarks -- soak [--simulated 1000000] [--loopback 100000] [--in-flight 64]</c>.
/// </summary>
public static class SoakBenchmark
{
    private sealed record Point(long Done, long HeapBytes, long WorkingSetBytes, int Descriptors, int Threads, int Gen2);

    public static async Task<int> RunAsync(string[] args)
    {
        long simulated = 1_000_000, loopback = 100_000;
        var inFlight = 64;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--simulated" when i + 1 < args.Length:
                    simulated = long.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--loopback" when i + 1 < args.Length:
                    loopback = long.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--in-flight" when i + 1 < args.Length:
                    inFlight = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; usage: soak [--simulated N] [--loopback N] [--in-flight N]");
                    return 2;
            }
        }

        var flat = true;
        if (simulated > 0)
        {
            flat &= await SimulatedAsync(simulated, inFlight);
        }

        if (loopback > 0)
        {
            flat &= await LoopbackAsync(loopback, inFlight);
        }

        return flat ? 0 : 1;
    }

    private static async Task<bool> SimulatedAsync(long races, int inFlight)
    {
        await using var engine = await EngineRoundsBenchmark.InstantEngineAsync();
        var request = new ConnectionRequest("www.example.com", 443);
        return await PhaseAsync($"{races:N0} simulated races (engine, instant network)", races, inFlight, async () =>
        {
            var result = await engine.ConnectAsync(request).ConfigureAwait(false);
            if (result.Connection is null)
            {
                throw new InvalidOperationException(result.Report.Failure);
            }

            await result.Connection.DisposeAsync().ConfigureAwait(false);
        });
    }

    private static async Task<bool> LoopbackAsync(long connects, int inFlight)
    {
        await using var listener = new LoopbackListener(4096);
        var port = listener.Endpoint.Port;
        bool flat;
        await using (var connector = LoopbackListener.CreateConnector())
        {
            flat = await PhaseAsync($"{connects:N0} loopback connects (HeMifConnector, real sockets)", connects, inFlight, async () =>
            {
                await using var connection = await connector.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
                connection.Socket!.LingerState = new LingerOption(true, 0);
            });
        }

        return flat;
    }

    /// <summary>Runs <paramref name="total"/> operations, <paramref name="inFlight"/> at a time, printing a point every tenth.</summary>
    private static async Task<bool> PhaseAsync(string name, long total, int inFlight, Func<Task> operation)
    {
        Console.WriteLine(name);
        Console.WriteLine("     done |  heap MiB | working set MiB | descriptors | threads | gen2 | seconds");
        var points = new List<Point>();
        var watch = Stopwatch.StartNew();
        var tenth = Math.Max(1, total / 10);
        for (long start = 0; start < total; start += tenth)
        {
            var chunk = Math.Min(tenth, total - start);
            long next = 0;
            async Task Worker()
            {
                while (Interlocked.Increment(ref next) <= chunk)
                {
                    await operation().ConfigureAwait(false);
                }
            }

            await Task.WhenAll(Enumerable.Range(0, inFlight).Select(_ => Task.Run(Worker)));
            var point = Measure(start + chunk);
            points.Add(point);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{point.Done,9} | {point.HeapBytes / 1048576.0,9:F1} | {point.WorkingSetBytes / 1048576.0,15:F1} | {point.Descriptors,11} | {point.Threads,7} | {point.Gen2,4} | {watch.Elapsed.TotalSeconds,7:F1}"));
        }

        var (first, last) = (points[0], points[^1]);
        var heapFlat = last.HeapBytes <= (first.HeapBytes * 1.1) + 1048576;
        var descriptorsFlat = last.Descriptors <= first.Descriptors + 8;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"from the first tenth to the last: heap {first.HeapBytes / 1048576.0:F1} -> {last.HeapBytes / 1048576.0:F1} MiB ({(heapFlat ? "flat" : "GREW")}), descriptors {first.Descriptors} -> {last.Descriptors} ({(descriptorsFlat ? "flat" : "GREW")})"));
        Console.WriteLine();
        return heapFlat && descriptorsFlat;
    }

    private static Point Measure(long done)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var self = Process.GetCurrentProcess();
        var descriptors = Directory.Exists("/proc/self/fd") ? Directory.GetFiles("/proc/self/fd").Length : self.HandleCount;
        return new Point(done, GC.GetTotalMemory(forceFullCollection: false), self.WorkingSet64, descriptors, self.Threads.Count, GC.CollectionCount(2));
    }
}
