using HeMif.Configuration;
using HeMif.Filter;
using HeMif.Interfaces;
using Microsoft.Extensions.Configuration;

namespace HeMif.Actors.Tests.Configuration;

/// <summary>
/// Policies bind from IConfiguration (section "HeMif") and load from a JSON file; malformed input gets an error that
/// names the file, the JSON path and what was expected, and nothing is partially applied.
/// </summary>
public class ConfigurationTests
{
    private const string Policy = """
        {
          "kindOrder": ["Ethernet", "Wifi", "Cellular"],
          "operatorRules": [
            { "name": "prefer-ipv6", "level": "Prefer", "interface": { "addressFamily": "IPv6" },
              "validity": { "timeOfDay": [ { "start": "06:00", "end": "23:00" } ], "roaming": false, "wifiNetworks": ["HomeNet"], "pvdIds": ["home.example.net"] } }
          ],
          "userRules": [
            { "name": "no-3g-4g-while-roaming", "level": "Prohibit", "description": "No 3/4G while roaming",
              "interface": { "kinds": ["Cellular"], "roaming": true } },
            { "name": "large-downloads-over-wifi", "level": "Require", "interface": { "kinds": ["Wifi"] },
              "request": { "minExpectedBytes": 20000000, "ports": [443], "transport": "Tcp", "domainSuffixes": ["example.com"], "hosts": ["apps.example.com"], "trafficClasses": ["bulk"], "maxExpectedBytes": 9000000000 } }
          ],
          "interfaceOverrides": [ { "name": "wlan1", "kind": "Wifi", "metered": true } ],
          "addressSelectionTable": [ { "prefix": "::/0", "precedence": 40, "label": 1 }, { "prefix": "::ffff:0:0/96", "precedence": 100, "label": 4 } ]
        }
        """;

    [Fact]
    public void A_policy_file_is_read_completely()
    {
        var p = HeMifConfiguration.ParsePolicy(Policy, "policy.json");
        Assert.Equal([InterfaceKind.Ethernet, InterfaceKind.Wifi, InterfaceKind.Cellular], p.KindOrder);
        var op = Assert.Single(p.OperatorRules);
        Assert.Equal(("prefer-ipv6", PreferenceLevel.Prefer, IpVersion.IPv6), (op.Name, op.Level, op.Interface.AddressFamily));
        Assert.Equal(new TimeWindow(new(6, 0), new(23, 0)), Assert.Single(op.Validity.TimeOfDay!));
        Assert.Equal(false, op.Validity.Roaming);
        Assert.Equal(["HomeNet"], op.Validity.WifiNetworks!);
        Assert.Equal(["home.example.net"], op.Validity.PvdIds!);
        Assert.Equal(2, p.UserRules.Count);
        Assert.Equal("No 3/4G while roaming", p.UserRules[0].Description);
        Assert.Equal(20_000_000, p.UserRules[1].Request.MinExpectedBytes);
        Assert.Equal(9_000_000_000, p.UserRules[1].Request.MaxExpectedBytes);
        Assert.Equal([443], p.UserRules[1].Request.Ports!);
        Assert.True(Assert.Single(p.InterfaceOverrides).Metered);
        Assert.Equal(100, p.AddressSelectionTable.Entries[1].Precedence);
    }

