using HeMif.Filter;
using HeMif.Hosting;
using HeMif.Planning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HeMif.Host.Tests.Options;

/// <summary>
/// The HeMif section: every key bound strictly, every bad value named by its key with what is allowed, the policy
/// errors of the policy reader surfacing with their configuration path.
/// </summary>
public sealed class OptionsTests
{
    private static HeMifOptions Bind(Dictionary<string, string?> settings, Action<HeMifBuilder>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddHeMif(configure);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<HeMifOptions>>().Value;
    }

    private static string Failure(Dictionary<string, string?> settings, Action<HeMifBuilder>? configure = null) =>
        Assert.Throws<OptionsValidationException>(() => Bind(settings, configure)).Message;

    [Fact]
    public void Every_host_key_binds_case_insensitively()
    {
        var o = Bind(new()
        {
            ["HeMif:raceTimeout"] = "00:01:00",
            ["HeMif:STARTUPTIMEOUT"] = "00:00:03",
            ["HeMif:Transport"] = "any",
            ["HeMif:ProbeUrl"] = "http://check.example.net/generate_204",
            ["HeMif:DisableValidation"] = "True",
            ["HeMif:OverridesFile"] = "/etc/hemif/host.json",
            ["HeMif:Multipath"] = "aggregate",
            ["HeMif:QuicProbeTimeout"] = "00:00:02",
        });
        Assert.Equal(TimeSpan.FromSeconds(2), o.QuicProbeTimeout);
        Assert.Equal(Multipath.MultipathMode.Aggregate, o.Multipath);
        Assert.Equal(TimeSpan.FromMinutes(1), o.RaceTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), o.StartupTimeout);
        Assert.Equal(TransportPreference.Any, o.Transport);
        Assert.Equal(new Uri("http://check.example.net/generate_204"), o.ProbeUrl);
        Assert.True(o.DisableValidation);
        Assert.Equal("/etc/hemif/host.json", o.OverridesFile);
    }

    [Fact]
    public void Without_configuration_the_defaults_hold()
    {
        var o = Bind([]);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RaceTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), o.StartupTimeout);
        Assert.Equal(TransportPreference.Tcp, o.Transport);
        Assert.Same(HeMifPolicy.Empty, o.Policy);
        Assert.Null(o.Interfaces);
        Assert.Null(o.Multipath);
        Assert.Null(Bind(new() { ["HeMif:Multipath"] = "Off" }).Multipath);
    }

    [Theory]
    [InlineData("HeMif:RaceTimeout", "00:00:00", "HeMif:RaceTimeout must be between 00:00:01 and 00:10:00; got 00:00:00")]
    [InlineData("HeMif:RaceTimeout", "01:00:00", "HeMif:RaceTimeout must be between 00:00:01 and 00:10:00; got 01:00:00")]
    [InlineData("HeMif:RaceTimeout", "soon", "HeMif:RaceTimeout must be a time span such as 00:00:30; got \"soon\"")]
    [InlineData("HeMif:StartupTimeout", "-00:00:01", "HeMif:StartupTimeout must be between 00:00:00 and 00:05:00; got -00:00:01")]
    [InlineData("HeMif:Transport", "udp", "HeMif:Transport must be one of Tcp, Any, Quic; got \"udp\"")]
    [InlineData("HeMif:Transport", "1", "HeMif:Transport must be one of Tcp, Any, Quic; got \"1\"")]
    [InlineData("HeMif:QuicProbeTimeout", "00:00:00", "HeMif:QuicProbeTimeout must be between 00:00:00.0010000 and 00:01:00; got 00:00:00")]
    [InlineData("HeMif:Multipath", "always", "HeMif:Multipath must be one of Off, Handover, Interactive, Aggregate; got \"always\"")]
    [InlineData("HeMif:DisableValidation", "yes", "HeMif:DisableValidation must be true or false; got \"yes\"")]
    [InlineData("HeMif:ProbeUrl", "https://check.example.net/", "HeMif:ProbeUrl must be an absolute http:// URL; got \"https://check.example.net/\"")]
    [InlineData("HeMif:FallbackDelay", "-00:00:01", "HeMif:FallbackDelay must be between 00:00:00 and 00:10:00; got -00:00:01")]
    [InlineData("HeMif:MaxFallbackDelay", "00:11:00", "HeMif:MaxFallbackDelay must be between 00:00:00 and 00:10:00; got 00:11:00")]
    [InlineData("HeMif:MinFallbackDelay", "later", "HeMif:MinFallbackDelay must be a time span such as 00:00:00.3; got \"later\"")]
    [InlineData("HeMif:ProbeUrl", "/generate_204", "HeMif:ProbeUrl must be an absolute http:// URL; got \"/generate_204\"")]
    [InlineData("HeMif:CaptivePortalPeriod", "00:00:05", "HeMif:CaptivePortalPeriod must be between 00:00:10 and 00:00:30; got 00:00:05")]
    [InlineData("HeMif:CaptivePortalPeriod", "00:01:00", "HeMif:CaptivePortalPeriod must be between 00:00:10 and 00:00:30; got 00:01:00")]
    [InlineData("HeMif:CaptivePortalPeriod", "often", "HeMif:CaptivePortalPeriod must be a time span such as 00:00:15; got \"often\"")]
    public void A_bad_value_is_named_by_its_key_with_what_is_allowed(string key, string value, string message)
    {
        Assert.Contains(message, Failure(new() { [key] = value }), StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 14: "an interface found behind a captive portal is re-examined often (every 10–30 s, configurable) so that a
    /// user who logs in gets Wi-Fi back within that time" (draft §5.2.1: a captive portal "forces a login or a
    /// click-through"): the period binds from HeMif:CaptivePortalPeriod, 15 s when not given.
    /// </summary>
    [Fact]
    public void The_captive_portal_period_binds_from_the_section()
    {
        Assert.Equal(TimeSpan.FromSeconds(15), Bind([]).CaptivePortalPeriod);
        Assert.Equal(TimeSpan.FromSeconds(25), Bind(new() { ["HeMif:captivePortalPeriod"] = "00:00:25" }).CaptivePortalPeriod);
        Assert.Equal(TimeSpan.FromSeconds(10), Bind(new() { ["HeMif:CaptivePortalPeriod"] = "00:00:10" }).CaptivePortalPeriod);
    }

    /// <summary>
    /// Draft §7.2: "it is recommended to prioritize the input from users (e.g., real customers or applications)": the
    /// application states its fallback delay (or the range of the adaptive one) in appsettings; the connector's races take it.
    /// </summary>
    [Fact]
    public void The_fallback_delay_and_its_range_bind_from_the_section()
    {
        Assert.Same(FallbackDelaySettings.None, Bind([]).FallbackDelay);
        var o = Bind(new() { ["HeMif:FallbackDelay"] = "00:00:00.8", ["HeMif:minFallbackDelay"] = "00:00:00.5", ["HeMif:MaxFallbackDelay"] = "00:00:04" });
        Assert.Equal(new FallbackDelaySettings { Delay = TimeSpan.FromMilliseconds(800), Min = TimeSpan.FromMilliseconds(500), Max = TimeSpan.FromSeconds(4) }, o.FallbackDelay);
        Assert.Contains("HeMif:MinFallbackDelay (00:00:05) must not be above HeMif:MaxFallbackDelay (00:00:01)",
            Failure(new() { ["HeMif:MinFallbackDelay"] = "00:00:05", ["HeMif:MaxFallbackDelay"] = "00:00:01" }), StringComparison.Ordinal);

        var policy = Bind(new() { ["HeMif:FallbackDelays:0:Name"] = "f", ["HeMif:FallbackDelays:0:Source"] = "Operator", ["HeMif:FallbackDelays:0:MaxMs"] = "900" }).Policy;
        Assert.Equal(TimeSpan.FromMilliseconds(900), Assert.Single(policy.FallbackDelays).Settings.Max);
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_keys_the_section_takes()
    {
        var message = Failure(new() { ["HeMif:RaceTimout"] = "00:00:05" });
        Assert.Contains("HeMif:RaceTimout is not a HeMif setting", message, StringComparison.Ordinal);
        Assert.Contains("RaceTimeout", message, StringComparison.Ordinal);
        Assert.Contains("userRules", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var message = Failure(new() { ["HeMif:RaceTimeout"] = "00:00:00", ["HeMif:Transport"] = "udp" });
        Assert.Contains("HeMif:RaceTimeout", message, StringComparison.Ordinal);
        Assert.Contains("HeMif:Transport", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_keys_beside_host_keys_are_read_by_the_strict_policy_reader()
    {
        var o = Bind(new()
        {
            ["HeMif:RaceTimeout"] = "00:00:05",
            ["HeMif:kindOrder:0"] = "Ethernet",
            ["HeMif:kindOrder:1"] = "Wifi",
            ["HeMif:userRules:0:name"] = "no-cellular",
            ["HeMif:userRules:0:level"] = "Prohibit",
            ["HeMif:userRules:0:interface:kinds:0"] = "Cellular",
        });
        var rule = Assert.Single(o.Policy.UserRules);
        Assert.Equal(("no-cellular", PreferenceLevel.Prohibit), (rule.Name, rule.Level));
        Assert.Equal([Interfaces.InterfaceKind.Ethernet, Interfaces.InterfaceKind.Wifi], o.Policy.KindOrder);
    }

    [Fact]
    public void A_policy_error_keeps_the_policy_readers_configuration_path()
    {
        var message = Failure(new()
        {
            ["HeMif:userRules:0:name"] = "big",
            ["HeMif:userRules:0:level"] = "Prohibit",
            ["HeMif:userRules:0:request:minExpectedBytes"] = "-1",
        });
        Assert.Contains("HeMif:userRules:0:request:minExpectedBytes", message, StringComparison.Ordinal);
        Assert.Contains("\"-1\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_file_is_read_and_its_errors_name_the_file_and_the_JSON_path()
    {
        var file = Path.Combine(Path.GetTempPath(), $"hemif-policy-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, """{ "userRules": [ { "name": "wifi-first", "level": "Prefer", "interface": { "kinds": ["Wifi"] } } ] }""");
            Assert.Equal("wifi-first", Assert.Single(Bind(new() { ["HeMif:PolicyFile"] = file }).Policy.UserRules).Name);
            Assert.Equal("wifi-first", Assert.Single(Bind([], b => b.UsePolicyFile(file)).Policy.UserRules).Name);

            File.WriteAllText(file, """{ "userRules": [ { "name": "wifi-first", "level": "Perhaps" } ] }""");
            var message = Failure(new() { ["HeMif:PolicyFile"] = file });
            Assert.Contains("HeMif:PolicyFile", message, StringComparison.Ordinal);
            Assert.Contains(Path.GetFileName(file), message, StringComparison.Ordinal);
            Assert.Contains("$.userRules[0].level", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Contains("HeMif:PolicyFile must name a readable policy file", Failure(new() { ["HeMif:PolicyFile"] = file }), StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_file_and_a_policy_in_the_section_are_not_both_taken()
    {
        var message = Failure(new()
        {
            ["HeMif:PolicyFile"] = "/nonexistent/policy.json",
            ["HeMif:kindOrder:0"] = "Wifi",
        });
        Assert.Contains("HeMif:PolicyFile and a policy", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_is_applied_after_configuration()
    {
        var policy = new HeMifPolicy { KindOrder = [Interfaces.InterfaceKind.Cellular] };
        var o = Bind(new() { ["HeMif:Transport"] = "Quic" }, b => b.UseTransport(TransportPreference.Tcp).UsePolicy(policy).UseProbe(new Uri("http://127.0.0.1:9/generate_204")));
        Assert.Equal(TransportPreference.Tcp, o.Transport);
        Assert.Same(policy, o.Policy);
        Assert.Equal(9, o.ProbeUrl!.Port);
    }

    [Fact]
    public void An_empty_interface_list_in_code_is_refused()
    {
        Assert.Contains("HeMifOptions.Interfaces is empty", Failure([], b => b.UseInterfaces([])), StringComparison.Ordinal);
    }
}
