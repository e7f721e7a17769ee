using System.Net;
using System.Net.Sockets;
using HeMif.Simulation;
using HeMif.TestKit;
using HeMif.Validate;
using static HeMif.Actors.Tests.Simulation.Sim;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// What the simulated connectivity probe finds (draft §5.2.1) and how each interface's resolver answers (draft §5.2.2,
/// §7.3), to the tick, with cancellation releasing everything.
/// </summary>
public sealed class SimulatedProbeAndDnsTests
{
    private static (ManualTimeProvider Clock, SimulatedNetwork Net) Make(SimulatedPath wlan)
    {
        var clock = new ManualTimeProvider();
        return (clock, Network(clock, wlan));
    }

    private static ValidationResult ProbeAt(TimeSpan expected, SimulatedPath wlan)
    {
        var (clock, net) = Make(wlan);
        var probe = net.Probe.ProbeAsync(Wlan, CancellationToken.None);
        if (expected > TimeSpan.Zero)
        {
            clock.Advance(expected - Tick);
            Assert.False(probe.IsCompleted, "the probe answered before " + expected);
            clock.Advance(Tick);
        }

        Assert.True(probe.IsCompletedSuccessfully, "the probe had not answered at " + expected);
        Assert.Equal(0, clock.ArmedTimerCount);
        return probe.Result;
    }

    [Fact]
    public void A_working_path_is_validated_one_round_trip_of_its_fastest_family_after_the_probe_starts()
    {
        var result = ProbeAt(Ms(20), new SimulatedPath { Rtt = Ms(40), Ipv4Rtt = Ms(20) });
        Assert.Equal(ValidationState.Validated, result.State);
        Assert.Contains("IPv4", result.Detail, StringComparison.Ordinal);
    }

    /// <summary>§5.2.1: the probe detects "an HTTP proxy that forces a login or a click-through".</summary>
    [Fact]
    public void Behind_a_captive_portal_the_probe_reports_it_with_the_portal_URL()
    {
        var portal = new Uri("http://portal.example.net/login");
        var result = ProbeAt(Ms(20), new SimulatedPath { Rtt = Ms(20), CaptivePortal = portal });
        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Equal(portal, result.PortalUrl);
    }

