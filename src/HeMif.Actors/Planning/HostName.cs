using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HeMif.Planning;

/// <summary>
/// What a destination host may be: an IP literal (IPv4 as four decimal numbers, IPv6 with or without brackets) or a
/// DNS host name (RFC 1123 §2.1: labels of letters, digits and hyphens, neither starting nor ending with a hyphen,
/// 1 to 63 characters each; RFC 1035 §2.3.4: at most 253 characters in all; a trailing dot is allowed). An
/// internationalized name is converted to its ASCII form (IDNA, <see cref="IdnMapping"/>) and checked in that form.
/// A name whose labels are all numbers looks like an IPv4 address and is one, or is refused: resolvers would read
/// <c>1.2.3</c> as an address, not look it up. The connector, the engine's requests (<see cref="ConnectionRequest"/>),
/// scenarios and the <c>hemif</c> CLI all check hosts here, so they accept exactly the same ones.
/// </summary>
public static class HostName
{
    /// <summary>RFC 1035 §2.3.4: at most 253 characters in a host name's text form (255 octets on the wire).</summary>
    public const int MaxLength = 253;

    /// <summary>RFC 1035 §2.3.4: "labels 63 octets or less".</summary>
    public const int MaxLabelLength = 63;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true, AllowUnassigned = false };

    /// <summary>
    /// Checks <paramref name="host"/>. On success <paramref name="normalized"/> is the host to use: an IPv6 literal without
    /// its brackets, an internationalized name in its ASCII form, anything else as given. On failure
    /// <paramref name="problem"/> says which rule the host breaks, in words, without repeating the host itself.
    /// </summary>
    public static bool TryNormalize(string? host, [NotNullWhen(true)] out string? normalized, [NotNullWhen(false)] out string? problem)
    {
        normalized = null;
        problem = Check(host, out var result);
        if (problem is not null)
        {
            return false;
        }

        normalized = result!;
        return true;
    }

    /// <summary>The host to use (see <see cref="TryNormalize"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="host"/> is not an IP literal or a valid host name; the message names the rule.</exception>
    public static string Normalize(string host)
    {
        if (!TryNormalize(host, out var normalized, out var problem))
        {
            throw new ArgumentException($"'{host}' is not a valid host: {problem}.", nameof(host));
        }

        return normalized;
    }

    /// <summary>Whether <paramref name="host"/> is an IP literal or a valid host name.</summary>
    public static bool IsValid(string? host) => Check(host, out _) is null;

    private static string? Check(string? host, out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrEmpty(host))
        {
            return "it is empty";
        }

        if (host.StartsWith('[') || (host.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6))
        {
            return Ipv6Literal(host, out normalized);
        }

        var ascii = host;
        if (!System.Text.Ascii.IsValid(host))
        {
            var odd = host.FirstOrDefault(c => !char.IsAscii(c) && (char.IsControl(c) || char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned));
            try
            {
                ascii = odd == default ? Idn.GetAscii(host) : throw new ArgumentException("a control or formatting character");
            }
            catch (ArgumentException)
            {
                return "it is not a valid internationalized domain name (IDNA)" +
                       (odd == default ? "" : string.Create(CultureInfo.InvariantCulture, $": it contains U+{(int)odd:X4}, a control or formatting character"));
            }
        }

        if (DnsName(ascii) is { } problem)
        {
            return problem;
        }

        normalized = ascii;
        return null;
    }

    private static string? Ipv6Literal(string host, out string? normalized)
    {
        normalized = null;
        var inner = host;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return "an IPv6 literal that opens with '[' must close with ']'";
            }

            if (close != host.Length - 1)
            {
                return "an IPv6 literal in brackets must end at the ']' (a port goes in the port, not in the host)";
            }

            inner = host[1..close];
        }

        if (!IPAddress.TryParse(inner, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6 || !inner.Contains(':', StringComparison.Ordinal))
        {
            return "it is not an IPv6 address (an IP literal with ':' must be a whole IPv6 address such as 2001:db8::1)";
        }

        normalized = inner;
        return null;
    }

    private static string? DnsName(string name)
    {
        var text = name.EndsWith('.') ? name[..^1] : name;
        if (text.Length == 0)
        {
            return name.Length == 0 ? "it is empty" : "it has an empty label (a name of dots only)";
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.')
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"it contains U+{(int)c:X4}{(c is > ' ' and < '\u007f' ? $" '{c}'" : "")} at position {i + 1}; a host name has only letters, digits, hyphens and dots (RFC 1123 §2.1)");
            }
        }

        var labels = text.Split('.');
        if (labels.Any(l => l.Length == 0))
        {
            return "it has an empty label (two dots in a row, or a dot at the start)";
        }

        if (labels.FirstOrDefault(l => l.Length > MaxLabelLength) is { } longLabel)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"a label is {longLabel.Length} characters long ('{longLabel[..10]}…'); a label has at most {MaxLabelLength} (RFC 1035 §2.3.4)");
        }

        if (text.Length > MaxLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it is {text.Length} characters long; a host name has at most {MaxLength} (RFC 1035 §2.3.4)");
        }

        if (labels.FirstOrDefault(l => l.StartsWith('-') || l.EndsWith('-')) is { } hyphen)
        {
            return $"the label '{hyphen}' {(hyphen.StartsWith('-') ? "starts" : "ends")} with a hyphen (RFC 1123 §2.1)";
        }

        // Four numbers from 0 to 255 without leading zeros is an IPv4 address; anything else that is all numbers, or that
        // resolvers would read as an address anyway (inet_aton: "1.2.3", "010.1.1.1", "0x7f.1"), is refused.
        var quad = labels.Length == 4 && Array.TrueForAll(labels, l => l.Length is > 0 and <= 3 && AllDigits(l) && (l.Length == 1 || l[0] != '0') &&
                                                                   int.Parse(l, NumberStyles.None, CultureInfo.InvariantCulture) <= 255);
        var numeric = Array.TrueForAll(labels, AllDigits) || (IPAddress.TryParse(text, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork);
        return !numeric || (quad && !name.EndsWith('.')) ? null
            : "it looks like an IPv4 address but is not one (an IPv4 address is four numbers from 0 to 255, such as 192.0.2.1, without leading zeros)";
    }

    /// <summary>Whether every character is an ASCII digit (checked on every request's host: no enumerator, no allocation).</summary>
    private static bool AllDigits(string label) => !label.AsSpan().ContainsAnyExceptInRange('0', '9');
}
