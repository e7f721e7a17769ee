using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HeMif.Host.Tests.Support;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with two ports chosen by the OS: one HTTP/1.1, one HTTP/2 cleartext (prior
/// knowledge, as h2c needs). <c>/</c> answers with the protocol it was reached over; <c>/generate_204</c> answers 204
/// (a connectivity check).
/// </summary>
public sealed class LoopbackWebServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackWebServer(WebApplication app, int http1Port, int http2Port)
    {
        _app = app;
        Http1Port = http1Port;
        Http2Port = http2Port;
    }

    public int Http1Port { get; }

    public int Http2Port { get; }

    public Uri Http1 => new($"http://127.0.0.1:{Http1Port}/");

    public Uri Http2 => new($"http://127.0.0.1:{Http2Port}/");

    public Uri Check => new($"http://127.0.0.1:{Http1Port}/generate_204");

    public static async Task<LoopbackWebServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.MapGet("/", (HttpContext c) => Results.Text("hello over " + c.Request.Protocol));
        app.MapGet("/generate_204", () => Results.NoContent());
        await app.StartAsync();
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToList();
        return new LoopbackWebServer(app, ports[0], ports[1]);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
