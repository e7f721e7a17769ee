using System.CommandLine;
using System.Text;
using HeMif.Configuration;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif exchange HOST PORT --hex BYTES|--text STRING [--expect-prefix HEX-or-text] [--interfaces FILE]
/// [--policy FILE] [--probe-url URL] [--no-validation] [--timeout MS] [--json]</c>: one UDP request/response exchange
/// (draft §7.1) from this host over its interfaces (<see cref="IHeMifConnector.ExchangeAsync"/>), printed like
/// <c>hemif connect</c>: the same timeline and JSON, with the response added. Exit codes: 0 answered, 3 no answer,
/// 2 bad input.
/// </summary>
public static class ExchangeCommand
{
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var host = new Argument<string>("host") { Description = "Destination host name or IP literal" };
        var port = CliInput.PortArgument("Destination UDP port (1-65535)");
        var hex = new Option<string?>("--hex") { Description = "The request datagram as hexadecimal digits (\"1b00\", spaces and ':' allowed between bytes)" };
        var text = new Option<string?>("--text") { Description = "The request datagram as text, sent as UTF-8" };
        var expectPrefix = new Option<string?>("--expect-prefix")
        {
            Description = "Take only a response that begins with this: hexadecimal after 0x (0x1c), else text (UTF-8); default: any response",
        };
        var interfaces = CliInput.File("--interfaces", "Host override file: kind, cost flags, PvD, DNS servers, probe settings (docs/connect.md)");
        var policy = CliInput.File("--policy", "Policy file (docs/policy.md); rules may name the transport udp");
        var probeUrl = CliInput.ProbeUrl("--probe-url", "Connectivity check URL, plain http:// (must answer 204)");
        var noValidation = new Option<bool>("--no-validation") { Description = "Skip the connectivity check (hosts without a check server)" };
        var timeout = CliInput.Int("--timeout", "Milliseconds the whole exchange may take, resends and fallback included (1-600000)", "between 1 and 600000 ms", 1, 600_000, 5000);
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the timeline" };
        var command = new Command("exchange", "Send one UDP request to HOST:PORT over the best interface of this host, racing the others behind it, and show the first matching response.")
        {
            host, port, hex, text, expectPrefix, interfaces, policy, probeUrl, noValidation, timeout, json,
        };
        var view = ViewOptions.AddTo(command);

