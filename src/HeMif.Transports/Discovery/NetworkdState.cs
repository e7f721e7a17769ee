using System.Globalization;
using System.Net;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>What reading systemd-networkd's link state files gave: each link's DNS, and a sentence on how it went.</summary>
/// <param name="Links">Each link (by kernel index) with DNS servers in its file.</param>
/// <param name="Detail">What was read, and every file that was refused and why; null when there is no state directory.</param>
internal sealed record NetworkdReading(IReadOnlyDictionary<int, HostDnsLink> Links, string? Detail)
{
    /// <summary>A file was refused (the detail says which and why).</summary>
    public bool Refused { get; init; }

    public static NetworkdReading None { get; } = new(new Dictionary<int, HostDnsLink>(), null);
}

/// <summary>
/// systemd-networkd's own state, a further source of an interface's DNS after systemd-resolved: networkd writes each
/// link's state to <c>/run/systemd/netif/links/&lt;ifindex&gt;</c> as <c>KEY=VALUE</c> lines, among them <c>DNS=</c> (the
/// link's DNS servers, space-separated, from its .network file, DHCP or RAs), <c>DOMAINS=</c> (its search domains) and
/// <c>ROUTE_DOMAINS=</c> (routing-only domains, which are not search domains and are left out, as resolved's are). The
/// files say "This is private data. Do not parse.": so the reading is strict where it uses something and says why it
/// refuses a file (a server that is not an address, a domain that is not a domain name, a file over 64 KiB), and a
/// refused file gives its link nothing. A server may be written <c>ADDRESS[:PORT][%IFINDEX][#NAME]</c> (IPv6 with a port
/// in brackets); the address is what is kept.
/// </summary>
internal static class NetworkdState
{
    /// <summary>networkd's link state directory.</summary>
    public const string DefaultDirectory = "/run/systemd/netif/links";

    /// <summary>Larger than this is not a link's state: refused unread.</summary>
    internal const int MaxFileBytes = 64 * 1024;

    /// <summary>More servers or domains than this in one file is not a link's configuration: refused.</summary>
    internal const int MaxEntries = 256;

    /// <summary>Parses one link's state file; null and <paramref name="error"/> when it is refused.</summary>
    public static HostDnsLink? Parse(int ifIndex, string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        var servers = new List<IPAddress>();
        var domains = new List<string>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('#') || line.IndexOf('=', StringComparison.Ordinal) is not (> 0 and var eq))
            {
                continue;
            }

            var key = line[..eq];
            var values = line[(eq + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (key is not ("DNS" or "DOMAINS"))
            {
                continue;
            }

            if (values.Length > MaxEntries)
            {
                error = $"line {lineNumber}: {key}= lists {values.Length} entries; at most {MaxEntries} are read";
                return null;
            }

            foreach (var value in values)
            {
                if (key == "DNS")
                {
                    if (Server(value) is not { } server)
                    {
                        error = $"line {lineNumber}: DNS=: expected an IP address (ADDRESS[:PORT][%IFINDEX][#NAME]); found \"{Printable(value)}\"";
                        return null;
                    }

                    if (!servers.Contains(server))
                    {
                        servers.Add(server);
                    }
                }
                else if (!DomainNames.IsValid(value))
                {
                    error = $"line {lineNumber}: DOMAINS=: expected a domain name; found \"{Printable(value)}\"";
                    return null;
                }
                else if (!domains.Contains(value, StringComparer.OrdinalIgnoreCase))
                {
                    domains.Add(value);
                }
            }
        }

        return new HostDnsLink(ifIndex, servers, domains);
    }

