using HeMif.Configuration;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Configuration;

/// <summary>
/// Issue 11: "interfaceOverrides naming an absent interface is an error (as the override file's are)"; "an empty
/// interfaces array is bad input (exit 2)"; a scenario's request host follows the same rules as every other host.
/// </summary>
public sealed class InterfaceListTests
{
    /// <summary>"an empty interfaces array is bad input (exit 2)" in the interfaces file, as in a scenario.</summary>
    [Fact]
    public void An_interfaces_file_with_no_interface_is_refused()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParseInterfaces("""{ "interfaces": [] }""", "i.json"));
        Assert.Equal("i.json: $.interfaces: expected at least one interface; found an empty array", e.Message);
    }

    /// <summary>"interfaceOverrides naming an absent interface is an error (as the override file's are)".</summary>
    [Fact]
    public void A_scenario_override_for_an_interface_it_does_not_have_is_refused()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Parse("""
            {
              "interfaces": [ { "name": "wlan0", "kind": "Wifi" } ],
              "policy": { "interfaceOverrides": [ { "name": "wlan0", "metered": true }, { "name": "wlan1", "kind": "Wifi" } ] },
              "requests": [ { "host": "www.example.com" } ]
            }
            """, "s.json"));
        Assert.Equal("s.json: $.policy.interfaceOverrides[1].name: expected the name of an interface in $.interfaces (wlan0); found \"wlan1\"", e.Message);
    }

    [Fact]
    public void A_scenario_request_with_a_bad_host_names_the_rule()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Parse("""
            { "interfaces": [ { "name": "wlan0", "kind": "Wifi" } ], "requests": [ { "host": "a..b" } ] }
            """, "s.json"));
        Assert.Equal("$.requests[0].host", e.Path);
        Assert.Contains("\"a..b\": it has an empty label", e.Found, StringComparison.Ordinal);
    }
}
