using System.Net;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Report;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// Interface names are data: whatever the OS or a file gives must work everywhere. The actors that stand for them get
/// generated names (<see cref="ActorNames"/>) valid under Akka.NET's rule.
/// </summary>
public sealed class ActorNamesTests
{
    private static readonly string Long = new('n', 300);

    /// <summary>Names an OS or a file may give: a '/', spaces, a leading '$', an escape sequence, an emoji, 300 characters.</summary>
    public static TheoryData<string> HostileNames() =>
        ["eth 0/1", "wl/an0", "$x", "esc\u001b[31m", "\U0001F4F6 cell", Long, "#%", "ü", "a\nb", " ", "%zz", "..", "/"];

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void A_supervisor_name_is_valid_under_both_rules_and_keeps_a_readable_hint(string interfaceName)
    {
        var name = ActorNames.InterfaceSupervisor(interfaceName, 7);
        Assert.True(ActorNames.IsValid(name), name);
        Assert.StartsWith("interface-7", name, StringComparison.Ordinal);
        Assert.True(name.Length <= "interface-7-".Length + ActorNames.MaxHintLength, name);
        Assert.NotEqual(name, ActorNames.InterfaceSupervisor(interfaceName, 8));
    }

    [Fact]
    public void The_hint_keeps_safe_characters_and_writes_one_underscore_per_other_character()
    {
        Assert.Equal("interface-1-wlan0", ActorNames.InterfaceSupervisor("wlan0", 1));
        Assert.Equal("interface-2-eth_0_1", ActorNames.InterfaceSupervisor("eth 0/1", 2));
        Assert.Equal("interface-3-__cell", ActorNames.InterfaceSupervisor("\U0001F4F6 cell", 3)); // the emoji is one character
        Assert.Equal("interface-4-" + new string('n', ActorNames.MaxHintLength), ActorNames.InterfaceSupervisor(Long, 4));
        Assert.Equal("interface-5", ActorNames.InterfaceSupervisor("", 5));
    }

    /// <summary>The check itself: what either rule refuses, it refuses.</summary>
    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a/b")]
    [InlineData("$x")]
    [InlineData("a b")]
    [InlineData("ü")]
    [InlineData("a#b")]
    [InlineData("a%zz")]
    [InlineData("esc\u001b")]
    public void Names_either_rule_refuses_are_not_valid(string name) => Assert.False(ActorNames.IsValid(name));

    [Theory]
    [InlineData("interface-1-wlan0")]
    [InlineData("a%2Fb")]
    [InlineData("x:y@z&w=v+u,t.s!r~q*p'o;n")]
    public void Names_both_rules_allow_are_valid(string name) => Assert.True(ActorNames.IsValid(name));

    /// <summary>
    /// A scenario whose interfaces have such names runs through the whole engine: the preferred Ethernet ("eth 0/1")
    /// answers nothing, and after the fallback delay the fastest of the others ("📶 cell", 20 ms) wins.
    /// </summary>
    [Fact]
    public async Task A_scenario_with_hostile_interface_names_runs_through_the_engine_and_connects()
    {
        var result = await Simulator.RunAsync(HostileScenario());

        var race = Assert.Single(result.Races);
        Assert.Equal(RaceOutcome.Connected, race.Outcome);
        Assert.Equal("\U0001F4F6 cell", race.Winner!.Interface);
        Assert.Equal(result.Scenario.Interfaces.Select(i => i.Name).Order(StringComparer.Ordinal),
            result.InterfaceEvents.Select(e => e.Interface).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(result.Scenario.Interfaces.Select(i => i.Name).Order(StringComparer.Ordinal),
            race.Events.Where(e => e.Kind == "plan").Select(e => e.Interface!).Order(StringComparer.Ordinal)); // all six raced
    }

    internal static Scenario HostileScenario()
    {
        (string Name, InterfaceKind Kind, SimulatedPath Path)[] interfaces =
        [
            ("eth 0/1", InterfaceKind.Ethernet, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(10), Ipv6 = FamilyBehavior.Blackhole, Probe = global::HeMif.Validate.ValidationState.Validated }),
            ("wl/an0", InterfaceKind.Wifi, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(40) }),
            ("$x", InterfaceKind.Cellular, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(30) }),
            ("esc\u001b[31m", InterfaceKind.Cellular, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(50) }),
            ("\U0001F4F6 cell", InterfaceKind.Cellular, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(20) }),
            (Long, InterfaceKind.Vpn, new SimulatedPath { Rtt = TimeSpan.FromMilliseconds(60) }),
        ];
        return new Scenario
        {
            Name = "hostile-names",
            Interfaces = [.. interfaces.Select((x, i) => new InterfaceFacts(x.Name, x.Kind) { Addresses = [new InterfaceAddress(IPAddress.Parse($"2001:db8:{i + 1}::10"), 64)] })],
            Network = interfaces.ToDictionary(x => x.Name, x => x.Path),
            Destinations = new Dictionary<string, IReadOnlyList<IPAddress>> { ["www.example.com"] = [IPAddress.Parse("2001:db8:ffff::80")] },
            Requests = [new ScenarioRequest("www.example.com", 443)],
        };
    }
}
