using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace HeMif.Lab;

/// <summary>
/// <c>mptcp-sink --port N</c>: the lab's MPTCP server. MPTCP listening sockets on IPv4 and IPv6 (made with libc
/// <c>socket(…, IPPROTO_MPTCP)</c>: .NET's Socket constructor rejects protocol 262); each connection is read to its end
/// and answered with one line, <c>SHA256HEX BYTECOUNT\n</c>, then closed — so a client can prove its byte stream arrived
/// intact however its subflows came and went. The log gets one line per connection with the most subflows it had.
/// </summary>
internal static partial class MptcpSink
{
    private const int IpProtoMptcp = 262;
    private const int SolMptcp = 284;
    private const int MptcpInfo = 1;

    public static async Task<int> RunAsync(int port, string? pidFile)
    {
        if (port is < 1 or > 65535)
        {
            throw new UsageException("mptcp-sink needs --port 1..65535");
        }

        using var v4 = Listen(AddressFamily.InterNetwork, new IPEndPoint(IPAddress.Any, port));
        using var v6 = Listen(AddressFamily.InterNetworkV6, new IPEndPoint(IPAddress.IPv6Any, port));
        if (pidFile is not null)
        {
            await File.WriteAllTextAsync(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n").ConfigureAwait(false);
        }

        Console.WriteLine($"mptcp-sink on {port} (IPv4 and IPv6)");
        await Task.WhenAll(LabServer.AcceptLoopAsync(v4, SinkAsync), LabServer.AcceptLoopAsync(v6, SinkAsync)).ConfigureAwait(false);
        return 0;
    }

    private static Socket Listen(AddressFamily family, IPEndPoint endpoint)
    {
        var fd = Socket(family == AddressFamily.InterNetwork ? 2 : 10, 1 | 0x80000, IpProtoMptcp);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"no MPTCP socket ({Marshal.GetPInvokeErrorMessage(errno)}, errno {errno}): is net.mptcp.enabled 1 in this namespace?");
        }

        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        if (family == AddressFamily.InterNetworkV6)
        {
            socket.DualMode = false; // the IPv4 listener has IPv4
        }

        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(endpoint);
        socket.Listen(128);
        return socket;
    }

    /// <summary>Reads to the end (at most two minutes without a byte), then answers with the hash and the count.</summary>
    private static async Task SinkAsync(Socket client)
    {
        var remote = client.RemoteEndPoint;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        var mostSubflows = Subflows(client);
        try
        {
            while (true)
            {
                using var idle = new CancellationTokenSource(TimeSpan.FromMinutes(2));
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, idle.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, n);
                total += n;
                mostSubflows = Math.Max(mostSubflows, Subflows(client));
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            Console.WriteLine($"{remote}: ended after {total} bytes: {e.Message}");
            throw;
        }

        var hex = Convert.ToHexStringLower(hash.GetHashAndReset());
        await client.SendAsync(Encoding.ASCII.GetBytes($"{hex} {total.ToString(CultureInfo.InvariantCulture)}\n"), SocketFlags.None).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
        Console.WriteLine($"{remote}: {total} bytes sha256 {hex}; {(mostSubflows > 0 ? $"MPTCP, at most {mostSubflows} subflows" : "TCP (no MPTCP)")}");
    }

    /// <summary>The connection's subflows (MPTCP_INFO: mptcpi_subflows_total at 80, else mptcpi_subflows + 1), 0 when it is not MPTCP.</summary>
    private static int Subflows(Socket socket)
    {
        var info = new byte[96];
        try
        {
            var written = socket.GetRawSocketOption(SolMptcp, MptcpInfo, info);
            return written > 80 && info[80] != 0 ? info[80] : written > 0 ? info[0] + 1 : 0;
        }
        catch (SocketException)
        {
            return 0; // fallen back to TCP
        }
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);
}
