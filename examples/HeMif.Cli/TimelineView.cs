using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using HeMif.Report;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace HeMif.Cli;

/// <summary>When the view uses colour (ANSI escapes).</summary>
internal enum ColorMode
{
    /// <summary>On a terminal, unless <c>NO_COLOR</c> is set or <c>TERM</c> is <c>dumb</c>.</summary>
    Auto,

    /// <summary>Always, even into a file or a pipe.</summary>
    Always,

    /// <summary>Never.</summary>
    Never,
}

/// <summary>How the human view of a race is printed.</summary>
/// <param name="Color">When to use colour.</param>
/// <param name="Events">Also list every timeline event, one per line.</param>
internal sealed record ViewSettings(ColorMode Color = ColorMode.Auto, bool Events = false);

/// <summary><c>--color</c> and <c>--events</c>, shared by <c>hemif simulate</c> and <c>hemif connect</c>.</summary>
internal sealed class ViewOptions
{
    private readonly Option<string> _color;
    private readonly Option<bool> _events;

    private ViewOptions(Option<string> color, Option<bool> events)
    {
        _color = color;
        _events = events;
    }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public static ViewOptions AddTo(Command command)
    {
        var color = new Option<string>("--color")
        {
            Description = "auto (on a terminal unless NO_COLOR is set), always or never: colour in the race view",
            DefaultValueFactory = _ => "auto",
        };
        color.AcceptOnlyFromAmong("auto", "always", "never");
        var events = new Option<bool>("--events") { Description = "Also list every timeline event under the race view" };
        command.Options.Add(color);
        command.Options.Add(events);
        return new ViewOptions(color, events);
    }

    /// <summary>The settings the command line asked for.</summary>
    public ViewSettings Read(ParseResult parse) => new(
        parse.GetValue(_color) switch { "always" => ColorMode.Always, "never" => ColorMode.Never, _ => ColorMode.Auto },
        parse.GetValue(_events));
}

/// <summary>
/// The human view of a race, drawn with Spectre.Console from a <see cref="RaceReport"/> alone: a timeline with a bar
/// per attempt on a common time axis (<see cref="TimelineLayout"/> computes it), the notes, a table of the ranked and
/// excluded interfaces with their reasons, and the outcome.
/// </summary>
internal sealed partial class TimelineView
{
    /// <summary>The width when the output is not a terminal and <c>COLUMNS</c> does not say otherwise.</summary>
    public const int DefaultWidth = 100;

    private const int MaxWidth = 1000;

    private readonly IAnsiConsole _console;
    private readonly TextWriter _writer;
    private readonly bool _ansi;
    private readonly ViewSettings _settings;

    private TimelineView(IAnsiConsole console, TextWriter writer, bool ansi, ViewSettings settings)
    {
        _console = console;
        _writer = writer;
        _ansi = ansi;
        _settings = settings;
    }

    /// <summary>The console width.</summary>
    public int Width => _console.Profile.Width;

    /// <summary>Whether the view writes ANSI escapes.</summary>
    public bool Ansi => _ansi;

    /// <summary>
    /// A view over <paramref name="writer"/>. It is a terminal only when it is this process's standard output and that
    /// is not redirected; <paramref name="environment"/> (default: the process environment) supplies <c>NO_COLOR</c>,
    /// <c>TERM</c> and <c>COLUMNS</c>.
    /// </summary>
    public static TimelineView Create(TextWriter writer, ViewSettings settings, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(settings);
        environment ??= Environment.GetEnvironmentVariable;
        var terminal = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var ansi = UseAnsi(settings.Color, terminal, environment);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = ansi ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        if (ansi && console.Profile.Capabilities.ColorSystem is ColorSystem.NoColors or ColorSystem.Legacy)
        {
            console.Profile.Capabilities.ColorSystem = ColorSystem.Standard; // asked for colour (--color always) on a terminal that was not detected as having it
        }

        console.Profile.Capabilities.Unicode = true; // the timeline is drawn with block and box characters
        console.Profile.Width = WidthOf(terminal, environment, terminal ? TerminalWidth() : null);
        return new TimelineView(console, writer, ansi, settings);
    }

    /// <summary>
    /// Whether to write ANSI escapes. no-color.org: "Command-line software which adds ANSI color to its output by default
    /// should check for a NO_COLOR environment variable that, when present and not an empty string (regardless of its
    /// value), prevents the addition of ANSI color" and "per-instance command-line arguments should override $NO_COLOR".
    /// </summary>
    public static bool UseAnsi(ColorMode mode, bool terminal, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return mode switch
        {
            ColorMode.Always => true,
            ColorMode.Never => false,
            _ => terminal && string.IsNullOrEmpty(environment("NO_COLOR")) && !string.Equals(environment("TERM"), "dumb", StringComparison.Ordinal),
        };
    }

