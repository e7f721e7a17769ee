using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Hosting;
using HeMif.Interfaces;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HeMif.AkkaSample;

/// <summary>The sample's whole run, callable from a test with its own writer.</summary>
public static class Sample
{
    /// <summary>Runs the sample; returns 0 when the fetch succeeded, 3 when it failed, 2 for a bad argument.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        Uri? url = null;
        if (args.Length > 1 || (args.Length == 1 && (!Uri.TryCreate(args[0], UriKind.Absolute, out url) || url.Scheme is not ("http" or "https"))))
        {
            await output.WriteLineAsync("usage: HeMif.AkkaSample [http://HOST[:PORT]/PATH]").ConfigureAwait(false);
            return 2;
        }

        await using var endpoint = url is null ? await LoopbackEndpoint.StartAsync().ConfigureAwait(false) : null;
        url ??= endpoint!.Url;

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();

        // HeMif's services: options (the "HeMif" configuration section), IHeMifConnector, IHeMifEvents, UseHeMif().
        builder.Services.AddHeMif(heMif =>
        {
            if (endpoint is not null)
            {
                // The endpoint is this process on loopback: no check server to validate other interfaces with, and only
                // loopback reaches it (docs/hosting.md).
                heMif.UseInterfaces([new InterfaceFacts("lo", InterfaceKind.Loopback) { Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)] }]);
                heMif.DisableValidation();
            }
        });
        builder.Services.AddHttpClient(Fetcher.ClientName).UseHeMif();

        // The application's own actor system, with its own actor; HeMif joins it with one call. (Akka's own logs go to
        // Microsoft.Extensions.Logging, as an Akka.Hosting application usually has them.)
        builder.Services.AddAkka("shop", (akka, sp) => akka
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            })
            .WithActors((system, registry) =>
            {
                var clients = sp.GetRequiredService<IHttpClientFactory>();
                var heMif = sp.GetRequiredService<IRequiredActor<HeMifActor>>();
                registry.Register<Fetcher>(system.ActorOf(Props.Create(() => new Fetcher(clients, heMif)), "fetcher"));
            })
            .WithHeMif(sp));

        using var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        try
        {
            var fetcher = host.Services.GetRequiredService<IRequiredActor<Fetcher>>().ActorRef;
            var result = await fetcher.Ask<Fetcher.Fetched>(new Fetcher.Fetch(url), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await output.WriteLineAsync(result.Describe()).ConfigureAwait(false);
            return result.Error is null ? 0 : 3;
        }
        finally
        {
            await host.StopAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The application's own actor: fetches a URL through an HttpClient that HeMif connects, then asks HeMif's actor
/// (found in the registry as <see cref="HeMifActor"/>) for the report of the race that made that connection. Actors
/// start in no fixed order, so HeMif's actor is looked up when it is needed (<c>IRequiredActor.GetAsync</c>).
/// </summary>
public sealed class Fetcher : ReceiveActor
{
    /// <summary>The HttpClient name (configured with UseHeMif()).</summary>
    public const string ClientName = "shop";

    /// <summary>Creates the actor.</summary>
    public Fetcher(IHttpClientFactory clients, IRequiredActor<HeMifActor> heMif)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(heMif);
        // Inside an actor, awaits resume on the actor (Akka's task scheduler): no ConfigureAwait(false) here.
        ReceiveAsync<Fetch>(async fetch =>
        {
            var sender = Sender;
            using var client = clients.CreateClient(ClientName);
            string status;
            string? error = null;
            try
            {
                using var response = await client.GetAsync(fetch.Url);
                status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException e)
            {
                status = "no response";
                error = e.Message;
            }

            var heMifActor = await heMif.GetAsync();
            var last = await heMifActor.Ask<HeMifActor.LastRaceReport>(new HeMifActor.GetLastRaceReport(fetch.Url.Host, fetch.Url.Port), TimeSpan.FromSeconds(5));
            sender.Tell(new Fetched(fetch.Url, status, error, last.Report));
        });
    }

    /// <summary>Fetch <paramref name="Url"/>; the answer is a <see cref="Fetched"/>.</summary>
    public sealed record Fetch(Uri Url);

    /// <summary>What the fetch got, and HeMif's report of the race behind it.</summary>
    public sealed record Fetched(Uri Url, string Status, string? Error, Report.RaceReport? Race)
    {
        /// <summary>Two lines: the HTTP result, and HeMif's decision.</summary>
        public string Describe()
        {
            var fetched = Error is null ? $"GET {Url} -> {Status}" : $"GET {Url} -> {Status}: {Error}";
            var race = Race switch
            {
                null => "HeMif's actor has no race report for this destination",
                { Winner: { } w, TimeToConnect: { } t } => string.Create(CultureInfo.InvariantCulture,
                    $"HeMif's actor: connected over {w.Interface} ({w.Kind}), {w.Transport} {w.Family} to {w.Remote} in {t.TotalMilliseconds:0.#} ms, {Race.Attempts.Count} attempt(s)"),
                _ => $"HeMif's actor: the race failed: {Race.Failure}",
            };
            return fetched + Environment.NewLine + race;
        }
    }
}
