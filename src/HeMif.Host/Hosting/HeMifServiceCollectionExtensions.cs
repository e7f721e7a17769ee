using Akka.Hosting;
using HeMif;
using HeMif.Configuration;
using HeMif.Hosting;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds HeMif to a service collection.</summary>
public static class HeMifServiceCollectionExtensions
{
    /// <summary>
    /// Adds HeMif: <see cref="HeMifOptions"/> bound from the configuration section <c>HeMif</c> and validated on start,
    /// an <see cref="IHeMifConnector"/> singleton made from them and DI's <see cref="TimeProvider"/> (default
    /// <see cref="TimeProvider.System"/>), <see cref="IHeMifEvents"/>, logging and metrics, and a hosted service that
    /// starts the engine with the host and drains it on stop. Calling it again adds nothing twice; each call's
    /// <paramref name="configure"/> applies.
    /// <para>
    /// HeMif's actors run in the application's actor system when it has one (<c>services.AddAkka(…)</c>, with
    /// <c>builder.WithHeMif(sp)</c> in it, before or after this call); otherwise this brings one of HeMif's own through
    /// Akka.Hosting, named <c>hemif</c>, whose logs go to Microsoft.Extensions.Logging. Either way HeMif's top actor is
    /// in Akka.Hosting's <c>ActorRegistry</c> as <see cref="HeMifActor"/>.
    /// </para>
    /// </summary>
    /// <returns>A builder for policies, interfaces, transports and probes.</returns>
    public static HeMifBuilder AddHeMif(this IServiceCollection services, Action<HeMifBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(HeMifServices)))
        {
            services.AddSingleton<HeMifServices>();
            services.AddSingleton(new HeMifComposition());
            // An application's own AddAkka, before or after this, replaces this one: Akka.Hosting keeps the last
            // configuration builder and one hosted service, so there is still one actor system, the application's.
            if (!services.Any(d => d.ServiceType == typeof(AkkaConfigurationBuilder)))
            {
                services.AddAkka(HeMifServices.OwnActorSystemName, (akka, sp) => akka
                    .ConfigureLoggers(loggers =>
                    {
                        loggers.ClearLoggers();
                        loggers.AddLoggerFactory();
                    })
                    .WithHeMif(sp));
            }

            services.AddOptions();
            services.AddLogging();
            services.AddMetrics();
            services.TryAddSingleton(TimeProvider.System);
            services.AddSingleton<IConfigureOptions<HeMifOptions>>(sp => new HeMifOptionsSetup(sp.GetService<IConfiguration>()));
            services.AddSingleton<IPostConfigureOptions<HeMifOptions>>(sp => new HeMifOptionsSetup(null));
            services.AddSingleton<IOptionsChangeTokenSource<HeMifOptions>>(sp => new ConfigurationChangeTokenSource<HeMifOptions>(
                sp.GetService<IConfiguration>()?.GetSection(HeMifConfiguration.SectionName) ?? (IConfiguration)new ConfigurationBuilder().Build()));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HeMifOptions>, HeMifOptionsValidator>());
            services.AddOptions<HeMifOptions>().ValidateOnStart();
            services.TryAddSingleton<HeMifTelemetry>();
            services.TryAddSingleton<HostedConnector>();
            services.TryAddSingleton<IHeMifConnector>(sp => sp.GetRequiredService<HostedConnector>());
            services.TryAddSingleton<IHeMifEvents>(sp => sp.GetRequiredService<IHeMifConnector>() switch
            {
                HostedConnector hosted => hosted,
                var other => new ConnectorEvents(other), // an IHeMifConnector registered before AddHeMif wins (TryAdd)
            });
            services.AddHostedService<HeMifHostedService>();
        }

        var composition = (HeMifComposition)services.First(d => d.ServiceType == typeof(HeMifComposition)).ImplementationInstance!;
        var builder = new HeMifBuilder(services, composition);
        configure?.Invoke(builder);
        return builder;
    }
}

/// <summary>
/// Configures HeMif in code, on top of the <c>HeMif</c> configuration section (code is applied after it). Transports,
/// a resolver and probes of the application's go to the same composition builder as
/// <see cref="HeMifConnector.CreateBuilder"/> (<see cref="HeMifConnectorBuilder"/>, with the same rules and errors), in
/// the order they are given; an error among them (two transports with one name) fails start-up with that message.
/// </summary>
public sealed class HeMifBuilder
{
    private readonly HeMifComposition _composition;

