using System.Globalization;
using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Simulation;

namespace HeMif.TestKit;

/// <summary>
/// A host with thousands of interfaces, for the scale test and the benchmark that share it. Of every ten interfaces:
/// one Ethernet whose paths reject everything (its probe fails: excluded as not validated, draft §5.2.1); three Wi-Fi
/// that validate but whose DNS answers SERVFAIL (the preferred rank, with nothing to try: the others start at once,
/// §5.2.3); five cellular that work; one VPN that a user rule prohibits (§4.1). The cellular interface
/// <see cref="Winner"/> has the shortest round trip (5 ms, the others 10–107 ms), so it resolves first, gets the first
/// attempt and wins. Round trips differ (tenths of milliseconds) so that the run has thousands of distinct instants.
/// </summary>
public static class ManyInterfacesScenario
{
    /// <summary>The destination every request asks for.</summary>
    public const string Host = "www.example.com";

    /// <summary>The scenario with <paramref name="count"/> interfaces (at least 10).</summary>
    public static Scenario Build(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 10);
        var winner = Winner(count);
        var interfaces = new List<InterfaceFacts>(count);
        var network = new Dictionary<string, SimulatedPath>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var name = Name(i);
            var kind = (i % 10) switch
            {
                0 => InterfaceKind.Ethernet,
                <= 3 => InterfaceKind.Wifi,
                <= 8 => InterfaceKind.Cellular,
                _ => InterfaceKind.Vpn,
            };
            var address = IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"2001:db8:{(i / 65536) + 1:x}:{i % 65536:x}::10"));
            interfaces.Add(new InterfaceFacts(name, kind) { Addresses = [new InterfaceAddress(address, 64)] });
            var rtt = TimeSpan.FromMilliseconds(10 + (i % 97) + ((i % 7) / 10.0));
            network[name] = kind switch
            {
                InterfaceKind.Ethernet => new SimulatedPath { Rtt = rtt, Ipv6 = FamilyBehavior.Reject, Ipv4 = FamilyBehavior.Reject },
                InterfaceKind.Wifi => new SimulatedPath { Rtt = rtt, Dns = DnsBehavior.Servfail },
                _ => new SimulatedPath { Rtt = name == winner ? TimeSpan.FromMilliseconds(5) : rtt },
            };
        }

        return new Scenario
        {
            Name = $"{count}-interfaces",
            Description = "thousands of interfaces: Ethernet unvalidated, Wi-Fi without DNS, VPN prohibited, one fast cellular wins",
            Interfaces = interfaces,
            Policy = new HeMifPolicy
            {
                UserRules = [new PolicyRule("no-vpn", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Kinds = [InterfaceKind.Vpn] } }],
            },
            Network = network,
            Destinations = new Dictionary<string, IReadOnlyList<IPAddress>>
            {
                [Host] = [IPAddress.Parse("2001:db8:ffff::80"), IPAddress.Parse("192.0.2.80")],
            },
            Requests = [new ScenarioRequest(Host, 443)],
            Seed = 1,
        };
    }

    /// <summary>The interface that wins: the cellular one in the middle of the list.</summary>
    public static string Winner(int count) => Name(((count / 2) / 10 * 10) + 4);

    /// <summary>The name of interface <paramref name="index"/>.</summary>
    public static string Name(int index) => string.Create(CultureInfo.InvariantCulture, $"if{index:00000}");
}
