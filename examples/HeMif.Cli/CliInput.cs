using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HeMif.Planning;

namespace HeMif.Cli;

/// <summary>
/// The options and arguments every command shares, each with a parser of its own: a bad value is a parse error (exit 2)
/// saying what was expected in the user's words, never a .NET type name (<c>System.Int32</c>, <c>System.IO.FileInfo</c>)
/// or an exception. Input files are taken as the path the user typed, and read by the library
/// (<see cref="Configuration.HeMifConfiguration.ReadFile"/>), whose errors name that path.
/// </summary>
internal static class CliInput
{
    /// <summary>A file option: its value is the path as typed (an empty one is a parse error).</summary>
    /// <summary>
    /// The policy of <c>--policy FILE</c>, or the empty policy without it; <paramref name="error"/> is the message a
    /// command prints (exit 2) when the file is refused.
    /// </summary>
    public static HeMifPolicy LoadPolicy(string? file, out string? error)
    {
        error = null;
        if (file is null)
        {
            return HeMifPolicy.Empty;
        }

        try
        {
            return HeMif.Configuration.HeMifConfiguration.LoadPolicyFile(file);
        }
        catch (HeMif.Configuration.HeMifConfigurationException e)
        {
            error = "--policy: " + e.Message;
            return HeMifPolicy.Empty;
        }
    }

    public static Option<string> File(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        Required = required,
        CustomParser = r =>
        {
            var text = Single(r);
            if (text.Length == 0)
            {
                r.AddError($"{name} needs the path of a file; got an empty one.");
            }

            return text;
        },
    };

    /// <summary>A port argument (1-65535); errors call it PORT, as the usage line does.</summary>
    public static Argument<int> PortArgument(string description) => new("port")
    {
        Description = description,
        CustomParser = r => (int)Integer(r, "PORT", "a port between 1 and 65535", 1, 65535),
    };

    /// <summary>An integer option in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Int(string name, string description, string expected, int min, int max, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => (int)Integer(r, name, expected, min, max),
    };

    /// <summary>A 64-bit integer option in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<long> Long(string name, string description, string expected, long min, long max) => new(name)
    {
        Description = description,
        CustomParser = r => Integer(r, name, expected, min, max),
    };

    /// <summary>One number in [<paramref name="min"/>, <paramref name="max"/>]; anything else is a parse error naming the option.</summary>
    public static long Integer(ArgumentResult r, string name, string expected, long min, long max)
    {
        var text = Single(r);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
        {
            return v;
        }

        r.AddError($"{name} must be {expected}; got '{text}'.");
        return min;
    }

    /// <summary>
    /// The connectivity check URL: an absolute <c>http://</c> URL. The check is plain HTTP over each interface, like the
    /// platforms' own (and like <c>probe.url</c> in the override file and <c>HeMif:ProbeUrl</c>): an <c>https://</c> URL
    /// would get a plain-HTTP request on its TLS port, so it is refused with that reason rather than failing every
    /// interface's check.
    /// </summary>
    public static Option<Uri?> ProbeUrl(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            var text = Single(r);
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp && url.Host.Length > 0)
            {
                return url;
            }

            r.AddError(url?.Scheme == Uri.UriSchemeHttps
                ? $"{name} must be an absolute http:// URL: the check is plain HTTP, like the platforms' own (expecting 204); got '{text}'."
                : $"{name} must be an absolute http:// URL such as http://connectivitycheck.gstatic.com/generate_204; got '{text}'.");
            return null;
        },
    };

    /// <summary>
    /// Checks a destination host (<see cref="HostName"/>): null and the host to use when it is one, else the message
    /// (naming <paramref name="what"/>: the option or the argument) for exit 2.
    /// </summary>
    public static string? CheckHost(string? host, string what, out string normalized)
    {
        if (HostName.TryNormalize(host, out var ok, out var problem))
        {
            normalized = ok;
            return null;
        }

        normalized = "";
        return $"{what}: '{host}' is not a host name or IP address: {problem}.";
    }

    /// <summary><c>host:port</c>, an IPv6 literal in brackets (<c>[2001:db8::1]:443</c>), as URLs write it.</summary>
    public static string Endpoint(string host, int port) =>
        (IPAddress.TryParse(host, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>An exception's message as a user reads it: without the " (Parameter 'x')" and "Actual value was" lines .NET adds.</summary>
    public static string Message(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        }

        if (e is ArgumentOutOfRangeException)
        {
            var actual = message.IndexOf(Environment.NewLine + "Actual value was", StringComparison.Ordinal);
            message = actual >= 0 ? message[..actual] : message;
        }

        return message;
    }

    /// <summary>Writes an error for the user: <c>hemif: </c> and the message, one escaped line per line of it.</summary>
    public static int Fail(TextWriter error, string message, int exit = Program.BadInput)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(message);
        var lines = message.Split('\n');
        error.WriteLine("hemif: " + lines[0].TrimEnd('\r'));
        foreach (var line in lines.Skip(1))
        {
            error.WriteLine(line.TrimEnd('\r'));
        }

        return exit;
    }

    private static string Single(ArgumentResult r) => r.Tokens.Count == 1 ? r.Tokens[0].Value : string.Join(' ', r.Tokens.Select(t => t.Value));
}
