using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif interfaces` on this host (issue 15: "what HeMif knows about this host now: each interface and PvD with every
/// fact and where it came from ... and its validation state"). The lab's DiscoveryInLabTests show PvDs learned from RAs.
/// </summary>
public sealed class InterfacesCommandTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"hemif-interfaces-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void The_JSON_says_where_each_fact_came_from()
    {
        File.WriteAllText(_file, """{ "interfaces": [ { "name": "lo", "metered": true, "dnsServers": ["127.0.0.53"] } ] }""");
        var (exit, output, error) = Run("interfaces", "--interfaces", _file, "--no-validation", "--json");
        Assert.True(exit == 0, error);
        var lo = JsonDocument.Parse(output).RootElement.GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "lo");
        Assert.Equal("Loopback", lo.GetProperty("kind").GetString());
        Assert.True(lo.GetProperty("metered").GetBoolean());
        Assert.Equal(["127.0.0.53"], lo.GetProperty("dnsServers").EnumerateArray().Select(s => s.GetString()));
        var sources = lo.GetProperty("sources");
        Assert.Equal("OperatingSystem", sources.GetProperty("kind").GetString());
        Assert.Equal("OperatingSystem", sources.GetProperty("addresses").GetString());
        Assert.Equal("OverrideFile", sources.GetProperty("metered").GetString());
        Assert.Equal("OverrideFile", sources.GetProperty("dnsServers").GetString());
        Assert.Contains("127.0.0.1/8", lo.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        Assert.True(lo.TryGetProperty("validation", out var validation) && validation.GetProperty("state").GetString() is { Length: > 0 });
        Assert.True(lo.GetProperty("raLearning").GetProperty("state").GetString() is "Listening" or "Unavailable");
        Assert.Empty(lo.GetProperty("pvds").EnumerateArray());
    }

    [Fact]
    public void The_text_names_each_source()
    {
        File.WriteAllText(_file, """{ "interfaces": [ { "name": "lo", "roaming": true } ] }""");
        var (exit, output, error) = Run("interfaces", "--interfaces", _file, "--no-validation");
        Assert.True(exit == 0, error);
        Assert.Contains("lo (Loopback", output, StringComparison.Ordinal);
        Assert.Contains("  kind         Loopback (OS)", output, StringComparison.Ordinal);
        Assert.Contains("roaming yes (override file)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "-5", "--listen")]
    [InlineData("--listen", "600001", "--listen")]
    [InlineData("--interfaces", "/nonexistent/host.json", "/nonexistent/host.json")]
    public void Bad_input_is_named(string option, string value, string naming)
    {
        string[] args = ["interfaces", option, value];
        Cli.AssertBadInput(Run(args), naming, args);
    }

    private static (int Exit, string Out, string Err) Run(params string[] args) => Cli.Run(args);
}
