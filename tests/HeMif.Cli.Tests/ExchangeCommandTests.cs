using System.Net;
using System.Text.Json;
using HeMif.TestKit;

namespace HeMif.Cli.Tests;

/// <summary>
/// `hemif exchange` (issue 16: "with the same timeline and JSON shape as `hemif connect` (exit 0 answered, 3 no answer, 2
/// bad input)"), and `hemif simulate` running the built-in exchange scenario in virtual time.
/// </summary>
public sealed class ExchangeCommandTests
{
    /// <summary>The JSON is connect's object, field for field, with <c>response</c> added.</summary>
    [Fact]
    public async Task The_JSON_is_connects_shape_with_the_response_added()
    {
        await using var echo = new FakeQuicServer(IPAddress.Loopback, d => [d]);
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var exchange = Cli.Run("exchange", "127.0.0.1", echo.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--text", "ping", "--no-validation", "--json");
        var connect = Cli.Run("connect", "127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-validation", "--json");
        Assert.Equal(0, exchange.Exit);
        Assert.Equal(0, connect.Exit);

        var e = JsonDocument.Parse(exchange.Out).RootElement;
        var c = JsonDocument.Parse(connect.Out).RootElement;
        Assert.Equal([.. c.EnumerateObject().Select(p => p.Name), "response"], e.EnumerateObject().Select(p => p.Name).ToList());
        Assert.Equal(c.GetProperty("attempts")[0].EnumerateObject().Select(p => p.Name), e.GetProperty("attempts")[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("exchange", e.GetProperty("scenario").GetString());
        Assert.Equal("udp", e.GetProperty("winner").GetProperty("transport").GetString());
        var response = e.GetProperty("response");
        Assert.Equal("lo", response.GetProperty("interface").GetString());
        Assert.Equal("70696e67", response.GetProperty("hex").GetString());
        Assert.Equal("ping", response.GetProperty("text").GetString());
        Assert.Equal(1, response.GetProperty("sends").GetInt32());
        Assert.Equal(0, response.GetProperty("ignoredDatagrams").GetInt32());
    }

    /// <summary>No answer: exit 3, <c>response</c> null, every try on stderr.</summary>
    [Fact]
    public async Task No_answer_exits_3_with_a_null_response_and_every_try_on_stderr()
    {
        await using var silent = new FakeQuicServer(IPAddress.Loopback);
        var (exit, output, error) = Cli.Run("exchange", "127.0.0.1", silent.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--hex", "00ff", "--no-validation", "--timeout", "150", "--json");

        Assert.Equal(3, exit);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(output).RootElement.GetProperty("response").ValueKind);
        Assert.Contains("hemif: No answer from 127.0.0.1:", error, StringComparison.Ordinal);
        Assert.Contains("  try #0 udp 127.0.0.1:", error, StringComparison.Ordinal);
    }

    /// <summary>The built-in scenario in virtual time: Wi-Fi drops UDP, cellular answers after the fallback delay, then first.</summary>
    [Fact]
    public void Simulate_runs_the_exchange_scenario_and_shows_the_udp_tries()
    {
        var (exit, output, error) = Cli.Run("simulate", "udp-blocked-wifi");

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("fallback delay of 2000 ms passed", output, StringComparison.Ordinal);
        Assert.Contains("connected over rmnet0 (Cellular), UDP", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, "give the request datagram with exactly one of --hex BYTES or --text STRING.")]
    [InlineData("ab", "x", "give the request datagram with exactly one of --hex BYTES or --text STRING.")]
    [InlineData("a", null, "--hex: expected hexadecimal digits, two per byte (such as 1b00); got 'a' (1 digits).")]
    [InlineData("12 34:56", null, null)]
    [InlineData(null, "", "--text: the request datagram must be 1 to 65507 bytes; got 0.")]
    public void The_request_is_read_from_exactly_one_of_hex_and_text(string? hex, string? text, string? problem)
    {
        Assert.Equal(problem, ExchangeCommand.Request(hex, text, out var request));
        if (problem is null)
        {
            Assert.Equal(new byte[] { 0x12, 0x34, 0x56 }, request);
        }
    }

    [Theory]
    [InlineData("0x1c00", new byte[] { 0x1c, 0x00 })]
    [InlineData("0X41", new byte[] { 0x41 })]
    [InlineData("HTTP", new byte[] { 0x48, 0x54, 0x54, 0x50 })]
    public void The_expected_prefix_is_hex_after_0x_else_text(string value, byte[] expected)
    {
        Assert.Null(ExchangeCommand.Prefix(value, out var prefix));
        Assert.Equal(expected, prefix);
    }
}
