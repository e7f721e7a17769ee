using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Race;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// Race invariants over generated scenarios (FsCheck draws the seed; the scenario is built from it): at most one
/// winner; every started attempt ends (won, failed or cancelled); no attempt on an interface that is not a
/// candidate; never more attempts in flight than the cap; the race always ends.
/// </summary>
public sealed class PlannerProperties
{
    /// <summary>On a failure FsCheck prints the seed and the replay values (<c>[Property(Replay = "...")]</c> reruns it).</summary>
    [Property(MaxTest = 300)]
    public Property Every_generated_race_keeps_the_invariants() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed => Assert.Null(Check(seed)));

    /// <summary>Runs one generated race; returns null when every invariant held, else what broke.</summary>
    private static string? Check(int seed)
    {
        var random = new Random(seed);
        var names = new[] { "wlan0", "rmnet0", "eth0", "tun0" };
        var candidates = names.Take(random.Next(1, 5))
            .Select(n => new RaceCandidate(n, random.Next(0, 3), IPv6: random.Next(4) > 0, IPv4: random.Next(4) > 0,
                SmoothedRtt: random.Next(2) == 0 ? null : TimeSpan.FromMilliseconds(random.Next(5, 900)),
                RecentFailures: random.Next(4) == 0 ? 1 : 0)
            {
                Transports = random.Next(3) == 0 ? [TransportName.Quic, TransportName.Tcp] : RaceCandidate.TcpOnly,
            })
            .Where(c => c.IPv6 || c.IPv4)
            .ToList();
        var settings = new RaceSettings { MaxConcurrentAttempts = random.Next(1, 7), RaceTimeout = TimeSpan.FromSeconds(20) };
        var planner = new RacePlanner(candidates, 443, settings);

        var events = new PriorityQueue<RaceInput, (TimeSpan, int)>();
        var order = 0;
        void At(TimeSpan when, RaceInput input) => events.Enqueue(input, (when, order++));

        var now = TimeSpan.Zero;
        var active = new HashSet<AttemptId>();
        var started = new HashSet<AttemptId>();
        var wins = 0;
        var finished = false;
        for (var steps = 0; steps < 100_000; steps++)
        {
            var command = planner.Poll(now);
            switch (command)
            {
                case null:
                    if (!finished)
                    {
                        return "Poll returned null before the race finished";
                    }

                    // Feed leftover results: all must be ignored.
                    while (events.TryDequeue(out var late, out _))
                    {
                        planner.Handle(late, now);
                        if (planner.Poll(now) is { } extra)
                        {
                            return $"a command after the race ended: {extra}";
                        }
                    }

                    return planner.Attempts.All(a => a.Outcome != AttemptOutcome.Running) ? null : "an attempt never ended";
                case RaceCommand.StartResolution r:
                    if (!candidates.Any(c => c.Interface == r.Interface))
                    {
                        return $"resolution on a non-candidate {r.Interface}";
                    }

                    var (after, answer) = RandomNetwork.Answer(r, random);
                    At(now + after, answer);

                    break;
                case RaceCommand.StartAttempt s:
                    if (finished || !started.Add(s.Id) || !active.Add(s.Id))
                    {
                        return $"attempt {s.Id} started twice or after the end";
                    }

                    if (!candidates.Any(c => c.Interface == s.Endpoint.Interface))
                    {
                        return $"attempt on a non-candidate {s.Endpoint.Interface}";
                    }

                    if (active.Count > settings.MaxConcurrentAttempts)
                    {
                        return $"{active.Count} attempts in flight, cap {settings.MaxConcurrentAttempts}";
                    }

                    var takes = TimeSpan.FromMilliseconds(random.Next(1, 3000));
                    switch (random.Next(4))
                    {
                        case 0: At(now + takes, new RaceInput.AttemptSucceeded(s.Id)); break;
                        case 1: At(now + takes, new RaceInput.AttemptFailed(s.Id, AttemptFailureKind.Hard, "refused")); break;
                        case 2: At(now + takes, new RaceInput.AttemptFailed(s.Id, AttemptFailureKind.Soft, "timed out")); break;
                        default: break; // blackhole: never answers
                    }

                    break;
                case RaceCommand.CancelAttempt c:
                    if (!active.Remove(c.Id))
                    {
                        return $"cancel of {c.Id}, which is not in flight";
                    }

                    break;
                case RaceCommand.Won w:
                    if (++wins > 1 || active.Count != 1 || !active.Contains(w.Id))
                    {
                        return "a second winner, or losers not cancelled before Won";
                    }

                    active.Clear();
                    finished = true;
                    break;
                case RaceCommand.Failed:
                    if (active.Count != 0)
                    {
                        return "Failed with attempts still in flight";
                    }

                    finished = true;
                    break;
                case RaceCommand.WaitUntil wait:
                    if (wait.At < now)
                    {
                        return "WaitUntil in the past";
                    }

                    if (events.TryPeek(out _, out var next) && next.Item1 <= wait.At)
                    {
                        // The next input comes first: deliver it at its time.
                        var input = events.Dequeue();
                        now = next.Item1;
                        if (input is RaceInput.AttemptFailed failed)
                        {
                            active.Remove(failed.Id);
                        }

                        planner.Handle(input, now);
                    }
                    else if (wait.At == now)
                    {
                        return $"WaitUntil({now}) with nothing due: the planner would spin";
                    }
                    else
                    {
                        now = wait.At;
                    }

                    break;
            }
        }

        return "the race did not end within 100,000 steps";
    }
}
