using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HeMif.Report;

namespace HeMif.Cli;

/// <summary>What an attempt's bar says: its colour, and without colour its fill character.</summary>
internal enum BarClass
{
    /// <summary>The attempt that connected.</summary>
    Won,

    /// <summary>Failed with a hard error (TCP RST, ICMP unreachable): draft §7.2's trigger for the fallback.</summary>
    FailedHard,

    /// <summary>Failed softly (no answer, an ICMP soft error) or its interface went away.</summary>
    FailedSoft,

    /// <summary>Still running when the race timeout ended the race.</summary>
    TimedOut,

    /// <summary>Cancelled: it lost to the winner, or the caller cancelled the race.</summary>
    Cancelled,

    /// <summary>Still running when the report was made.</summary>
    Running,

    /// <summary>A row for an interface that took part in the plan but made no attempt.</summary>
    NotStarted,
}

/// <summary>One line of the timeline: an attempt, or an interface with no attempt.</summary>
/// <param name="Interface">The interface.</param>
/// <param name="FirstOfInterface">Whether this is the interface's first line (the name is printed once).</param>
/// <param name="Attempt">The attempt, or null for an interface with no attempt.</param>
/// <param name="StartColumn">The bar's first column on the axis, from 0.</param>
/// <param name="Length">The bar's length in columns (at least 1 for an attempt, 0 for no attempt).</param>
/// <param name="Class">What the bar says.</param>
/// <param name="Label">The attempt: id, transport, family, remote.</param>
/// <param name="Result">The result in a few words.</param>
/// <param name="Cells">The axis part of the line, <see cref="TimelineLayout.BarWidth"/> characters: bar, marker lines, spaces.</param>
internal sealed record TimelineRow(string Interface, bool FirstOfInterface, AttemptReport? Attempt, int StartColumn, int Length, BarClass Class, string Label, string Result, string Cells);

/// <summary>A moment marked on the axis (the fallback delay, an interface joining the race).</summary>
/// <param name="Column">Its column on the axis.</param>
/// <param name="Label">What happened then, with the time.</param>
internal sealed record AxisMarker(int Column, string Label);

/// <summary>A candidate as the plan ranked it (parsed from the report's <c>plan</c> events).</summary>
internal sealed record PlanEntry(string Interface, int Rank, string Score, string Why);

/// <summary>A note of the race, listed once however many interfaces it concerns.</summary>
internal sealed record RaceNote(TimeSpan At, string Kind, string Text, IReadOnlyList<string> Interfaces);

/// <summary>
/// The pure part of the race view: where every bar goes on a common time axis, computed from a <see cref="RaceReport"/>
/// alone (so a simulated and a real race look the same) for a given total width. <see cref="TimelineView"/> draws it.
/// </summary>
internal sealed partial class TimelineLayout
{
    /// <summary>The narrowest view laid out (every column at its minimum); narrower widths are treated as this one.</summary>
    public const int MinWidth = MaxInterfaceWidth + MinLabelWidth + MinBarWidth + MinResultWidth + Separators;

    /// <summary>The marker glyph on the ruler, pointing down into the rows.</summary>
    public const char MarkerHead = '▼';

    /// <summary>The marker line drawn through the rows where no bar is.</summary>
    public const char MarkerLine = '┊';

    private const int MaxInterfaceWidth = 12;
    private const int MinLabelWidth = 10;
    private const int MinBarWidth = 10;
    private const int MinResultWidth = 8;
    private const int Separators = 5;
    private const int MaxLabelWidth = 34;
    private const int MaxResultWidth = 24;
    private const string LostTo = "lost to ";
    private const string RaceTimeout = "no connection within the race timeout";

    private TimelineLayout(int width, int interfaceWidth, int labelWidth, int barWidth, int resultWidth, TimeSpan axisEnd)
    {
        Width = width;
        InterfaceWidth = interfaceWidth;
        LabelWidth = labelWidth;
        BarWidth = barWidth;
        ResultWidth = resultWidth;
        AxisEnd = axisEnd;
    }

    /// <summary>The total width the layout was made for.</summary>
    public int Width { get; }

    /// <summary>Width of the interface column.</summary>
    public int InterfaceWidth { get; }

    /// <summary>Width of the attempt column.</summary>
    public int LabelWidth { get; }

