using System.Text.Json;
using System.Text.Json.Nodes;

namespace HeMif.Cli.Tests;

/// <summary>
/// Interface names are data: whatever names the OS or a file gives must work in every command. `hemif simulate`
/// crashed with InvalidActorNameException and a stack trace on a '/' (the interface's actor was named after it) while
/// `hemif plan` took the same file.
/// </summary>
public sealed class HostileNameTests : IDisposable
{
    private static readonly string Long = new('n', 300);

    private static readonly (string Name, string Kind, JsonObject Path)[] Interfaces =
    [
        ("eth 0/1", "Ethernet", new JsonObject { ["rttMs"] = 10, ["ipv6"] = "blackhole", ["probe"] = "validated" }),
        ("wl/an0", "Wifi", new JsonObject { ["rttMs"] = 40 }),
        ("$x", "Cellular", new JsonObject { ["rttMs"] = 30 }),
        ("esc\u001b[31m", "Cellular", new JsonObject { ["rttMs"] = 50 }),
        ("\U0001F4F6 cell", "Cellular", new JsonObject { ["rttMs"] = 20 }),
        (Long, "Vpn", new JsonObject { ["rttMs"] = 60 }),
    ];

    private readonly string _scenario = Path.Combine(Path.GetTempPath(), $"hemif-hostile-{Guid.NewGuid():N}.json");

    public HostileNameTests()
    {
        var interfaces = new JsonArray();
        var network = new JsonObject();
        for (var i = 0; i < Interfaces.Length; i++)
        {
            var (name, kind, path) = Interfaces[i];
            interfaces.Add(new JsonObject
            {
                ["name"] = name,
                ["kind"] = kind,
                ["addresses"] = new JsonArray(new JsonObject { ["address"] = $"2001:db8:{i + 1}::10", ["prefixLength"] = 64 }),
            });
            network[name] = path.DeepClone();
        }

        var scenario = new JsonObject
        {
            ["name"] = "hostile-names",
            ["interfaces"] = interfaces,
            ["network"] = network,
            ["destinations"] = new JsonObject { ["www.example.com"] = new JsonArray("2001:db8:ffff::80") },
            ["requests"] = new JsonArray(new JsonObject { ["host"] = "www.example.com" }),
        };
        File.WriteAllText(_scenario, scenario.ToJsonString());
    }

    public void Dispose() => File.Delete(_scenario);

    /// <summary>
    /// '/', spaces, a leading '$', an escape sequence, an emoji and 300 characters: the preferred Ethernet answers
    /// nothing, and after the fallback delay the fastest of the others wins, as with ordinary names.
    /// </summary>
    [Fact]
    public void Simulate_runs_a_scenario_with_hostile_interface_names_and_connects()
    {
        var (exit, output, error) = Run("simulate", "--scenario", _scenario, "--json");
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("connected", root.GetProperty("outcome").GetString());
        Assert.Equal("\U0001F4F6 cell", root.GetProperty("winner").GetProperty("interface").GetString());
        var planned = root.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "plan")
            .Select(e => e.GetProperty("interface").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(Interfaces.Select(i => i.Name).Order(StringComparer.Ordinal), planned);

        (exit, output, error) = Run("simulate", "--scenario", _scenario, "--color", "never");
        Assert.True(exit == 0, error);
        Assert.Equal("", error);
        Assert.Contains("connected over \U0001F4F6 cell (Cellular)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
    }

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
