using System.Net;
using System.Net.Sockets;
using HeMif.Configuration;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Simulation;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>
/// The scenario format (docs/scenarios.md): every built-in loads; a file is read completely, defaults fill what it
/// leaves out; malformed input gets an error naming the file, the JSON path and what was expected.
/// </summary>
public sealed class ScenarioTests
{
    private const string Full = """
        {
          "name": "everything",
          "description": "every key once",
          "interfaces": [
            { "name": "wlan0", "kind": "Wifi", "addresses": [ { "address": "2001:db8:a::10", "prefixLength": 64 }, { "address": "198.51.100.10", "prefixLength": 24 } ] },
            { "name": "rmnet0", "kind": "Cellular", "metered": true, "addresses": [ { "address": "2001:db8:c::10", "prefixLength": 64 } ] }
          ],
          "policy": { "userRules": [ { "name": "no-roaming", "level": "Prohibit", "interface": { "kinds": ["Cellular"], "roaming": true } } ] },
          "network": {
            "wlan0": { "rttMs": 20, "ipv6RttMs": 25, "ipv4RttMs": 15.5, "jitterMs": 4, "loss": 0.25, "maxTries": 5,
                       "ipv6": "blackhole", "ipv4": "Reject", "quic": "blocked", "captivePortal": "https://portal.example.net/",
                       "dnsInterception": ["192.0.2.254"], "linkDown": false, "probe": "validated", "probeTimeoutMs": 1500,
                       "dns": "servfail", "dnsDelayMs": 12, "aaaaDelayMs": 70, "dnsTimeoutMs": 4000 },
            "rmnet0": { "ipv4": "absent", "dns": "timeout" }
          },
          "destinations": { "www.example.com": ["2001:db8:ffff::80", "192.0.2.80"], "v6.example.com": ["2001:db8:ffff::6"] },
          "requests": [
            { "host": "www.example.com", "port": 8443, "transport": "quic", "expectedBytes": 25000000 },
            { "host": "www.example.com", "transport": "any" }
          ],
          "settings": { "fallbackDelayMs": 100, "connectionAttemptDelayMs": 50, "resolutionDelayMs": 30, "maxConcurrentAttempts": 2, "raceTimeoutMs": 9000 },
          "quicSupported": false,
          "seed": 42,
          "now": "2026-06-01T22:30:00+02:00"
        }
        """;

    private const string Minimal = """
        {
          "interfaces": [ { "name": "wlan0", "kind": "Wifi" }, { "name": "rmnet0", "kind": "Cellular" } ],
          "network": { "wlan0": { "rttMs": 20 } },
          "requests": [ { "host": "www.example.com" } ]
        }
        """;

    [Fact]
    public void The_built_in_scenarios_are_the_eight_of_issue_4_the_four_of_issue_14_and_the_three_of_issue_16()
    {
        Assert.Equal(
            ["cache-warm", "captive-portal-login", "healthy", "policy-conflict", "roaming-no-cellular", "udp-blocked-wifi", "udp-port-unreachable-wifi",
             "user-over-operator", "user-prefer-operator-ban",
             "v6-blackhole", "v6-blackhole-warm", "wifi-broken", "wifi-captive", "wifi-lost-and-back", "wifi-reject"],
            Scenario.BuiltInNames);
    }

    [Fact]
    public void Every_built_in_loads_is_named_after_itself_and_has_dual_stack_WiFi_and_cellular_unless_it_says_otherwise()
    {
        foreach (var name in Scenario.BuiltInNames)
        {
            var s = Scenario.BuiltIn(name);
            Assert.Equal(name, s.Name);
            Assert.False(string.IsNullOrWhiteSpace(s.Description));
            Assert.NotEmpty(s.Requests);
            Assert.Equal(["wlan0", "rmnet0"], s.Interfaces.Select(i => i.Name));
            Assert.Equal([InterfaceKind.Wifi, InterfaceKind.Cellular], s.Interfaces.Select(i => i.Kind));
            Assert.All(s.Network.Keys, k => Assert.Contains(k, s.Interfaces.Select(i => i.Name)));
            Assert.True(s.Network["wlan0"].Rtt < s.Network["rmnet0"].Rtt, name + ": Wi-Fi should be the faster path");
            Assert.All(s.Destinations["www.example.com"], a => Assert.True(IsDocumentation(a), a + " is not a documentation address"));
            if (name != "policy-conflict")
            {
                Assert.All(s.Interfaces, i => Assert.True(i.Supports(IpVersion.IPv6) && i.Supports(IpVersion.IPv4), name + ": " + i.Name + " is not dual-stack"));
            }

            s.CreateRaceSettings().Validate();
        }
    }

