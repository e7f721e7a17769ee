using HeMif.Configuration;
using HeMif.Simulation;

namespace HeMif.Actors.Tests.Configuration;

/// <summary>
/// Issue 11: "JSON paths for keys containing dots are written so they cannot be misread
/// (<c>$.destinations['www.example.com'][0]</c>)"; and a quoted value stays short enough to read.
/// </summary>
public sealed class ErrorPathTests
{
    /// <summary>"JSON paths for keys containing dots are written so they cannot be misread (<c>$.destinations['www.example.com'][0]</c>)."</summary>
    [Fact]
    public void Keys_that_are_not_plain_names_are_written_in_brackets()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => Scenario.Parse("""
            {
              "interfaces": [ { "name": "wlan0", "kind": "Wifi" } ],
              "destinations": { "www.example.com": [ "not-an-address" ] },
              "requests": [ { "host": "www.example.com" } ]
            }
            """, "s.json"));
        Assert.Equal("$.destinations['www.example.com'][0]", e.Path);

        var quote = Assert.Throws<HeMifConfigurationException>(() => Scenario.Parse("""
            { "interfaces": [ { "name": "it's\\eth", "kind": "Wifi" } ], "network": { "it's\\eth": { "rttMs": -1 } }, "requests": [ { "host": "a.example" } ] }
            """, "s.json"));
        Assert.Equal("$.network['it\\'s\\\\eth'].rttMs", quote.Path);

        var plain = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy("""{ "userRules": [ { "name": "x", "level": "Often" } ] }""", "p.json"));
        Assert.Equal("$.userRules[0].level", plain.Path);
    }

    [Fact]
    public void A_long_value_is_quoted_cut_saying_its_length()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy($$"""{ "userRules": [ { "name": "x", "level": "{{new string('A', 5000)}}" } ] }""", "p.json"));
        Assert.EndsWith("…\" (5000 characters)", e.Found, StringComparison.Ordinal);
        Assert.True(e.Message.Length < 400, e.Message);
    }
}
