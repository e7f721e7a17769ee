using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HeMif.Chaos;

/// <summary>The run's table (fault × outcome × time percentiles) and its JSON.</summary>
internal static class Summary
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Table(IReadOnlyList<RaceRecord> records, IReadOnlyList<Violation> violations)
    {
        var text = new StringBuilder();
        text.AppendLine("| fault | mode | outcome | races | p50 ms | p90 ms | p99 ms | max ms | violations |");
        text.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in records
            .GroupBy(r => (r.Draw.Fault.Name, Mode: r.Draw.FreshProcess ? "process" : "connector", r.Outcome))
            .OrderBy(g => Fault.All.ToList().FindIndex(f => f.Name == g.Key.Name)).ThenBy(g => g.Key.Mode, StringComparer.Ordinal).ThenBy(g => g.Key.Outcome, StringComparer.Ordinal))
        {
            var times = group.Select(r => r.TimeToConnectMs).OfType<double>().Order().ToList();
            var broken = violations.Count(v => group.Any(r => r.Draw.Index == v.Race));
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key.Name} | {group.Key.Mode} | {group.Key.Outcome} | {group.Count()} | {P(times, 0.5)} | {P(times, 0.9)} | {P(times, 0.99)} | {P(times, 1)} | {broken} |"));
        }

        text.AppendLine();
        text.AppendLine("| invariant | violations |");
        text.AppendLine("|---|---:|");
        foreach (var name in new[] { "one-winner", "failure-lists-everything", "prohibited-silent", "no-captive-winner", "no-leak", "in-time", "ran" })
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {violations.Count(v => v.Invariant == name)} |"));
        }

        return text.ToString();
    }

    public static string Json(int seed, IReadOnlyList<RaceRecord> records, IReadOnlyList<Violation> violations) =>
        JsonSerializer.Serialize(new
        {
            seed,
            races = records.Select(r => new
            {
                index = r.Draw.Index,
                fault = r.Draw.Fault.Name,
                mode = r.Draw.FreshProcess ? "process" : "connector",
                midRaceMs = r.Draw.Fault.ChangesMidRace ? r.Draw.MidRaceDelayMs : (int?)null,
                outcome = r.Outcome,
                timeToConnectMs = r.TimeToConnectMs,
                prohibitedPackets = r.ProhibitedPackets,
                leak = r.Leak,
                error = r.Error,
            }),
            violations = violations.Select(v => new { race = v.Race, fault = v.Fault, invariant = v.Invariant, detail = v.Detail }),
        }, Indented);

    /// <summary>The nearest-rank percentile, or "-" without samples.</summary>
    private static string P(List<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return "-";
        }

        var rank = (int)Math.Ceiling(p * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)].ToString("F0", CultureInfo.InvariantCulture);
    }
}
