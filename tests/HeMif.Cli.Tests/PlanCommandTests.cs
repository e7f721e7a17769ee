using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif plan` end to end through the entry point: "Exit code 0 when at least one candidate remains, 3 when none, 2
/// for bad input (with the error on stderr)", and with --json one object with candidates, excluded and conflicts.
/// </summary>
public sealed class PlanCommandTests : IDisposable
{
    private static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "samples");
    private static readonly string Interfaces = Path.Combine(Samples, "interfaces.json");
    private static readonly string Policy = Path.Combine(Samples, "policy.json");
    private readonly List<string> _temp = [];

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private string Temp(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"hemif-cli-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        _temp.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (var f in _temp)
        {
            File.Delete(f);
        }
    }

    [Fact]
    public void The_sample_plan_prints_candidates_exclusions_and_conflicts_as_JSON_and_exits_0()
    {
        var (exit, stdout, stderr) = Run("plan", "--interfaces", Interfaces, "--policy", Policy, "--host", "www.example.com", "--port", "443", "--json");

        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var candidates = root.GetProperty("candidates").EnumerateArray().ToArray();
        Assert.Equal(["rmnet0", "wlan0", "tun0"], candidates.Select(c => c.GetProperty("interface").GetString()));
        Assert.Equal([1, 2, 3], candidates.Select(c => c.GetProperty("rank").GetInt32()));
        Assert.Equal(5020, candidates[0].GetProperty("score").GetInt32());
        Assert.Contains(candidates[0].GetProperty("reasons").EnumerateArray(), r => r.GetProperty("reason").GetString() == "+5000 §4.1.1 operator rule: prefer-ipv6");
        Assert.Contains(candidates[1].GetProperty("reasons").EnumerateArray(), r => r.GetProperty("factor").GetString() == "RoundTripTime");

        var excluded = root.GetProperty("excluded").EnumerateArray().ToDictionary(e => e.GetProperty("interface").GetString()!, e => e.GetProperty("reasons"));
        Assert.Equal(["eth0", "rmnet1"], excluded.Keys.Order(StringComparer.Ordinal));
        var roaming = Assert.Single(excluded["rmnet1"].EnumerateArray());
        Assert.Equal(("no-3g-4g-while-roaming", "User", "Prohibit"), (roaming.GetProperty("rule").GetString(), roaming.GetProperty("source").GetString(), roaming.GetProperty("level").GetString()));
        Assert.Equal("prohibits kind Cellular, roaming; rmnet1 matches", roaming.GetProperty("fact").GetString());

        var conflicts = root.GetProperty("conflicts").EnumerateArray().ToArray();
        Assert.Contains(conflicts, c => c.GetProperty("winner").GetProperty("rule").GetString() == "no-3g-4g-while-roaming" &&
                                        c.GetProperty("overridden").GetProperty("rule").GetString() == "roaming-partner");
        Assert.Contains(conflicts, c => c.GetProperty("overridden").GetProperty("source").GetString() == "CommonPractice" &&
                                        c.GetProperty("resolution").GetString()!.Contains("§3.2", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("failure").ValueKind);
    }

    [Fact]
    public void A_large_download_is_planned_on_WiFi_only()
    {
        var (exit, stdout, _) = Run("plan", "--interfaces", Interfaces, "--policy", Policy, "--host", "apps.example.com", "--port", "443", "--expected-bytes", "50000000", "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["wlan0"], doc.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("interface").GetString()));
        Assert.Contains(doc.RootElement.GetProperty("excluded").EnumerateArray(),
            e => e.GetProperty("interface").GetString() == "rmnet0" &&
                 e.GetProperty("reasons").EnumerateArray().Any(r => r.GetProperty("rule").GetString() == "large-downloads-over-wifi"));
    }

    [Fact]
    public void The_text_output_explains_the_order()
    {
        var (exit, stdout, _) = Run("plan", "--interfaces", Interfaces, "--policy", Policy, "--host", "intranet.corp.example.com", "--port", "22", "--transport", "quic");
        Assert.Equal(0, exit);
        Assert.StartsWith("Plan for intranet.corp.example.com:22 over QUIC", stdout, StringComparison.Ordinal);
        // The operator's Prefer (prefer-ipv6, on rmnet0) comes before the soft set's PvD and RFC 6731 points for tun0,
        // whatever their sum (§4.2: the soft set sorts among the interfaces "which meet the hard set requirements").
        Assert.Contains("1. rmnet0", stdout, StringComparison.Ordinal);
        Assert.Contains("2. tun0", stdout, StringComparison.Ordinal);
        Assert.Contains("operator rule 'prefer-ipv6' (Prefer) ranks rmnet0 before tun0", stdout, StringComparison.Ordinal);
        Assert.Contains("+3000 §4.2.1 PvD: corp.example.com", stdout, StringComparison.Ordinal);
        Assert.Contains("+2100 §4.2.2 RFC 6731 DNS selection: corp.example.com", stdout, StringComparison.Ordinal);
        Assert.Contains("Excluded:", stdout, StringComparison.Ordinal);
        Assert.Contains("Conflicts:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void When_no_interface_qualifies_the_exit_code_is_3_and_the_failure_names_the_rules()
    {
        var policy = Temp("""{"userRules":[{"name":"wired-only","level":"Require","interface":{"kinds":["Ethernet"]}}]}""");
        var (exit, stdout, stderr) = Run("plan", "--interfaces", Interfaces, "--policy", policy, "--host", "www.example.com", "--port", "443", "--json");

        Assert.Equal(3, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Empty(doc.RootElement.GetProperty("candidates").EnumerateArray());
        Assert.Equal(5, doc.RootElement.GetProperty("excluded").GetArrayLength());
        Assert.Contains("No interface qualifies for www.example.com:443", stderr, StringComparison.Ordinal);
        Assert.Contains("wlan0 was excluded by user rule 'wired-only' (Require): requires kind Ethernet; wlan0 is Wifi", stderr, StringComparison.Ordinal);
        Assert.Contains("eth0 was excluded by built-in check 'builtin:interface-down'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--port", "0", "--port must be a port between 1 and 65535; got '0'")]
    [InlineData("--port", "http", "--port must be a port between 1 and 65535; got 'http'")]
    [InlineData("--expected-bytes", "-1", "--expected-bytes must be a size in bytes, not negative; got '-1'")]
    [InlineData("--expected-bytes", "lots", "--expected-bytes must be a size in bytes, not negative; got 'lots'")]
    [InlineData("--transport", "sctp", "sctp")]
    [InlineData("--now", "yesterday", "--now: 'yesterday' is not a date")]
    public void Bad_arguments_exit_2_with_the_error_on_stderr(string option, string value, string message)
    {
        var args = new List<string> { "plan", "--interfaces", Interfaces, "--policy", Policy, "--host", "www.example.com" };
        if (option != "--port")
        {
            args.AddRange(["--port", "443"]);
        }

        args.AddRange([option, value]);
        var (exit, stdout, stderr) = Run([.. args]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_required_option_exits_2()
    {
        var (exit, _, stderr) = Run("plan", "--interfaces", Interfaces, "--policy", Policy, "--port", "443");
        Assert.Equal(2, exit);
        Assert.Contains("--host", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_policy_exits_2_naming_the_file_the_path_and_the_expectation()
    {
        var policy = Temp("""{"userRules":[{"name":"x","level":"Sometimes"}]}""");
        var (exit, stdout, stderr) = Run("plan", "--interfaces", Interfaces, "--policy", policy, "--host", "www.example.com", "--port", "443");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{Path.GetFileName(policy)}: $.userRules[0].level: expected one of Require, Prefer, Avoid, Prohibit; found \"Sometimes\"", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_interfaces_file_exits_2()
    {
        var interfaces = Temp("""{"interfaces":[{"name":"wlan0","kind":"Wifi","addresses":[{"address":"2001:db8::1","prefixLength":200}]}]}""");
        var (exit, _, stderr) = Run("plan", "--interfaces", interfaces, "--policy", Policy, "--host", "www.example.com", "--port", "443");
        Assert.Equal(2, exit);
        Assert.Contains("$.interfaces[0].addresses[0].prefixLength: expected a prefix length from 0 to 128 for an IPv6 address; found 200", stderr, StringComparison.Ordinal);
    }

    /// <summary>Validity windows through the CLI: --now makes the decision time explicit and reproducible.</summary>
    [Fact]
    public void The_decision_time_comes_from_now()
    {
        var policy = Temp("""{"operatorRules":[{"name":"night-no-cellular","level":"Prohibit","interface":{"kinds":["Cellular"]},"validity":{"timeOfDay":[{"start":"22:00","end":"06:00"}]}}]}""");
        string[] baseArgs = ["plan", "--interfaces", Interfaces, "--policy", policy, "--host", "www.example.com", "--port", "443", "--json", "--now"];
        var night = Run([.. baseArgs, "2026-03-02T23:00:00+01:00"]);
        var day = Run([.. baseArgs, "2026-03-02T12:00:00+01:00"]);
        Assert.Contains("night-no-cellular", night.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("night-no-cellular", day.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_IP_literal_host_is_used_as_the_destination_address()
    {
        var (exit, stdout, _) = Run("plan", "--interfaces", Interfaces, "--policy", Temp("{}"), "--host", "2001:db8:ff::1", "--port", "443", "--json");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["rmnet0", "rmnet1"], doc.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("interface").GetString()));
        Assert.Contains(doc.RootElement.GetProperty("excluded").EnumerateArray(), e => e.GetProperty("interface").GetString() == "wlan0" &&
            e.GetProperty("reasons")[0].GetProperty("rule").GetString() == "builtin:address-family");
    }

    [Fact]
    public void Help_exits_0()
    {
        var (exit, stdout, _) = Run("plan", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("--expected-bytes", stdout, StringComparison.Ordinal);
    }
    /// <summary>
    /// Draft §7.2: "it is recommended to prioritize the input from users (e.g., real customers or applications)". The
    /// plan lists the fallback delay rules that apply to the request and its first-ranked interfaces, user first, in
    /// the text and (an added field) in the JSON; a rule for another host is not listed.
    /// </summary>
    [Fact]
    public void The_plan_lists_the_fallback_delay_rules_that_apply()
    {
        var policy = Temp("""
            {"fallbackDelays":[
              {"name":"other-host","source":"User","request":{"hosts":["other.example"]},"delayMs":100},
              {"name":"wifi-range","source":"Operator","interface":{"kinds":["Wifi"]},"minMs":500,"maxMs":4000},
              {"name":"video-patience","source":"User","request":{"hosts":["video.example"]},"delayMs":1500}]}
            """);
        string[] args = ["plan", "--interfaces", Interfaces, "--policy", policy, "--host", "video.example", "--port", "443"];

        var (exit, text, _) = Run(args);
        Assert.Equal(0, exit);
        Assert.Contains("Fallback delay rules (draft §7.2, first that states a value wins):", text, StringComparison.Ordinal);
        Assert.Contains("  user rule 'video-patience': delay 1500 ms", text, StringComparison.Ordinal);
        Assert.Contains("  operator rule 'wifi-range': at least 500 ms, at most 4000 ms", text, StringComparison.Ordinal);
        Assert.DoesNotContain("other-host", text, StringComparison.Ordinal);

        var (jsonExit, json, _) = Run([.. args, "--json"]);
        Assert.Equal(0, jsonExit);
        using var doc = JsonDocument.Parse(json);
        var rules = doc.RootElement.GetProperty("fallbackDelayRules").EnumerateArray()
            .Select(r => (r.GetProperty("rule").GetString(), r.GetProperty("source").GetString(), Ms(r, "delayMs"), Ms(r, "minMs"), Ms(r, "maxMs")))
            .ToList();
        Assert.Equal([("video-patience", "User", 1500, null, null), ("wifi-range", "Operator", null, 500, 4000)], rules);

        static double? Ms(JsonElement rule, string name) =>
            rule.GetProperty(name).ValueKind == JsonValueKind.Null ? null : rule.GetProperty(name).GetDouble();
    }

    /// <summary>
    /// Issue 14: "The socket's source address follows the configured RFC 6724 policy table, not the default one"; RFC
    /// 6724 §5 Rule 6: "If Label(SA) = Label(D) and Label(SB) &lt;&gt; Label(D), then prefer SA". An interface with a ULA
    /// and a global address, an IPv6 literal as the destination: with the default table the plan's §4.2.4 reason names
    /// the global source; with a policy table that gives the destination's /48 the ULA label, the ULA. The text says
    /// which table, and the JSON has it as an added field.
    /// </summary>
    [Fact]
    public void The_plan_names_the_source_address_the_configured_table_chooses()
    {
        var interfaces = Temp("""
            {"interfaces":[{"name":"eth0","kind":"Ethernet","addresses":[
              {"address":"fd00::10","prefixLength":64},{"address":"2001:db8:1::10","prefixLength":64}]}]}
            """);
        var defaultPolicy = Temp("{}");
        var ulaPolicy = Temp("""
            {"addressSelectionTable":[
              {"prefix":"::1/128","precedence":50,"label":0},{"prefix":"::/0","precedence":40,"label":1},
              {"prefix":"2001:db8:ff::/48","precedence":45,"label":13},{"prefix":"::ffff:0:0/96","precedence":35,"label":4},
              {"prefix":"fc00::/7","precedence":3,"label":13}]}
            """);

        var (exit, text, _) = Run("plan", "--interfaces", interfaces, "--policy", defaultPolicy, "--host", "2001:db8:ff::80", "--port", "443");
        Assert.Equal(0, exit);
        Assert.Contains("§4.2.4 RFC 6724: 2001:db8:1::10", text, StringComparison.Ordinal);
        Assert.Contains("RFC 6724 policy table: the default (RFC 6724 §2.1)", text, StringComparison.Ordinal);

        (exit, text, _) = Run("plan", "--interfaces", interfaces, "--policy", ulaPolicy, "--host", "2001:db8:ff::80", "--port", "443");
        Assert.Equal(0, exit);
        Assert.Contains("§4.2.4 RFC 6724: fd00::10", text, StringComparison.Ordinal);
        Assert.Contains("RFC 6724 policy table: the policy's addressSelectionTable (5 rows)", text, StringComparison.Ordinal);

        var (jsonExit, json, _) = Run("plan", "--interfaces", interfaces, "--policy", ulaPolicy, "--host", "2001:db8:ff::80", "--port", "443", "--json");
        Assert.Equal(0, jsonExit);
        using var doc = JsonDocument.Parse(json);
        var table = doc.RootElement.GetProperty("addressSelectionTable");
        Assert.True(table.GetProperty("configured").GetBoolean());
        Assert.Equal(5, table.GetProperty("rows").GetInt32());
        Assert.Contains(doc.RootElement.GetProperty("candidates")[0].GetProperty("reasons").EnumerateArray(),
            r => r.GetProperty("factor").GetString() == "SourceAddressSelection" && r.GetProperty("subject").GetString() == "fd00::10");
    }
}
