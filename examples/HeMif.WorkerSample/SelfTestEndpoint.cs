using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HeMif.WorkerSample;

/// <summary>
/// --self-test: a tiny Kestrel endpoint on 127.0.0.1 (a port the OS picks) for the worker to call, so the sample runs
/// on a machine without any network. <c>/</c> answers a line of text; <c>/generate_204</c> answers 204.
/// </summary>
internal sealed class SelfTestEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SelfTestEndpoint(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<SelfTestEndpoint> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/", () => Results.Text("hello from the self-test endpoint\n"));
        app.MapGet("/generate_204", () => Results.NoContent());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SelfTestEndpoint(app, new Uri(new Uri(address), "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
