using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using HeMif.Configuration;
using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif simulate NAME | --scenario FILE [--json]</c>: runs a scenario's requests through the whole engine on its
/// simulated network, in virtual time, and prints the timeline. <c>--list</c> names the built-in scenarios.
/// Exit codes: 0 the (last) request connected, 3 it failed, 2 bad input.
/// </summary>
public static class SimulateCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var name = new Argument<string?>("name") { Description = "A built-in scenario (see --list)", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--scenario") { Description = "A scenario JSON file (see docs/scenarios.md)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the timeline" };
        var list = new Option<bool>("--list") { Description = "List the built-in scenarios" };
        var command = new Command("simulate", "Run a scenario through the engine on a simulated network, in virtual time, and show the race.")
        {
            name, file, json, list,
        };

        command.SetAction(parse =>
        {
            if (parse.GetValue(list))
            {
                foreach (var n in Scenario.BuiltInNames)
                {
                    output.WriteLine($"{n,-22} {Scenario.BuiltIn(n).Description}");
                }

                return 0;
            }

            var builtIn = parse.GetValue(name);
            var path = parse.GetValue(file);
            if ((builtIn is null) == (path is null))
            {
                error.WriteLine($"hemif: name one scenario: a built-in ({string.Join(", ", Scenario.BuiltInNames)}) or --scenario FILE, not {(builtIn is null ? "neither" : "both")}.");
                return Program.BadInput;
            }

            Scenario scenario;
            try
            {
                scenario = builtIn is not null ? Scenario.BuiltIn(builtIn) : Scenario.Load(path!.FullName);
            }
            catch (HeMifConfigurationException e)
            {
                error.WriteLine($"hemif: {e.Message}");
                return Program.BadInput;
            }

            SimulationResult result;
            try
            {
                result = Simulator.RunAsync(scenario).GetAwaiter().GetResult();
            }
            catch (InvalidOperationException e)
            {
                error.WriteLine($"hemif: {e.Message}");
                return Program.BadInput;
            }

            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(ToJson(result), JsonOptions));
            }
            else
            {
                WriteText(output, result);
            }

            var last = result.Races[^1];
            if (last.Outcome == RaceOutcome.Failed)
            {
                error.WriteLine($"hemif: {last.Failure}");
                return Program.NoCandidate;
            }

            return 0;
        });
        return command;
    }

    private static void WriteText(TextWriter o, SimulationResult result)
    {
        o.WriteLine($"Scenario {result.Scenario.Name}: {result.Scenario.Description}");
        foreach (var e in result.InterfaceEvents)
        {
            o.WriteLine($"  validation  {e.Interface,-8} {e.State}: {e.Detail}");
        }

        for (var i = 0; i < result.Races.Count; i++)
        {
            var race = result.Races[i];
            o.WriteLine();
            o.WriteLine($"Request {i + 1} of {result.Races.Count}: {race.Host}:{race.Port}  (fallback delay {Ms(race.Timings.FallbackDelay)} ms, " +
                        $"attempt delay {Ms(race.Timings.ConnectionAttemptDelay)} ms, resolution delay {Ms(race.Timings.ResolutionDelay)} ms)");
            foreach (var e in race.Events)
            {
                o.WriteLine($"  {Ms(e.At),9} ms  {e.Kind,-14} {(e.Interface is null ? "" : e.Interface + ": ")}{e.Detail}");
            }

            o.WriteLine(race.Outcome == RaceOutcome.Connected
                ? $"  connected over {race.Winner!.Interface} ({race.Winner.Kind}), {race.Winner.Transport.ToUpperInvariant()} {race.Winner.Family} to {race.Winner.Remote} in {Ms(race.TimeToConnect!.Value)} ms"
                : $"  failed: {race.Failure}");
        }
    }

    /// <summary>The JSON the issue specifies, for the last request; <c>races</c> has the same object for every request.</summary>
    private static Dictionary<string, object?> ToJson(SimulationResult result)
    {
        var races = result.Races.Select(r => RaceJson(result.Scenario.Name, r)).ToList();
        var last = new Dictionary<string, object?>(races[^1]) { ["races"] = races };
        return last;
    }

    private static Dictionary<string, object?> RaceJson(string scenario, RaceReport r) => new()
    {
        ["scenario"] = scenario,
        ["host"] = r.Host,
        ["port"] = r.Port,
        ["outcome"] = r.Outcome == RaceOutcome.Connected ? "connected" : "failed",
        ["winner"] = r.Winner is null ? null : new Dictionary<string, object?>
        {
            ["interface"] = r.Winner.Interface,
            ["kind"] = r.Winner.Kind.ToString(),
            ["transport"] = r.Winner.Transport,
            ["family"] = r.Winner.Family,
            ["remote"] = r.Winner.Remote,
        },
        ["timeToConnectMs"] = r.TimeToConnect?.TotalMilliseconds,
        ["failure"] = r.Failure,
        ["settings"] = new Dictionary<string, object?>
        {
            ["fallbackDelayMs"] = r.Timings.FallbackDelay.TotalMilliseconds,
            ["connectionAttemptDelayMs"] = r.Timings.ConnectionAttemptDelay.TotalMilliseconds,
            ["resolutionDelayMs"] = r.Timings.ResolutionDelay.TotalMilliseconds,
        },
        ["attempts"] = r.Attempts.Select(a => new Dictionary<string, object?>
        {
            ["id"] = a.Id,
            ["interface"] = a.Interface,
            ["transport"] = a.Transport,
            ["family"] = a.Family,
            ["remote"] = a.Remote,
            ["startMs"] = a.Start.TotalMilliseconds,
            ["endMs"] = a.End?.TotalMilliseconds,
            ["result"] = a.Result,
            ["error"] = a.Error,
        }).ToList(),
        ["excluded"] = r.Excluded.Select(x => new Dictionary<string, object?>
        {
            ["interface"] = x.Interface,
            ["reasons"] = x.Reasons.Select(reason => reason.ToString()).ToList(),
        }).ToList(),
        ["events"] = r.Events.Select(e => new Dictionary<string, object?>
        {
            ["atMs"] = e.At.TotalMilliseconds,
            ["kind"] = e.Kind,
            ["interface"] = e.Interface,
            ["detail"] = e.Detail,
        }).ToList(),
    };

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}
