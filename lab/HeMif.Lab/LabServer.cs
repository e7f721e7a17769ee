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
/// connection tests reach), a UDP responder on the same port (what the UDP exchange tests reach, <see cref="UdpAsync"/>)
/// and an HTTP/1.1 listener (the connectivity check, or the captive portal).
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

        Console.WriteLine($"serving echo on {echoPort} (TCP and UDP), http ({mode}) on {httpPort}");
        var loops = new List<Task>();
        if (echoPort > 0)
        {
            loops.Add(AcceptLoopAsync(listeners[0], EchoAsync));
            loops.Add(UdpAsync(echoPort));
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

    /// <summary>
    /// The UDP responder: one socket per address of the namespace (so that each answer leaves from the address its
    /// request was sent to, as a client's connected socket requires), each answering a datagram with the datagram
    /// itself. A request that begins with <c>spoof </c> first gets two answers the client must ignore (issue 16: "a spoofed
    /// response from a wrong source address or with a wrong request identifier is ignored"): the same bytes from another
    /// address of this namespace, then, 50 ms later, the bytes with the last one changed (a wrong request identifier)
    /// from the right address; the echo itself follows 50 ms after that.
    /// </summary>
    private static async Task UdpAsync(int port)
    {
        var sockets = new List<Socket>();
        foreach (var address in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                     .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(u => u.Address).Where(a => !a.IsIPv6LinkLocal).Distinct())
        {
            var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                sockets.Add(socket);
            }
            catch (SocketException e)
            {
                Console.WriteLine($"udp: not on {address}: {e.SocketErrorCode}");
                socket.Dispose();
            }
        }

        Console.WriteLine($"udp: answering on {string.Join(", ", sockets.Select(s => s.LocalEndPoint))}");
        await Task.WhenAll(sockets.Select(s => AnswerLoopAsync(s, sockets))).ConfigureAwait(false);
    }

    private static async Task AnswerLoopAsync(Socket socket, IReadOnlyList<Socket> all)
    {
        var buffer = new byte[65536];
        var any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult got;
            try
            {
                got = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue; // an ICMP error for an earlier answer: nothing to do
            }

            var request = buffer.AsSpan(0, got.ReceivedBytes).ToArray();
            var from = got.RemoteEndPoint;
            _ = Task.Run(async () =>
            {
                try
                {
                    if (request.AsSpan().StartsWith("spoof "u8))
                    {
                        var other = all.FirstOrDefault(s => s != socket && s.AddressFamily == socket.AddressFamily
                                                            && !IPAddress.IsLoopback(((IPEndPoint)s.LocalEndPoint!).Address));
                        if (other is not null)
                        {
                            await other.SendToAsync(request, SocketFlags.None, from).ConfigureAwait(false);
                        }

                        await Task.Delay(50).ConfigureAwait(false);
                        var wrong = request.ToArray();
                        wrong[^1] ^= 1;
                        await socket.SendToAsync(wrong, SocketFlags.None, from).ConfigureAwait(false);
                        await Task.Delay(50).ConfigureAwait(false);
                    }

                    await socket.SendToAsync(request, SocketFlags.None, from).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    // the client is gone; nothing to do
                }
            });
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
