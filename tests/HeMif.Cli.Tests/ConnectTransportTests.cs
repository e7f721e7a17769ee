using System.Globalization;
using System.Net;
using System.Net.Quic;
using System.Net.Sockets;
using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif connect --transport tcp|any|quic` on a host without QUIC (no libmsquic, as these machines): any proceeds on
/// TCP and says once why QUIC was skipped; quic fails at once, exit 3, naming why; tcp never mentions QUIC.
/// </summary>
public sealed class ConnectTransportTests
{
    [NoQuicFact]
    public void Any_proceeds_on_TCP_and_says_once_that_this_host_has_no_QUIC()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (exit, output, error) = Run("connect", "127.0.0.1", Port(listener), "--no-validation", "--transport", "any", "--json");
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("tcp", root.GetProperty("winner").GetProperty("transport").GetString());
        Assert.Single(root.GetProperty("events").EnumerateArray(), e => e.GetProperty("detail").GetString()!.Contains("QUIC unsupported on this host", StringComparison.Ordinal));
    }

    [NoQuicFact]
    public void Quic_only_fails_at_once_with_exit_3_naming_why()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (exit, output, error) = Run("connect", "127.0.0.1", Port(listener), "--no-validation", "--transport", "quic");
        Assert.Equal(3, exit);
        Assert.Contains("QUIC only was asked for, and QUIC unsupported on this host (no libmsquic)", error, StringComparison.Ordinal);
        Assert.Contains("failed: QUIC only was asked for", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Tcp_never_mentions_QUIC()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (exit, output, error) = Run("connect", "127.0.0.1", Port(listener), "--no-validation", "--transport", "tcp");
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("QUIC", output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_transport_exits_2()
    {
        var (exit, _, error) = Run("connect", "127.0.0.1", "443", "--transport", "sctp");
        Assert.Equal(2, exit);
        Assert.Contains("sctp", error, StringComparison.Ordinal);
    }

    private static string Port(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}

/// <summary>
/// A test of the path a host without QUIC takes: where this host has QUIC (System.Net.Quic with libmsquic) that path
/// cannot be seen through the CLI, and the test says plainly that it could not run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NoQuicFactAttribute : FactAttribute
{
    public NoQuicFactAttribute()
    {
        if (QuicConnection.IsSupported)
        {
            Skip = "could not run: this host has QUIC (libmsquic), so the path of a host without QUIC cannot be seen through the CLI";
        }
    }
}
