using System.Globalization;

namespace HeMif.Chaos;

/// <summary>A TCP socket as the kernel lists it in /proc/net/tcp or tcp6.</summary>
/// <param name="Inode">The socket's inode (what /proc/PID/fd links name as <c>socket:[INODE]</c>).</param>
/// <param name="RemotePort">The remote port.</param>
/// <param name="State">The kernel's state name (ESTABLISHED, SYN_SENT, ...).</param>
internal sealed record KernelSocket(long Inode, int RemotePort, string State);

/// <summary>
/// What the kernel says about a process's TCP sockets: its descriptors (/proc/PID/fd) matched with the namespace's TCP
/// tables, as <c>ss -p</c> does. The chaos lab counts leaks this way, from the kernel's side, not by the process's own account.
/// </summary>
internal static class SocketTable
{
    private static readonly string[] States =
        ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"];

    /// <summary>The TCP sockets process <paramref name="pid"/> holds a descriptor of, toward <paramref name="remotePort"/>.</summary>
    public static IReadOnlyList<KernelSocket> Owned(int pid, int remotePort)
    {
        var inodes = SocketInodes(pid);
        return All().Where(s => s.RemotePort == remotePort && inodes.Contains(s.Inode)).ToList();
    }

    /// <summary>How many descriptors process <paramref name="pid"/> has open.</summary>
    public static int Descriptors(int pid)
    {
        try
        {
            return Directory.GetFiles($"/proc/{pid}/fd").Length;
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return 0; // it has exited
        }
    }

    /// <summary>Process <paramref name="pid"/>'s descriptors by what they are: socket, pipe, anon_inode:[eventpoll], a file, ...</summary>
    public static string DescriptorKinds(int pid)
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string kind;
            try
            {
                var target = new FileInfo(fd).LinkTarget ?? "?";
                var bracket = target.IndexOf(":[", StringComparison.Ordinal);
                kind = bracket > 0 && !target.StartsWith("anon_inode", StringComparison.Ordinal) ? target[..bracket]
                    : target.EndsWith(".dll", StringComparison.Ordinal) || target.EndsWith(".pdb", StringComparison.Ordinal) ? "assembly file (loaded code)"
                    : target.StartsWith('/') ? "other file" : target;
            }
            catch (IOException)
            {
                continue;
            }

            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }

        return string.Join(", ", kinds.Select(k => $"{k.Value} {k.Key}"));
    }

    private static HashSet<long> SocketInodes(int pid)
    {
        var inodes = new HashSet<long>();
        string[] fds;
        try
        {
            fds = Directory.GetFiles($"/proc/{pid}/fd");
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return inodes;
        }

        foreach (var fd in fds)
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed between the listing and the read
            }

            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)
                && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
            {
                inodes.Add(inode);
            }
        }

        return inodes;
    }

    private static IEnumerable<KernelSocket> All()
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10)
                {
                    continue;
                }

                var remote = f[2];
                var port = int.Parse(remote.AsSpan(remote.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var state = int.Parse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var inode = long.Parse(f[9], CultureInfo.InvariantCulture);
                yield return new KernelSocket(inode, port, state < States.Length ? States[state] : f[3]);
            }
        }
    }
}
