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
/// (a connectivity check); <c>/connection</c> answers with the server's id of the connection it came over;
/// <c>/slow?phase=headers</c> waits for <see cref="Release"/> before it answers, <c>/slow?phase=body</c> sends its
/// headers and half its body, then waits. The server counts the connections it saw open and close.
/// </summary>
public sealed class LoopbackWebServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Connections _connections;

    private LoopbackWebServer(WebApplication app, Connections connections, int http1Port, int http2Port)
    {
        _app = app;
        _connections = connections;
        Http1Port = http1Port;
        Http2Port = http2Port;
    }

    /// <summary>Connections accepted so far.</summary>
    public int Opened => _connections.Opened;

    /// <summary>Connections that ended so far (the client closed them, or the server stopped).</summary>
    public int Closed => _connections.Closed;

    /// <summary>Ids of the connections open now.</summary>
    public IReadOnlyCollection<string> Open => [.. _connections.OpenIds.Keys];

    /// <summary>Completes when a <c>/slow</c> request has arrived and waits.</summary>
    public Task SlowArrived => _connections.SlowArrived.Task;

    /// <summary>Lets every waiting <c>/slow</c> request finish.</summary>
    public void Release() => _connections.Gate.TrySetResult();

    /// <summary>Waits until at least <paramref name="count"/> connections have ended.</summary>
    public async Task WaitForClosedAsync(int count, TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        while (Closed < count)
        {
            await Task.Delay(10, cts.Token);
        }
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
        var connections = new Connections();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o =>
            {
                o.Protocols = HttpProtocols.Http1;
                o.Use(connections.Count);
            });
            k.Listen(IPAddress.Loopback, 0, o =>
            {
                o.Protocols = HttpProtocols.Http2;
                o.Use(connections.Count);
            });
        });
        var app = builder.Build();
        app.MapGet("/", (HttpContext c) => Results.Text("hello over " + c.Request.Protocol));
        app.MapGet("/generate_204", () => Results.NoContent());
        app.MapGet("/connection", (HttpContext c) => Results.Text(c.Connection.Id));
        app.MapGet("/slow", async (HttpContext c) =>
        {
            if (c.Request.Query["phase"] == "body")
            {
                await c.Response.WriteAsync("first half;");
                await c.Response.Body.FlushAsync();
            }

            connections.SlowArrived.TrySetResult();
            await connections.Gate.Task;
            await c.Response.WriteAsync("second half");
        });
        await app.StartAsync();
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .Select(a => new Uri(a).Port).ToList();
        return new LoopbackWebServer(app, connections, ports[0], ports[1]);
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>What the server saw of its connections (Kestrel connection middleware).</summary>
    private sealed class Connections
    {
        private int _opened;
        private int _closed;

        public int Opened => Volatile.Read(ref _opened);

        public int Closed => Volatile.Read(ref _closed);

        public System.Collections.Concurrent.ConcurrentDictionary<string, bool> OpenIds { get; } = new();

        public TaskCompletionSource SlowArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Microsoft.AspNetCore.Connections.ConnectionDelegate Count(Microsoft.AspNetCore.Connections.ConnectionDelegate next) => async context =>
        {
            Interlocked.Increment(ref _opened);
            OpenIds[context.ConnectionId] = true;
            try
            {
                await next(context);
            }
            finally
            {
                OpenIds.TryRemove(context.ConnectionId, out _);
                Interlocked.Increment(ref _closed);
            }
        };
    }
}