    [Fact]
    public void A_policy_binds_from_the_HeMif_configuration_section_and_equals_the_file()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HeMif:KindOrder:0"] = "Ethernet",
            ["HeMif:KindOrder:1"] = "Wifi",
            ["HeMif:UserRules:0:Name"] = "no-3g-4g-while-roaming",
            ["HeMif:UserRules:0:Level"] = "Prohibit",
            ["HeMif:UserRules:0:Interface:Kinds:0"] = "Cellular",
            ["HeMif:UserRules:0:Interface:Roaming"] = "true",
            ["HeMif:UserRules:1:Name"] = "large-downloads-over-wifi",
            ["HeMif:UserRules:1:Level"] = "require",
            ["HeMif:UserRules:1:Interface:Kinds:0"] = "Wifi",
            ["HeMif:UserRules:1:Request:MinExpectedBytes"] = "20000000",
        }).Build();

        var p = HeMifConfiguration.BindPolicy(config);
        Assert.Equal([InterfaceKind.Ethernet, InterfaceKind.Wifi], p.KindOrder);
        Assert.Equal(true, p.UserRules[0].Interface.Roaming);
        Assert.Equal(PreferenceLevel.Require, p.UserRules[1].Level);
        Assert.Equal(20_000_000, p.UserRules[1].Request.MinExpectedBytes);

        Assert.Same(HeMif.Planning.HeMifPolicy.Empty, HeMifConfiguration.BindPolicy(new ConfigurationBuilder().Build()));
    }

    /// <summary>
    /// Draft §7.2 ("it is recommended to prioritize the input from users (e.g., real customers or applications)"): the
    /// policy's <c>fallbackDelays</c> rules state the delay or its range per destination and per interface, as the user's or
    /// the operator's, in a file and in the configuration section alike.
    /// </summary>
    [Fact]
    public void Fallback_delay_rules_are_read_from_a_file_and_from_the_configuration_section()
    {
        var p = HeMifConfiguration.ParsePolicy("""
            {"fallbackDelays":[
              {"name":"video-patience","source":"User","description":"video may wait","request":{"hosts":["video.example"]},"delayMs":1500},
              {"name":"wifi-range","source":"Operator","interface":{"kinds":["Wifi"]},"validity":{"roaming":false},"minMs":500,"maxMs":4000}
            ]}
            """, "policy.json");
        Assert.Equal(2, p.FallbackDelays.Count);
        var user = p.FallbackDelays[0];
        Assert.Equal(("video-patience", RuleSource.User, "video may wait"), (user.Name, user.Source, user.Description));
        Assert.Equal(["video.example"], user.Request.Hosts!);
        Assert.Equal(new HeMif.Planning.FallbackDelaySettings { Delay = TimeSpan.FromMilliseconds(1500) }, user.Settings);
        var op = p.FallbackDelays[1];
        Assert.Equal((RuleSource.Operator, InterfaceKind.Wifi, false), (op.Source, Assert.Single(op.Interface.Kinds!), op.Validity.Roaming));
        Assert.Equal(new HeMif.Planning.FallbackDelaySettings { Min = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(4) }, op.Settings);

        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HeMif:FallbackDelays:0:Name"] = "video-patience",
            ["HeMif:FallbackDelays:0:Source"] = "user",
            ["HeMif:FallbackDelays:0:Request:Hosts:0"] = "video.example",
            ["HeMif:FallbackDelays:0:DelayMs"] = "1500",
        }).Build();
        var bound = Assert.Single(HeMifConfiguration.BindPolicy(config).FallbackDelays);
        Assert.Equal((RuleSource.User, user.Settings), (bound.Source, bound.Settings));
    }

    [Theory]
    [InlineData("HeMif:UserRules:0:Interface:Kinds:0", "Satellite", "HeMif:UserRules:0:Interface:Kinds:0", "one of Wifi, Cellular, Ethernet, Vpn, Loopback, Other")]
    [InlineData("HeMif:UserRules:0:Colour", "red", "HeMif:UserRules:0:Colour", "one of the keys name, level")]
    [InlineData("HeMif:UserRules:0:Request:MinExpectedBytes", "-1", "HeMif:UserRules:0:Request:MinExpectedBytes", "a size in bytes (0 or more)")]
    [InlineData("HeMif:UserRules:0:Interface:Roaming", "sometimes", "HeMif:UserRules:0:Interface:Roaming", "true or false")]
    public void Configuration_errors_name_the_configuration_key(string key, string value, string path, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HeMif:UserRules:0:Name"] = "r",
            ["HeMif:UserRules:0:Level"] = "Prohibit",
            [key] = value,
        }).Build();

        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.BindPolicy(config));
        Assert.Equal("configuration section 'HeMif'", e.Origin);
        Assert.Equal(path, e.Path);
        Assert.StartsWith(expected, e.Expected, StringComparison.Ordinal);
        Assert.Contains($"configuration section 'HeMif': {path}: expected {expected}", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> MalformedPolicies() => new()
    {
        { "unknown kind", """{"userRules":[{"name":"a","level":"Prohibit","interface":{"kinds":["Satellite"]}}]}""", "$.userRules[0].interface.kinds[0]", "one of Wifi, Cellular, Ethernet, Vpn, Loopback, Other" },
        { "unknown kind order", """{"kindOrder":["Wifi","Modem"]}""", "$.kindOrder[1]", "one of Wifi, Cellular" },
        { "bad level", """{"operatorRules":[{"name":"a","level":"Maybe"}]}""", "$.operatorRules[0].level", "one of Require, Prefer, Avoid, Prohibit" },
        { "numeric level", """{"operatorRules":[{"name":"a","level":"1"}]}""", "$.operatorRules[0].level", "one of Require, Prefer, Avoid, Prohibit" },
        { "missing level", """{"operatorRules":[{"name":"a"}]}""", "$.operatorRules[0].level", "one of Require, Prefer, Avoid, Prohibit" },
        { "bad prefix", """{"addressSelectionTable":[{"prefix":"::/0","precedence":40,"label":1},{"prefix":"2001:db8::1/32","precedence":1,"label":9}]}""", "$.addressSelectionTable[1].prefix", "an IPv6 prefix" },
        { "IPv4 table prefix", """{"addressSelectionTable":[{"prefix":"10.0.0.0/8","precedence":1,"label":9}]}""", "$.addressSelectionTable[0].prefix", "an IPv6 prefix" },
        { "negative size", """{"userRules":[{"name":"a","level":"Require","request":{"minExpectedBytes":-5}}]}""", "$.userRules[0].request.minExpectedBytes", "a size in bytes (0 or more)" },
        { "min above max", """{"userRules":[{"name":"a","level":"Require","request":{"minExpectedBytes":5,"maxExpectedBytes":4}}]}""", "$.userRules[0].request.maxExpectedBytes", "a size not below minExpectedBytes (5)" },
        { "bad port", """{"userRules":[{"name":"a","level":"Require","request":{"ports":[0]}}]}""", "$.userRules[0].request.ports[0]", "a port from 1 to 65535" },
        { "unknown field", """{"userRules":[{"name":"a","level":"Require","intreface":{}}]}""", "$.userRules[0].intreface", "one of the keys name, level, description, interface, request, validity" },
        { "unknown root field", """{"rules":[]}""", "$.rules", "one of the keys kindOrder, operatorRules" },
        { "duplicate key", """{"userRules":[{"name":"a","level":"Require","level":"Prohibit"}]}""", "$.userRules[0].level", "each key once" },
        { "duplicate rule names", """{"operatorRules":[{"name":"same","level":"Prefer"}],"userRules":[{"name":"same","level":"Avoid"}]}""", "$.userRules[0].name", "a rule name not used before (\"same\" is already $.operatorRules[0].name)" },
        { "bad time", """{"operatorRules":[{"name":"a","level":"Prefer","validity":{"timeOfDay":[{"start":"25:00","end":"06:00"}]}}]}""", "$.operatorRules[0].validity.timeOfDay[0].start", "a time of day \"HH:mm\"" },
        { "empty window", """{"operatorRules":[{"name":"a","level":"Prefer","validity":{"timeOfDay":[{"start":"06:00","end":"06:00"}]}}]}""", "$.operatorRules[0].validity.timeOfDay[0].end", "an end different from the start" },
        { "wrong type", """{"userRules":{"name":"a"}}""", "$.userRules", "an array of rules" },
        { "bool as string", """{"userRules":[{"name":"a","level":"Prohibit","interface":{"roaming":"true"}}]}""", "$.userRules[0].interface.roaming", "true or false" },
        { "fallback rule without source", """{"fallbackDelays":[{"name":"f","delayMs":500}]}""", "$.fallbackDelays[0].source", "User or Operator" },
        { "fallback rule of a built-in source", """{"fallbackDelays":[{"name":"f","source":"BuiltIn","delayMs":500}]}""", "$.fallbackDelays[0].source", "User or Operator" },
        { "fallback rule stating nothing", """{"fallbackDelays":[{"name":"f","source":"User"}]}""", "$.fallbackDelays[0]", "at least one of delayMs, minMs, maxMs" },
        { "negative fallback delay", """{"fallbackDelays":[{"name":"f","source":"User","delayMs":-1}]}""", "$.fallbackDelays[0].delayMs", "a delay in milliseconds from 0 to 600000" },
        { "fallback delay above 10 minutes", """{"fallbackDelays":[{"name":"f","source":"User","maxMs":600001}]}""", "$.fallbackDelays[0].maxMs", "a delay in milliseconds from 0 to 600000" },
        { "fallback range upside down", """{"fallbackDelays":[{"name":"f","source":"Operator","minMs":900,"maxMs":400}]}""", "$.fallbackDelays[0].maxMs", "a delay not below minMs (900)" },
        { "fallback rule name used twice", """{"userRules":[{"name":"f","level":"Prefer"}],"fallbackDelays":[{"name":"f","source":"User","delayMs":1}]}""", "$.fallbackDelays[0].name", "a rule name not used before" },
        { "invalid JSON", """{"userRules":[{"name":"a",}]}""", "$", "valid JSON" },
        { "trailing garbage", """{} x""", "$", "valid JSON" },
        // Found by fuzzing (tests/HeMif.Fuzz/regressions/policy): an escaped surrogate without its pair parsed, then threw
        // InvalidOperationException wherever a reader looked at the string.
        { "unpaired surrogate in a value", """{"userRules":[{"name":"a\udc00","level":"Prohibit"}]}""", "$.userRules[0].name", "text without an unpaired surrogate escape" },
        { "unpaired surrogate in a key", """{"kindOrder":[],"x\ud800":1}""", "$", "text without an unpaired surrogate escape" },
    };

    [Theory]
    [MemberData(nameof(MalformedPolicies))]
    public void Malformed_policy_files_name_the_file_the_path_and_the_expectation(string what, string json, string path, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"hemif-policy-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        try
        {
            var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.LoadPolicyFile(file));
            Assert.Equal(file, e.Origin); // the path as given
            Assert.StartsWith(path, e.Path, StringComparison.Ordinal);
            Assert.StartsWith(expected, e.Expected, StringComparison.Ordinal);
            Assert.StartsWith($"{file}: {path}", e.Message, StringComparison.Ordinal);
            Assert.Contains("expected " + expected, e.Message, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(what));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Invalid_JSON_reports_the_line()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy("{\n  \"userRules\": [\n    oops\n  ]\n}", "policy.json"));
        Assert.Contains("(line 3,", e.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_a_configuration_error_naming_the_file()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.LoadPolicyFile("/nonexistent/dir/policy.json"));
        Assert.Equal("/nonexistent/dir/policy.json", e.Origin);
        Assert.Equal("a readable JSON file", e.Expected);
        Assert.Equal("/nonexistent/dir/policy.json: expected a readable JSON file; found nothing: the file does not exist", e.Message);
    }

    /// <summary>All or nothing: a mistake in the last rule yields no policy at all, and a holder keeps its previous value.</summary>
    [Fact]
    public void Nothing_is_partially_applied()
    {
        var current = HeMifConfiguration.ParsePolicy(Policy, "policy.json");
        var holder = current;
        const string Bad = """{"userRules":[{"name":"ok","level":"Prohibit"},{"name":"bad","level":"Sometimes"}]}""";
        Assert.Throws<HeMifConfigurationException>(() => holder = HeMifConfiguration.ParsePolicy(Bad, "policy.json"));
        Assert.Same(current, holder);
    }

    private const string Interfaces = """
        {
          "interfaces": [
            { "name": "wlan0", "kind": "Wifi", "wifiNetwork": "HomeNet",
              "addresses": [ { "address": "192.0.2.10", "prefixLength": 24 }, { "address": "fe80::1", "prefixLength": 64, "scope": "LinkLocal", "deprecated": true, "temporary": false } ],
              "dnsServers": ["192.0.2.1"],
              "dnsSelection": [ { "server": "192.0.2.53", "preference": "High", "domains": ["example.com"], "networks": ["198.51.100.0/24"] } ],
              "routes": [ { "prefix": "0.0.0.0/0" }, { "prefix": "2001:db8:aa::/48", "preference": "High", "lifetimeSeconds": 1800 } ],
              "pvdId": "home.example.net",
              "pvdInfo": { "identifier": "home.example.net", "expires": "2030-01-01T00:00:00Z", "prefixes": ["2001:db8:1::/48"], "dnsZones": ["home.example.net"] },
              "metered": false, "roaming": false, "constrained": true, "ipv4": true, "ipv6": false },
            { "name": "rmnet0", "kind": "Cellular", "up": false, "addresses": [ { "address": "2001:db8:1::10", "prefixLength": 64 } ] }
          ],
          "history": { "www.example.com": [ { "interface": "wlan0", "recentFailures": 2, "smoothedRttMs": 35.5 } ] }
        }
        """;

    [Fact]
    public void An_interfaces_file_is_read_completely()
    {
        var s = HeMifConfiguration.ParseInterfaces(Interfaces, "interfaces.json");
        var w = s.Interfaces[0];
        Assert.Equal(("wlan0", InterfaceKind.Wifi, true, "HomeNet"), (w.Name, w.Kind, w.IsUp, w.WifiNetwork));
        Assert.Equal(AddressScope.LinkLocal, w.Addresses[1].Scope);
        Assert.True(w.Addresses[1].Deprecated);
        Assert.Equal(RoutePreference.High, w.DnsSelection[0].Preference);
        Assert.Equal(RoutePreference.Medium, w.Routes[0].Preference);
        Assert.True(w.Routes[0].IsDefault);
        Assert.Equal(TimeSpan.FromSeconds(1800), w.Routes[1].Lifetime);
        Assert.Equal(["home.example.net"], w.PvdInfo!.DnsZones);
        Assert.True(w.Constrained);
        Assert.False(w.Supports(IpVersion.IPv6));
        Assert.False(s.Interfaces[1].IsUp);
        var h = Assert.Single(s.HistoryFor("WWW.example.com")!);
        Assert.Equal((2, TimeSpan.FromMilliseconds(35.5)), (h.RecentFailures, h.SmoothedRtt!.Value));
        Assert.Null(s.HistoryFor("other.example.com"));
    }

    public static TheoryData<string, string, string> MalformedInterfaces() => new()
    {
        { """{"interfaces":[{"name":"x","kind":"Satellite"}]}""", "$.interfaces[0].kind", "one of Wifi, Cellular" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","addresses":[{"address":"192.0.2.1","prefixLength":33}]}]}""", "$.interfaces[0].addresses[0].prefixLength", "a prefix length from 0 to 32 for an IPv4 address" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","addresses":[{"address":"192.0.2.300","prefixLength":24}]}]}""", "$.interfaces[0].addresses[0].address", "an IP address" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","routes":[{"prefix":"2001:db8::/129"}]}]}""", "$.interfaces[0].routes[0].prefix", "a prefix such as" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","routes":[{"prefix":"2001:db8::/32","lifetimeSeconds":-1}]}]}""", "$.interfaces[0].routes[0].lifetimeSeconds", "a lifetime in seconds" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","routes":[{"prefix":"2001:db8::/32","preference":"Urgent"}]}]}""", "$.interfaces[0].routes[0].preference", "one of Low, Medium, High" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","speed":9}]}""", "$.interfaces[0].speed", "one of the keys name, kind" },
        { """{"interfaces":[{"name":"x","kind":"Wifi"},{"name":"x","kind":"Cellular"}]}""", "$.interfaces[1].name", "a name no other interface has" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","pvdId":"p.example","pvdInfo":{"identifier":"p.example","expires":"soon","prefixes":[]}}]}""", "$.interfaces[0].pvdInfo.expires", "an RFC 3339 date-time" },
        { """{"interfaces":[{"name":"x","kind":"Wifi","pvdId":"p.example","pvdInfo":{"identifier":"q.example","expires":"2030-01-01T00:00:00Z","prefixes":[]}}]}""", "$.interfaces[0].pvdInfo.identifier", "\"p.example\"" },
        { """{"interfaces":[{"name":"x","kind":"Wifi"}],"history":{"h.example":[{"interface":"y"}]}}""", "$.history['h.example'][0].interface", "the name of an interface" },
        { """{"interfaces":[{"name":"x","kind":"Wifi"}],"history":{"h.example":[{"interface":"x","recentFailures":-2}]}}""", "$.history['h.example'][0].recentFailures", "a count of failures" },
        { """{"interfaces":[{"name":"x","kind":"Wifi"}],"history":{"h.example":[{"interface":"x","smoothedRttMs":-2}]}}""", "$.history['h.example'][0].smoothedRttMs", "a round-trip time" },
        // Found by fuzzing (tests/HeMif.Fuzz/regressions/interfaces): a number past TimeSpan's range escaped as OverflowException.
        { """{"interfaces":[{"name":"x","kind":"Wifi"}],"history":{"h.example":[{"interface":"x","smoothedRttMs":1844674407370955161630}]}}""", "$.history['h.example'][0].smoothedRttMs", "a round-trip time in milliseconds from 0 to 86400000" },
        { """{"interfaces":[{"name":"x","kind":"Wifi"}],"history":{"h.example":[{"interface":"x","smoothedRttMs":86400001}]}}""", "$.history['h.example'][0].smoothedRttMs", "a round-trip time in milliseconds from 0 to 86400000" },
        { """{"nics":[]}""", "$.nics", "one of the keys interfaces, history" },
        { """{}""", "$.interfaces", "an array of interfaces" },
        { """[""", "$", "valid JSON" },
        { """{"interfaces":[{"name":"x\ud800y","kind":"Wifi"}]}""", "$.interfaces[0].name", "text without an unpaired surrogate escape" },
    };

    [Theory]
    [MemberData(nameof(MalformedInterfaces))]
    public void Malformed_interface_files_name_the_file_the_path_and_the_expectation(string json, string path, string expected)
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParseInterfaces(json, "interfaces.json"));
        Assert.Equal("interfaces.json", e.Origin);
        Assert.StartsWith(path, e.Path, StringComparison.Ordinal);
        Assert.StartsWith(expected, e.Expected, StringComparison.Ordinal);
        Assert.StartsWith($"interfaces.json: {path}", e.Message, StringComparison.Ordinal);
    }
}
