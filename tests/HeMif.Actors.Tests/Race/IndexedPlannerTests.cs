using System.Net;
using System.Net.Sockets;
using HeMif.Race;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// From <see cref="RacePlanner.IndexedFrom"/> candidates on, the planner keeps an index (the races that changed, the
/// ready ones by rank, a queue of deadlines) instead of scanning every interface at every step, so that a race over
/// thousands of interfaces costs what changes. The index must change nothing a caller sees: fed the same inputs at the
/// same times, the indexed planner and the scanning one give the same commands, in the same order, at the same times.
/// </summary>
public sealed class IndexedPlannerTests
{
    /// <summary>Generated races (seeded, so a failure names a seed that reproduces it), both ways, command by command.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_indexed_planner_gives_the_commands_of_the_scanning_one(int block)
    {
        for (var seed = block * 100; seed < (block + 1) * 100; seed++)
        {
            var difference = Compare(seed);
            Assert.True(difference is null, $"seed {seed}: {difference}");
        }
    }

    [Fact]
    public void A_long_candidate_list_is_indexed_and_a_short_one_scanned()
    {
        // The public constructor decides by the count; both ways must accept duplicates as an error alike.
        var many = Enumerable.Range(0, RacePlanner.IndexedFrom).Select(i => new RaceCandidate($"if{i}", i % 3)).ToList();
        var planner = new RacePlanner(many, 443, new RaceSettings());
        Assert.IsType<RaceCommand.Note>(planner.Poll(TimeSpan.Zero));
        many.Add(new RaceCandidate("if0", 1));
        Assert.Throws<ArgumentException>(() => new RacePlanner(many, 443, new RaceSettings()));
        Assert.Throws<ArgumentException>(() => new RacePlanner(many, 443, new RaceSettings(), null, indexed: false));
    }

    /// <summary>Runs one generated race through both planners in lockstep; null when they agreed throughout.</summary>
    private static string? Compare(int seed)
    {
        var random = new Random(seed);
        var count = random.Next(1, 41);
        var ranks = random.Next(1, 4);
        var candidates = Enumerable.Range(0, count)
            .Select(i => new RaceCandidate($"if{i}", random.Next(0, ranks), IPv6: random.Next(4) > 0, IPv4: random.Next(4) > 0,
                SmoothedRtt: random.Next(2) == 0 ? null : TimeSpan.FromMilliseconds(random.Next(5, 900)),
                RecentFailures: random.Next(4) == 0 ? 1 : 0)
            {
                Transports = (random.Next(3) == 0, random.Next(8) > 0) switch
                {
                    (true, true) => [TransportName.Quic, TransportName.Tcp],
                    (true, false) => [TransportName.Quic],
                    (false, true) => [TransportName.Tcp],
                    _ => [],
                },
            })
            .ToList();
        var settings = new RaceSettings { MaxConcurrentAttempts = random.Next(1, 8), RaceTimeout = TimeSpan.FromSeconds(20) };
        var scanning = new RacePlanner(candidates, 443, settings, null, indexed: false);
        var indexed = new RacePlanner(candidates, 443, settings, null, indexed: true);

        var events = new PriorityQueue<RaceInput, (TimeSpan, int)>();
        var order = 0;
        void At(TimeSpan when, RaceInput input) => events.Enqueue(input, (when, order++));
        void Handle(RaceInput input, TimeSpan at)
        {
            scanning.Handle(input, at);
            indexed.Handle(input, at);
        }

        // Now and then an interface is lost, or (as a careless caller might) answered before it was asked.
        for (var i = 0; i < count; i++)
        {
            if (random.Next(10) == 0)
            {
                At(TimeSpan.FromMilliseconds(random.Next(0, 4000)), new RaceInput.InterfaceLost($"if{i}", "link down"));
            }

            if (random.Next(20) == 0)
            {
                At(TimeSpan.FromMilliseconds(random.Next(0, 100)), new RaceInput.ResolutionAnswered($"if{i}", AddressFamily.InterNetwork, [IPAddress.Parse("192.0.2.9")]));
            }
        }

        var now = TimeSpan.Zero;
        for (var steps = 0; steps < 200_000; steps++)
        {
            var expected = scanning.Poll(now);
            var actual = indexed.Poll(now);
            if (!Equals(expected, actual))
            {
                return $"at {now.TotalMilliseconds} ms, step {steps}: the scanning planner said {expected?.ToString() ?? "nothing"}, the indexed one {actual?.ToString() ?? "nothing"}";
            }

            switch (expected)
            {
                case null:
                    return scanning.Attempts.Count == indexed.Attempts.Count ? null : "different attempt counts";
                case RaceCommand.StartResolution r:
                    var (after, answer) = RandomNetwork.Answer(r, random);
                    At(now + after, answer);

                    break;
                case RaceCommand.StartAttempt s:
                    var takes = TimeSpan.FromMilliseconds(random.Next(1, 3000));
                    switch (random.Next(6))
                    {
                        case 0: At(now + takes, new RaceInput.AttemptSucceeded(s.Id)); break;
                        case 1: At(now + takes, new RaceInput.AttemptFailed(s.Id, AttemptFailureKind.Hard, "refused")); break;
                        case 2:
                        case 3: At(now + takes, new RaceInput.AttemptFailed(s.Id, AttemptFailureKind.Soft, "timed out")); break;
                        default: break; // blackhole: never answers
                    }

                    break;
                case RaceCommand.WaitUntil wait:
                    if (events.TryPeek(out _, out var next) && next.Item1 <= wait.At)
                    {
                        now = next.Item1;
                        Handle(events.Dequeue(), now);
                    }
                    else
                    {
                        now = wait.At;
                    }

                    break;
            }
        }

        return "the race did not end within 200,000 steps";
    }
}
