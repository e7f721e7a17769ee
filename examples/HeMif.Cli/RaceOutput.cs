using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using HeMif.Report;

namespace HeMif.Cli;

/// <summary>How the CLI shows a race: the lines of the human view (<see cref="TimelineView"/>), or one JSON object (the same for simulate and connect).</summary>
public static class RaceOutput
{
    /// <summary>
    /// Indented, with the characters the timeline uses (§, →) left as they are. The relaxed encoder still escapes
    /// control characters (ESC as <c>\u001B</c>, C1 controls) and line separators, but not format characters such as
    /// bidi overrides (<c>U+202E</c>): <see cref="Serialize"/> escapes those after it.
    /// </summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// <paramref name="value"/> as indented JSON (<see cref="JsonOptions"/>), format characters escaped too
    /// (<see cref="TerminalText.Json"/>): what every <c>--json</c> of the CLI prints.
    /// </summary>
    public static string Serialize(object value) => TerminalText.Json(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>The human view of one race (<see cref="TimelineView"/>) with the default settings: colour only on a terminal.</summary>
    public static void WriteText(TextWriter o, RaceReport race, string title) => TimelineView.Create(o, new ViewSettings()).Write(race, title);

    /// <summary>The race's title: what it is, and the destination.</summary>
    public static string TitleLine(RaceReport race, string title)
    {
        ArgumentNullException.ThrowIfNull(race);
        return $"{title}: {CliInput.Endpoint(race.Host, race.Port)}";
    }

    /// <summary>The delays the race used.</summary>
    public static string TimingsLine(RaceReport race)
    {
        ArgumentNullException.ThrowIfNull(race);
        var t = race.Timings;
        var costly = t.CostlyFallbackDelay is { } c ? $", {Ms(c)} ms for metered or roaming interfaces" : "";
        return $"fallback delay {Ms(t.FallbackDelay)} ms ({SourceName(t.FallbackDelaySource)}, timer from {Ms(t.FallbackTimerStart)} ms{costly}), " +
               $"attempt delay {Ms(t.ConnectionAttemptDelay)} ms, resolution delay {Ms(t.ResolutionDelay)} ms";
    }

    /// <summary>Who set the fallback delay, in words (draft §7.2).</summary>
    public static string SourceName(FallbackDelaySource source) => source switch
    {
        FallbackDelaySource.Adaptive => "adapted from history",
        FallbackDelaySource.Options => "set by the options",
        FallbackDelaySource.OperatorRule => "set by an operator rule",
        FallbackDelaySource.UserRule => "set by a user rule",
        FallbackDelaySource.Request => "set by the request",
        _ => "the default",
    };

    /// <summary>One timeline event as a line: time, kind, interface, detail.</summary>
    public static string EventLine(RaceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return $"  {Ms(e.At),9} ms  {e.Kind,-14} {(e.Interface is null ? "" : e.Interface + ": ")}{e.Detail}";
    }

    /// <summary>The outcome: the winning path and the time to connect, or why the race failed.</summary>
    public static string OutcomeLine(RaceReport race)
    {
        ArgumentNullException.ThrowIfNull(race);
        if (race.Outcome != RaceOutcome.Connected)
        {
            return $"failed: {race.Failure}";
        }

        var w = race.Winner;
        var path = w is null ? "connected" : $"connected over {w.Interface} ({w.Kind}), {w.Transport.ToUpperInvariant()} {w.Family} to {w.Remote}";
        return race.TimeToConnect is { } t ? $"{path} in {Ms(t)} ms" : path;
    }

    /// <summary>One race as the JSON object `hemif simulate --json` and `hemif connect --json` print.</summary>
    public static Dictionary<string, object?> Json(string scenario, RaceReport r) => new()
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
            // Added by issue 14 (draft §7.2): who set the fallback delay and why, when its timer started, and the longer
            // delay metered or roaming interfaces waited (null when none).
            ["fallbackDelaySource"] = r.Timings.FallbackDelaySource.ToString(),
            ["fallbackDelayReason"] = r.Timings.FallbackDelayReason,
            ["fallbackTimerStartMs"] = r.Timings.FallbackTimerStart.TotalMilliseconds,
            ["costlyFallbackDelayMs"] = r.Timings.CostlyFallbackDelay?.TotalMilliseconds,
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

    /// <summary>
    /// Several races as one object: the last race's fields at the top level, and <c>races</c> with every race's object
    /// (always, or only when there are several).
    /// </summary>
    public static Dictionary<string, object?> Json(string name, IReadOnlyList<RaceReport> reports, bool alwaysListRaces)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var races = reports.Select(r => Json(name, r)).ToList();
        var last = new Dictionary<string, object?>(races[^1]);
        if (alwaysListRaces || races.Count > 1)
        {
            last["races"] = races;
        }

        return last;
    }

    /// <summary>Milliseconds, invariant, up to three decimals.</summary>
    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}
