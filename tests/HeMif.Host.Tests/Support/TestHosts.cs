using System.Net;
using HeMif.Hosting;
using HeMif.Interfaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HeMif.Host.Tests.Support;

/// <summary>
/// Test hosts made the way an application makes one (Host.CreateApplicationBuilder), with HeMif from an in-memory
/// configuration. The interfaces are always given (loopback only, never the machine's real ones).
/// </summary>
public static class TestHosts
{
    public static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    /// <summary>
    /// Validation off unless the configuration says otherwise; HttpClient "x" through HeMif. With validation on, the
    /// check runs on loopback too unless <paramref name="probeLoopback"/> is false (production's behaviour).
    /// </summary>
    public static (IHost Host, MemoryLoggerProvider Logs) Create(IDictionary<string, string?>? configuration = null, Action<HeMifBuilder>? configure = null, bool probeLoopback = true,
        Action<IServiceCollection>? services = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Testing",
        });
        var settings = new Dictionary<string, string?> { ["HeMif:DisableValidation"] = "true" };
        foreach (var (k, v) in configuration ?? new Dictionary<string, string?>())
        {
            settings[k] = v;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        var logs = new MemoryLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.Services.AddHeMif(b =>
        {
            b.UseInterfaces([Loopback]);
            configure?.Invoke(b);
        });
        builder.Services.AddHttpClient("x").UseHeMif();
        // Loopback is validated by definition in production; here it is the only network, so the check runs on it.
        builder.Services.PostConfigure<HeMifOptions>(o => o.ProbeLoopback = probeLoopback);
        services?.Invoke(builder.Services);
        return (builder.Build(), logs);
    }

    /// <summary>Sets a key and tells the options monitor, as a reloaded appsettings.json would.</summary>
    public static void Change(this IHost host, string key, string? value)
    {
        var configuration = (IConfigurationRoot)host.Services.GetRequiredService<IConfiguration>();
        configuration[key] = value;
        configuration.Reload();
    }

    public static HttpClient Client(this IHost host) => host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("x");
}
