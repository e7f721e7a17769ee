using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using HeMif.Host.Tests.Support;
using HeMif.Hosting;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HeMif.Host.Tests.Hosting;

/// <summary>Configuration changes through IOptionsMonitor, and the IHeMifEvents streams.</summary>
public sealed class LiveChangeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A user rule prohibits loopback: the request is refused naming the rule. The rule is relaxed in configuration: the
    /// very next request connects, without a restart.
    /// </summary>
    [Fact]
    public async Task A_policy_change_applies_to_the_next_request()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        var (host, logs) = TestHosts.Create(new Dictionary<string, string?>
        {
            ["HeMif:userRules:0:name"] = "no-loopback",
            ["HeMif:userRules:0:level"] = "Prohibit",
            ["HeMif:userRules:0:interface:kinds:0"] = "Loopback",
        });
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => host.Client().GetAsync(server.Http1).WaitAsync(Bound));
            Assert.Contains("no-loopback", refused.Message, StringComparison.Ordinal);

            host.Change("HeMif:userRules:0:level", "Prefer");

            using var response = await host.Client().GetAsync(server.Http1).WaitAsync(Bound);
            response.EnsureSuccessStatusCode();
            await host.StopAsync().WaitAsync(Bound);
        }

        var updated = Assert.Single(logs.HeMif, e => e.EventId.Id == 5);
        Assert.Equal(LogLevel.Information, updated.Level);
        Assert.Contains("1 user rules", updated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_that_leaves_the_policy_as_it_was_is_not_a_policy_update()
    {
        var (host, logs) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:kindOrder:0"] = "Loopback" });
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            host.Change("HeMif:Transport", "Tcp");
            await host.StopAsync().WaitAsync(Bound);
        }

        Assert.DoesNotContain(logs.HeMif, e => e.EventId.Id == 5);
    }

    [Fact]
    public async Task A_setting_the_engine_was_built_with_says_it_waits_for_a_restart()
    {
        var (host, logs) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            host.Change("HeMif:RaceTimeout", "00:00:07");
            await host.StopAsync().WaitAsync(Bound);
        }

        var warning = Assert.Single(logs.HeMif, e => e.EventId.Id == 7);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("HeMif:RaceTimeout changed", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_transport_default_is_read_per_request()
    {
        var (host, logs) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var connector = host.Services.GetRequiredService<HostedConnector>();
            Assert.Equal(TransportPreference.Tcp, connector.DefaultOptions().Transport);
            host.Change("HeMif:Transport", "Quic");
            Assert.Equal(TransportPreference.Quic, connector.DefaultOptions().Transport);

            // An invalid change is refused by validation (the options monitor throws where the reload happens), logged,
            // and requests keep the last valid settings.
            var reload = Assert.ThrowsAny<Exception>(() => host.Change("HeMif:Transport", "udp"));
            Assert.Contains("HeMif:Transport must be one of", reload.ToString(), StringComparison.Ordinal);
            Assert.Equal(TransportPreference.Quic, connector.DefaultOptions().Transport);
            var rejected = Assert.Single(logs.HeMif, e => e.EventId.Id == 8);
            Assert.Equal(LogLevel.Error, rejected.Level);
            Assert.Contains("HeMif:Transport must be one of Tcp, Any, Quic; got \"udp\"", rejected.Message, StringComparison.Ordinal);
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    /// <summary>A subscriber that arrives after start-up first learns where each interface stands, then every change.</summary>
    [Fact]
    public async Task IHeMifEvents_replays_interface_states_reports_races_and_completes_on_stop()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        var (host, _) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var events = host.Services.GetRequiredService<IHeMifEvents>();

            var state = await events.InterfaceStates.FirstAsync().ToTask().WaitAsync(Bound);
            Assert.Equal(("lo", ValidationState.Validated), (state.Interface, state.State));

            var races = events.Races.Replay();
            using var connect = races.Connect();
            var raceEvents = events.RaceEvents.Replay();
            using var connectEvents = raceEvents.Connect();
            var statesDone = events.InterfaceStates.LastOrDefaultAsync().ToTask();
            using (var response = await host.Client().GetAsync(server.Http1).WaitAsync(Bound))
            {
                response.EnsureSuccessStatusCode();
            }

            var report = await races.FirstAsync().ToTask().WaitAsync(Bound);
            Assert.Equal(("lo", server.Http1Port), (report.Winner!.Interface, report.Port));
            Assert.Contains(await raceEvents.Take(100).TakeUntil(e => e.Kind == "won").ToList().ToTask().WaitAsync(Bound), e => e.Kind == "won");

            await host.StopAsync().WaitAsync(Bound);
            await races.LastOrDefaultAsync().ToTask().WaitAsync(Bound);
            await statesDone.WaitAsync(Bound);
        }
    }

    /// <summary>
    /// HeMif:Multipath applies to requests that do not choose, HttpClient's included: Kestrel does not do MPTCP, so the
    /// connection falls back to TCP and says so, and the HTTP request goes through the stream that owns it all.
    /// </summary>
    [Fact]
    public async Task The_configured_multipath_mode_applies_to_requests_without_options_and_to_HttpClient()
    {
        await using var server = await LoopbackWebServer.StartAsync();
        var (host, _) = TestHosts.Create(new Dictionary<string, string?> { ["HeMif:Multipath"] = "handover" });
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            await using (var connection = await host.Services.GetRequiredService<IHeMifConnector>().ConnectAsync("127.0.0.1", server.Http1Port).WaitAsync(Bound))
            {
                Assert.Equal(Multipath.MultipathMode.Handover, connection.Multipath?.Mode);
            }

            for (var i = 0; i < 2; i++)
            {
                using var response = await host.Client().GetAsync(server.Http1).WaitAsync(Bound);
                Assert.Equal("hello over HTTP/1.1", await response.Content.ReadAsStringAsync());
            }

            host.Change("HeMif:Multipath", "Off");
            Assert.Null(host.Services.GetRequiredService<HostedConnector>().DefaultOptions().Multipath);
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task Subflow_suggestions_of_the_hosted_connector_reach_IHeMifEvents()
    {
        var (host, _) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var events = host.Services.GetRequiredService<IHeMifEvents>();
            var suggested = events.SubflowSuggestions.FirstAsync().ToTask();
            var connector = host.Services.GetRequiredService<IHeMifConnector>();
            using var watch = connector.WatchSubflows("127.0.0.1", 443, Multipath.MultipathMode.Handover).Subscribe(_ => { });
            var plan = await suggested.WaitAsync(Bound);
            Assert.Equal(("127.0.0.1", "lo"), (plan.Host, plan.Primary?.Interface));
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task Race_reports_are_published_for_failures_too()
    {
        using var refusing = new TestKit.RefusingPort();
        var (host, _) = TestHosts.Create();
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var events = host.Services.GetRequiredService<IHeMifEvents>();
            var next = events.Races.FirstAsync().ToTask();
            await Assert.ThrowsAsync<HeMifConnectException>(() => host.Services.GetRequiredService<IHeMifConnector>().ConnectAsync("127.0.0.1", refusing.Port).WaitAsync(Bound));
            Assert.Equal(RaceOutcome.Failed, (await next.WaitAsync(Bound)).Outcome);
            await host.StopAsync().WaitAsync(Bound);
        }
    }
}
