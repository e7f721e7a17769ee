using System.Globalization;
using System.Text;

namespace HeMif.Transports.Probes;

/// <summary>What the connectivity check needs from an HTTP/1.x answer head: its status and two header fields.</summary>
/// <param name="Status">The status code (100-599).</param>
/// <param name="Location">The <c>Location</c> field (the last one), or null.</param>
/// <param name="ContentLength">
/// The largest <c>Content-Length</c> declared, or null when none is; a value too large for a <see cref="long"/> reads as
/// <see cref="long.MaxValue"/> (the check only needs "empty or not", never the body itself).
/// </param>
internal sealed record HttpAnswerHead(int Status, string? Location, long? ContentLength);

/// <summary>
/// Reads the head of the check server's answer, strictly and within fixed bounds: it is the one part of the check that a
/// hostile network writes (a captive portal, a middlebox, or something that is not HTTP at all). Every input gives a
/// head or a reason; nothing throws.
/// </summary>
internal static class HttpAnswerHeadReader
{
    /// <summary>RFC 9112 §2.3: "HTTP-version = HTTP-name "/" DIGIT "." DIGIT"; the check speaks HTTP/1.1.</summary>
    private static ReadOnlySpan<byte> StatusLinePrefix => "HTTP/1."u8;

    /// <summary>
    /// Whether <paramref name="received"/>, the first bytes of an answer, can still be the start of an HTTP/1.x status
    /// line. False as soon as a byte differs, so an answer that is not HTTP (an SSH banner, TLS, binary noise) is told
    /// at once instead of after the whole head or the timeout.
    /// </summary>
    public static bool CouldBeHttp(ReadOnlySpan<byte> received)
    {
        var n = Math.Min(received.Length, StatusLinePrefix.Length);
        return received[..n].SequenceEqual(StatusLinePrefix[..n]);
    }

    /// <summary>
    /// The end of the head in <paramref name="received"/>: the index of the empty line's CRLF CRLF (RFC 9112 §2.1:
    /// "start-line *( field-line CRLF ) CRLF"), or -1 while it has not arrived.
    /// </summary>
    public static int HeadEnd(ReadOnlySpan<byte> received) => received.IndexOf("\r\n\r\n"u8);

    /// <summary>
    /// Parses <paramref name="head"/> (the bytes before the empty line). Returns the head, or null and
    /// <paramref name="error"/> saying what was wrong (with the status line, quoted and cut to 60 characters).
    /// </summary>
    public static HttpAnswerHead? Parse(ReadOnlySpan<byte> head, out string? error)
    {
        // ASCII: the fields read here are ASCII by definition (RFC 9110 §5.5); any other byte becomes '?', never a
        // character that could mean something to a terminal.
        var text = Encoding.ASCII.GetString(head);
        var lines = text.Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);

        // RFC 9112 §4: "status-line = HTTP-version SP status-code SP [ reason-phrase ]", "status-code = 3DIGIT".
        if (statusParts.Length < 2 || !statusParts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || statusParts[1].Length != 3 ||
            !int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 599)
        {
            error = $"the check's answer is not HTTP: '{Truncate(lines[0])}'";
            return null;
        }

        string? location = null;
        long? contentLength = null;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var name = line.AsSpan(0, colon).Trim();
            var value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("Location", StringComparison.OrdinalIgnoreCase))
            {
                location = value.ToString();
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && value.Length > 0 && IsDigits(value))
            {
                // RFC 9110 §8.6: "Content-Length = 1*DIGIT"; a recipient "MUST anticipate potentially large decimal
                // numerals and prevent parsing errors due to integer conversion overflows".
                var length = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : long.MaxValue;
                contentLength = Math.Max(contentLength ?? 0, length);
            }
        }

        error = null;
        return new HttpAnswerHead(status, location, contentLength);
    }

    /// <summary>Text for a message: at most 60 characters, then an ellipsis.</summary>
    public static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";

    private static bool IsDigits(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
