using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif connect --mptcp [MODE] --send-bytes N --hold MS` on loopback against a TCP sink that answers like the lab's
/// mptcp-sink: the mode (bare: handover), the fallback said when the peer is plain TCP, the payload's integrity
/// checked, and bad combinations refused.
/// </summary>
public sealed class MultipathOptionsTests
{
    [Fact]
    public async Task Bare_mptcp_means_handover_and_a_TCP_peer_is_said_to_be_a_TCP_fallback()
    {
        await using var sink = new Sink(answer: null);

        var (exit, output, error) = Run("connect", "127.0.0.1", sink.Port, "--no-validation", "--json", "--send-bytes", "100000", "--mptcp");

        Assert.True(exit == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        var multipath = root.GetProperty("multipath");
        Assert.Equal("handover", multipath.GetProperty("mode").GetString());
        Assert.Equal("TcpFallback", multipath.GetProperty("status").GetString());
        Assert.Equal("TCP (peer does not support MPTCP)", multipath.GetProperty("description").GetString());
        var transfer = root.GetProperty("transfer");
        Assert.True(transfer.GetProperty("intact").GetBoolean());
        Assert.Equal(100000, transfer.GetProperty("serverBytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(MultipathCli.Payload(100000))), transfer.GetProperty("sha256").GetString());
        Assert.Contains("hemif: sent 100000 of 100000 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_text_output_names_the_mode_the_status_and_the_servers_verdict()
    {
        await using var sink = new Sink(answer: null);

        var (exit, output, _) = Run("connect", "127.0.0.1", sink.Port, "--no-validation", "--send-bytes", "5000", "--mptcp", "aggregate");

        Assert.Equal(0, exit);
        Assert.Contains("multipath (aggregate): TCP (peer does not support MPTCP)", output, StringComparison.Ordinal);
        Assert.Contains("server received 5000 bytes", output, StringComparison.Ordinal);
        Assert.Contains(": intact", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_answers_something_else_exits_4_saying_why()
    {
        await using var sink = new Sink(answer: "HTTP/1.1 400 Bad Request");

        var (exit, output, _) = Run("connect", "127.0.0.1", sink.Port, "--no-validation", "--send-bytes", "10");

        Assert.Equal(MultipathCli.TransferFailed, exit);
        Assert.Contains("is not 'SHA256HEX BYTES'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--mptcp", "sideways" }, "'sideways' not recognized")]
    [InlineData(new[] { "--send-bytes", "-1" }, "--send-bytes must be 0 or more")]
    [InlineData(new[] { "--send-bytes", "10", "--count", "2" }, "leave out --count")]
    [InlineData(new[] { "--hold", "-5" }, "--hold must be between 0 and 3600000 ms")]
    public void Bad_multipath_options_exit_2_naming_what_is_wrong(string[] extra, string expected)
    {
        var (exit, _, error) = Run(["connect", "127.0.0.1", "9", "--no-validation", .. extra]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    /// <summary>The payload is the same on every machine: xorshift64* from "HeMif", little-endian words.</summary>
    [Fact]
    public void The_payload_is_fixed()
    {
        var first = MultipathCli.Payload(16);
        var again = MultipathCli.Payload(1 << 17);
        Assert.Equal(first, again[..16]);
        Assert.Equal("901634e4f0b41391", Convert.ToHexStringLower(first[..8])); // computed independently (Python)
    }

    private static (int Exit, string Out, string Err) Run(params object[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Program.Run(args.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture)!).ToArray(), output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A TCP sink on loopback: reads one connection to its end, answers "SHA256HEX BYTES" (or <c>answer</c>).</summary>
    private sealed class Sink : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Task _serving;

        public Sink(string? answer)
        {
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                using var client = await _listener.AcceptSocketAsync();
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[65536];
                long total = 0;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                int n;
                while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }

                var line = answer ?? $"{Convert.ToHexStringLower(hash.GetHashAndReset())} {total}";
                await client.SendAsync(Encoding.ASCII.GetBytes(line + "\n"), SocketFlags.None);
                client.Shutdown(SocketShutdown.Send);
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _serving.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (SocketException)
            {
                // never accepted: the test failed before connecting
            }
        }
    }
}
