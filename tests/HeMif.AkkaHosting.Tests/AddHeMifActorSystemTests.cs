using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using HeMif.AkkaSample;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace HeMif.AkkaHosting.Tests;

/// <summary>
/// Which actor system HeMif runs in: the application's own when it has one (whatever the order of AddAkka and
/// AddHeMif), otherwise one that AddHeMif brings through Akka.Hosting; and the clear errors of a wrong set-up.
/// </summary>
public sealed class AddHeMifActorSystemTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_an_actor_system_of_its_own_the_application_gets_HeMifs_whose_Akka_logs_go_to_Microsoft_Extensions_Logging()
    {
        var logs = new MemoryLoggerProvider();
        using var host = Build(logs, services => services.AddHeMif(LoopbackOnly));
        await host.StartAsync(Cancel);

        var system = host.Services.GetRequiredService<ActorSystem>();
        Assert.Equal("hemif", system.Name);
        var heMif = await host.Services.GetRequiredService<IRequiredActor<HeMifActor>>().GetAsync(Cancel);
        Assert.Equal("hemif", heMif.Path.Address.System);

        system.Log.Warning("a warning from Akka's own logging");
        await WaitForAsync(() => logs.Entries.Any(e => e.Message.Contains("a warning from Akka's own logging", StringComparison.Ordinal)));
        await host.StopAsync(Cancel);
        Assert.True(system.WhenTerminated.IsCompleted, "the actor system AddHeMif brought ends with the host");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_the_applications_own_AddAkka_before_or_after_AddHeMif_there_is_one_system_the_applications(bool heMifFirst)
    {
        using var host = Build(new MemoryLoggerProvider(), services =>
        {
            if (heMifFirst)
            {
                services.AddHeMif(LoopbackOnly);
            }

            services.AddAkka("shop", (akka, sp) => akka.WithHeMif(sp));
            if (!heMifFirst)
            {
                services.AddHeMif(LoopbackOnly);
            }
        });
        await host.StartAsync(Cancel);

        Assert.Equal("shop", host.Services.GetRequiredService<ActorSystem>().Name);
        var heMif = await host.Services.GetRequiredService<IRequiredActor<HeMifActor>>().GetAsync(Cancel);
        Assert.Equal("shop", heMif.Path.Address.System);
        using var listener = Loopback.Listen(out var port);
        await using var connection = await host.Services.GetRequiredService<IHeMifConnector>().ConnectAsync("127.0.0.1", port, cancellationToken: Cancel);
        Assert.Equal("lo", connection.Interface);
        await host.StopAsync(Cancel);
    }

    [Fact]
    public async Task WithHeMif_puts_the_actor_systems_scheduler_on_the_applications_TimeProvider()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        using var host = Build(new MemoryLoggerProvider(), services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddAkka("shop", (akka, sp) => akka.WithHeMif(sp));
            services.AddHeMif(LoopbackOnly);
        });
        await host.StartAsync(Cancel);

        var scheduler = host.Services.GetRequiredService<ActorSystem>().Scheduler;
        Assert.Equal(clock.GetUtcNow(), scheduler.Now);
        clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(clock.GetUtcNow(), scheduler.Now);
        await host.StopAsync(Cancel);
    }

    [Fact]
    public async Task An_application_clock_with_an_actor_system_that_lacks_WithHeMif_fails_start_up_naming_WithHeMif()
    {
        var logs = new MemoryLoggerProvider();
        using var host = Build(logs, services =>
        {
            services.AddSingleton<TimeProvider>(new FakeTimeProvider());
            services.AddAkka("shop", (_, _) => { });
            services.AddHeMif(LoopbackOnly);
        });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Cancel));
        Assert.Contains("WithHeMif", error.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.Id.Id == 3 && e.Level == LogLevel.Critical && e.Message.Contains("WithHeMif", StringComparison.Ordinal));
    }

    /// <summary>A HeMif setting that cannot be bound fails start-up naming the key, in the application's actor system too.</summary>
    [Fact]
    public async Task A_HeMif_setting_that_cannot_be_bound_fails_start_up_naming_the_key()
    {
        using var host = Build(new MemoryLoggerProvider(), services =>
        {
            services.AddAkka("shop", (akka, sp) => akka.WithHeMif(sp));
            services.AddHeMif(LoopbackOnly);
        }, new Dictionary<string, string?> { ["HeMif:RaceTimeout"] = "soon" });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Cancel));
        Assert.Contains("HeMif:RaceTimeout", Flatten(error), StringComparison.Ordinal);
        Assert.Contains("soon", Flatten(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithHeMif_without_AddHeMif_fails_start_up_saying_what_is_missing()
    {
        using var host = Build(new MemoryLoggerProvider(), services => services.AddAkka("shop", (akka, sp) => akka.WithHeMif(sp)));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(Cancel));
        Assert.Contains("services.AddHeMif()", Flatten(error), StringComparison.Ordinal);
    }

    /// <summary>No hang: a request that arrives while (or after) HeMif's actor system shuts down fails, saying so.</summary>
    [Fact]
    public async Task A_request_after_the_actor_system_has_terminated_fails_with_a_HeMifConnectException_saying_so()
    {
        using var host = Build(new MemoryLoggerProvider(), services => services.AddHeMif(LoopbackOnly));
        await host.StartAsync(Cancel);
        var connector = host.Services.GetRequiredService<IHeMifConnector>();
        using var listener = Loopback.Listen(out var port);
        await (await connector.ConnectAsync("127.0.0.1", port, cancellationToken: Cancel)).DisposeAsync(); // validated, in use

        await host.Services.GetRequiredService<ActorSystem>().Terminate();
        var error = await Assert.ThrowsAsync<HeMifConnectException>(() => connector.ConnectAsync("127.0.0.1", port, cancellationToken: Cancel).WaitAsync(TimeSpan.FromSeconds(30), Cancel));

        Assert.Contains("shutting down", error.Message, StringComparison.Ordinal);
        Assert.Equal(Report.RaceOutcome.Failed, error.Report.Outcome);
        await host.StopAsync(Cancel);
    }

    /// <summary>The example of docs/hosting.md: an Akka.Hosting application with its own actor, HeMif added with one call.</summary>
    [Fact]
    public async Task The_Akka_sample_fetches_through_HeMif_and_its_actor_gets_the_race_report_from_HeMifs_actor()
    {
        using var output = new StringWriter();
        var exit = await Sample.RunAsync([], output);

        Assert.True(exit == 0, output.ToString());
        Assert.Matches(@"GET http://127\.0\.0\.1:\d+/ -> 200", output.ToString());
        Assert.Contains("HeMif's actor: connected over lo (Loopback), tcp ipv4 to 127.0.0.1:", output.ToString(), StringComparison.Ordinal);
    }

    private static void LoopbackOnly(HeMifBuilder heMif) => heMif.UseInterfaces([Loopback.Interface]).DisableValidation();

    private static IHost Build(MemoryLoggerProvider logs, Action<IServiceCollection> configure, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        configure(builder.Services);
        return builder.Build();
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : e.Message + " <- " + Flatten(e.InnerException);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
