using HeMif.WorkerSample;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A generic-host worker that calls an HTTP endpoint through HttpClient + HeMif every few seconds (docs/hosting.md).
//   (no arguments)      calls Worker:Url from appsettings.json; when it is empty, --self-test
//   --self-test         hosts its own endpoint on loopback and calls that (no network needed)
//   --once URL          one request, one result line, exit 0 (connected, 2xx) or 3 (failed)
// Any other argument is configuration: --Worker:Count=3, --HeMif:OverridesFile=host.json, --HeMif:DisableValidation=true …
var options = SampleArguments.Parse(args);
if (options.Error is { } error)
{
    await Console.Error.WriteLineAsync(error);
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = options.Rest,
    // appsettings.json sits beside the program, wherever it is started from (the lab starts it from elsewhere).
    ContentRootPath = AppContext.BaseDirectory,
});
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
});

await using var selfTest = options.SelfTest || (options.Once is null && string.IsNullOrWhiteSpace(builder.Configuration["Worker:Url"]))
    ? await SelfTestEndpoint.StartAsync()
    : null;
var overrides = new Dictionary<string, string?>();
if (selfTest is not null)
{
    // The endpoint is this process on loopback, so there is no check server to validate the other interfaces with:
    // validation is off (every up interface counts as validated), and HeMif reaches 127.0.0.1 over loopback only.
    overrides["Worker:Url"] = selfTest.Url.ToString();
    overrides["HeMif:DisableValidation"] = "true";
}

if (options.Once is { } once)
{
    overrides["Worker:Url"] = once.ToString();
    overrides["Worker:Count"] = "1";
    overrides["Worker:PrintResult"] = "true";
}

builder.Configuration.AddInMemoryCollection(overrides);

// The five lines of README's "Use it in your app": HeMif, an HttpClient through it, and the worker that uses it.
builder.Services.AddHeMif();
builder.Services.AddHttpClient(Worker.ClientName).UseHeMif();
builder.Services.AddOptions<WorkerOptions>().BindConfiguration("Worker");
builder.Services.AddHostedService<Worker>();

using var host = builder.Build();
try
{
    // Make HeMif's connector before the host starts: a bad setting or file then fails here, logged once by HeMif
    // (Critical, event 3, naming the key and the file), instead of inside the generic host's start, which logs its own
    // "Hosting failed to start" with a stack trace on top.
    host.Services.GetRequiredService<HeMif.IHeMifConnector>();
    await host.RunAsync();
}
catch (Exception e) when (e is Microsoft.Extensions.Options.OptionsValidationException or ArgumentException or HeMif.Configuration.HeMifConfigurationException)
{
    // Start-up failed (HeMif logged why at Critical, or validation named the key): a clear line and exit 2.
    await Console.Error.WriteLineAsync("hemif-worker: " + e.Message);
    return 2;
}

return Environment.ExitCode;