    /// <summary>Width of the axis, in columns.</summary>
    public int BarWidth { get; }

    /// <summary>Width of the result column.</summary>
    public int ResultWidth { get; }

    /// <summary>The race time at the axis' last column (the last thing the report tells of; never zero).</summary>
    public TimeSpan AxisEnd { get; }

    /// <summary>The scale above the ruler: tick labels at their columns, <see cref="BarWidth"/> characters.</summary>
    public string Scale { get; private set; } = "";

    /// <summary>The ruler: <c>├──┼──┤</c> with ticks, and <see cref="MarkerHead"/> at each marker; <see cref="BarWidth"/> characters.</summary>
    public string Ruler { get; private set; } = "";

    /// <summary>One line per attempt, grouped by interface; interfaces with no attempt last.</summary>
    public IReadOnlyList<TimelineRow> Rows { get; private set; } = [];

    /// <summary>The marked moments, by column.</summary>
    public IReadOnlyList<AxisMarker> Markers { get; private set; } = [];

    /// <summary>Notes, conflicts and failures of the race, each once.</summary>
    public IReadOnlyList<RaceNote> Notes { get; private set; } = [];

    /// <summary>The ranked candidates, best first, where the report has them.</summary>
    public IReadOnlyList<PlanEntry> Plan { get; private set; } = [];

    /// <summary>Lays <paramref name="report"/> out for <paramref name="width"/> columns.</summary>
    public static TimelineLayout Compute(RaceReport report, int width)
    {
        ArgumentNullException.ThrowIfNull(report);
        width = Math.Max(width, MinWidth);
        var attempts = report.Attempts.OrderBy(a => a.Start).ThenBy(a => a.Id).ToList();
        var plan = ParsePlan(report.Events);
        var joined = JoinTimes(report.Events);
        var hard = HardFailures(report.Events);

        // Interfaces in the order their first attempt started; then those that made none, best rank first.
        // (Sets and a lookup, not list scans: a race over thousands of interfaces is laid out in linear time.)
        var order = attempts.Select(a => a.Interface).Distinct(StringComparer.Ordinal).ToList();
        var listed = order.ToHashSet(StringComparer.Ordinal);
        order.AddRange(plan.OrderBy(p => p.Rank).Select(p => p.Interface).Where(listed.Add));
        order.AddRange(joined.Keys.Where(i => !listed.Contains(i)).Order(StringComparer.Ordinal));

        var axisEnd = AxisEndOf(report);
        var byInterface = attempts.ToLookup(a => a.Interface, StringComparer.Ordinal);
        var entries = new List<(string Interface, AttemptReport? Attempt, BarClass Class, string Label, string Result)>();
        foreach (var name in order)
        {
            var own = byInterface[name].ToList();
            if (own.Count == 0)
            {
                entries.Add((name, null, BarClass.NotStarted, "", joined.ContainsKey(name) ? "no attempt" : "not started"));
                continue;
            }

            foreach (var a in own)
            {
                var cls = Classify(a, hard);
                entries.Add((name, a, cls, Label(a, report.Port), Result(a, cls)));
            }
        }

        // Column widths: names and labels as long as they need, up to a cap and leaving the axis half of the line;
        // the result column gets at most a third of what is left. "name label  bar  result": five separators.
        var interfaceWidth = Math.Clamp(entries.Count == 0 ? 5 : entries.Max(e => e.Interface.Length), 5, MaxInterfaceWidth);
        var rest = width - interfaceWidth - Separators;
        var labelCap = Math.Max(MinLabelWidth, Math.Min(MaxLabelWidth, rest - MinResultWidth - Math.Max(MinBarWidth, rest / 2)));
        var labelWidth = Math.Clamp(entries.Count == 0 ? 0 : entries.Max(e => e.Label.Length), MinLabelWidth, labelCap);
        var remaining = rest - labelWidth;
        var resultCap = Math.Clamp(remaining / 3, MinResultWidth, MaxResultWidth);
        var resultWidth = Math.Clamp(entries.Count == 0 ? 0 : entries.Max(e => e.Result.Length), MinResultWidth, resultCap);
        var barWidth = Math.Max(MinBarWidth, remaining - resultWidth);

        var layout = new TimelineLayout(width, interfaceWidth, labelWidth, barWidth, resultWidth, axisEnd);
        layout.Markers = layout.MarkersOf(report, plan, joined, order);
        var markerColumns = layout.Markers.Select(m => m.Column).ToHashSet();
        var rows = new List<TimelineRow>(entries.Count);
        string? previous = null;
        foreach (var e in entries)
        {
            int start, length;
            if (e.Attempt is { } a)
            {
                start = layout.Column(a.Start);
                length = layout.Column(a.End ?? axisEnd) - start + 1;
            }
            else
            {
                // Nothing to draw; an interface that joined but never got an attempt shows a dotted track from then on.
                start = joined.TryGetValue(e.Interface, out var at) ? layout.Column(at) : barWidth;
                length = 0;
            }

            rows.Add(new TimelineRow(e.Interface, e.Interface != previous, e.Attempt, start, length, e.Class, e.Label, e.Result,
                layout.Cells(start, length, e.Class, markerColumns)));
            previous = e.Interface;
        }

        layout.Rows = rows;
        layout.Plan = plan;
        layout.Notes = NotesOf(report.Events);
        (layout.Scale, layout.Ruler) = layout.Axis(markerColumns);
        return layout;
    }

