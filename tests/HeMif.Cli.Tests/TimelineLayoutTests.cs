using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Report;
using static HeMif.Cli.Tests.RaceReports;

namespace HeMif.Cli.Tests;

/// <summary>
/// The pure part of the race view: where the bars go. Over generated reports: every bar inside the axis, the rows
/// ordered by start, every attempt shown exactly once, the winner marked, the line no wider than the view.
/// </summary>
public sealed class TimelineLayoutTests
{
    [Property(MaxTest = 300)]
    public Property Every_generated_report_lays_out_inside_the_axis_with_each_attempt_once_and_the_winner_marked()
    {
        return Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var width = seed % 301; // from none at all to a wide terminal
            var report = Generate(seed);
            var layout = TimelineLayout.Compute(report, width);
            Check(report, layout, $"seed {seed}, width {width}");
        });
    }

    [Fact]
    public void A_race_decided_at_once_still_has_an_axis()
    {
        var report = With(Attempt(0, "lo", 0, 0, "won"));
        var layout = TimelineLayout.Compute(report, 100);
        var row = Assert.Single(layout.Rows);
        Assert.Equal((0, 1, BarClass.Won), (row.StartColumn, row.Length, row.Class));
        Assert.Equal(TimeSpan.FromMilliseconds(1), layout.AxisEnd);
        Check(report, layout, "zero-length race");
    }

    [Fact]
    public void A_report_with_no_attempt_and_no_event_has_no_rows_and_does_not_throw()
    {
        var layout = TimelineLayout.Compute(With(), 100);
        Assert.Empty(layout.Rows);
        Assert.Equal(layout.BarWidth, layout.Ruler.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(TimelineLayout.MinWidth)]
    [InlineData(100)]
    [InlineData(400)]
    public void Thirty_attempts_in_a_30_s_race_fit_any_width(int width)
    {
        var attempts = Enumerable.Range(0, 30)
            .Select(i => Attempt((ulong)i, i % 2 == 0 ? "wlan0" : "rmnet0", i * 1000, 30_000, i == 29 ? "won" : "cancelled", "lost to #29"))
            .ToArray();
        var report = With(attempts);
        var layout = TimelineLayout.Compute(report, width);
        Assert.Equal(30, layout.Rows.Count);
        Check(report, layout, $"width {width}");
        Assert.Equal(TimeSpan.FromSeconds(30), layout.AxisEnd);
        Assert.Equal(layout.BarWidth - 1, layout.Rows[^1].StartColumn + layout.Rows[^1].Length - 1); // ends at the axis' end
    }

    [Fact]
    public void A_bar_spans_from_its_start_to_its_end_on_the_common_axis()
    {
        // 0 → 2000 ms on 2001 columns' worth of axis: the bar of an attempt from 500 to 1500 ms covers the middle half.
        var report = With(Attempt(0, "wlan0", 0, 2000, "cancelled", "lost to #1"), Attempt(1, "rmnet0", 500, 1500, "won"));
        var layout = TimelineLayout.Compute(report, 100);
        var (first, second) = (layout.Rows[0], layout.Rows[1]);
        Assert.Equal((0, layout.BarWidth), (first.StartColumn, first.Length));
        Assert.Equal(layout.Column(TimeSpan.FromMilliseconds(500)), second.StartColumn);
        Assert.Equal(layout.Column(TimeSpan.FromMilliseconds(1500)), second.StartColumn + second.Length - 1);
        Assert.Equal("lost to #1", first.Result);
        Assert.Equal("won, 1000 ms", second.Result);
    }

    [Fact]
    public void Results_are_told_apart_hard_soft_timeout_and_lost()
    {
        var report = new RaceReport("h", 443, RaceOutcome.Failed, null, null, Timings,
            [
                Attempt(0, "wlan0", 0, 10, "failed", "connection refused"),
                Attempt(1, "wlan0", 0, 20, "failed", "no answer"),
                Attempt(2, "rmnet0", 0, 30, "cancelled", "no connection within the race timeout of 30 ms"),
                Attempt(3, "rmnet0", 0, 30, "cancelled", "lost to #9"),
                Attempt(4, "eth0", 0, 30, "cancelled", "interface lost: link down"),
                Attempt(5, "eth0", 0, null, "running"),
            ],
            [],
            [new RaceEvent(TimeSpan.FromMilliseconds(10), "attempt-failed", "#0: connection refused (hard error)", "wlan0"),
             new RaceEvent(TimeSpan.FromMilliseconds(20), "attempt-failed", "#1: no answer (soft error)", "wlan0")],
            "x");
        var classes = TimelineLayout.Compute(report, 100).Rows.Select(r => r.Class).ToList();
        Assert.Equal([BarClass.FailedHard, BarClass.FailedSoft, BarClass.TimedOut, BarClass.Cancelled, BarClass.FailedSoft, BarClass.Running], classes);
    }

    [Fact]
    public void The_fallback_delay_and_the_moment_another_interface_started_are_marked_on_the_axis()
    {
        var report = new RaceReport("h", 443, RaceOutcome.Connected, null, TimeSpan.FromMilliseconds(2100), Timings,
            [Attempt(0, "wlan0", 20, 2100, "cancelled", "lost to #1"), Attempt(1, "rmnet0", 2050, 2100, "won")],
            [],
            [new RaceEvent(TimeSpan.Zero, "plan", "rank 1, score 30: +30 §4.2.5 common practice: Wifi", "wlan0"),
             new RaceEvent(TimeSpan.Zero, "plan", "rank 2, score 20: +20 §4.2.5 common practice: Cellular", "rmnet0"),
             new RaceEvent(TimeSpan.Zero, "resolve", "IPv6 (AAAA) for h", "wlan0"),
             new RaceEvent(TimeSpan.FromMilliseconds(2000), "note", "fallback delay of 2000 ms passed", null),
             new RaceEvent(TimeSpan.FromMilliseconds(2000), "resolve", "IPv6 (AAAA) for h", "rmnet0")],
            null);
        var layout = TimelineLayout.Compute(report, 100);
        var marker = Assert.Single(layout.Markers);
        Assert.Equal(layout.Column(TimeSpan.FromMilliseconds(2000)), marker.Column);
        Assert.Equal("2000 ms fallback delay, rmnet0 started", marker.Label);
        Assert.Equal(TimelineLayout.MarkerHead, layout.Ruler[marker.Column]);
        Assert.Equal([new PlanEntry("wlan0", 1, "30", "+30 §4.2.5 common practice: Wifi"), new PlanEntry("rmnet0", 2, "20", "+20 §4.2.5 common practice: Cellular")], layout.Plan);
    }

    [Fact]
    public void A_planned_interface_without_attempts_gets_a_row_marked_not_started_and_a_note_is_listed_once()
    {
        var report = new RaceReport("h", 443, RaceOutcome.Connected, null, TimeSpan.FromMilliseconds(40), Timings,
            [Attempt(0, "wlan0", 20, 40, "won")],
            [],
            [new RaceEvent(TimeSpan.Zero, "plan", "rank 1, score 30: x", "wlan0"),
             new RaceEvent(TimeSpan.Zero, "plan", "rank 2, score 20: y", "rmnet0"),
             new RaceEvent(TimeSpan.Zero, "note", "QUIC unsupported on this host: TCP only", "wlan0"),
             new RaceEvent(TimeSpan.FromMilliseconds(30), "note", "QUIC unsupported on this host: TCP only", "rmnet0")],
            null);
        var layout = TimelineLayout.Compute(report, 100);
        var last = layout.Rows[^1];
        Assert.Equal(("rmnet0", BarClass.NotStarted, 0), (last.Interface, last.Class, last.Length));
        Assert.Equal("no attempt", last.Result); // it joined (its note) but the race was won first
        var note = Assert.Single(layout.Notes);
        Assert.Equal(["wlan0", "rmnet0"], note.Interfaces);
    }

    /// <summary>The layout invariants, with what broke and where in the message.</summary>
    private static void Check(RaceReport report, TimelineLayout layout, string where)
    {
        var width = Math.Max(layout.Width, TimelineLayout.MinWidth);
        Assert.True(layout.InterfaceWidth + layout.LabelWidth + layout.BarWidth + layout.ResultWidth + 5 <= width, $"{where}: the line is wider than {width}");
        Assert.True(layout.Scale.Length == layout.BarWidth && layout.Ruler.Length == layout.BarWidth, $"{where}: the axis is not {layout.BarWidth} wide");
        Assert.All(layout.Markers, m => Assert.InRange(m.Column, 0, layout.BarWidth - 1));

        foreach (var row in layout.Rows)
        {
            Assert.True(row.Cells.Length == layout.BarWidth, $"{where}: row {row.Label} has {row.Cells.Length} cells");
            if (row.Attempt is not null)
            {
                Assert.True(row.StartColumn >= 0 && row.Length >= 1 && row.StartColumn + row.Length <= layout.BarWidth,
                    $"{where}: bar {row.Label} at {row.StartColumn}+{row.Length} outside 0..{layout.BarWidth}");
                Assert.True(row.Cells.Substring(row.StartColumn, row.Length).All(c => c == TimelineLayout.Fill(row.Class)), $"{where}: bar {row.Label} is not drawn whole");
            }
        }

        // Every attempt exactly once.
        var shown = layout.Rows.Where(r => r.Attempt is not null).Select(r => r.Attempt!).ToList();
        Assert.True(shown.Count == report.Attempts.Count && report.Attempts.All(a => shown.Count(s => ReferenceEquals(s, a)) == 1), $"{where}: attempts not shown exactly once");

        // Ordered by start: within an interface, and interfaces by their first attempt.
        var groups = layout.Rows.Where(r => r.Attempt is not null).GroupBy(r => r.Interface).ToList();
        foreach (var g in groups)
        {
            var starts = g.Select(r => r.Attempt!.Start).ToList();
            Assert.True(starts.SequenceEqual(starts.Order()), $"{where}: {g.Key}'s attempts are not in start order");
        }

        var firsts = groups.Select(g => g.First().Attempt!.Start).ToList();
        Assert.True(firsts.SequenceEqual(firsts.Order()), $"{where}: interfaces are not in the order of their first attempt");
        Assert.True(layout.Rows.SkipWhile(r => r.Attempt is not null).All(r => r.Attempt is null), $"{where}: an interface without attempts comes before one with");
        Assert.True(layout.Rows.GroupBy(r => r.Interface).All(g => g.Count(r => r.FirstOfInterface) == 1), $"{where}: an interface's name is not printed exactly once");

        // The winner is marked, and only the winner.
        var won = layout.Rows.Where(r => r.Class == BarClass.Won).Select(r => r.Attempt).ToList();
        Assert.Equal(report.Attempts.Where(a => a.Result == "won"), won);
        if (report.Winner is not null)
        {
            Assert.Contains(layout.Rows, r => r.Class == BarClass.Won && r.Interface == report.Winner.Interface);
        }
    }
}
