using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Interfaces;
using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// Race invariants through the whole engine over generated scenarios (FsCheck draws the seed): at most one winner;
/// every attempt ends; no attempt on an excluded or unvalidated interface; never more than the cap in flight; and the
/// winner is never slower than waiting for the fallback delay and then the fastest working path (within one attempt
/// delay).
/// </summary>
public sealed class EngineProperties
{
    private static readonly string[] Names = ["wlan0", "rmnet0", "eth0"];
    private static readonly InterfaceKind[] Kinds = [InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Ethernet];
    private static readonly FamilyBehavior[] Behaviors = [FamilyBehavior.Ok, FamilyBehavior.Ok, FamilyBehavior.Blackhole, FamilyBehavior.Reject, FamilyBehavior.Unreachable];

    /// <summary>On a failure FsCheck prints the seed and the replay values (<c>[Property(Replay = "...")]</c> reruns it).</summary>
    [Property(MaxTest = 40)]
    public Property Generated_scenarios_keep_the_race_invariants_through_the_actors() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed => Assert.Null(Check(seed)));

    private static string? Check(int seed)
    {
        var random = new Random(seed);
        var count = random.Next(1, 4);
        var interfaces = new List<InterfaceFacts>();
        var network = new Dictionary<string, SimulatedPath>();
        for (var i = 0; i < count; i++)
        {
            interfaces.Add(new InterfaceFacts(Names[i], Kinds[i])
            {
                Addresses = [new InterfaceAddress(IPAddress.Parse($"2001:db8:{i + 1}::10"), 64), new InterfaceAddress(IPAddress.Parse($"192.0.2.{i + 10}"), 24)],
            });
            network[Names[i]] = new SimulatedPath
            {
                Rtt = TimeSpan.FromMilliseconds(random.Next(5, 300)),
                Ipv6 = Behaviors[random.Next(Behaviors.Length)],
                Ipv4 = Behaviors[random.Next(Behaviors.Length)],
                CaptivePortal = random.Next(6) == 0 ? new Uri("http://portal.example.net/") : null,
            };
        }

        var maxAttempts = random.Next(1, 7);
        var scenario = new Scenario
        {
            Name = $"generated-{seed}",
            Interfaces = interfaces,
            Network = network,
            Destinations = new Dictionary<string, IReadOnlyList<IPAddress>> { ["www.example.com"] = [IPAddress.Parse("2001:db8:ffff::80"), IPAddress.Parse("192.0.2.80")] },
            Requests = [new ScenarioRequest("www.example.com", 443)],
            Settings = new ScenarioSettings { MaxConcurrentAttempts = maxAttempts, RaceTimeout = TimeSpan.FromSeconds(20) },
            Seed = seed,
        };

        var result = Simulator.RunAsync(scenario).GetAwaiter().GetResult();
        var race = result.Races.Single();
        if (race.Attempts.Count(a => a.Result == "won") > (race.Outcome == RaceOutcome.Connected ? 1 : 0))
        {
            return "more than one winner, or a winner in a failed race";
        }

        if (race.Attempts.Any(a => a.End is null || a.Result == "running"))
        {
            return "an attempt never ended";
        }

        var excluded = race.Excluded.Select(x => x.Interface).ToHashSet();
        if (race.Attempts.Any(a => excluded.Contains(a.Interface)))
        {
            return "an attempt on an excluded or unvalidated interface";
        }

        // Concurrency: sweep the attempts' [start, end) intervals.
        var edges = race.Attempts.SelectMany(a => new[] { (a.Start, +1), (a.End!.Value, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2);
        var inFlight = 0;
        foreach (var (_, delta) in edges)
        {
            inFlight += delta;
            if (inFlight > maxAttempts)
            {
                return $"{inFlight} attempts in flight, cap {maxAttempts}";
            }
        }

        // The fastest working path: a validated interface with a family that answers; DNS takes one RTT, the handshake one.
        var working = interfaces.Where(f => !excluded.Contains(f.Name))
            .Select(f => network[f.Name])
            .Where(p => p.Ipv6 == FamilyBehavior.Ok || p.Ipv4 == FamilyBehavior.Ok)
            .Select(p => p.Rtt * 2 + (p.Ipv6 == FamilyBehavior.Ok ? TimeSpan.Zero : race.Timings.ConnectionAttemptDelay))
            .ToList();
        if (working.Count > 0 && maxAttempts >= 2)
        {
            if (race.Outcome != RaceOutcome.Connected)
            {
                return "a working path existed but the race failed";
            }

            var bound = race.Timings.FallbackDelay + working.Min() + race.Timings.ConnectionAttemptDelay;
            if (race.TimeToConnect > bound)
            {
                return $"connected after {race.TimeToConnect}, bound {bound}";
            }
        }

        return null;
    }
}
