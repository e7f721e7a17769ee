using HeMif.Remember;

namespace HeMif.Race;

/// <summary>What one race taught about one interface and its destination, for that interface's outcome cache.</summary>
/// <param name="Interface">The interface.</param>
/// <param name="Succeeded">It carried the winner.</param>
/// <param name="Failed">It did not, and counts as a failure (every attempt failed, or it had the whole fallback delay).</param>
/// <param name="Rtt">The winner's handshake time, when it won.</param>
/// <param name="Attempts">Each of its attempts that says something: won, failed, or stayed silent.</param>
/// <param name="Silent">It failed softly: no attempt had a hard error, they stayed silent or timed out (its path may have broken).</param>
internal sealed record RaceLesson(string Interface, bool Succeeded, bool Failed, TimeSpan? Rtt, IReadOnlyList<AttemptSummary> Attempts, bool Silent);

/// <summary>
/// Reads a finished race's attempts into what each interface's outcome cache keeps (draft §5.2.3: "The node would cache
/// information regarding the outcome of each connection attempt"; RFC 8305 §4 and the draft §7.5: per address family).
/// Pure: the racer sends the lessons, the supervisors keep them.
/// </summary>
internal static class RaceLessons
{
    /// <summary>
    /// One lesson per interface that had attempts. An attempt stayed silent when it ended without an answer of its own —
    /// a soft failure (no answer, a timeout), or cancelled after running at least as long as the winner took to connect
    /// (it had the winner's chance and did not answer); cancelled sooner, it proved nothing. An interface failed when all
    /// its attempts failed, or when it had the whole fallback delay (<paramref name="fallbackDelay"/>) and did not connect;
    /// one that joined late and was cancelled by someone else's win proved nothing either way.
    /// </summary>
    public static List<RaceLesson> From(IReadOnlyList<AttemptRecord> attempts, TimeSpan decidedAt, TimeSpan fallbackDelay)
    {
        var winner = attempts.FirstOrDefault(a => a.Outcome == AttemptOutcome.Won);
        var winnerTook = winner is null ? (TimeSpan?)null : winner.Ended!.Value - winner.Started;
        var lessons = new List<RaceLesson>();
        foreach (var group in attempts.GroupBy(a => a.Endpoint.Interface, StringComparer.Ordinal))
        {
            var summaries = new List<AttemptSummary>();
            var hard = false;
            foreach (var a in group)
            {
                var ended = a.Ended ?? decidedAt;
                AttemptVerdict? verdict = a.Outcome switch
                {
                    AttemptOutcome.Won => AttemptVerdict.Won,
                    AttemptOutcome.Failed when a.FailureKind == AttemptFailureKind.Hard => AttemptVerdict.Failed,
                    AttemptOutcome.Failed => AttemptVerdict.Silent,
                    AttemptOutcome.Cancelled when winnerTook is null || ended - a.Started >= winnerTook => AttemptVerdict.Silent,
                    _ => null,
                };
                hard |= a.Outcome == AttemptOutcome.Failed && a.FailureKind == AttemptFailureKind.Hard;
                if (verdict is { } v)
                {
                    summaries.Add(new AttemptSummary(a.Endpoint.Family, a.Endpoint.Transport, v));
                }
            }

            var won = group.FirstOrDefault(a => a.Outcome == AttemptOutcome.Won);
            if (won is not null)
            {
                lessons.Add(new RaceLesson(group.Key, true, false, won.Ended!.Value - won.Started, summaries, false));
                continue;
            }

            var allFailed = group.All(a => a.Outcome == AttemptOutcome.Failed);
            var failed = allFailed || decidedAt - group.Min(a => a.Started) >= fallbackDelay;
            lessons.Add(new RaceLesson(group.Key, false, failed, null, summaries, failed && !hard));
        }

        return lessons;
    }
}
