using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HeMif.Lab;

/// <summary>What the lab's HTTP listener answers.</summary>
internal enum HttpMode
{
    /// <summary>
    /// The connectivity check: <c>204</c> on <c>/generate_204</c>; <c>200</c> on <c>/pooled</c> with the client's source
    /// address, keeping the connection open; <c>404</c> elsewhere.
    /// </summary>
    Check,

    /// <summary>A captive portal: <c>302</c> to the login page for every path, the login page itself <c>200</c>.</summary>
    Portal,
}

/// <summary>
/// The lab's services, dual-stack on every address of its namespace: a TCP echo service (what the
/// connection tests reach) and an HTTP/1.1 listener (the connectivity check, or the captive portal).
/// </summary>
internal static class LabServer
{
    public const string PortalLogin = "http://portal.lab.example/login";

    public static async Task<int> RunAsync(int echoPort, int httpPort, HttpMode mode, string? pidFile)
    {
        var listeners = new List<Socket>();
        if (echoPort > 0)
        {
            listeners.Add(Listen(echoPort));
        }

        if (httpPort > 0)
        {
            listeners.Add(Listen(httpPort));
        }

        if (listeners.Count == 0)
        {
            throw new UsageException("serve needs --echo-port or --http-port");
        }

        if (pidFile is not null)
        {
            await File.WriteAllTextAsync(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n").ConfigureAwait(false);
        }

        Console.WriteLine($"serving echo on {echoPort}, http ({mode}) on {httpPort}");
        var loops = new List<Task>();
        if (echoPort > 0)
        {
            loops.Add(AcceptLoopAsync(listeners[0], EchoAsync));
        }

        if (httpPort > 0)
        {
            loops.Add(AcceptLoopAsync(listeners[^1], s => HttpAsync(s, mode)));
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        return 0;
    }

    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        socket.Listen(512);
        return socket;
    }

    /// <summary>Accepts forever; each connection is handled on its own, and a peer that resets or times out ends only its own.</summary>
    internal static async Task AcceptLoopAsync(Socket listener, Func<Socket, Task> handle)
    {
        while (true)
        {
            var client = await listener.AcceptAsync().ConfigureAwait(false);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await handle(client).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                    {
                        // A peer that resets or times out ends only its own connection.
                    }
                }
            });
        }
    }

    private static async Task EchoAsync(Socket client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        while (true)
        {
            var n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, timeout.Token).ConfigureAwait(false);
        }
    }

    private static async Task HttpAsync(Socket client, HttpMode mode)
    {
        // One request after the other on the connection; every answer but /pooled's closes it.
        while (true)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var request = new StringBuilder();
            var buffer = new byte[2048];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0 || request.Length > 16384)
                {
                    return;
                }

                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            var requestLine = request.ToString().Split("\r\n")[0].Split(' ');
            var path = requestLine.Length >= 2 ? requestLine[1] : "/";
            if (Uri.TryCreate(path, UriKind.Absolute, out var absolute))
            {
                path = absolute.AbsolutePath;
            }

            // /pooled: 200 with the client's address as this server sees it (its source address: which interface
            // the connection left the client by), on a connection kept open for the next request, so that a client's
            // pool has something to reuse (issue 16: pooled connections retired when the path changes).
            var keepAlive = mode == HttpMode.Check && path == "/pooled";
            var response = mode switch
            {
                HttpMode.Check when keepAlive => Response("200 OK", null, SourceAddress(client) + "\n", keepAlive: true),
                HttpMode.Check when path == "/generate_204" => Response("204 No Content", null, ""),
                HttpMode.Check => Response("404 Not Found", null, "not found\n"),
                HttpMode.Portal when path == "/login" => Response("200 OK", null, "<html><body>HeMif lab captive portal: log in</body></html>\n"),
                _ => Response("302 Found", PortalLogin, ""),
            };
            await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (!keepAlive)
            {
                client.Shutdown(SocketShutdown.Send);
                return;
            }
        }
    }

    private static string SourceAddress(Socket client)
    {
        var address = ((IPEndPoint)client.RemoteEndPoint!).Address;
        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    private static string Response(string status, string? location, string body, bool keepAlive = false)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status}\r\n");
        if (location is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"Location: {location}\r\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"Content-Length: {Encoding.ASCII.GetByteCount(body)}\r\n");
        text.Append(keepAlive ? "\r\n" : "Connection: close\r\n\r\n").Append(body);
        return text.ToString();
    }
}
