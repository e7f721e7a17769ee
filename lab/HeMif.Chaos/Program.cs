using System.Globalization;
using System.Text.Json;
using HeMif.Configuration;

namespace HeMif.Chaos;

/// <summary>
/// The chaos lab's driver (docs/chaos.md). lab/chaos.sh builds the lab and runs this inside its client namespace:
/// <c>HeMif.Chaos --env F --lab-sh F --hemif F --overrides F --policy F --prohibited DEV [--races N] [--process-races N]
/// [--seed N] [--slack-ms N] [--json F]</c>. Exit 0: no invariant broken; 1: some were (listed); 2: bad usage.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        Arguments options;
        try
        {
            options = Arguments.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"chaos: {e.Message}");
            return 2;
        }

        var lab = new LabControl(options.LabScript, LabControl.ReadEnv(options.EnvFile), options.Prohibited);
        var draws = Draw.Plan(options.Seed, options.Races, options.ProcessRaces);
        var interfaces = new[] { lab["WIFI_IF"], lab["CELL_IF"], options.Prohibited };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"chaos: seed {options.Seed}, {options.Races} races through one connector and {options.ProcessRaces} in fresh `hemif connect` processes, {Fault.All.Count} faults; {options.Prohibited} is prohibited"));

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        var fdsBefore = SocketTable.Descriptors(Environment.ProcessId);
        var kindsBefore = SocketTable.DescriptorKinds(Environment.ProcessId);
        var records = new List<RaceRecord>();
        var violations = new List<Violation>();
        var connector = HeMifConnector.Create(new HeMifConnectorOptions
        {
            OverridesFile = options.Overrides,
            Policy = HeMifConfiguration.LoadPolicyFile(options.Policy),
        });
        await using (connector)
        {
            var runner = new Runner(lab, connector, options.Hemif, options.Overrides, options.Policy);
            var tenth = Math.Max(1, draws.Count / 10);
            foreach (var draw in draws)
            {
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                RaceRecord record;
                try
                {
                    record = await runner.RunAsync(draw, stop.Token);
                }
                catch (Exception e) when (e is InvalidOperationException or JsonException or KeyNotFoundException or IOException)
                {
                    record = new RaceRecord { Draw = draw, Connected = false, Error = $"{e.GetType().Name}: {e.Message}" };
                }

                records.Add(record);
                var found = Invariants.Check(record, lab, interfaces, options.SlackMs);
                violations.AddRange(found);
                foreach (var v in found)
                {
                    Console.WriteLine($"VIOLATION race {v.Race} ({v.Fault}): {v.Invariant}: {v.Detail}");
                }

                if ((draw.Index + 1) % tenth == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"chaos: {draw.Index + 1}/{draws.Count} races, {violations.Count} violations; this process: {SocketTable.Descriptors(Environment.ProcessId)} descriptors, {GC.GetTotalMemory(false) / 1024} KiB managed"));
                }
            }
        }

        await lab.SwitchAsync("healthy", CancellationToken.None);
        var fdsAfter = SocketTable.Descriptors(Environment.ProcessId);
        Console.WriteLine();
        Console.WriteLine(Summary.Table(records, violations));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"descriptors of this process: {fdsBefore} before the connector ({kindsBefore}), {fdsAfter} after it was disposed ({SocketTable.DescriptorKinds(Environment.ProcessId)})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"invariant violations: {violations.Count} (seed {options.Seed}; `lab/chaos.sh --seed {options.Seed} --races {options.Races} --process-races {options.ProcessRaces}` draws the same faults)"));
        if (options.JsonOut is not null)
        {
            await File.WriteAllTextAsync(options.JsonOut, Summary.Json(options.Seed, records, violations));
        }

        return violations.Count == 0 && records.Count == draws.Count ? 0 : 1;
    }
}

/// <summary>The driver's command line.</summary>
internal sealed record Arguments(string EnvFile, string LabScript, string Hemif, string Overrides, string Policy, string Prohibited,
    int Races, int ProcessRaces, int Seed, double SlackMs, string? JsonOut)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected --name VALUE pairs; found '{args[i]}'");
            }

            values[args[i][2..]] = args[++i];
        }

        string Required(string name) => values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        int Number(string name, int fallback, int min, int max)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n
                : throw new ArgumentException($"--{name}: expected a whole number from {min} to {max}; found '{text}'");
        }

        var known = new HashSet<string> { "env", "lab-sh", "hemif", "overrides", "policy", "prohibited", "races", "process-races", "seed", "slack-ms", "json" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new ArgumentException($"unknown option --{unknown}");
        }

        return new Arguments(Required("env"), Required("lab-sh"), Required("hemif"), Required("overrides"), Required("policy"), Required("prohibited"),
            Number("races", 1000, 0, 1_000_000), Number("process-races", 20, 0, 100_000), Number("seed", 1, 0, int.MaxValue),
            Number("slack-ms", 150, 0, 60_000), values.GetValueOrDefault("json"));
    }
}
