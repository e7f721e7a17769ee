using System.Text.Json;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Report;

namespace HeMif.Cli.Tests;

/// <summary>
/// Issue 11: "Terminal escape injection: interface names (and any other text from files or the network: PvD IDs, DNS
/// names, HTTP Location headers) containing ESC, newlines or other control characters are written raw to stdout, also
/// when stdout is not a terminal. Render them escaped in human output; JSON output escapes them as JSON does."
/// </summary>
public sealed class TerminalEscapingTests : IDisposable
{
    /// <summary>An ESC sequence that would retitle the terminal, a colour, a newline forging a line, a C1 CSI, a bidi override, a bell.</summary>
    private static readonly string[] Hostile = ["wl\u001b]0;pwned\u0007an0", "rm\u001b[31mnet0", "eth0\nhemif: all good", "tu\u009b2Jn0", "\u202e0nalw", "vpn\u00070"];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("plain wlan0 §4.2.5 → é 😀", "plain wlan0 §4.2.5 → é 😀")]
    [InlineData("a\u001bb", "a\\x1bb")]
    [InlineData("a\nb\rc\td", "a\\nb\\rc\\td")]
    [InlineData("\u0000\u007f", "\\x00\\x7f")]
    [InlineData("c1 \u0085 \u009b", "c1 \\x85 \\x9b")]
    [InlineData("bidi \u202e \u2066 \u200f", "bidi \\u202e \\u2066 \\u200f")]
    [InlineData("zero width \u200b, separators \u2028 \u2029", "zero width \\u200b, separators \\u2028 \\u2029")]
    public void Control_and_format_characters_are_escaped_and_nothing_else(string text, string expected) =>
        Assert.Equal(expected, TerminalText.Escape(text));

    /// <summary>A lone surrogate (not text at all); a Fact, since theory data would not carry it through unchanged.</summary>
    [Fact]
    public void A_lone_surrogate_is_escaped_and_a_pair_is_kept()
    {
        Assert.Equal("lone \\ud800 surrogate", TerminalText.Escape("lone \ud800 surrogate"));
        Assert.Equal("pair \ud83d\ude00 kept", TerminalText.Escape("pair \ud83d\ude00 kept"));
        Assert.Equal("\"\\u202E\\uDB40\\uDC01 \ud83d\ude00\"", TerminalText.Json("\"\u202e\U000E0001 \ud83d\ude00\""));
    }

    [Fact]
    public void The_terminal_writer_keeps_its_own_line_breaks_and_escapes_those_in_the_text()
    {
        using var raw = new StringWriter();
        using var writer = new TerminalWriter(raw);
        writer.WriteLine("one\ntwo");
        writer.Write("three\u001b");
        writer.Write('\n');
        writer.WriteLine();
        Assert.Equal("one\\ntwo" + Environment.NewLine + "three\\x1b\\n" + Environment.NewLine, raw.ToString());
    }

    [Fact]
    public void Plan_text_escapes_interface_and_rule_names_from_the_files()
    {
        var (exit, output, error) = Cli.Run("plan", "--interfaces", InterfacesFile(), "--policy", PolicyFile(), "--host", "www.example.com", "--port", "443");
        Assert.True(exit == 0, error);
        Assert.False(Cli.HasControl(output), Cli.Show(output));
        Assert.Contains("wl\\x1b]0;pwned\\x07an0", output, StringComparison.Ordinal);
        Assert.Contains("eth0\\nhemif: all good", output, StringComparison.Ordinal);
        Assert.Contains("\\u202e0nalw", output, StringComparison.Ordinal);
        Assert.Contains("no-\\x1b[5mblink", output, StringComparison.Ordinal); // a rule name
        Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith("hemif: all good", StringComparison.Ordinal));
    }

    /// <summary>
    /// JavaScriptEncoder.UnsafeRelaxedJsonEscaping (both JSON writers use it) leaves non-ASCII text readable but still
    /// escapes control characters, C1 controls and format characters such as bidi overrides.
    /// </summary>
    [Fact]
    public void Plan_JSON_escapes_them_as_JSON_does_and_keeps_the_values()
    {
        var (exit, output, error) = Cli.Run("plan", "--interfaces", InterfacesFile(), "--policy", PolicyFile(), "--host", "www.example.com", "--port", "443", "--json");
        Assert.True(exit == 0, error);
        Assert.False(Cli.HasControl(output), Cli.Show(output));
        Assert.Contains("\\u001B", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\\u202E", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\\u009B", output, StringComparison.OrdinalIgnoreCase);
        var names = JsonDocument.Parse(output).RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("interface").GetString())
            .Concat(JsonDocument.Parse(output).RootElement.GetProperty("excluded").EnumerateArray().Select(c => c.GetProperty("interface").GetString()));
        Assert.Equal(Hostile.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Simulate_escapes_names_and_descriptions_in_the_race_view_and_JSON_keeps_them()
    {
        var scenario = _dir.File("hostile.json", JsonSerializer.Serialize(new
        {
            name = "evil\u001b[2Jscenario",
            description = "clears the screen\u001b[2J and\nforges a line",
            interfaces = Hostile.Take(2).Select((n, i) => new { name = n, kind = i == 0 ? "Wifi" : "Cellular", addresses = new[] { new { address = $"192.0.2.{10 + i}", prefixLength = 24 } } }),
            network = new Dictionary<string, object> { [Hostile[0]] = new { probe = "captivePortal", captivePortal = "http://portal.example.net/login" } },
            destinations = new Dictionary<string, string[]> { ["www.example.com"] = ["198.51.100.80"] },
            requests = new[] { new { host = "www.example.com" } },
        }));

        foreach (var color in new[] { "never", "always" })
        {
            var (exit, output, error) = Cli.Run("simulate", "--scenario", scenario, "--events", "--color", color);
            Assert.True(exit == 0, error);
            Assert.DoesNotContain("\u001b[2J", output, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b]0;pwned", output, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b[31mnet0", output, StringComparison.Ordinal);
            Assert.Contains("evil\\x1b[2Jscenario", output, StringComparison.Ordinal);
            Assert.Contains("forges a line", output, StringComparison.Ordinal);
            Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith("forges a line", StringComparison.Ordinal));
            if (color == "never")
            {
                Assert.False(Cli.HasControl(output), Cli.Show(output));
            }
        }

        var (jsonExit, json, _) = Cli.Run("simulate", "--scenario", scenario, "--json");
        Assert.Equal(0, jsonExit);
        Assert.False(Cli.HasControl(json), Cli.Show(json));
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal("evil\u001b[2Jscenario", root.GetProperty("scenario").GetString());
        Assert.Equal(Hostile[1], root.GetProperty("winner").GetProperty("interface").GetString());
        Assert.Equal(Hostile[0], root.GetProperty("excluded")[0].GetProperty("interface").GetString());
    }

    /// <summary>The race view escapes every text of a report, before the layout (widths) and before Spectre's markup.</summary>
    [Fact]
    public void The_race_view_escapes_every_text_of_a_report()
    {
        var report = new RaceReport("www.example.com", 443, RaceOutcome.Connected,
            new WinnerReport("rm\u001b[31mnet0", InterfaceKind.Cellular, "tcp", "ipv6", "[2001:db8::80]:443"),
            TimeSpan.FromMilliseconds(60), new RaceTimings(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(50)),
            [new AttemptReport(0, "rm\u001b[31mnet0", "tcp", "ipv6", "[2001:db8::80]:443", TimeSpan.Zero, TimeSpan.FromMilliseconds(60), "won", null)],
            [new ExcludedInterface("wl[bold]\u001b]0;pwned\u0007an0", [new ExclusionReason(new RuleReference("builtin:validation", RuleSource.BuiltIn, PreferenceLevel.Prohibit),
                "not validated: CaptivePortal (the check was redirected to http://portal/\u001b[2J\nLocation: forged)")])],
            [new RaceEvent(TimeSpan.Zero, "plan", "rank 1, score 20: +20 §4.2.5 common practice: \u202eCellular", "rm\u001b[31mnet0"),
             new RaceEvent(TimeSpan.Zero, "note", "a note\u009b2J", null)],
            null);

        foreach (var mode in new[] { ColorMode.Never, ColorMode.Always })
        {
            using var output = new StringWriter();
            TimelineView.Create(output, new ViewSettings(mode, Events: true), _ => null).Write(report, "Request");
            var text = output.ToString();
            Assert.DoesNotContain("\u001b]0;pwned", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b[2J", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\u001b[31mnet0", text, StringComparison.Ordinal);
            Assert.DoesNotContain('\u202e', text);
            Assert.DoesNotContain('\u009b', text);
            Assert.Contains("wl[bold]", text, StringComparison.Ordinal); // markup characters in a name are text, not markup
            Assert.DoesNotContain(text.Split('\n'), l => l.TrimStart().StartsWith("Location: forged", StringComparison.Ordinal));
            if (mode == ColorMode.Never)
            {
                Assert.False(Cli.HasControl(text), Cli.Show(text));
            }
        }
    }

    /// <summary>A value quoted in an error comes from the file: it is escaped too.</summary>
    [Fact]
    public void Values_in_error_messages_are_escaped()
    {
        var file = _dir.File("bad.json", """{ "interfaces": [ { "name": "wlan0", "kind": "\u001b[2JWifi" } ] }""");
        var args = new[] { "plan", "--interfaces", file, "--policy", PolicyFile(), "--host", "www.example.com", "--port", "443" };
        var result = Cli.Run(args);
        Cli.AssertBadInput(result, "$.interfaces[0].kind", args);
        Assert.Contains("found \"\\x1b[2JWifi\"", result.Err, StringComparison.Ordinal);
    }

    private string InterfacesFile() => _dir.File("interfaces.json", JsonSerializer.Serialize(new
    {
        interfaces = Hostile.Select((n, i) => new
        {
            name = n,
            kind = i % 2 == 0 ? "Wifi" : "Cellular",
            addresses = new[] { new { address = $"192.0.2.{10 + i}", prefixLength = 24 } },
        }),
    }));

    private string PolicyFile() => _dir.File("policy.json", JsonSerializer.Serialize(new
    {
        userRules = new[] { new { name = "no-\u001b[5mblink", level = "Prohibit", @interface = new { names = new[] { Hostile[5] } } } },
    }));
}
