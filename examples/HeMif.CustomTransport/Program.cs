// A transport of your own, raced beside HeMif's TCP: TCP through a SOCKS5 proxy (Socks5Transport, public API only).
// The demo runs on loopback: an echo service, a port that refuses, and a SOCKS5 proxy (Socks5Server) whose own network
// reaches the service behind that port. Race 1: direct TCP is refused, the tunnel wins. Race 2: direct TCP wins.
using System.Net;
using System.Net.Sockets;
using HeMif;
using HeMif.CustomTransport;
using HeMif.Interfaces;

using var service = new TcpListener(IPAddress.Loopback, 0);
service.Start();
var servicePort = ((IPEndPoint)service.LocalEndpoint).Port;
_ = Task.Run(async () =>
{
    while (true)
    {
        using var client = await service.AcceptSocketAsync();
        await using var stream = new NetworkStream(client);
        await stream.CopyToAsync(stream);
    }
});

using var refusing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
refusing.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, not listening: a SYN gets a RST
var refusingPort = ((IPEndPoint)refusing.LocalEndPoint!).Port;

// The proxy's network reaches the service where the host's direct path to that port is refused.
await using var proxy = new Socks5Server(destination => destination.Port == refusingPort ? new IPEndPoint(IPAddress.Loopback, servicePort) : destination);
var socks5 = new Socks5Transport(proxy.EndPoint);

await using var connector = HeMifConnector.CreateBuilder()
    .UseOptions(new HeMifConnectorOptions
    {
        Interfaces = [new InterfaceFacts("lo", InterfaceKind.Loopback) { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] }],
        DisableValidation = true,
    })
    .AddTransport(socks5)
    .UseDefaultTransports(TransportName.Tcp, socks5.Name) // every request races TCP, then the tunnel
    .Build();

foreach (var (what, port) in new[] { ("direct TCP refused", refusingPort), ("direct TCP open", servicePort) })
{
    await using var connection = await connector.ConnectAsync("127.0.0.1", port);
    Console.WriteLine($"{what}: won by {connection.Transport} on {connection.Interface}");
    foreach (var attempt in connection.Report.Attempts)
    {
        Console.WriteLine($"  attempt #{attempt.Id} {attempt.Transport} {attempt.Remote}: {attempt.Result}{(attempt.Error is null ? "" : ": " + attempt.Error)}");
    }
}
