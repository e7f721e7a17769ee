using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>`hemif connect` on this host's loopback: exit 0 connected, 3 nothing connected, 2 bad input.</summary>
public sealed class ConnectCommandTests
{
    [Fact]
    public void Connecting_to_a_local_service_exits_0_with_the_race_as_JSON()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (exit, output, error) = Run("connect", "127.0.0.1", Port(listener).ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-validation", "--json");
        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal("connected", root.GetProperty("outcome").GetString());
        Assert.Equal("lo", root.GetProperty("winner").GetProperty("interface").GetString());
        Assert.Contains(root.GetProperty("excluded").EnumerateArray(), x => x.GetProperty("reasons")[0].GetString()!.Contains("builtin:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_connection_exits_3_with_every_attempt_on_stderr()
    {
        int closed;
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            closed = ((IPEndPoint)s.LocalEndPoint!).Port;
        }

        var (exit, output, error) = Run("connect", "127.0.0.1", closed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-validation");
        Assert.Equal(3, exit);
        Assert.Contains("connection refused", error, StringComparison.Ordinal);
        Assert.Contains("failed:", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", null, "between 1 and 65535")]
    [InlineData("80", """{ "interfaces": [ { "name": "no-such-if0" } ] }""", "no-such-if0")]
    [InlineData("80", """{ "probe": { "url": "ftp://x/" } }""", "$.probe.url")]
    public void Bad_input_exits_2_naming_what_is_wrong(string port, string? overrides, string expected)
    {
        string? file = null;
        try
        {
            var args = new List<string> { "connect", "127.0.0.1", port, "--no-validation" };
            if (overrides is not null)
            {
                file = Path.Combine(Path.GetTempPath(), $"hemif-ov-{Guid.NewGuid():N}.json");
                File.WriteAllText(file, overrides);
                args.AddRange(["--interfaces", file]);
            }

            var (exit, _, error) = Run([.. args]);
            Assert.Equal(2, exit);
            Assert.Contains(expected, error, StringComparison.Ordinal);
        }
        finally
        {
            if (file is not null)
            {
                File.Delete(file);
            }
        }
    }

    private static int Port(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port;

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
