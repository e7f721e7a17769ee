using System.CommandLine;
using System.Globalization;
using HeMif.Configuration;
using HeMif.Validate;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif probe quic HOST PORT [--interface IF] [--interfaces FILE] [--timeout MS] [--json]</c>: whether UDP/QUIC
/// reaches HOST:PORT through each interface of this host (or one), without TLS: a 1200-byte client Initial with a
/// reserved version, which a QUIC server must answer with Version Negotiation (RFC 9000 §6). Prints one verdict per
/// interface: reachable with the round-trip time, or blocked and why. Exit codes: 0 reachable on at least one
/// interface, 3 on none, 2 bad input.
/// </summary>
public static class ProbeCommand
{
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var host = new Argument<string>("host") { Description = "Destination host name or IP literal" };
        var port = CliInput.PortArgument("Destination UDP port (1-65535)");
        var iface = new Option<string?>("--interface") { Description = "Probe this interface only (default: every interface)" };
        var interfaces = CliInput.File("--interfaces", "Host override file: kind, DNS servers, … (docs/connect.md)");
        var timeout = CliInput.Int("--timeout", "Milliseconds to wait for Version Negotiation before calling the path blocked (1-60000)", "between 1 and 60000 ms", 1, 60_000, 1500);
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var quic = new Command("quic", "Whether UDP/QUIC reaches HOST:PORT through each interface (a reserved-version Initial must be answered by Version Negotiation).")
        {
            host, port, iface, interfaces, timeout, json,
        };
        quic.SetAction(parse => Run(parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(iface), parse.GetValue(interfaces), parse.GetValue(timeout), parse.GetValue(json), output, error));
        return new Command("probe", "Probe what the paths of this host let through.") { quic };
    }

    private static int Run(string host, int port, string? iface, string? interfaces, int timeoutMs, bool json, TerminalWriter output, TerminalWriter error)
    {
        // Checked before the connector is made (it discovers the interfaces) and before any packet.
        if (CliInput.CheckHost(host, "HOST", out var hostName) is { } badHost)
        {
            return CliInput.Fail(error, badHost);
        }

        if (iface is not null && (iface.Length == 0 || TerminalText.Escape(iface) != iface || iface.Contains('/', StringComparison.Ordinal)))
        {
            return CliInput.Fail(error, $"--interface: '{iface}' is not an interface name (a name has no control characters, spaces or '/').");
        }

        IReadOnlyList<QuicPathVerdict> verdicts;
        try
        {
            // The probe needs no validation (it is its own check of the path), so the connector skips it.
            var connector = HeMifConnector.Create(new HeMifConnectorOptions
            {
                OverridesFile = interfaces,
                DisableValidation = true,
                QuicProbeTimeout = TimeSpan.FromMilliseconds(timeoutMs),
            });
            try
            {
                verdicts = connector.ProbeQuicAsync(hostName, port, iface).GetAwaiter().GetResult();
            }
            finally
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (HeMifConfigurationException e)
        {
            return CliInput.Fail(error, "--interfaces: " + e.Message);
        }
        catch (ArgumentException e)
        {
            return CliInput.Fail(error, (e.ParamName == "interfaceName" ? "--interface: " : "") + CliInput.Message(e));
        }

        if (json)
        {
            output.Raw.WriteLine(RaceOutput.Serialize(new Dictionary<string, object?>
            {
                ["host"] = hostName,
                ["port"] = port,
                ["timeoutMs"] = timeoutMs,
                ["verdicts"] = verdicts.Select(v => new Dictionary<string, object?>
                {
                    ["interface"] = v.Interface,
                    ["state"] = State(v.State),
                    ["rttMs"] = v.Rtt?.TotalMilliseconds,
                    ["remote"] = v.Remote,
                    ["detail"] = v.Detail,
                }).ToList(),
            }));
        }
        else
        {
            output.WriteLine($"QUIC path probe: {CliInput.Endpoint(hostName, port)} (UDP), timeout {timeoutMs} ms");
            var width = verdicts.Select(v => TerminalText.Escape(v.Interface).Length).DefaultIfEmpty(0).Max();
            foreach (var v in verdicts)
            {
                var rtt = v.Rtt is { } r ? $"{r.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)} ms  " : "";
                output.WriteLine($"  {TerminalText.Escape(v.Interface).PadRight(width)}  {State(v.State),-9}  {rtt}{v.Detail}");
            }
        }

        return verdicts.Any(v => v.State == QuicPathState.Reachable) ? 0 : Program.NoCandidate;
    }

    private static string State(QuicPathState state) => state switch
    {
        QuicPathState.Reachable => "reachable",
        QuicPathState.Blocked => "blocked",
        _ => "unknown",
    };
}