    private static bool IsDocumentation(IPAddress a) =>
        IPNetwork.Parse("2001:db8::/32").Contains(a) || IPNetwork.Parse("192.0.2.0/24").Contains(a);

    [Theory]
    [InlineData("healthy")]
    [InlineData("HEALTHY")]
    [InlineData("Wifi-Broken")]
    public void A_built_in_is_found_whatever_the_case_of_its_name(string name)
    {
        Assert.Equal(name.ToLowerInvariant(), Scenario.BuiltIn(name).Name);
    }

    [Fact]
    public void An_unknown_built_in_name_is_an_error_listing_the_names_there_are()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.BuiltIn("wifi-on-fire"));
        Assert.Contains("\"wifi-on-fire\"", e.Message, StringComparison.Ordinal);
        Assert.All(Scenario.BuiltInNames, n => Assert.Contains(n, e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_scenario_is_read_completely()
    {
        var s = Scenario.Parse(Full, "everything.json");

        Assert.Equal(("everything", "every key once"), (s.Name, s.Description));
        Assert.Equal(2, s.Interfaces.Count);
        Assert.True(s.Interfaces[1].Metered);
        Assert.Equal("no-roaming", Assert.Single(s.Policy.UserRules).Name);

        var w = s.Network["wlan0"];
        Assert.Equal((TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(25), TimeSpan.FromMilliseconds(15.5)), (w.Rtt, w.Ipv6Rtt, w.Ipv4Rtt));
        Assert.Equal((TimeSpan.FromMilliseconds(4), 0.25, 5), (w.Jitter, w.Loss, w.MaxTries));
        Assert.Equal((FamilyBehavior.Blackhole, FamilyBehavior.Reject, QuicBehavior.Blocked), (w.Ipv6, w.Ipv4, w.Quic));
        Assert.Equal(new Uri("https://portal.example.net/"), w.CaptivePortal);
        Assert.Equal([IPAddress.Parse("192.0.2.254")], w.DnsInterception!);
        Assert.Equal((false, ValidationState.Validated, TimeSpan.FromMilliseconds(1500)), (w.LinkDown, w.Probe, w.ProbeTimeout));
        Assert.Equal((DnsBehavior.Servfail, TimeSpan.FromMilliseconds(12), TimeSpan.FromMilliseconds(70), TimeSpan.FromSeconds(4)), (w.Dns, w.DnsDelay, w.AaaaDelay, w.DnsTimeout));
        Assert.Equal((FamilyBehavior.Ok, FamilyBehavior.Absent, DnsBehavior.Timeout), (s.Network["rmnet0"].Ipv6, s.Network["rmnet0"].Ipv4, s.Network["rmnet0"].Dns));

        Assert.Equal([IPAddress.Parse("2001:db8:ffff::6")], s.Destinations["V6.Example.com"]);
        Assert.Equal(new ScenarioRequest("www.example.com", 8443) { Transports = [TransportName.Quic, TransportName.Tcp], ExpectedBytes = 25_000_000 }, s.Requests[0]);
        Assert.Equal(new ScenarioRequest("www.example.com", 443) { Transports = [TransportName.Quic, TransportName.Tcp] }, s.Requests[1]);

        var race = s.CreateRaceSettings();
        race.Validate();
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(30), 2, TimeSpan.FromSeconds(9)),
            (race.InterfaceFallbackDelay, race.ConnectionAttemptDelay, race.ResolutionDelay, race.MaxConcurrentAttempts, race.RaceTimeout));
        Assert.False(s.QuicSupported);
        Assert.Equal(42, s.Seed);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 22, 30, 0, TimeSpan.FromHours(2)), s.Now);
    }

    [Fact]
    public void What_a_scenario_leaves_out_takes_its_default()
    {
        var s = Scenario.Parse(Minimal, "mine.json");

        Assert.Equal(("mine", ""), (s.Name, s.Description));
        Assert.Same(HeMifPolicy.Empty, s.Policy);
        Assert.Equal(new ScenarioRequest("www.example.com", 443) { Transports = [TransportName.Tcp] }, Assert.Single(s.Requests));
        Assert.Equal(SimulatedPath.Default with { Rtt = TimeSpan.FromMilliseconds(20) }, s.Network["wlan0"]);
        Assert.False(s.Network.ContainsKey("rmnet0"));
        Assert.Empty(s.Destinations);
        Assert.Same(ScenarioSettings.None, s.Settings);
        Assert.Equal(new RaceSettings(), s.CreateRaceSettings());
        Assert.True(s.QuicSupported);
        Assert.Equal(0, s.Seed);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), s.Now);
    }

    [Fact]
    public async Task The_scenario_network_behaves_as_the_file_says()
    {
        var s = Scenario.BuiltIn("wifi-broken");
        var clock = new ManualTimeProvider(s.Now);
        var net = s.CreateNetwork(clock);
        var wifi = s.Interfaces[0];
        var cell = s.Interfaces[1];
        var remote = new IPEndPoint(s.Destinations["www.example.com"][0], 443);

        var probe = net.Probe.ProbeAsync(wifi, CancellationToken.None);
        var aaaa = net.Resolver.ResolveAsync(wifi, "www.example.com", AddressFamily.InterNetworkV6, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var onWifi = net.Tcp.ConnectAsync(wifi, remote, cts.Token);
        var onCell = net.Tcp.ConnectAsync(cell, remote, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(ValidationState.Validated, (await probe).State);
        Assert.Equal([remote.Address], (await aaaa).Addresses);
        Assert.False(onWifi.IsCompleted);
        await using (await onCell)
        {
            Assert.Equal(TimeSpan.FromMilliseconds(60), net.LogOf("rmnet0").Single(o => o.Kind == NetworkOperationKind.Connected).At);
        }

        await cts.CancelAsync();
        Assert.Equal((0, 0, 0), (net.OpenConnections, net.PendingOperations, clock.ArmedTimerCount));
    }

    [Fact]
    public void A_scenario_without_QUIC_gives_a_network_whose_QUIC_transport_says_why()
    {
        var s = Scenario.Parse(Minimal.Replace("\"requests\"", "\"quicSupported\": false, \"requests\"", StringComparison.Ordinal), "noquic.json");
        var net = s.CreateNetwork(new ManualTimeProvider());
        Assert.Equal("QUIC unsupported on this host (no libmsquic)", net.Quic.UnsupportedReason);
    }

    public static TheoryData<string, string, string> Malformed => new()
    {
        // (the document, the JSON path, what the message must say was expected)
        { Minimal.Replace("\"network\"", "\"netwrok\": {}, \"network\"", StringComparison.Ordinal), "$.netwrok", "one of the keys name, description, interfaces" },
        { Minimal.Replace("\"rttMs\": 20", "\"rttMs\": 20, \"ipv6\": \"broken\"", StringComparison.Ordinal), "$.network.wlan0.ipv6", "one of Ok, Blackhole, Reject, Unreachable, Absent" },
        { Minimal.Replace("\"rttMs\": 20", "\"rttMs\": -5", StringComparison.Ordinal), "$.network.wlan0.rttMs", "a delay in milliseconds (0 or more)" },
        { Minimal.Replace("\"rttMs\": 20", "\"dnsDelayMs\": \"fast\"", StringComparison.Ordinal), "$.network.wlan0.dnsDelayMs", "a delay in milliseconds (0 or more)" },
        { Minimal.Replace("\"rttMs\": 20", "\"loss\": 1.5", StringComparison.Ordinal), "$.network.wlan0.loss", "a probability from 0 to 1" },
        { Minimal.Replace("\"rttMs\": 20", "\"loss\": -0.1", StringComparison.Ordinal), "$.network.wlan0.loss", "a probability from 0 to 1" },
        { Minimal.Replace("\"rttMs\": 20", "\"rttMs\": 20, \"speed\": 3", StringComparison.Ordinal), "$.network.wlan0.speed", "one of the keys rttMs" },
        { Minimal.Replace("\"rttMs\": 20", "\"probe\": \"fine\"", StringComparison.Ordinal), "$.network.wlan0.probe", "one of validated, captivePortal, dnsIntercepted, noConnectivity, down" },
        { Minimal.Replace("\"rttMs\": 20", "\"dns\": \"slow\"", StringComparison.Ordinal), "$.network.wlan0.dns", "one of Ok, Servfail, Nxdomain, Timeout" },
        { Minimal.Replace("\"rttMs\": 20", "\"quic\": \"maybe\"", StringComparison.Ordinal), "$.network.wlan0.quic", "one of Ok, Blocked" },
        { Minimal.Replace("\"rttMs\": 20", "\"captivePortal\": \"ftp://portal\"", StringComparison.Ordinal), "$.network.wlan0.captivePortal", "absolute http or https URL" },
        { Minimal.Replace("\"rttMs\": 20", "\"dnsInterception\": []", StringComparison.Ordinal), "$.network.wlan0.dnsInterception", "one or more IP addresses" },
        { Minimal.Replace("\"rttMs\": 20", "\"maxTries\": 0", StringComparison.Ordinal), "$.network.wlan0.maxTries", "a number of tries from 1 to 16" },
        { Minimal.Replace("\"wlan0\": { \"rttMs\"", "\"eth9\": { \"rttMs\"", StringComparison.Ordinal), "$.network.eth9", "the name of an interface in $.interfaces (wlan0, rmnet0)" },
        { Minimal.Replace("[ { \"host\": \"www.example.com\" } ]", "[]", StringComparison.Ordinal), "$.requests", "an array of one or more requests" },
        { Minimal.Replace(",\n  \"requests\": [ { \"host\": \"www.example.com\" } ]", "", StringComparison.Ordinal), "$.requests", "an array of one or more requests" },
        { Minimal.Replace("{ \"host\": \"www.example.com\" }", "{ \"host\": \"www.example.com\", \"transport\": \"sctp\" }", StringComparison.Ordinal), "$.requests[0].transport", "one of tcp, quic, any" },
        { Minimal.Replace("{ \"host\": \"www.example.com\" }", "{ \"host\": \"www.example.com\", \"port\": 0 }", StringComparison.Ordinal), "$.requests[0].port", "a port from 1 to 65535" },
        { Minimal.Replace("{ \"host\": \"www.example.com\" }", "{ \"port\": 443 }", StringComparison.Ordinal), "$.requests[0].host", "a host name or IP address" },
        { Minimal.Replace("\"network\"", "\"destinations\": { \"www.example.com\": [\"not-an-ip\"] }, \"network\"", StringComparison.Ordinal), "$.destinations['www.example.com'][0]", "an IP address" },
        { Minimal.Replace("\"network\"", "\"settings\": { \"connectionAttemptDelayMs\": 5 }, \"network\"", StringComparison.Ordinal), "$.settings.connectionAttemptDelayMs", "at least 10 (RFC 8305 §5" },
        { Minimal.Replace("\"network\"", "\"settings\": { \"fallbackDelayMs\": -1 }, \"network\"", StringComparison.Ordinal), "$.settings.fallbackDelayMs", "a delay in milliseconds (0 or more)" },
        { Minimal.Replace("\"network\"", "\"settings\": { \"maxConcurrentAttempts\": 0 }, \"network\"", StringComparison.Ordinal), "$.settings.maxConcurrentAttempts", "a number of attempts from 1 to 1000" },
        { Minimal.Replace("\"network\"", "\"now\": \"2026-01-01T12:00:00\", \"network\"", StringComparison.Ordinal), "$.now", "an RFC 3339 date-time with a time zone" },
        { Minimal.Replace("\"network\"", "\"seed\": 1.5, \"network\"", StringComparison.Ordinal), "$.seed", "an integer seed" },
        { Minimal.Replace("\"network\"", "\"quicSupported\": \"yes\", \"network\"", StringComparison.Ordinal), "$.quicSupported", "true or false" },
        { Minimal.Replace("\"network\"", "\"policy\": { \"userRules\": [ { \"name\": \"x\", \"level\": \"Sometimes\" } ] }, \"network\"", StringComparison.Ordinal), "$.policy.userRules[0].level", "one of Require, Prefer, Avoid, Prohibit" },
        { Minimal.Replace("\"kind\": \"Cellular\"", "\"kind\": \"Satellite\"", StringComparison.Ordinal), "$.interfaces[1].kind", "one of Wifi, Cellular" },
        { Minimal.Replace("\"name\": \"rmnet0\"", "\"name\": \"wlan0\"", StringComparison.Ordinal), "$.interfaces[1].name", "a name no other interface has" },
        { Minimal.Replace("\"interfaces\": [ { \"name\": \"wlan0\", \"kind\": \"Wifi\" }, { \"name\": \"rmnet0\", \"kind\": \"Cellular\" } ]", "\"interfaces\": []", StringComparison.Ordinal), "$.interfaces", "at least one interface" },
        { Minimal.Replace("\"requests\": [", "\"requests\": [,", StringComparison.Ordinal), "$", "valid JSON" },
        { Minimal.Replace("{ \"host\": \"www.example.com\" }", "{ \"host\": \"www.example.com\", \"atMs\": -1 }", StringComparison.Ordinal), "$.requests[0].atMs", "a time in milliseconds from the scenario's start" },
        { Minimal.Replace("{ \"host\": \"www.example.com\" }", "{ \"host\": \"www.example.com\", \"holdMs\": \"long\" }", StringComparison.Ordinal), "$.requests[0].holdMs", "how long to keep the connection open" },
        { WithChanges("""[ { "interface": "wlan0", "network": {} } ]"""), "$.changes[0].atMs", "a time in milliseconds from the scenario's start" },
        { WithChanges("""[ { "atMs": 10, "network": {} } ]"""), "$.changes[0].interface", "the name of an interface in $.interfaces" },
        { WithChanges("""[ { "atMs": 10, "interface": "eth9", "network": {} } ]"""), "$.changes[0].interface", "the name of an interface in $.interfaces (wlan0, rmnet0)" },
        { WithChanges("""[ { "atMs": 10, "interface": "wlan0" } ]"""), "$.changes[0].network", "the path's behaviour from then on" },
        { WithChanges("""[ { "atMs": 10, "interface": "wlan0", "network": { "ipv6": "broken" } } ]"""), "$.changes[0].network.ipv6", "one of Ok, Blackhole" },
        { WithChanges("""[ { "atMs": 10, "interface": "wlan0", "network": {}, "when": 3 } ]"""), "$.changes[0].when", "one of the keys atMs, interface, network, description" },
        { WithChanges("""[ { "atMs": 10, "interface": "wlan0", "network": {} }, { "atMs": 5, "interface": "rmnet0", "network": {} } ]"""), "$.changes[1].atMs", "a time no earlier than the change before it (10 ms)" },
        { WithChanges("""{ "atMs": 10 }"""), "$.changes", "an array" },
    };

    private static string WithChanges(string changes) =>
        Minimal.Replace("\"network\"", "\"changes\": " + changes + ", \"network\"", StringComparison.Ordinal);

    /// <summary>A timeline (docs/scenarios.md): requests may wait for a time, and interfaces' networks change at theirs.</summary>
    [Fact]
    public void Timed_requests_and_changes_are_read_in_order()
    {
        var s = Scenario.Parse(WithChanges("""
            [ { "atMs": 1500.5, "interface": "wlan0", "description": "Wi-Fi breaks", "network": { "rttMs": 30, "ipv6": "blackhole" } },
              { "atMs": 1500.5, "interface": "rmnet0", "network": {} } ]
            """).Replace("{ \"host\": \"www.example.com\" }", "{ \"host\": \"www.example.com\" }, { \"host\": \"www.example.com\", \"atMs\": 2000, \"holdMs\": 500 }", StringComparison.Ordinal), "timed.json");
        Assert.Equal([null, TimeSpan.FromMilliseconds(2000)], s.Requests.Select(r => r.At));
        Assert.Equal([null, TimeSpan.FromMilliseconds(500)], s.Requests.Select(r => r.Hold));
        Assert.Equal(2, s.Changes.Count);
        Assert.Equal(new ScenarioChange(TimeSpan.FromMilliseconds(1500.5), "wlan0", new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(30), Ipv6 = FamilyBehavior.Blackhole }, "Wi-Fi breaks"), s.Changes[0]);
        Assert.Equal(new ScenarioChange(TimeSpan.FromMilliseconds(1500.5), "rmnet0", SimulatedPath.Default, ""), s.Changes[1]);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_input_is_an_error_naming_the_file_the_JSON_path_and_what_was_expected(string json, string path, string expected)
    {
        Assert.NotEqual(Minimal, json); // the mutation applied
        var file = Path.Combine(Path.GetTempPath(), $"hemif-scenario-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        try
        {
            var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Load(file));
            Assert.Equal(file, e.Origin); // the path as given
            Assert.StartsWith(path, e.Path, StringComparison.Ordinal);
            Assert.Contains(expected, e.Expected, StringComparison.Ordinal);
            Assert.StartsWith($"{file}: {e.Path}: expected ", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Invalid_JSON_is_reported_with_its_line()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Parse("{\n  \"requests\": [\n    oops\n  ]\n}", "broken.json"));
        Assert.StartsWith("broken.json: $", e.Message, StringComparison.Ordinal);
        Assert.Contains("(line 3", e.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_the_file()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Load("/nonexistent/dir/mine.json"));
        Assert.Equal("/nonexistent/dir/mine.json", e.Origin);
        Assert.Equal("a readable JSON file", e.Expected);
    }

    [Fact]
    public void A_fallback_delay_below_the_engine_minimum_widens_the_range_so_the_scenario_value_is_the_one_used()
    {
        var settings = new ScenarioSettings { FallbackDelay = TimeSpan.FromMilliseconds(100), ConnectionAttemptDelay = TimeSpan.FromSeconds(3) }.ApplyTo(new RaceSettings());
        settings.Validate();
        Assert.Equal(TimeSpan.FromMilliseconds(100), settings.FallbackDelayFor(new RaceCandidate("wlan0", 1, RecentFailures: 1)));
        Assert.Equal(TimeSpan.FromSeconds(3), settings.AttemptDelayFor(null));
    }
}