    /// <summary>The terminal's width on a terminal; otherwise <c>COLUMNS</c> when it is a sensible number, else <see cref="DefaultWidth"/>.</summary>
    public static int WidthOf(bool terminal, Func<string, string?> environment, int? terminalWidth)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (terminal && terminalWidth is > 0)
        {
            return Math.Clamp(terminalWidth.Value, TimelineLayout.MinWidth, MaxWidth);
        }

        return int.TryParse(environment("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns >= TimelineLayout.MinWidth
            ? Math.Min(columns, MaxWidth)
            : DefaultWidth;
    }

    /// <summary>
    /// Prints one race: title, timeline, notes, interfaces, (events,) outcome. Every text of the report is escaped for
    /// the terminal first (<see cref="TerminalText"/>), then as Spectre markup (<see cref="Markup.Escape"/>) where it
    /// goes into markup.
    /// </summary>
    public void Write(RaceReport race, string title)
    {
        ArgumentNullException.ThrowIfNull(race);
        race = TerminalText.Escape(race);
        var layout = TimelineLayout.Compute(race, Width);
        Line($"[bold]{Markup.Escape(RaceOutput.TitleLine(race, title))}[/]");
        Line($"[grey]  {Markup.Escape(RaceOutput.TimingsLine(race))}[/]");
        WriteTimeline(layout);
        WriteNotes(layout);
        WriteInterfaces(race, layout);
        if (_settings.Events)
        {
            Line("[bold]Events[/]");
            foreach (var e in race.Events)
            {
                Line(Markup.Escape(RaceOutput.EventLine(e)));
            }
        }

        Line(race.Outcome == RaceOutcome.Connected
            ? $"[green]✔[/] {Markup.Escape(RaceOutput.OutcomeLine(race))}"
            : $"[red]✘ {Markup.Escape(RaceOutput.OutcomeLine(race))}[/]");
    }

    /// <summary>A line of plain text (no markup, escaped for the terminal), wrapped at the view's width.</summary>
    public void PlainLine(string text) => Line(Markup.Escape(TerminalText.Escape(text)));

    /// <summary>The colour of a bar of this class.</summary>
    public static string Style(BarClass c) => c switch
    {
        BarClass.Won => "green",
        BarClass.FailedHard => "red",
        BarClass.FailedSoft => "yellow",
        BarClass.TimedOut => "orange1",
        BarClass.Running => "blue",
        _ => "grey",
    };

    private static string Describe(BarClass c) => c switch
    {
        BarClass.Won => "won",
        BarClass.FailedHard => "failed hard",
        BarClass.FailedSoft => "failed soft",
        BarClass.TimedOut => "timed out",
        BarClass.Cancelled => "cancelled",
        BarClass.Running => "running",
        _ => "joined, no attempt",
    };

    private void WriteTimeline(TimelineLayout layout)
    {
        var indent = layout.InterfaceWidth + 1 + layout.LabelWidth + 2;
        Line(Markup.Escape(Fit("iface", layout.InterfaceWidth) + " " + Fit("attempt", layout.LabelWidth) + "  " + layout.Scale + "  result"));
        Line(new string(' ', indent) + Colour(layout.Ruler, ch => ch == TimelineLayout.MarkerHead ? "blue" : "grey"));
        foreach (var row in layout.Rows)
        {
            var name = row.FirstOfInterface ? Fit(row.Interface, layout.InterfaceWidth) : new string(' ', layout.InterfaceWidth);
            var style = Style(row.Class);
            var cells = Colour(row.Cells, ch => ch == TimelineLayout.MarkerLine ? "blue" : ch == ' ' ? null : style);
            var result = Fit(row.Result, layout.ResultWidth).TrimEnd();
            var mark = row.Class == BarClass.Won ? "bold " : "";
            Line($"[bold]{Markup.Escape(name)}[/] {Markup.Escape(Fit(row.Label, layout.LabelWidth))}  {cells}  [{mark}{style}]{Markup.Escape(result)}[/]");
        }

        foreach (var marker in layout.Markers)
        {
            PrefixedLine("  ", $"[blue]{TimelineLayout.MarkerHead}[/] ", Markup.Escape(marker.Label));
        }

        // "Not started" needs no glyph (its row is empty and says so); one that joined but had no attempt is dotted.
        var legend = layout.Rows.Where(r => r.Class != BarClass.NotStarted || r.StartColumn < layout.BarWidth).Select(r => r.Class).Distinct().Order()
            .Select(c => $"[{Style(c)}]{TimelineLayout.Fill(c)}[/] {Describe(c)}");
        Line("  " + string.Join("   ", legend));
    }

    private void WriteNotes(TimelineLayout layout)
    {
        if (layout.Notes.Count == 0)
        {
            return;
        }

        Line("[bold]Notes[/]");
        foreach (var note in layout.Notes)
        {
            var what = note.Kind switch
            {
                "conflict" => "[yellow]policy conflict[/] ",
                "attempt-failed" => "[red]attempt failed[/] ",
                "resolve-failed" => "[red]resolution failed[/] ",
                _ => "",
            };
            var where = note.Interfaces.Count == 0 ? "" : Markup.Escape(string.Join(", ", note.Interfaces)) + ": ";
            PrefixedLine($"  {TimelineLayout.Ms(note.At),7} ms  ", what + where, Markup.Escape(note.Text));
        }
    }

    /// <summary>The plan's ranks and scores with their breakdown, then every excluded interface with every reason.</summary>
    private void WriteInterfaces(RaceReport race, TimelineLayout layout)
    {
        if (layout.Plan.Count == 0 && race.Excluded.Count == 0)
        {
            return;
        }

        var table = new Table { Border = TableBorder.Rounded, Title = new TableTitle("Interfaces") }
            .AddColumn("interface")
            .AddColumn("decision")
            .AddColumn(new TableColumn("score").RightAligned())
            .AddColumn("why");
        foreach (var p in layout.Plan.OrderBy(p => p.Rank))
        {
            var won = race.Winner?.Interface == p.Interface;
            table.AddRow(
                new Markup($"[bold]{Markup.Escape(p.Interface)}[/]"),
                new Markup(won ? $"rank {p.Rank}, [green]won[/]" : $"rank {p.Rank}"),
                new Text(TerminalText.Escape(p.Score)),
                new Text(string.Join(Environment.NewLine, ScoreParts().Split(p.Why).Select(TerminalText.Escape))));
        }

        foreach (var x in race.Excluded)
        {
            table.AddRow(
                new Markup($"[bold]{Markup.Escape(x.Interface)}[/]"),
                new Markup("[red]excluded[/]"),
                new Text(""),
                new Markup(string.Join(Environment.NewLine, x.Reasons.Select(r => $"[bold]{Markup.Escape(r.Rule.ToString())}[/]: {Markup.Escape(r.Fact)}"))));
        }

        Write(table);
    }

    /// <summary>A line whose continuation lines, when it wraps, start under its text rather than at the margin.</summary>
    private void PrefixedLine(string indent, string prefixMarkup, string textMarkup)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(0)).AddColumn(new GridColumn().PadRight(0));
        grid.AddRow(new Markup(Markup.Escape(indent) + prefixMarkup), new Markup(textMarkup));
        Write(grid);
    }

    private void Line(string markup) => Write(new Markup(markup + "\n"));

    /// <summary>
    /// Writes through Spectre when colour is on; otherwise writes the rendered text itself, so no escape sequence (and
    /// no System.Console colour call, which Spectre's non-ANSI backend would make) ever reaches the output.
    /// </summary>
    private void Write(IRenderable renderable)
    {
        if (_ansi)
        {
            _console.Write(renderable);
            return;
        }

        // Spectre pads wrapped lines and table titles to the width; trailing blanks only make a file or a diff noisy.
        var line = new StringBuilder();
        foreach (var segment in renderable.GetSegments(_console))
        {
            if (segment.IsControlCode)
            {
                continue;
            }

            var text = segment.IsLineBreak ? "\n" : segment.Text;
            var from = 0;
            for (var nl = text.IndexOf('\n', StringComparison.Ordinal); nl >= 0; nl = text.IndexOf('\n', from))
            {
                line.Append(text, from, nl - from);
                _writer.WriteLine(line.ToString().TrimEnd());
                line.Clear();
                from = nl + 1;
            }

            line.Append(text, from, text.Length - from);
        }

        _writer.Write(line.ToString().TrimEnd());
    }

    /// <summary>Markup for <paramref name="text"/> with runs of characters styled by <paramref name="styleOf"/> (null: unstyled).</summary>
    private static string Colour(string text, Func<char, string?> styleOf)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var style = styleOf(text[i]);
            var j = i;
            while (j < text.Length && styleOf(text[j]) == style)
            {
                j++;
            }

            var run = Markup.Escape(text[i..j]);
            sb.Append(style is null ? run : $"[{style}]{run}[/]");
            i = j;
        }

        return sb.ToString();
    }

    /// <summary><paramref name="text"/> padded or cut (with an ellipsis) to exactly <paramref name="width"/> characters.</summary>
    private static string Fit(string text, int width) =>
        text.Length <= width ? text.PadRight(width) : string.Concat(text.AsSpan(0, Math.Max(0, width - 1)), "…");

    private static int? TerminalWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The boundaries between the score's parts: "+30 §4.2.5 …, +20 …".</summary>
    [GeneratedRegex(@", (?=[+-]\d)")]
    private static partial Regex ScoreParts();
}
