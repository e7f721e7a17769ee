using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Actors.Tests.Validate;

/// <summary>
/// Validation per PvD (draft §5.2.1 with RFC 7556 §5.3): an interface that serves only its own scope is validated with
/// its own check URL when its PvD's Additional Information (<c>connectivityCheckUrl</c>) or the override file
/// (<c>checkUrl</c>) names one, otherwise by its DNS servers answering for its zone; the Internet check never decides it.
/// </summary>
public sealed class ScopeCheckUrlTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly Uri PvdUrl = new("http://check.corp.example/generate_204");
    private static readonly Uri OverrideUrl = new("http://10.8.0.1/ok");

    private static readonly InterfaceFacts Corp = new("tun0", InterfaceKind.Vpn)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("10.8.0.2"), 24)],
        DnsServers = [IPAddress.Parse("10.8.0.1")],
        PvdInfo = new PvdAdditionalInformation("corp.example", Now.AddHours(1), []) { NoInternet = true, DnsZones = ["corp.example"], ConnectivityCheckUrl = PvdUrl },
    };

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed class Probe(ValidationState state, List<string> calls, string name) : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
        {
            calls.Add(name);
            return Task.FromResult(new ValidationResult(state, $"{name}: {state}"));
        }
    }

    private sealed class Resolver(List<string> calls) : InterfaceResolver
    {
        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
        {
            calls.Add("dns " + host);
            return Task.FromResult(new ResolveResult([IPAddress.Parse("10.8.0.1")]));
        }
    }

    private static (ScopedProbe Probe, List<string> Calls) Build(ValidationState own)
    {
        var calls = new List<string>();
        var probe = new ScopedProbe(new Probe(ValidationState.NoConnectivity, calls, "internet"), new Resolver(calls), new FixedClock(Now),
            url => new Probe(own, calls, "check " + url));
        return (probe, calls);
    }

    [Fact]
    public async Task A_noInternet_PvD_is_validated_with_the_check_URL_its_Additional_Information_names()
    {
        var (probe, calls) = Build(ValidationState.Validated);

        var result = await probe.ProbeAsync(Corp, default);

        Assert.Equal(ValidationState.Validated, result.State);
        Assert.Equal(["check " + PvdUrl], calls);
        Assert.Contains($"its own check URL {PvdUrl} answered", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Its_own_check_URL_failing_is_a_failed_validation_that_says_so()
    {
        var (probe, _) = Build(ValidationState.NoConnectivity);

        var result = await probe.ProbeAsync(Corp, default);

        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Contains($"its own check URL {PvdUrl} did not answer", result.Detail, StringComparison.Ordinal);
    }

    /// <summary>The override file's check URL is used when the Additional Information names none, and the PvD's wins over it.</summary>
    [Fact]
    public async Task The_override_file_names_the_check_URL_when_the_PvD_does_not()
    {
        var (probe, calls) = Build(ValidationState.Validated);
        var noUrl = Corp with { PvdInfo = Corp.PvdInfo! with { ConnectivityCheckUrl = null }, ScopeCheckUrl = OverrideUrl };

        await probe.ProbeAsync(noUrl, default);
        await probe.ProbeAsync(Corp with { ScopeCheckUrl = OverrideUrl }, default);

        Assert.Equal(["check " + OverrideUrl, "check " + PvdUrl], calls);
    }

    [Fact]
    public async Task Without_a_check_URL_its_DNS_servers_decide()
    {
        var (probe, calls) = Build(ValidationState.Validated);

        var result = await probe.ProbeAsync(Corp with { PvdInfo = Corp.PvdInfo! with { ConnectivityCheckUrl = null } }, default);

        Assert.Equal(ValidationState.Validated, result.State);
        Assert.Equal(["dns corp.example"], calls);
    }

    /// <summary>An ordinary interface gets the Internet check, whatever check URL the override file names for a scope.</summary>
    [Fact]
    public async Task An_ordinary_interface_takes_the_Internet_check()
    {
        var (probe, calls) = Build(ValidationState.Validated);

        await probe.ProbeAsync(new InterfaceFacts("wlan0", InterfaceKind.Wifi) { ScopeCheckUrl = OverrideUrl }, default);

        Assert.Equal(["internet"], calls);
    }

    [Theory]
    [InlineData("\"https://check.corp.example/\"")]
    [InlineData("\"check.corp.example\"")]
    [InlineData("42")]
    public void A_check_URL_that_is_not_plain_http_is_refused_naming_the_key(string value)
    {
        var json = $$"""{"identifier": "corp.example", "expires": "2027-01-01T00:00:00Z", "prefixes": [], "connectivityCheckUrl": {{value}}}""";

        var info = PvdAdditionalInformation.TryParse(System.Text.Encoding.UTF8.GetBytes(json), "corp.example", out var error);

        Assert.Null(info);
        Assert.Equal("$.connectivityCheckUrl", error!.Path);
        Assert.Contains("expected an absolute http:// URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_check_URL_is_read_from_the_Additional_Information()
    {
        var info = PvdAdditionalInformation.Parse("""{"identifier": "corp.example", "expires": "2027-01-01T00:00:00Z", "prefixes": [], "connectivityCheckUrl": "http://check.corp.example/generate_204"}""");

        Assert.Equal(PvdUrl, info.ConnectivityCheckUrl);
    }
}