    /// <summary>
    /// Reads the state files of the given links from <paramref name="directory"/>. A missing directory is no reading
    /// (<see cref="NetworkdReading.None"/>: networkd does not run here); a missing file is a link networkd does not manage.
    /// Never throws.
    /// </summary>
    /// <param name="directory">The state directory.</param>
    /// <param name="ifIndexes">The links to read.</param>
    /// <param name="inNetworkdsNamespace">Whether the indexes are networkd's (default <see cref="InNetworkdsNamespace"/>); when not, nothing is read.</param>
    public static NetworkdReading Read(string directory, IEnumerable<int> ifIndexes, Func<bool>? inNetworkdsNamespace = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(ifIndexes);
        if (!Directory.Exists(directory) || !(inNetworkdsNamespace ?? InNetworkdsNamespace)())
        {
            return NetworkdReading.None;
        }

        var links = new Dictionary<int, HostDnsLink>();
        var refused = new List<string>();
        foreach (var index in ifIndexes.Distinct().Order())
        {
            var path = Path.Combine(directory, index.ToString(CultureInfo.InvariantCulture));
            try
            {
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    continue;
                }

                if (info.Length > MaxFileBytes)
                {
                    refused.Add($"{path}: {info.Length} octets; at most {MaxFileBytes} are read");
                    continue;
                }

                if (Parse(index, File.ReadAllText(path), out var error) is { } link)
                {
                    links[index] = link;
                }
                else
                {
                    refused.Add($"{path}: {error}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                refused.Add($"{path}: {e.Message}");
            }
        }

        var read = links.Values.Where(l => l.Servers.Count > 0).Select(l => l.IfIndex.ToString(CultureInfo.InvariantCulture)).ToList();
        var detail = $"systemd-networkd's state ({directory}): {(read.Count == 0 ? "no link with DNS servers" : "DNS servers for links " + string.Join(", ", read))}"
                     + (refused.Count == 0 ? "" : "; refused: " + string.Join("; ", refused));
        return new NetworkdReading(links, detail) { Refused = refused.Count > 0 };
    }

    /// <summary>
    /// Whether this process shares the network namespace of PID 1, where networkd runs: its files are named by the
    /// interface indexes of that namespace, and inside another one (a container, <c>ip netns exec</c>) the same index names
    /// another link. When that cannot be told (<c>/proc/1/ns/net</c> is readable by root only), the files are read.
    /// </summary>
    internal static bool InNetworkdsNamespace()
    {
        try
        {
            var own = new FileInfo("/proc/self/ns/net").LinkTarget;
            var init = new FileInfo("/proc/1/ns/net").LinkTarget;
            return own is null || init is null || string.Equals(own, init, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The address of one <c>DNS=</c> entry (<c>ADDRESS[:PORT][%IFINDEX][#NAME]</c>, IPv6 with a port in brackets), or null.</summary>
    internal static IPAddress? Server(string value)
    {
        var s = value.AsSpan();
        if (s.IndexOf('#') is var hash and >= 0)
        {
            s = s[..hash];
        }

        if (s.StartsWith("["))
        {
            // [IPv6]:PORT or [IPv6%ZONE]:PORT
            var close = s.IndexOf(']');
            if (close < 0 || (close + 1 < s.Length && !ValidPort(s[(close + 1)..])))
            {
                return null;
            }

            s = s[1..close];
        }
        else if (s.IndexOf(':') is var colon and >= 0 && s.LastIndexOf(':') == colon)
        {
            // IPv4:PORT (an IPv6 address has at least two colons)
            var port = s[colon..];
            var zone = port.IndexOf('%');
            if (!ValidPort(zone < 0 ? port : port[..zone]))
            {
                return null;
            }

            s = s[..colon];
        }

        // A %IFINDEX after an IPv4 address names the link, not a zone: dropped. An IPv6 zone is kept as its scope.
        if (s.IndexOf('%') is var pct and >= 0 && s.IndexOf(':') < 0)
        {
            s = s[..pct];
        }

        return IPAddress.TryParse(s, out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any)
            ? address
            : null;
    }

    private static bool ValidPort(ReadOnlySpan<char> colonAndPort) =>
        colonAndPort.Length > 1 && colonAndPort[0] == ':' && ushort.TryParse(colonAndPort[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port > 0;

    private static string Printable(string s) => new([.. s.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}
