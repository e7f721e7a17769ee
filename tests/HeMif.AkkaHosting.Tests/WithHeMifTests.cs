using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HeMif.AkkaHosting.Tests;

/// <summary>
/// An application with its own actor system (here Akka.Hosting.TestKit's, named "shop") adds HeMif with one call on
/// its builder, <c>WithHeMif(sp)</c>: HeMif's top actor lives in that system, is in its registry as
/// <see cref="HeMifActor"/>, answers its protocol to the application's actors, and can be watched.
/// </summary>
public sealed class WithHeMifTests(ITestOutputHelper output) : Akka.Hosting.TestKit.TestKit("shop", output, logLevel: LogLevel.Warning)
{
    protected override void ConfigureServices(HostBuilderContext context, IServiceCollection services) =>
        services.AddHeMif(heMif => heMif.UseInterfaces([Loopback.Interface]).DisableValidation());

    protected override void ConfigureAkka(AkkaConfigurationBuilder builder, IServiceProvider provider) => builder.WithHeMif(provider);

    [Fact]
    public async Task HeMifs_top_actor_is_in_the_applications_registry_and_answers_with_the_interface_states()
    {
        var heMif = await ActorRegistry.GetAsync<HeMifActor>(TestContext.Current.CancellationToken);
        Assert.Equal("shop", heMif.Path.Address.System); // the application's system, not one of HeMif's own

        await AwaitAssertAsync(async () =>
        {
            var answer = await heMif.Ask<HeMifActor.InterfaceStates>(HeMifActor.GetInterfaceStates.Instance, TimeSpan.FromSeconds(5));
            var lo = Assert.Single(answer.States);
            Assert.Equal(("lo", HeMif.Validate.ValidationState.Validated), (lo.Interface, lo.State));
        }, TimeSpan.FromSeconds(10), cancellationToken: TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task An_actor_asks_HeMif_for_the_report_of_the_race_behind_a_connection()
    {
        using var listener = Loopback.Listen(out var port);
        var connector = Host.Services.GetRequiredService<IHeMifConnector>();
        await using (var connection = await connector.ConnectAsync("127.0.0.1", port, cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.Equal("lo", connection.Interface);
        }

        var heMif = await ActorRegistry.GetAsync<HeMifActor>(TestContext.Current.CancellationToken);
        heMif.Tell(new HeMifActor.GetLastRaceReport("127.0.0.1", port), TestActor);
        var last = await ExpectMsgAsync<HeMifActor.LastRaceReport>(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(port, last.Port);
        Assert.Equal("lo", last.Report?.Winner?.Interface);

        heMif.Tell(new HeMifActor.GetLastRaceReport("127.0.0.1", port == 65535 ? 1 : port + 1), TestActor);
        Assert.Null((await ExpectMsgAsync<HeMifActor.LastRaceReport>(cancellationToken: TestContext.Current.CancellationToken)).Report);
    }

    [Fact]
    public async Task An_application_actor_that_watches_HeMif_hears_when_HeMif_stops()
    {
        var heMif = await ActorRegistry.GetAsync<HeMifActor>(TestContext.Current.CancellationToken);
        await WatchAsync(heMif);

        await Host.Services.GetRequiredService<IHeMifConnector>().DisposeAsync(); // HeMif stops; the application's system goes on

        await ExpectTerminatedAsync(heMif, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(Sys.WhenTerminated.IsCompleted);
    }
}
