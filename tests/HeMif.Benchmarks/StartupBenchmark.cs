using System.Diagnostics;
using System.Globalization;
using HeMif.Runtime;

namespace HeMif.Benchmarks;

/// <summary>
/// What a cold process spends before its first race (issue 12: "an actor system starts in about 160 ms cold here; say
/// what start-up costs"). Meant to be run in a fresh process each time, several times:
/// <c>startup system</c> times HeMif's own actor system alone (<c>HeMifActorSystem.Create</c>, real time);
/// <c>startup connect PORT</c> makes a connector as <c>hemif connect --no-validation</c> does (the host's interfaces)
/// and connects once to 127.0.0.1:PORT, printing the connector's creation, the first connection and the race's own time.
/// </summary>
public static class StartupBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        var watch = Stopwatch.StartNew();
        if (args is ["system"])
        {
            var system = HeMifActorSystem.Create("hemif", TimeProvider.System);
            var created = watch.Elapsed;
            await system.Terminate();
            Console.WriteLine(Invariant($"process start to Main {sinceStart.TotalMilliseconds:F0} ms; actor system created in {created.TotalMilliseconds:F0} ms"));
            return 0;
        }

        if (args is ["connect", var portText] && int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            await using var connector = HeMifConnector.Create(new HeMifConnectorOptions { DisableValidation = true });
            var created = watch.Elapsed;
            await using var connection = await connector.ConnectAsync("127.0.0.1", port);
            var connected = watch.Elapsed;
            Console.WriteLine(Invariant($"process start to Main {sinceStart.TotalMilliseconds:F0} ms; connector created in {created.TotalMilliseconds:F0} ms; ")
                              + Invariant($"first connection after {(connected - created).TotalMilliseconds:F0} ms more (the race's own time {connection.Report.TimeToConnect?.TotalMilliseconds:F1} ms, ")
                              + Invariant($"its attempt started at {connection.Report.Attempts[0].Start.TotalMilliseconds:F1} ms)"));
            return 0;
        }

        Console.Error.WriteLine("usage: startup system | startup connect PORT");
        return 2;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
