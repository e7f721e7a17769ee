using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.AkkaHosting.Tests;

/// <summary>The one interface these tests race on (never the machine's real ones), and a listener on it.</summary>
internal static class Loopback
{
    public static readonly InterfaceFacts Interface = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    /// <summary>A TCP listener on 127.0.0.1 that accepts and holds connections until disposed.</summary>
    public static TcpListener Listen(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }
}