        command.SetAction(parse =>
        {
            // Everything the command line says is checked before the connector is made: making it starts validating
            // the interfaces, which sends packets.
            if (CliInput.CheckHost(parse.GetValue(host), "HOST", out var hostName) is { } badHost)
            {
                return CliInput.Fail(error, badHost);
            }

            if (Request(parse.GetValue(hex), parse.GetValue(text), out var request) is { } badRequest)
            {
                return CliInput.Fail(error, badRequest);
            }

            byte[] prefix = [];
            if (parse.GetValue(expectPrefix) is { } expected && Prefix(expected, out prefix) is { } badPrefix)
            {
                return CliInput.Fail(error, badPrefix);
            }

            var loaded = CliInput.LoadPolicy(parse.GetValue(policy), out var badPolicy);
            if (badPolicy is not null)
            {
                return CliInput.Fail(error, badPolicy);
            }

            IHeMifConnector connector;
            try
            {
                connector = HeMifConnector.Create(new HeMifConnectorOptions
                {
                    Policy = loaded,
                    OverridesFile = parse.GetValue(interfaces),
                    ProbeUrl = parse.GetValue(probeUrl),
                    DisableValidation = parse.GetValue(noValidation),
                });
            }
            catch (HeMifConfigurationException e)
            {
                return CliInput.Fail(error, "--interfaces: " + e.Message);
            }
            catch (ArgumentException e)
            {
                return CliInput.Fail(error, CliInput.Message(e));
            }

            try
            {
                HeMifExchange? answer = null;
                Report.RaceReport report;
                try
                {
                    answer = connector.ExchangeAsync(hostName, parse.GetValue(port), request, r => r.StartsWith(prefix),
                        new ExchangeOptions { Timeout = TimeSpan.FromMilliseconds(parse.GetValue(timeout)) }).GetAwaiter().GetResult();
                    report = answer.Report;
                }
                catch (HeMifExchangeException e)
                {
                    report = e.Report;
                    WriteFailure(error, e.Report);
                }

                if (parse.GetValue(json))
                {
                    var document = RaceOutput.Json("exchange", [report], alwaysListRaces: false);
                    document["response"] = answer is null ? null : Json(answer);
                    output.Raw.WriteLine(RaceOutput.Serialize(document));
                }
                else
                {
                    TimelineView.Create(output.Raw, view.Read(parse)).Write(report, "Exchange");
                    if (answer is not null)
                    {
                        output.WriteLine(ResponseLine(answer));
                    }
                }

                return answer is null ? Program.NoCandidate : 0;
            }
            catch (ArgumentException e)
            {
                return CliInput.Fail(error, CliInput.Message(e));
            }
            finally
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
        return command;
    }

    /// <summary>The request from <c>--hex</c> or <c>--text</c> (exactly one, 1 to 65,507 bytes), or what is wrong with them.</summary>
    internal static string? Request(string? hex, string? text, out byte[] request)
    {
        request = [];
        if ((hex is null) == (text is null))
        {
            return "give the request datagram with exactly one of --hex BYTES or --text STRING.";
        }

        if (hex is not null)
        {
            if (Hex(hex, out request) is { } problem)
            {
                return $"--hex: {problem}";
            }
        }
        else
        {
            request = Encoding.UTF8.GetBytes(text!);
        }

        return request.Length is 0 or > DatagramExchange.MaxRequestBytes
            ? $"{(hex is null ? "--text" : "--hex")}: the request datagram must be 1 to {DatagramExchange.MaxRequestBytes} bytes; got {request.Length}."
            : null;
    }

    /// <summary><c>--expect-prefix</c>: hexadecimal after <c>0x</c>, else text.</summary>
    internal static string? Prefix(string value, out byte[] prefix)
    {
        if (value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return Hex(value[2..], out prefix) is { } problem ? $"--expect-prefix: {problem}" : null;
        }

        prefix = Encoding.UTF8.GetBytes(value);
        return null;
    }

    /// <summary>Hexadecimal digits, two per byte, optionally separated by spaces or ':'.</summary>
    private static string? Hex(string value, out byte[] bytes)
    {
        bytes = [];
        var digits = value.Replace(" ", "", StringComparison.Ordinal).Replace(":", "", StringComparison.Ordinal);
        if (digits.Length == 0 || digits.Length % 2 != 0)
        {
            return $"expected hexadecimal digits, two per byte (such as 1b00); got '{value}' ({digits.Length} digits).";
        }

        for (var i = 0; i < digits.Length; i++)
        {
            if (!char.IsAsciiHexDigit(digits[i]))
            {
                return $"expected hexadecimal digits, two per byte (such as 1b00); got '{value}' ('{digits[i]}' is not one).";
            }
        }

        bytes = Convert.FromHexString(digits);
        return null;
    }

    /// <summary>The response under the timeline: where it came from, after how long, and its bytes.</summary>
    internal static string ResponseLine(HeMifExchange answer) =>
        $"response: {answer.Response.Length} bytes from {answer.RemoteEndPoint} to {answer.LocalEndPoint} over {answer.Interface} after " +
        $"{RaceOutput.Ms(answer.ReceivedAfter)} ms ({answer.Sends} {(answer.Sends == 1 ? "send" : "sends")}, {answer.IgnoredDatagrams} ignored): " +
        Convert.ToHexString(answer.Response.Span).ToLowerInvariant() + Printable(answer.Response.Span);

    private static string Printable(ReadOnlySpan<byte> response)
    {
        var text = Encoding.UTF8.GetString(response);
        return text.All(c => c >= ' ' && c < 0x7f) ? $" \"{text}\"" : "";
    }

    private static Dictionary<string, object?> Json(HeMifExchange answer) => new()
    {
        ["interface"] = answer.Interface,
        ["remote"] = answer.RemoteEndPoint.ToString(),
        ["local"] = answer.LocalEndPoint?.ToString(),
        ["receivedAfterMs"] = answer.ReceivedAfter.TotalMilliseconds,
        ["sends"] = answer.Sends,
        ["ignoredDatagrams"] = answer.IgnoredDatagrams,
        ["bytes"] = answer.Response.Length,
        ["hex"] = Convert.ToHexString(answer.Response.Span).ToLowerInvariant(),
        ["text"] = Printable(answer.Response.Span) is { Length: > 0 } ? Encoding.UTF8.GetString(answer.Response.Span) : null,
    };

    /// <summary>Why no answer came, on stderr: the failure, every try, every interface not used (one WriteLine per line).</summary>
    private static void WriteFailure(TerminalWriter error, Report.RaceReport report)
    {
        var failure = report.Failure ?? "no try was answered";
        if (report.Excluded.Count > 0 && failure.IndexOf("; not used: ", StringComparison.Ordinal) is var cut and >= 0)
        {
            failure = failure[..cut];
        }

        error.WriteLine($"hemif: No answer from {CliInput.Endpoint(report.Host, report.Port)}: {failure}");
        foreach (var a in report.Attempts)
        {
            error.WriteLine($"  try #{a.Id} {a.Transport} {a.Remote} on {a.Interface}: {a.Result}{(a.Error is null ? "" : ": " + a.Error)}");
        }

        foreach (var x in report.Excluded)
        {
            error.WriteLine($"  not used: {x.Interface}: {string.Join("; ", x.Reasons)}");
        }
    }
}
