using HeMif;
using HeMif.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Akka.Hosting;

/// <summary>Adds HeMif's actors to an application's own actor system (Akka.Hosting).</summary>
public static class HeMifAkkaHostingExtensions
{
    /// <summary>
    /// Puts HeMif's actors into this actor system: its scheduler follows the application's <see cref="TimeProvider"/>
    /// (so every HeMif timer keeps one clock with the rest of the application), and when the system starts, HeMif's top
    /// actor starts in it and is registered in the <see cref="ActorRegistry"/> as <see cref="HeMifActor"/>
    /// (<c>IRequiredActor&lt;HeMifActor&gt;</c>). HeMif's services — options from the <c>HeMif</c> section,
    /// <see cref="IHeMifConnector"/>, <see cref="IHeMifEvents"/>, <c>UseHeMif()</c> — come from
    /// <c>services.AddHeMif()</c>, which must also be called (before or after <c>AddAkka</c>).
    /// </summary>
    /// <param name="builder">The application's Akka configuration builder (inside <c>services.AddAkka(name, (builder, sp) => …)</c>).</param>
    /// <param name="services">The application's service provider (the <c>sp</c> of that callback).</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddHeMif()</c> was not called.</exception>
    public static AkkaConfigurationBuilder WithHeMif(this AkkaConfigurationBuilder builder, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<HeMifServices>() is null)
        {
            throw new InvalidOperationException(
                "WithHeMif adds HeMif's actors to this actor system, but HeMif's services are missing: call services.AddHeMif() as well (before or after AddAkka).");
        }

        var clock = services.GetService<TimeProvider>()
                    ?? throw new InvalidOperationException("WithHeMif: no TimeProvider is registered; services.AddHeMif() registers TimeProvider.System unless the application registers its own.");
        var (hocon, started) = HeMifActorSystems.SchedulerFor(clock);
        builder.AddHocon(hocon, HoconAddMode.Prepend);
        builder.WithActors((system, registry) =>
        {
            started(system);
            // Creates the connector in this system (its constructor registers HeMif's top actor), so that HeMif starts
            // with the application's actors; a bad setting fails start-up here, logged as event 3 (StartupFailed).
            _ = services.GetRequiredService<HostedConnector>();
        });
        return builder;
    }
}