    internal HeMifBuilder(IServiceCollection services, HeMifComposition composition)
    {
        Services = services;
        _composition = composition;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Uses <paramref name="policy"/> (draft §4: hard and soft sets) instead of policy keys in configuration.</summary>
    public HeMifBuilder UsePolicy(HeMifPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Configure(o => o.Policy = policy);
    }

    /// <summary>Reads the policy from a file (docs/policy.md); its errors fail start-up naming the file and JSON path.</summary>
    public HeMifBuilder UsePolicyFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Configure(o => o.PolicyFile = path);
    }

    /// <summary>Uses exactly these interfaces instead of discovering the host's (tests, fixed appliances).</summary>
    public HeMifBuilder UseInterfaces(IReadOnlyList<InterfaceFacts> interfaces)
    {
        ArgumentNullException.ThrowIfNull(interfaces);
        return Configure(o => o.Interfaces = interfaces);
    }

    /// <summary>Applies a host override file (docs/connect.md): kinds, cost flags, per-interface DNS servers, probe settings.</summary>
    public HeMifBuilder UseOverridesFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Configure(o => o.OverridesFile = path);
    }

    /// <summary>The transport of requests that do not choose one (HttpClient always uses TCP: see docs/hosting.md).</summary>
    public HeMifBuilder UseTransport(TransportPreference transport) => Configure(o => o.Transport = transport);

    /// <summary>Multipath TCP in <paramref name="mode"/> for requests that do not choose (null: off; docs/multipath.md).</summary>
    public HeMifBuilder UseMultipath(MultipathMode? mode) => Configure(o => o.Multipath = mode);

    /// <summary>Validates interfaces with this check URL (plain <c>http://</c>, expecting 204 unless the override file says otherwise).</summary>
    public HeMifBuilder UseProbe(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return Configure(o => o.ProbeUrl = url);
    }

    /// <summary>Skips validation: every up interface counts as validated. Only for hosts without a check server.</summary>
    public HeMifBuilder DisableValidation() => Configure(o => o.DisableValidation = true);

    /// <summary>
    /// Registers a transport of type <typeparamref name="T"/>, resolved from the container (registered as a singleton
    /// here unless the application registered <typeparamref name="T"/> itself): the container owns it and disposes it,
    /// if it is disposable, when the host stops. See <see cref="HeMifConnectorBuilder.AddTransport"/>.
    /// </summary>
    public HeMifBuilder AddTransport<T>()
        where T : AttemptTransport
    {
        Services.TryAddSingleton<T>();
        _composition.Add(static (builder, services) => builder.AddTransport(services.GetRequiredService<T>()));
        return this;
    }

    /// <summary>Registers <paramref name="transport"/>; it stays the application's (HeMif never disposes it). See <see cref="HeMifConnectorBuilder.AddTransport"/>.</summary>
    public HeMifBuilder AddTransport(AttemptTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _composition.Add((builder, _) => builder.AddTransport(transport));
        return this;
    }

    /// <summary>
    /// The transports of requests that name none (default <c>tcp</c>): name a transport of yours here to race it. See
    /// <see cref="HeMifConnectorBuilder.UseDefaultTransports"/>.
    /// </summary>
    public HeMifBuilder UseDefaultTransports(params IEnumerable<TransportName> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        _composition.Add((builder, _) => builder.UseDefaultTransports(list));
        return this;
    }

    /// <summary>
    /// Resolves names with a <typeparamref name="T"/> from the container (registered as a singleton here unless the
    /// application registered it) instead of HeMif's resolver. See <see cref="HeMifConnectorBuilder.UseResolver"/>.
    /// </summary>
    public HeMifBuilder UseResolver<T>()
        where T : InterfaceResolver
    {
        Services.TryAddSingleton<T>();
        _composition.Add(static (builder, services) => builder.UseResolver(services.GetRequiredService<T>()));
        return this;
    }

    /// <summary>
    /// Validates interfaces with a <typeparamref name="T"/> from the container (registered as a singleton here unless
    /// the application registered it) instead of HeMif's HTTP check. See <see cref="HeMifConnectorBuilder.UseProbe"/>.
    /// </summary>
    public HeMifBuilder UseProbe<T>()
        where T : ConnectivityProbe
    {
        Services.TryAddSingleton<T>();
        _composition.Add(static (builder, services) => builder.UseProbe(services.GetRequiredService<T>()));
        return this;
    }

    /// <summary>Any other change to <see cref="HeMifOptions"/>.</summary>
    public HeMifBuilder Configure(Action<HeMifOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }
}
