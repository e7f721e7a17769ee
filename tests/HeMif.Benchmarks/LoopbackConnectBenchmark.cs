using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HeMif.Benchmarks;

/// <summary>
/// <see cref="IHeMifConnector.ConnectAsync"/> against raw <see cref="Socket.ConnectAsync(EndPoint)"/> to the same loopback
/// TCP listener, in one process run (issue 12: "HeMif reaches 0.32-0.38x the raw throughput; it must not fall, and the
/// goal is at least 0.77x"). Both sides open a connection, then close it with a reset (linger 0) so that no TIME_WAIT
/// piles up and the local ports never run out; the listener accepts and closes. Each round runs the raw side and the
/// HeMif side one after the other (the order alternates between rounds, so a drift in the machine's speed does not
/// favour one), and the ratio is taken within the round; the medians of the rounds are printed.
/// <para>
/// The connector is what an application would make for this host with only the loopback interface: validation on, as
/// by default (loopback is validated by definition, draft §5.2.1 validates networks), no override file. Its first
/// connection (validation, JIT) is made before any round.
/// </para>
/// Run: <c>dotnet run -c Release --project tests/HeMif.Benchmarks -- loopback [--rounds 9] [--connects 2000] [--concurrency 1,64]</c>.
/// </summary>
public static class LoopbackConnectBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 9;
        var connects = 2000;
        int[] concurrencies = [1, 64];
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds":
                    rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--connects":
                    connects = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--concurrency":
                    concurrencies = [.. args[++i].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
                    break;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; usage: loopback [--rounds N] [--connects N] [--concurrency 1,64]");
                    return 2;
            }
        }

        await using var listener = new LoopbackListener(4096);
        var endpoint = listener.Endpoint;
        await using var connector = LoopbackListener.CreateConnector();
        var host = endpoint.Address.ToString();
        Func<Task> raw = () => RawConnectAsync(endpoint);
        Func<Task> hemif = () => HeMifConnectAsync(connector, host, endpoint.Port);

        Console.WriteLine($"loopback connect: listener {endpoint}, {connects} connects per side per round, {rounds} rounds (+1 warm-up), {Environment.ProcessorCount} cores");
        foreach (var concurrency in concurrencies)
        {
            // Warm-up round: JIT, the connector's first validation, the thread pool's growth.
            await MeasureAsync(raw, connects, concurrency);
            await MeasureAsync(hemif, connects, concurrency);
            var rawRates = new List<double>();
            var hemifRates = new List<double>();
            var ratios = new List<double>();
            var rawBytes = new List<double>();
            var hemifBytes = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                (double Rate, double Bytes) r, h;
                if (round % 2 == 0)
                {
                    r = await MeasureAsync(raw, connects, concurrency);
                    h = await MeasureAsync(hemif, connects, concurrency);
                }
                else
                {
                    h = await MeasureAsync(hemif, connects, concurrency);
                    r = await MeasureAsync(raw, connects, concurrency);
                }

                rawRates.Add(r.Rate);
                hemifRates.Add(h.Rate);
                ratios.Add(h.Rate / r.Rate);
                rawBytes.Add(r.Bytes);
                hemifBytes.Add(h.Bytes);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"concurrency {concurrency,3}: raw {Median(rawRates),8:F0}/s  HeMif {Median(hemifRates),8:F0}/s  ratio HeMif/raw median {Median(ratios):F2}x "
                + $"(rounds {ratios.Min():F2}-{ratios.Max():F2}; raw {rawRates.Min():F0}-{rawRates.Max():F0}/s, HeMif {hemifRates.Min():F0}-{hemifRates.Max():F0}/s); "
                + $"allocated per connect: raw {Median(rawBytes):F0} B, HeMif {Median(hemifBytes):F0} B"));
        }

        return 0;
    }

    private static async Task RawConnectAsync(IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        socket.LingerState = new LingerOption(true, 0);
    }

    private static async Task HeMifConnectAsync(IHeMifConnector connector, string host, int port)
    {
        await using var connection = await connector.ConnectAsync(host, port);
        connection.Socket!.LingerState = new LingerOption(true, 0);
    }

    /// <summary>Connects per second with <paramref name="concurrency"/> callers, and bytes allocated per connect (whole process).</summary>
    private static async Task<(double Rate, double Bytes)> MeasureAsync(Func<Task> connect, int connects, int concurrency)
    {
        var next = 0;
        async Task Worker()
        {
            while (Interlocked.Increment(ref next) <= connects)
            {
                await connect();
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Worker)));
        watch.Stop();
        return (connects / watch.Elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)connects);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
