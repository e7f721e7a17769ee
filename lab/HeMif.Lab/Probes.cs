using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HeMif.Lab;

/// <summary>Where a probe's socket is pinned: a local address, a device (SO_BINDTODEVICE), or both.</summary>
internal sealed record Pin(IPAddress? Bind, string? Device)
{
    public Socket Open(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var socket = new Socket(family, type, protocol);
        try
        {
            if (Device is not null)
            {
                var name = Encoding.ASCII.GetBytes(Device + "\0");
                socket.SetRawSocketOption(1 /* SOL_SOCKET */, 25 /* SO_BINDTODEVICE */, name);
            }

            if (Bind is not null)
            {
                socket.Bind(new IPEndPoint(Bind, 0));
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The outcome of one TCP connect: connected or the error, and how long it took.</summary>
internal sealed record ConnectResult(bool Connected, double Milliseconds, string Error, string? Local, bool Echoed);

/// <summary>The probes the lab's self-tests run from inside the client namespace.</summary>
internal static class Probes
{
    public static async Task<ConnectResult> ConnectAsync(IPEndPoint remote, Pin pin, TimeSpan timeout, bool echo)
    {
        using var socket = pin.Open(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await socket.ConnectAsync(remote, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new ConnectResult(false, Stopwatch.GetElapsedTime(started).TotalMilliseconds, "TimedOut", null, false);
        }
        catch (SocketException e)
        {
            return new ConnectResult(false, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.SocketErrorCode.ToString(), null, false);
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var local = socket.LocalEndPoint?.ToString();
        if (!echo)
        {
            return new ConnectResult(true, elapsed, "", local, false);
        }

        var payload = "hemif-lab echo\n"u8.ToArray();
        try
        {
            await socket.SendAsync(payload, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var back = new byte[payload.Length];
            var got = 0;
            while (got < back.Length)
            {
                var n = await socket.ReceiveAsync(back.AsMemory(got), SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                got += n;
            }

            return new ConnectResult(true, elapsed, "", local, got == back.Length && back.AsSpan().SequenceEqual(payload));
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return new ConnectResult(true, elapsed, "echo: " + e.Message, local, false);
        }
    }

    /// <summary>One HTTP/1.1 GET over a pinned socket: the status code and the Location header.</summary>
    public static async Task<(int Status, string? Location, string Error)> HttpGetAsync(Uri url, IPEndPoint remote, Pin pin, TimeSpan timeout)
    {
        using var socket = pin.Open(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(remote, cts.Token).ConfigureAwait(false);
            var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: HeMif.Lab\r\nConnection: close\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cts.Token).ConfigureAwait(false);
            var response = new StringBuilder();
            var buffer = new byte[4096];
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                response.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            var lines = response.ToString().Split("\r\n");
            var status = lines[0].Split(' ');
            if (status.Length < 2 || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                return (0, null, "malformed status line: " + lines[0]);
            }

            var location = lines.Skip(1).TakeWhile(l => l.Length > 0)
                .Where(l => l.StartsWith("Location:", StringComparison.OrdinalIgnoreCase))
                .Select(l => l["Location:".Length..].Trim())
                .FirstOrDefault();
            return (code, location, "");
        }
        catch (OperationCanceledException)
        {
            return (0, null, "TimedOut");
        }
        catch (SocketException e)
        {
            return (0, null, e.SocketErrorCode.ToString());
        }
    }
}
