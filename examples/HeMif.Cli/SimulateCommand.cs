using System.CommandLine;
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
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var name = new Argument<string?>("name") { Description = "A built-in scenario (see --list)", Arity = ArgumentArity.ZeroOrOne };
        var file = CliInput.File("--scenario", "A scenario JSON file (see docs/scenarios.md)");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the timeline" };
        var list = new Option<bool>("--list") { Description = "List the built-in scenarios" };
        var command = new Command("simulate", "Run a scenario through the engine on a simulated network, in virtual time, and show the race.")
        {
            name, file, json, list,
        };
        var view = ViewOptions.AddTo(command);

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
                return CliInput.Fail(error, $"name one scenario: a built-in ({string.Join(", ", Scenario.BuiltInNames)}) or --scenario FILE, not {(builtIn is null ? "neither" : "both")}.");
            }

            Scenario scenario;
            try
            {
                scenario = builtIn is not null ? Scenario.BuiltIn(builtIn) : Scenario.Load(path!);
            }
            catch (HeMifConfigurationException e)
            {
                return CliInput.Fail(error, (builtIn is null ? "--scenario: " : "") + e.Message);
            }

            SimulationResult result;
            try
            {
                result = Simulator.RunAsync(scenario).GetAwaiter().GetResult();
            }
            catch (InvalidOperationException e)
            {
                return CliInput.Fail(error, e.Message);
            }

            if (parse.GetValue(json))
            {
                output.Raw.WriteLine(RaceOutput.Serialize(RaceOutput.Json(result.Scenario.Name, result.Races, alwaysListRaces: true)));
            }
            else
            {
                WriteView(TimelineView.Create(output.Raw, view.Read(parse)), result);
            }

            var last = result.Races[^1];
            if (last.Outcome == RaceOutcome.Failed)
            {
                return CliInput.Fail(error, last.Failure ?? "the race failed", Program.NoCandidate);
            }

            return 0;
        });
        return command;
    }

    private static void WriteView(TimelineView view, SimulationResult result)
    {
        var scenario = result.Scenario;
        view.PlainLine($"Scenario {scenario.Name}: {scenario.Description}");
        // Validation and the scenario's network changes on one clock, from the scenario's start; a change and what
        // validation then found read one after the other.
        var lines = result.InterfaceEvents
            .Select(e => (At: e.At - scenario.Now, Order: 1, Text: $"validation  {e.Interface,-8} {e.State}: {e.Detail}"))
            .Concat(scenario.Changes.Select(c => (c.At, Order: 0, Text: $"change      {c.Interface,-8} {(c.Description.Length > 0 ? c.Description : "the path's behaviour changes")}")))
            .Concat(result.PathEvents.Select(p => (p.At, Order: 2, Text: $"path #{p.Request + 1,-3}  {p.Event.Interface,-8} {p.Event.Kind}{(p.Event.BetterInterface is { } b ? " (" + b + ")" : "")}: {p.Event.Detail}")))
            .OrderBy(l => l.At).ThenBy(l => l.Order);
        foreach (var line in lines)
        {
            view.PlainLine($"  {Seconds(line.At),9} {line.Text}");
        }

        // A scenario with a timeline (changes, timed requests) says when each request started; the others read as before.
        var timed = scenario.Changes.Count > 0 || scenario.Requests.Any(r => r.At is not null || r.Hold is not null);
        for (var i = 0; i < result.Races.Count; i++)
        {
            view.PlainLine("");
            var at = timed && i < result.RequestStarts.Count ? $", at {Seconds(result.RequestStarts[i])}" : "";
            view.Write(result.Races[i], $"Request {i + 1} of {result.Races.Count}{at}");
        }
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + " s";
}
