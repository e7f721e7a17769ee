using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace HeMif.Cli.Tests;

/// <summary>
/// The human view of a race (`hemif simulate` and `hemif connect` without --json): a timeline row per attempt on each
/// interface, the excluded interfaces with their reasons, the outcome; no ANSI escapes into a file, a pipe or a test's
/// writer unless asked; `--json` byte for byte as before the view existed.
/// </summary>
public sealed class RaceViewTests
{
    private const char Escape = '\u001b';

    [Fact]
    public void Wi_Fi_broken_shows_both_interfaces_on_one_axis_with_the_fallback_marked()
    {
        var (exit, output, _) = Run("simulate", "wifi-broken");
        Assert.Equal(0, exit);
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("wlan0  #0 tcp ipv6 2001:db8:ffff::80", StringComparison.Ordinal) && l.Contains('░') && l.EndsWith("lost to #2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("       #1 tcp ipv4 192.0.2.80", StringComparison.Ordinal) && l.EndsWith("lost to #2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("rmnet0 #2 tcp ipv6 2001:db8:ffff::80", StringComparison.Ordinal) && l.Contains('█') && l.EndsWith("won, 60 ms", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("▼ 2020 ms fallback delay, rmnet0 started", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("iface  attempt", StringComparison.Ordinal) && l.Contains(" 0 ", StringComparison.Ordinal) && l.Contains("2140 ms", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith('├') && l.EndsWith('┤'));
        Assert.Contains("✔ connected over rmnet0 (Cellular), TCP ipv6 to [2001:db8:ffff::80]:443 in 2140 ms", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Escape, output);
    }

    [Fact]
    public void A_captive_portal_is_in_the_interfaces_table_with_the_validation_state()
    {
        var (exit, output, _) = Run("simulate", "wifi-captive");
        Assert.Equal(0, exit);
        var wlan0 = Assert.Single(output.Split('\n'), l => l.Contains("│ wlan0", StringComparison.Ordinal));
        Assert.Contains("excluded", wlan0, StringComparison.Ordinal);
        Assert.Contains("built-in check 'builtin:validation' (Prohibit): not validated:", wlan0, StringComparison.Ordinal);
        Assert.Contains("CaptivePortal", output, StringComparison.Ordinal);
        Assert.Contains(output.Split('\n'), l => l.Contains("│ rmnet0", StringComparison.Ordinal) && l.Contains("rank 2, won", StringComparison.Ordinal));
        Assert.DoesNotContain(output.Split('\n'), l => l.StartsWith("wlan0 ", StringComparison.Ordinal)); // excluded: no timeline row
    }

    [Fact]
    public void A_failed_race_shows_timed_out_bars_the_rule_that_excluded_cellular_and_why_it_failed()
    {
        var (exit, output, _) = Run("simulate", "roaming-no-cellular");
        Assert.Equal(3, exit);
        Assert.Contains(output.Split('\n'), l => l.StartsWith("wlan0 ", StringComparison.Ordinal) && l.Contains('▒') && l.Contains("timed out", StringComparison.Ordinal));
        var rmnet0 = Assert.Single(output.Split('\n'), l => l.Contains("│ rmnet0", StringComparison.Ordinal));
        Assert.Contains("excluded", rmnet0, StringComparison.Ordinal);
        Assert.Contains("user rule 'no-3g-4g-while-roaming' (Prohibit)", rmnet0, StringComparison.Ordinal);
        Assert.Contains("✘ failed: no connection within the race timeout of 10000 ms", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hard_error_is_a_failed_hard_bar_and_its_reason_a_note()
    {
        var (_, output, _) = Run("simulate", "wifi-reject");
        Assert.Contains(output.Split('\n'), l => l.StartsWith("wlan0 ", StringComparison.Ordinal) && l.Contains('▓') && l.EndsWith("failed hard, 20 ms", StringComparison.Ordinal));
        Assert.Contains("attempt failed wlan0: #0: connection refused", output, StringComparison.Ordinal);
        Assert.Contains("▼ 40 ms rmnet0 started", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_line_fits_the_width_when_the_output_is_not_a_terminal()
    {
        var width = TimelineView.WidthOf(terminal: false, Environment.GetEnvironmentVariable, terminalWidth: null);
        foreach (var scenario in new[] { "healthy", "wifi-broken", "wifi-reject", "wifi-captive", "v6-blackhole", "policy-conflict", "roaming-no-cellular", "cache-warm" })
        {
            var (_, output, _) = Run("simulate", scenario);
            Assert.All(output.Split('\n'), l => Assert.True(l.Length <= width, $"{scenario}: a line of {l.Length} > {width}: {l}"));
            Assert.DoesNotContain(Escape, output);
        }
    }

    [Fact]
    public void Color_always_writes_ANSI_colour_and_never_writes_none()
    {
        var always = Run("simulate", "wifi-broken", "--color", "always").Out;
        Assert.Contains($"{Escape}[", always, StringComparison.Ordinal);
        var never = Run("simulate", "wifi-broken", "--color", "never").Out;
        Assert.DoesNotContain(Escape, never);
        // A test's writer is not a terminal: auto is never. (The scenario's validation lines come from actors running
        // side by side and may come in either order, so the race is what is compared.)
        Assert.Equal(Race(Run("simulate", "wifi-broken").Out), Race(never));
    }

    [Theory]
    [InlineData("auto", true, null, null, true)]
    [InlineData("auto", true, "1", null, false)] // NO_COLOR set
    [InlineData("auto", true, "", null, true)] // "present and not an empty string"
    [InlineData("auto", true, null, "dumb", false)]
    [InlineData("auto", false, null, null, false)] // a file, a pipe, a StringWriter
    [InlineData("always", false, "1", null, true)] // the command line overrides NO_COLOR
    [InlineData("never", true, null, null, false)]
    public void Colour_follows_the_terminal_NO_COLOR_and_the_option(string mode, bool terminal, string? noColor, string? term, bool expected)
    {
        Assert.Equal(expected, TimelineView.UseAnsi(Enum.Parse<ColorMode>(mode, ignoreCase: true), terminal, name => name switch { "NO_COLOR" => noColor, "TERM" => term, _ => null }));
    }

    [Theory]
    [InlineData(false, null, null, 100)]
    [InlineData(false, "150", null, 150)]
    [InlineData(false, "abc", null, 100)]
    [InlineData(false, "12", null, 100)] // too narrow to mean it
    [InlineData(true, "150", 80, 80)] // a terminal's own width wins
    [InlineData(true, null, 10, TimelineLayout.MinWidth)]
    public void The_width_is_fixed_when_not_a_terminal(bool terminal, string? columns, int? terminalWidth, int expected)
    {
        Assert.Equal(expected, TimelineView.WidthOf(terminal, name => name == "COLUMNS" ? columns : null, terminalWidth));
    }

    [Fact]
    public void Events_adds_every_timeline_event_to_the_view()
    {
        var plain = Run("simulate", "wifi-broken").Out;
        var withEvents = Run("simulate", "wifi-broken", "--events").Out;
        Assert.DoesNotContain("resolved       rmnet0: IPv6: 2001:db8:ffff::80", plain, StringComparison.Ordinal);
        Assert.Contains("     2080 ms  resolved       rmnet0: IPv6: 2001:db8:ffff::80", withEvents, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wifi-broken")]
    [InlineData("wifi-captive")]
    [InlineData("roaming-no-cellular")]
    public void Json_is_byte_for_byte_what_it_was_before_the_view_with_any_view_option(string scenario)
    {
        // Golden files written by `hemif simulate NAME --json` before the view existed. If the engine's behaviour changes
        // on purpose, rewrite them with that command; a difference here otherwise means --json changed.
        var golden = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", $"simulate-{scenario}.json"));
        Assert.Equal(golden, Run("simulate", scenario, "--json").Out);
        Assert.Equal(golden, Run("simulate", scenario, "--json", "--color", "always", "--events").Out);
    }

    [Property(MaxTest = 100)]
    public Property Any_generated_report_renders_within_the_width_without_escapes_and_with_escapes_when_asked()
    {
        return Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var report = RaceReports.Generate(seed);
            var columns = (seed % 200).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string? Environment(string name) => name == "COLUMNS" ? columns : null;
            using var plain = new StringWriter();
            var view = TimelineView.Create(plain, new ViewSettings(), Environment);
            view.Write(report, "Race");
            var text = plain.ToString();
            Assert.DoesNotContain(Escape, text);
            Assert.All(text.Split('\n'), l => Assert.True(l.Length <= view.Width, $"seed {seed}: a line of {l.Length} > {view.Width}: {l}"));

            using var coloured = new StringWriter();
            TimelineView.Create(coloured, new ViewSettings(ColorMode.Always), Environment).Write(report, "Race");
            Assert.Contains(Escape, coloured.ToString());
        });
    }

    [Fact]
    public void Connect_shows_the_loopback_race_and_the_interfaces_it_excluded()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (exit, output, error) = Run("connect", "127.0.0.1", port, "--no-validation");
        Assert.True(exit == 0, error);
        Assert.Contains(output.Split('\n'), l => l.StartsWith("lo ", StringComparison.Ordinal) && l.Contains("#0 tcp ipv4 127.0.0.1", StringComparison.Ordinal) && l.Contains("won", StringComparison.Ordinal));
        Assert.Contains("✔ connected over lo (Loopback), TCP ipv4 to 127.0.0.1:" + port, output, StringComparison.Ordinal);
        Assert.DoesNotContain(Escape, output);
    }

    private static string Race(string output) => output[output.IndexOf("Request 1", StringComparison.Ordinal)..];

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
