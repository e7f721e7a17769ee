using System.Globalization;
using System.Text;

namespace HeMif.Engine;

/// <summary>
/// Names for actors that stand for data, such as an interface's supervisor. An interface name is data: whatever the OS
/// or a file gives (a '/', spaces, a leading '$', control characters, emoji, hundreds of characters) must work, while
/// an actor name has rules. So the name is generated: a fixed prefix, a sequence number that makes it unique, and a
/// readable hint made of the data's safe characters; the data itself stays in the actor's state and in every message.
/// Every name made here is valid under Akka.NET's rule (ASCII letters, digits and <c>-_.</c> are a subset of what
/// <c>ActorPath</c> allows, and nothing starts with '$').
/// </summary>
internal static class ActorNames
{
    /// <summary>At most this many characters of the data go into a name (a hint for a reader, not an identity).</summary>
    internal const int MaxHintLength = 40;

    /// <summary>The supervisor of <paramref name="interfaceName"/>, the <paramref name="sequence"/>-th one the engine started.</summary>
    public static string InterfaceSupervisor(string interfaceName, long sequence) => Derived("interface", sequence, interfaceName);

    /// <summary>
    /// <c>{prefix}-{sequence}-{hint}</c> (no hint when <paramref name="data"/> has no safe character):
    /// <paramref name="prefix"/> is a fixed word of ours and must itself be safe.
    /// </summary>
    public static string Derived(string prefix, long sequence, string? data)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (!prefix.All(IsSafe))
        {
            throw new ArgumentException($"An actor name prefix is a word of letters, digits and -_. ; got '{prefix}'.", nameof(prefix));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        var hint = Hint(data);
        var number = sequence.ToString(CultureInfo.InvariantCulture);
        return hint.Length == 0 ? $"{prefix}-{number}" : $"{prefix}-{number}-{hint}";
    }

    /// <summary>
    /// The safe part of <paramref name="data"/> for a reader: ASCII letters, digits, '-', '_' and '.' kept, any other
    /// character (a whole emoji too) written '_', at most <see cref="MaxHintLength"/> characters.
    /// </summary>
    internal static string Hint(string? data)
    {
        if (string.IsNullOrEmpty(data))
        {
            return "";
        }

        var hint = new StringBuilder(Math.Min(data.Length, MaxHintLength));
        foreach (var rune in data.EnumerateRunes())
        {
            if (hint.Length == MaxHintLength)
            {
                break;
            }

            hint.Append(rune.IsAscii && IsSafe((char)rune.Value) ? (char)rune.Value : '_');
        }

        return hint.ToString();
    }

    /// <summary>
    /// Whether <paramref name="name"/> is a valid actor name: Akka.NET's own check (<c>ActorPath.IsValidPathElement</c>:
    /// not empty, no leading '$', only letters, digits and <c>-_:@&amp;=+,.!~*'$;()</c>, or '%' with two hex digits), and
    /// not blank. Names made here pass; tests check it.
    /// </summary>
    internal static bool IsValid(string? name) => !string.IsNullOrWhiteSpace(name) && Akka.Actor.ActorPath.IsValidPathElement(name);

    private static bool IsSafe(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';
}