    /// <summary>The column of race time <paramref name="t"/>, clamped to the axis.</summary>
    public int Column(TimeSpan t)
    {
        if (t <= TimeSpan.Zero)
        {
            return 0;
        }

        var fraction = Math.Min(1.0, t.Ticks / (double)AxisEnd.Ticks);
        return (int)Math.Round(fraction * (BarWidth - 1), MidpointRounding.AwayFromZero);
    }

    /// <summary>The fill character of a bar of this class: distinct so the view reads without colour.</summary>
    public static char Fill(BarClass c) => c switch
    {
        BarClass.Won => '█',
        BarClass.FailedHard => '▓',
        BarClass.FailedSoft or BarClass.TimedOut => '▒',
        BarClass.Cancelled => '░',
        BarClass.Running => '▶',
        _ => '·',
    };

    /// <summary>Milliseconds, invariant, up to three decimals (as the rest of the CLI prints them).</summary>
    public static string Ms(TimeSpan t) => RaceOutput.Ms(t);

    private static TimeSpan AxisEndOf(RaceReport report)
    {
        var end = TimeSpan.Zero;
        foreach (var a in report.Attempts)
        {
            end = Max(end, Max(a.Start, a.End ?? TimeSpan.Zero));
        }

        foreach (var e in report.Events)
        {
            end = Max(end, e.At);
        }

        end = Max(end, report.TimeToConnect ?? TimeSpan.Zero);

        // A race decided at once (an outcome cache hit, a local connect) still needs a scale to draw on.
        return end > TimeSpan.Zero ? end : TimeSpan.FromMilliseconds(1);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static BarClass Classify(AttemptReport a, HashSet<ulong> hard) => a.Result switch
    {
        "won" => BarClass.Won,
        "failed" => hard.Contains(a.Id) ? BarClass.FailedHard : BarClass.FailedSoft,
        "cancelled" when a.Error?.StartsWith(RaceTimeout, StringComparison.Ordinal) == true => BarClass.TimedOut,
        "cancelled" when a.Error?.StartsWith("interface lost", StringComparison.Ordinal) == true => BarClass.FailedSoft,
        "cancelled" => BarClass.Cancelled,
        _ => BarClass.Running,
    };

    private static string Label(AttemptReport a, int port)
    {
        // The port is the request's and in the title; the address alone keeps the column narrow.
        var remote = a.Remote;
        var suffix = ":" + port.ToString(CultureInfo.InvariantCulture);
        if (remote.EndsWith(suffix, StringComparison.Ordinal))
        {
            remote = remote[..^suffix.Length];
            if (remote.StartsWith('[') && remote.EndsWith(']'))
            {
                remote = remote[1..^1];
            }
        }

        return $"#{a.Id.ToString(CultureInfo.InvariantCulture)} {a.Transport} {a.Family} {remote}";
    }

    private static string Result(AttemptReport a, BarClass c)
    {
        var took = a.End is { } end ? $", {Ms(end - a.Start)} ms" : "";
        return c switch
        {
            BarClass.Won => "won" + took,
            BarClass.FailedHard => "failed hard" + took,
            BarClass.FailedSoft => (a.Result == "cancelled" ? "interface lost" : "failed soft") + took,
            BarClass.TimedOut => "timed out" + took,
            BarClass.Cancelled => a.Error?.StartsWith(LostTo, StringComparison.Ordinal) == true ? a.Error : "cancelled" + took,
            _ => "running",
        };
    }

    /// <summary>The attempts whose <c>attempt-failed</c> event says "(hard error)".</summary>
    private static HashSet<ulong> HardFailures(IReadOnlyList<RaceEvent> events)
    {
        var hard = new HashSet<ulong>();
        foreach (var e in events)
        {
            if (e.Kind == "attempt-failed" && e.Detail.EndsWith("(hard error)", StringComparison.Ordinal) && AttemptIdPattern().Match(e.Detail) is { Success: true } m
                && ulong.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                hard.Add(id);
            }
        }

        return hard;
    }

    /// <summary>When each interface joined the race: its first resolution, attempt or note.</summary>
    private static Dictionary<string, TimeSpan> JoinTimes(IReadOnlyList<RaceEvent> events)
    {
        var joined = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Interface is { } name && e.Kind is "resolve" or "attempt" or "note" or "resolved" or "resolve-failed")
            {
                joined.TryAdd(name, e.At);
            }
        }

