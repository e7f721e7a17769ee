using System.Diagnostics.CodeAnalysis;

namespace HeMif;

/// <summary>
/// A transport's name as the transport registry, policy rules and reports know it: <c>tcp</c>, <c>quic</c>,
/// <c>mptcp</c>, or any name a transport of an application's own takes (<c>socks5</c>, <c>uds</c>…). A name is 1 to 32
/// characters: ASCII letters (kept in lower case, so <c>TCP</c> and <c>tcp</c> are one name), digits, <c>-</c>,
/// <c>_</c> and <c>.</c>, beginning with a letter. Compared ordinally, like <see cref="System.Security.Cryptography.HashAlgorithmName"/>.
/// </summary>
public readonly record struct TransportName
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 32;

    /// <summary>Creates a name; throws <see cref="ArgumentException"/> saying which rule <paramref name="value"/> breaks.</summary>
    public TransportName(string value)
    {
        Value = Normalize(value, out var error) ?? throw new ArgumentException(error, nameof(value));
    }

    /// <summary>TCP (RFC 9293).</summary>
    public static TransportName Tcp { get; } = new("tcp");

    /// <summary>QUIC (RFC 9000), over UDP.</summary>
    public static TransportName Quic { get; } = new("quic");

    /// <summary>
    /// A request/response exchange over UDP (draft §7.1: "a similar mechanism can be used if the application has
    /// request/response semantics"): one request datagram, the first matching response wins. Only exchanges use it.
    /// </summary>
    public static TransportName Udp { get; } = new("udp");

    /// <summary>Multipath TCP (RFC 8684): a TCP-family transport with a socket of its own.</summary>
    public static TransportName Mptcp { get; } = new("mptcp");

    /// <summary>The name, in lower case (null only for <c>default(TransportName)</c>).</summary>
    public string Value { get; }

    /// <summary>Whether <paramref name="value"/> is a valid name; <paramref name="name"/> is it, normalized.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out TransportName name)
    {
        if (Normalize(value, out _) is { } normalized)
        {
            name = new TransportName(normalized);
            return true;
        }

        name = default;
        return false;
    }

    /// <summary>The name, as reports show it.</summary>
    public override string ToString() => Value ?? "";

    private static string? Normalize(string? value, out string error)
    {
        error = "";
        if (string.IsNullOrEmpty(value))
        {
            error = "A transport name must not be empty.";
            return null;
        }

        if (value.Length > MaxLength)
        {
            error = $"Transport name '{value[..MaxLength]}…' is longer than {MaxLength} characters.";
            return null;
        }

        if (!char.IsAsciiLetter(value[0]))
        {
            error = $"Transport name '{value}' must begin with an ASCII letter.";
            return null;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                error = $"Transport name '{value}' may hold only ASCII letters, digits, '-', '_' and '.' (found '{c}').";
                return null;
            }
        }

        return value.ToLowerInvariant();
    }
}
