using System.Globalization;
using System.Text;
using HeMif.Planning;
using HeMif.Report;

namespace HeMif.Cli;

/// <summary>
/// Text from files and the network (interface names, PvD IDs, DNS names, rule names, HTTP Location headers, host
/// names, values quoted in error messages) is data, and data must not drive the terminal: an ESC could recolour or
/// retitle it, a newline could forge a line of output, a bidi override could reverse what a line seems to say. Every
/// human renderer writes such text through <see cref="Escape(string)"/>: control characters (C0, DEL, C1), Unicode
/// format characters (bidi overrides and isolates, zero-width characters), line and paragraph separators and lone
/// surrogates become visible escapes (<c>\x1b</c>, <c>\n</c>, <c>\u202e</c>). JSON output escapes them as JSON does.
/// </summary>
internal static class TerminalText
{
    /// <summary><paramref name="text"/> with every character that is not plain printable text written as an escape.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var i = 0;
        while (i < text.Length && !NeedsEscape(text, i))
        {
            i += char.IsHighSurrogate(text[i]) ? 2 : 1; // a valid pair (NeedsEscape checked it)
        }

        if (i == text.Length)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        sb.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (!NeedsEscape(text, i))
            {
                sb.Append(c);
                if (char.IsHighSurrogate(c))
                {
                    sb.Append(text[++i]); // a valid pair, checked by NeedsEscape
                }

                continue;
            }

            _ = c switch
            {
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                <= '\u00ff' => sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            };
        }

        return sb.ToString();
    }

    /// <summary>
    /// The report with every text in it escaped (<see cref="Escape(string)"/>), for the race view: it lays text out by
    /// its length, so the escapes must be in place before the layout, not after.
    /// </summary>
    public static RaceReport Escape(RaceReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return r with
        {
            Host = Escape(r.Host),
            Winner = r.Winner is null ? null : r.Winner with { Interface = Escape(r.Winner.Interface), Transport = Escape(r.Winner.Transport), Family = Escape(r.Winner.Family), Remote = Escape(r.Winner.Remote) },
            Attempts = [.. r.Attempts.Select(a => a with { Interface = Escape(a.Interface), Transport = Escape(a.Transport), Family = Escape(a.Family), Remote = Escape(a.Remote), Result = Escape(a.Result), Error = a.Error is null ? null : Escape(a.Error) })],
            Excluded = [.. r.Excluded.Select(x => new ExcludedInterface(Escape(x.Interface), [.. x.Reasons.Select(Escape)]))],
            Events = [.. r.Events.Select(Escape)],
            Failure = r.Failure is null ? null : Escape(r.Failure),
            Fallback = r.Fallback is null ? null : Escape(r.Fallback),
        };
    }

    private static RaceEvent Escape(RaceEvent e) => e with { Kind = Escape(e.Kind), Detail = Escape(e.Detail), Interface = e.Interface is null ? null : Escape(e.Interface) };

    private static ExclusionReason Escape(ExclusionReason reason) =>
        new(reason.Rule with { Name = Escape(reason.Rule.Name) }, Escape(reason.Fact));

    /// <summary>
    /// JSON text (from <see cref="System.Text.Json"/>) with the format characters its relaxed encoder leaves as they
    /// are — bidi overrides and isolates, zero-width characters — written as <c>\uXXXX</c> escapes too. JSON's own
    /// structure is ASCII, so any such character is inside a string, where the escape means the same character.
    /// Control characters (C0, C1) and line separators the encoder escapes already.
    /// </summary>
    public static string Json(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        StringBuilder? sb = null;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (c >= '\u0080' && NeedsEscape(json, i))
            {
                sb ??= new StringBuilder(json, 0, i, json.Length + 16);
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < json.Length)
            {
                sb?.Append(c);
                c = json[++i];
            }

            sb?.Append(c);
        }

        return sb?.ToString() ?? json;
    }

    private static bool NeedsEscape(string text, int i)
    {
        var c = text[i];
        if (c < ' ' || c is >= '\u007f' and <= '\u009f')
        {
            return true;
        }

        if (c < '\u00a0')
        {
            return false;
        }

        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]) || CharUnicodeInfo.GetUnicodeCategory(text, i) == UnicodeCategory.Format;
        }

        return char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.Surrogate or UnicodeCategory.Control;
    }
}

/// <summary>
/// A writer for human output that escapes everything written to it (<see cref="TerminalText.Escape(string)"/>), except
/// the line breaks of <c>WriteLine</c> themselves: one <c>WriteLine</c> is one line, whatever the text in it holds.
/// <see cref="Raw"/> is the writer underneath, for output that escapes by its own rules (JSON, the race view).
/// </summary>
internal sealed class TerminalWriter(TextWriter inner) : TextWriter(CultureInfo.InvariantCulture)
{
    /// <summary>The writer underneath.</summary>
    public TextWriter Raw { get; } = inner;

    /// <inheritdoc/>
    public override Encoding Encoding => Raw.Encoding;

    /// <summary>The writer for human output over <paramref name="writer"/> (itself when it already is one).</summary>
    public static TerminalWriter Over(TextWriter writer) => writer as TerminalWriter ?? new TerminalWriter(writer);

    /// <inheritdoc/>
    public override void Write(char value) => Raw.Write(TerminalText.Escape(value.ToString()));

    /// <inheritdoc/>
    public override void Write(string? value) => Raw.Write(TerminalText.Escape(value));

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Raw.Write(TerminalText.Escape(new string(buffer, index, count)));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<char> buffer) => Raw.Write(TerminalText.Escape(buffer.ToString()));

    /// <inheritdoc/>
    public override void WriteLine() => Raw.WriteLine();

    /// <inheritdoc/>
    public override void WriteLine(string? value) => Raw.WriteLine(TerminalText.Escape(value));

    /// <inheritdoc/>
    public override void WriteLine(ReadOnlySpan<char> buffer) => Raw.WriteLine(TerminalText.Escape(buffer.ToString()));

    /// <inheritdoc/>
    public override void Flush() => Raw.Flush();
}