        return joined;
    }

    private static List<PlanEntry> ParsePlan(IReadOnlyList<RaceEvent> events)
    {
        var plan = new List<PlanEntry>();
        foreach (var e in events)
        {
            if (e.Kind == "plan" && e.Interface is { } name && PlanPattern().Match(e.Detail) is { Success: true } m
                && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.Integer, CultureInfo.InvariantCulture, out var rank))
            {
                plan.Add(new PlanEntry(name, rank, m.Groups[2].Value, m.Groups[3].Value));
            }
        }

        return plan;
    }

    private static List<RaceNote> NotesOf(IReadOnlyList<RaceEvent> events)
    {
        var notes = new List<(TimeSpan At, string Kind, string Text, List<string> Interfaces)>();
        var byText = new Dictionary<(string Kind, string Text), (int Index, HashSet<string> Named)>();
        foreach (var e in events)
        {
            if (e.Kind is not ("note" or "conflict" or "attempt-failed" or "resolve-failed"))
            {
                continue;
            }

            // "QUIC unsupported on this host" is said once per interface; the view says it once, naming them all.
            if (!byText.TryGetValue((e.Kind, e.Detail), out var seen))
            {
                byText[(e.Kind, e.Detail)] = (notes.Count, e.Interface is null ? new(StringComparer.Ordinal) : new([e.Interface], StringComparer.Ordinal));
                notes.Add((e.At, e.Kind, e.Detail, e.Interface is null ? [] : [e.Interface]));
            }
            else if (e.Interface is { } name && seen.Named.Add(name))
            {
                notes[seen.Index].Interfaces.Add(name);
            }
        }

        return notes.ConvertAll(n => new RaceNote(n.At, n.Kind, n.Text, n.Interfaces));
    }

    /// <summary>
    /// The fallback delay (draft §7.2) when the race lasted that long and had an interface to fall back to, and the
    /// moment each interface that did not start at once joined (draft §5.2.3: the others start after the fallback delay).
    /// </summary>
    private List<AxisMarker> MarkersOf(RaceReport report, List<PlanEntry> plan, Dictionary<string, TimeSpan> joined, List<string> interfaces)
    {
        var moments = new List<(TimeSpan At, string What)>();
        // The delay counts from the timer's start: the first attempt on the preferred interface, or the request's start
        // when its resolution stayed silent (draft §5.2.3: "After making a connection attempt on the preferred pairs").
        var timings = report.Timings;
        var fallbackAt = timings.FallbackTimerStart + timings.FallbackDelay;
        if (interfaces.Count > 1 && timings.FallbackDelay > TimeSpan.Zero && fallbackAt <= AxisEnd)
        {
            moments.Add((fallbackAt, "fallback delay"));
        }

        if (interfaces.Count > 1 && timings.CostlyFallbackDelay is { } costly && timings.FallbackTimerStart + costly <= AxisEnd)
        {
            moments.Add((timings.FallbackTimerStart + costly, "metered or roaming fallback delay"));
        }

        // The best-ranked interfaces start at once; the others join later (at the fallback delay, on a hard error, when
        // the preferred ones run out). Without a plan in the report, "later" is later than the first to start.
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in plan)
        {
            ranks.TryAdd(p.Interface, p.Rank);
        }

        var bestRank = ranks.Count == 0 ? 0 : ranks.Values.Min();
        var first = joined.Count == 0 ? TimeSpan.Zero : joined.Values.Min();
        foreach (var name in interfaces)
        {
            if (joined.TryGetValue(name, out var at) && (ranks.TryGetValue(name, out var rank) ? rank > bestRank : at > first))
            {
                moments.Add((at, name + " started"));
            }
        }

        return moments
            .GroupBy(m => Column(m.At))
            .OrderBy(g => g.Key)
            .Select(g => new AxisMarker(g.Key, string.Join("; ", g.GroupBy(m => m.At).OrderBy(t => t.Key)
                .Select(t => $"{Ms(t.Key)} ms {string.Join(", ", t.Select(m => m.What))}"))))
            .ToList();
    }

    private string Cells(int start, int length, BarClass c, HashSet<int> markers)
    {
        var cells = new char[BarWidth];
        for (var i = 0; i < BarWidth; i++)
        {
            cells[i] = markers.Contains(i) ? MarkerLine : ' ';
        }

        if (c == BarClass.NotStarted)
        {
            for (var i = start; i < BarWidth; i++)
            {
                cells[i] = cells[i] == ' ' ? Fill(c) : cells[i];
            }
        }
        else
        {
            Array.Fill(cells, Fill(c), start, length);
        }

        return new string(cells);
    }

    /// <summary>Tick labels every "nice" step (1, 2 or 5 × 10ⁿ ms) that leaves room for them, and the end of the race.</summary>
    private (string Scale, string Ruler) Axis(HashSet<int> markers)
    {
        var scale = new StringBuilder(new string(' ', BarWidth));
        var ruler = new StringBuilder(new string('─', BarWidth));
        ruler[0] = '├';
        ruler[BarWidth - 1] = '┤';

        var endLabel = Ms(AxisEnd) + " ms";
        var endAt = Math.Max(0, BarWidth - endLabel.Length);
        Place(scale, endAt, endLabel);
        var step = TickStep();
        var freeUpTo = endAt - 2; // a tick label must end before the end label, with a space between
        if (step is { } s)
        {
            for (var k = 0; s * k < AxisEnd.TotalMilliseconds; k++)
            {
                var at = TimeSpan.FromMilliseconds(s * k);
                var column = Column(at);
                var label = Ms(at);
                if (column + label.Length <= freeUpTo)
                {
                    Place(scale, column, label);
                }

                if (column > 0 && column < BarWidth - 1)
                {
                    ruler[column] = '┼';
                }
            }
        }
        else if (endAt > 2)
        {
            Place(scale, 0, "0");
        }

        foreach (var m in markers)
        {
            ruler[m] = MarkerHead;
        }

        return (scale.ToString(), ruler.ToString());
    }

    /// <summary>The smallest nice step whose ticks are far enough apart for their labels, or null when none fits.</summary>
    private double? TickStep()
    {
        var endMs = AxisEnd.TotalMilliseconds;
        for (var exponent = -3; exponent <= 9; exponent++)
        {
            foreach (var mantissa in (ReadOnlySpan<int>)[1, 2, 5])
            {
                var step = mantissa * Math.Pow(10, exponent);
                if (step >= endMs)
                {
                    return null; // no tick between 0 and the end: the end label says it all
                }

                var widest = Ms(TimeSpan.FromMilliseconds(Math.Floor(endMs / step) * step)).Length;
                var gap = step / endMs * (BarWidth - 1);
                if (gap >= Math.Max(widest + 2, 6))
                {
                    return step;
                }
            }
        }

        return null;
    }

    private static void Place(StringBuilder line, int column, string text)
    {
        for (var i = 0; i < text.Length && column + i < line.Length; i++)
        {
            line[column + i] = text[i];
        }
    }

    [GeneratedRegex(@"^#(\d+):")]
    private static partial Regex AttemptIdPattern();

    [GeneratedRegex(@"^rank (-?\d+), score ([^:]+): (.*)$", RegexOptions.Singleline)]
    private static partial Regex PlanPattern();
}
