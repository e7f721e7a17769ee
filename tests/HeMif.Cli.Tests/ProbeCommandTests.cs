using System.Globalization;
using System.Net;
using System.Text.Json;
using HeMif.TestKit;

namespace HeMif.Cli.Tests;

/// <summary>`hemif probe quic` on this host's loopback: exit 0 reachable somewhere, 3 nowhere, 2 bad input.</summary>
public sealed class ProbeCommandTests
{
    [Fact]
    public async Task A_QUIC_server_that_negotiates_is_reachable_and_the_exit_code_is_0()
    {
        await using var server = new FakeQuicServer(IPAddress.Loopback, d => [FakeQuicServer.ValidAnswer(d)]);
        var (exit, output, error) = Run("probe", "quic", "127.0.0.1", Port(server.EndPoint.Port), "--interface", "lo");
        Assert.True(exit == 0, error);
        Assert.Contains("QUIC path probe: 127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Matches(@"lo\s+reachable\s+[0-9.]+ ms\s+Version Negotiation from 127\.0\.0\.1:", output);
    }

    [Fact]
    public async Task The_JSON_gives_one_verdict_per_interface_with_its_RTT()
    {
        await using var server = new FakeQuicServer(IPAddress.Loopback, d => [FakeQuicServer.ValidAnswer(d)]);
        var (exit, output, error) = Run("probe", "quic", "127.0.0.1", Port(server.EndPoint.Port), "--interface", "lo", "--json");
        Assert.True(exit == 0, error);
        var verdict = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("verdicts").EnumerateArray());
        Assert.Equal("lo", verdict.GetProperty("interface").GetString());
        Assert.Equal("reachable", verdict.GetProperty("state").GetString());
        Assert.True(verdict.GetProperty("rttMs").GetDouble() >= 0);
        Assert.Equal(server.EndPoint.ToString(), verdict.GetProperty("remote").GetString());
    }

    /// <summary>
    /// Issue 11: "probe quic toward a loopback destination says 'not applicable' for non-loopback interfaces, as connect
    /// does, instead of 'blocked' after 1.5 s". Every interface of this host is asked; only lo can reach 127.0.0.1.
    /// </summary>
    [Fact]
    public async Task Toward_this_host_every_other_interface_is_not_applicable()
    {
        await using var server = new FakeQuicServer(IPAddress.Loopback, d => [FakeQuicServer.ValidAnswer(d)]);
        var (exit, output, error) = Run("probe", "quic", "127.0.0.1", Port(server.EndPoint.Port));
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Contains(lines, l => l.TrimStart().StartsWith("lo ", StringComparison.Ordinal) && l.Contains("reachable", StringComparison.Ordinal));
        var others = lines.Where(l => !l.TrimStart().StartsWith("lo ", StringComparison.Ordinal)).ToList();
        if (others.Count == 0)
        {
            Assert.Fail("this host has no interface but lo: the 'not applicable' verdict could not be checked here (QuicPathProbeTests checks it with a given interface)");
        }

        // An interface whose link is down says so before anything else; every other one is not applicable.
        Assert.All(others, l => Assert.Matches(@"unknown +(link down: nothing to probe|127\.0\.0\.1:[0-9]+: not applicable: the destination is this host, which only the loopback interface reaches)", l));
        Assert.DoesNotContain("blocked", output, StringComparison.Ordinal);
    }

    /// <summary>ICMP port unreachable: blocked, saying so, and exit 3 (reachable nowhere).</summary>
    [Fact]
    public void A_refused_UDP_port_is_blocked_and_the_exit_code_is_3()
    {
        using var refusing = new RefusingUdpPort();
        var (exit, output, _) = Run("probe", "quic", "127.0.0.1", Port(refusing.Port), "--interface", "lo");
        Assert.Equal(3, exit);
        Assert.Matches(@"lo\s+blocked\s+127\.0\.0\.1:[0-9]+: ICMP port unreachable", output);
    }

    [Theory]
    [InlineData("0", "--timeout", "1500", "between 1 and 65535")]
    [InlineData("443", "--timeout", "0", "--timeout must be between 1 and 60000")]
    [InlineData("443", "--interface", "no-such-if0", "no-such-if0")]
    public void Bad_input_exits_2_naming_what_is_wrong(string port, string option, string value, string expected)
    {
        var (exit, _, error) = Run("probe", "quic", "127.0.0.1", port, option, value);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_probe_kind_exits_2()
    {
        var (exit, _, error) = Run("probe", "sctp", "127.0.0.1", "443");
        Assert.Equal(2, exit);
        Assert.Contains("sctp", error, StringComparison.Ordinal);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