    /// <summary>§7.3: "The DNS server modified and replied the answer with the IP address of captive portal".</summary>
    [Fact]
    public void With_DNS_interception_the_probe_reports_it_and_the_resolver_answers_with_the_interceptor_addresses()
    {
        var fake = IPAddress.Parse("192.0.2.254");
        var result = ProbeAt(Ms(20), new SimulatedPath { Rtt = Ms(20), DnsInterception = [fake] });
        Assert.Equal(ValidationState.DnsIntercepted, result.State);

        var (clock, net) = Make(new SimulatedPath { Rtt = Ms(20), DnsInterception = [fake] });
        var a = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetwork, CancellationToken.None);
        var aaaa = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetworkV6, CancellationToken.None);
        clock.Advance(Ms(20));
        Assert.Equal([fake], Done(a).Addresses);
        Assert.Empty(Done(aaaa).Addresses);
        Assert.Null(Done(aaaa).Error);
    }

    [Fact]
    public void On_a_link_that_is_down_the_probe_says_Down_at_once()
    {
        Assert.Equal(ValidationState.Down, ProbeAt(TimeSpan.Zero, new SimulatedPath { LinkDown = true }).State);
    }

    [Fact]
    public void When_both_families_blackhole_the_probe_reports_no_connectivity_after_its_timeout()
    {
        var result = ProbeAt(TimeSpan.FromSeconds(3), new SimulatedPath { Ipv6 = FamilyBehavior.Blackhole, Ipv4 = FamilyBehavior.Blackhole });
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Equal(ValidationState.NoConnectivity,
            ProbeAt(Ms(500), new SimulatedPath { Ipv6 = FamilyBehavior.Blackhole, Ipv4 = FamilyBehavior.Absent, ProbeTimeout = Ms(500) }).State);
    }

    [Fact]
    public void When_the_check_server_is_refused_the_probe_reports_no_connectivity_after_one_round_trip()
    {
        var result = ProbeAt(Ms(20), new SimulatedPath { Rtt = Ms(20), Ipv6 = FamilyBehavior.Reject, Ipv4 = FamilyBehavior.Absent });
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Contains("connection refused", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void With_no_connectivity_of_either_family_the_probe_reports_no_connectivity_at_once()
    {
        Assert.Equal(ValidationState.NoConnectivity, ProbeAt(TimeSpan.Zero, new SimulatedPath { Ipv6 = FamilyBehavior.Absent, Ipv4 = FamilyBehavior.Absent }).State);
    }

    /// <summary>
    /// §3.1: "a node might assume that because a valid IP address has been allocated, the WiFi link provides
    /// connectivity … However, this might not be the case". The probe passed; attempts now go unanswered.
    /// </summary>
    [Fact]
    public void A_probe_verdict_set_by_the_scenario_wins_so_a_path_can_pass_validation_and_then_blackhole_attempts()
    {
        var broken = new SimulatedPath { Rtt = Ms(20), Ipv6 = FamilyBehavior.Blackhole, Ipv4 = FamilyBehavior.Blackhole, Probe = ValidationState.Validated };
        Assert.Equal(ValidationState.Validated, ProbeAt(Ms(20), broken).State);

        var (clock, net) = Make(broken);
        var attempt = net.Tcp.ConnectAsync(Wlan, V4, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.False(attempt.IsCompleted);
    }

    [Fact]
    public void Cancelling_a_probe_ends_it_as_cancelled_and_disarms_its_timer()
    {
        var (clock, net) = Make(new SimulatedPath { Ipv6 = FamilyBehavior.Blackhole, Ipv4 = FamilyBehavior.Blackhole });
        using var cts = new CancellationTokenSource();
        var probe = net.Probe.ProbeAsync(Wlan, cts.Token);
        Assert.Equal(1, clock.ArmedTimerCount);

        cts.Cancel();

        Assert.True(probe.IsCanceled);
        Assert.Equal(0, clock.ArmedTimerCount);
        Assert.Equal(0, net.PendingOperations);
    }

    private static ResolveResult ResolveAt(ManualTimeProvider clock, SimulatedNetwork net, string host, AddressFamily family, TimeSpan expected)
    {
        var query = net.Resolver.ResolveAsync(Wlan, host, family, CancellationToken.None);
        clock.Advance(expected - Tick);
        Assert.False(query.IsCompleted, "the resolver answered before " + expected);
        clock.Advance(Tick);
        Assert.True(query.IsCompletedSuccessfully, "the resolver had not answered at " + expected);
        return query.Result;
    }

    [Fact]
    public void The_resolver_answers_each_family_from_the_destinations_after_one_round_trip_by_default()
    {
        var (clock, net) = Make(new SimulatedPath { Rtt = Ms(30) });
        Assert.Equal([V6Address], ResolveAt(clock, net, Host, AddressFamily.InterNetworkV6, Ms(30)).Addresses);
        Assert.Equal([V4Address], ResolveAt(clock, net, Host, AddressFamily.InterNetwork, Ms(30)).Addresses);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    /// <summary>RFC 8305 §3: "If a positive A response is received first due to reordering …" — a slower AAAA delay simulates it.</summary>
    [Fact]
    public void A_separate_AAAA_delay_lets_the_A_answer_arrive_first()
    {
        var (clock, net) = Make(new SimulatedPath { DnsDelay = Ms(10), AaaaDelay = Ms(80) });
        var aaaa = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetworkV6, CancellationToken.None);
        var a = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetwork, CancellationToken.None);

        clock.Advance(Ms(10));
        Assert.True(a.IsCompletedSuccessfully);
        Assert.False(aaaa.IsCompleted);
        clock.Advance(Ms(70));
        Assert.Equal([V6Address], Done(aaaa).Addresses);
    }

    /// <summary>§7.3: "Some FQDNs can be resolvable only by sending queries to the right server … Otherwise, a response with NXDOMAIN is replied."</summary>
    [Fact]
    public void A_host_not_in_the_destinations_gets_NXDOMAIN_after_the_DNS_delay()
    {
        var (clock, net) = Make(new SimulatedPath { DnsDelay = Ms(15) });
        Assert.Equal("NXDOMAIN", ResolveAt(clock, net, "intranet.example.org", AddressFamily.InterNetwork, Ms(15)).Error);
    }

    [Fact]
    public void A_family_the_host_has_no_address_of_gets_an_empty_answer_not_an_error()
    {
        var (clock, net) = Make(new SimulatedPath { DnsDelay = Ms(15) });
        var answer = ResolveAt(clock, net, "v6only.example.com", AddressFamily.InterNetwork, Ms(15));
        Assert.Empty(answer.Addresses);
        Assert.Null(answer.Error);
    }

    [Fact]
    public void Host_names_match_case_insensitively_and_with_a_trailing_dot()
    {
        var (clock, net) = Make(new SimulatedPath { DnsDelay = Ms(15) });
        Assert.Equal([V4Address], ResolveAt(clock, net, "WWW.Example.COM.", AddressFamily.InterNetwork, Ms(15)).Addresses);
    }

    [Theory]
    [InlineData(DnsBehavior.Servfail, "SERVFAIL")]
    [InlineData(DnsBehavior.Nxdomain, "NXDOMAIN")]
    public void A_failing_resolver_answers_with_its_error_after_the_DNS_delay(DnsBehavior behavior, string error)
    {
        var (clock, net) = Make(new SimulatedPath { Dns = behavior, DnsDelay = Ms(25) });
        var answer = ResolveAt(clock, net, Host, AddressFamily.InterNetworkV6, Ms(25));
        Assert.Equal(error, answer.Error);
        Assert.Empty(answer.Addresses);
    }

    [Fact]
    public void A_resolver_that_never_answers_times_out_after_the_DNS_timeout()
    {
        var (clock, net) = Make(new SimulatedPath { Dns = DnsBehavior.Timeout, DnsTimeout = TimeSpan.FromSeconds(2) });
        Assert.Equal("timed out after 2000 ms", ResolveAt(clock, net, Host, AddressFamily.InterNetwork, TimeSpan.FromSeconds(2)).Error);
    }

    [Fact]
    public void On_a_link_that_is_down_queries_fail_at_once()
    {
        var (clock, net) = Make(new SimulatedPath { LinkDown = true });
        var query = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetwork, CancellationToken.None);
        Assert.Equal("network is down", Done(query).Error);
        Assert.Equal(0, clock.ArmedTimerCount);
    }

    [Fact]
    public void An_IP_literal_resolves_to_itself_at_once_for_its_own_family_only()
    {
        var (_, net) = Make(SimulatedPath.Default);
        Assert.Equal([V4Address], Done(net.Resolver.ResolveAsync(Wlan, "192.0.2.80", AddressFamily.InterNetwork, CancellationToken.None)).Addresses);
        Assert.Empty(Done(net.Resolver.ResolveAsync(Wlan, "192.0.2.80", AddressFamily.InterNetworkV6, CancellationToken.None)).Addresses);
    }

    [Fact]
    public void Cancelling_a_query_ends_it_as_cancelled_and_disarms_its_timer()
    {
        var (clock, net) = Make(new SimulatedPath { Dns = DnsBehavior.Timeout });
        using var cts = new CancellationTokenSource();
        var query = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetwork, cts.Token);
        Assert.Equal(1, clock.ArmedTimerCount);

        cts.Cancel();

        Assert.True(query.IsCanceled);
        Assert.Equal(0, clock.ArmedTimerCount);
        Assert.Equal(NetworkOperationKind.Cancelled, net.Log[^1].Kind);
    }

    [Fact]
    public void Each_interface_has_its_own_resolver_behaviour()
    {
        var clock = new ManualTimeProvider();
        var net = Network(clock, new SimulatedPath { Dns = DnsBehavior.Servfail, DnsDelay = Ms(5) }, new SimulatedPath { DnsDelay = Ms(5) });
        var wifi = net.Resolver.ResolveAsync(Wlan, Host, AddressFamily.InterNetwork, CancellationToken.None);
        var cell = net.Resolver.ResolveAsync(Rmnet, Host, AddressFamily.InterNetwork, CancellationToken.None);
        clock.Advance(Ms(5));
        Assert.Equal("SERVFAIL", Done(wifi).Error);
        Assert.Equal([V4Address], Done(cell).Addresses);
    }
}
