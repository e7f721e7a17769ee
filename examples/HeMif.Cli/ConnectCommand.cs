using System.CommandLine;
using HeMif.Configuration;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif connect HOST PORT [--interfaces FILE] [--policy FILE] [--transport tcp|quic|any] [--probe-url URL]
/// [--no-validation] [--json] [--listen MS] [--pvd-ca FILE] [--mptcp [MODE]] [--send-bytes N] [--send-rate B/S] [--hold MS]</c>: one real race from this host over its interfaces, printed like <c>hemif simulate</c>
/// (times in real milliseconds), and with <c>--mptcp</c> the subflow plan and the subflows (<see cref="MultipathCli"/>).
/// Exit codes: 0 connected, 3 nothing connected, 2 bad input, 4 the payload did not arrive intact.
/// </summary>
public static class ConnectCommand
{
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var host = new Argument<string>("host") { Description = "Destination host name or IP literal" };
        var port = CliInput.PortArgument("Destination port (1-65535)");
        var interfaces = CliInput.File("--interfaces", "Host override file: kind, cost flags, PvD, DNS servers, probe settings (docs/connect.md)");
        var policy = CliInput.File("--policy", "Policy file (docs/policy.md)");
        var transport = new Option<string>("--transport")
        {
            Description = "tcp: TCP only; any: QUIC first with TCP behind it (QUIC skipped where unsupported or blocked); quic: QUIC only (fails at once where the host lacks QUIC)",
            DefaultValueFactory = _ => "tcp",
        };
        transport.AcceptOnlyFromAmong("tcp", "quic", "any");
        var probeUrl = CliInput.ProbeUrl("--probe-url", "Connectivity check URL, plain http:// (must answer 204)");
        var noValidation = new Option<bool>("--no-validation") { Description = "Skip the connectivity check (hosts without a check server)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the timeline" };
        var count = CliInput.Int("--count", "Connect this many times in a row through one connector (its outcome cache carries over), 1-1000", "between 1 and 1000", 1, 1000, 1);
        var listen = CliInput.Int("--listen", "Milliseconds to listen (for Router Advertisements, validation) before connecting, 0-600000", "between 0 and 600000 ms", 0, 600_000, 0);
        var pvdCa = CliInput.File("--pvd-ca", "PEM file of the one CA trusted for PvD Additional Information servers (a private or test CA) instead of the system's");
        var multipath = new MultipathCli();
        var command = new Command("connect", "Connect to HOST:PORT over the best interface of this host and show the race.")
        {
            host, port, interfaces, policy, transport, probeUrl, noValidation, json, count, listen, pvdCa,
        };
        foreach (var option in multipath.All)
        {
            command.Options.Add(option);
        }

        var view = ViewOptions.AddTo(command);

        command.SetAction(parse =>
        {
            // Everything the command line says is checked before the connector is made: making it starts validating
            // the interfaces, which sends packets.
            if (CliInput.CheckHost(parse.GetValue(host), "HOST", out var hostName) is { } badHost)
            {
                return CliInput.Fail(error, badHost);
            }

            var times = parse.GetValue(count);
            if (multipath.Validate(parse, times) is { } badMultipath)
            {
                return CliInput.Fail(error, badMultipath);
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
                    PvdCertificateValidation = parse.GetValue(pvdCa) is { } ca ? InterfacesCommand.TrustOnly(ca) : null,
                });
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                return CliInput.Fail(error, $"--pvd-ca: {parse.GetValue(pvdCa)}: not a readable PEM certificate: {e.Message}");
            }
            catch (HeMifConfigurationException e)
            {
                // The override file is the only file the connector reads.
                return CliInput.Fail(error, "--interfaces: " + e.Message);
            }
            catch (ArgumentException e)
            {
                return CliInput.Fail(error, CliInput.Message(e));
            }

            var options = new ConnectOptions
            {
                Transport = parse.GetValue(transport) switch { "quic" => TransportPreference.Quic, "any" => TransportPreference.Any, _ => TransportPreference.Tcp },
                Multipath = multipath.Mode(parse),
            };
            var portValue = parse.GetValue(port);
            try
            {
                // What the network says comes in Router Advertisements, every few minutes or when a router starts: with
                // --listen the race waits for it, as `hemif interfaces --listen` does.
                Thread.Sleep(parse.GetValue(listen));
                var reports = new List<Report.RaceReport>();
                var extras = new Dictionary<int, ConnectionExtras>();
                var exit = 0;
                for (var i = 0; i < times; i++)
                {
                    try
                    {
                        var connection = connector.ConnectAsync(hostName, portValue, options).GetAwaiter().GetResult();
                        reports.Add(connection.Report);
                        var extra = multipath.Run(connection, parse, error);
                        extras[reports.Count - 1] = extra;
                        connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
                        exit = MultipathCli.Failed(extra) ? MultipathCli.TransferFailed : 0;
                    }
                    catch (HeMifConnectException e)
                    {
                        reports.Add(e.Report);
                        WriteFailure(error, e.Report);
                        exit = Program.NoCandidate;
                    }
                }

                if (parse.GetValue(json))
                {
                    var document = RaceOutput.Json("connect", reports, alwaysListRaces: false);
                    if (extras.TryGetValue(reports.Count - 1, out var last))
                    {
                        MultipathCli.AddJson(document, last);
                    }

                    output.Raw.WriteLine(RaceOutput.Serialize(document));
                }
                else
                {
                    var raceView = TimelineView.Create(output.Raw, view.Read(parse));
                    for (var i = 0; i < reports.Count; i++)
                    {
                        raceView.Write(reports[i], reports.Count == 1 ? "Connect" : $"Connect {i + 1} of {reports.Count}");
                        if (extras.TryGetValue(i, out var extra))
                        {
                            MultipathCli.WriteText(output, extra);
                        }
                    }
                }

                return exit;
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

    /// <summary>
    /// Why nothing connected, on stderr: the failure, every attempt, every interface not used. Written from the report,
    /// one <c>WriteLine</c> per line, so that a line break inside a name is escaped instead of starting a line.
    /// </summary>
    private static void WriteFailure(TerminalWriter error, Report.RaceReport report)
    {
        var failure = report.Failure ?? "no attempt connected";
        if (report.Excluded.Count > 0 && failure.IndexOf(NotUsedSeparator, StringComparison.Ordinal) is var cut and >= 0)
        {
            failure = failure[..cut]; // every excluded interface gets a line of its own below
        }

        error.WriteLine($"hemif: No connection to {CliInput.Endpoint(report.Host, report.Port)}: {failure}");
        foreach (var a in report.Attempts)
        {
            error.WriteLine($"  attempt #{a.Id} {a.Transport} {a.Remote} on {a.Interface}: {a.Result}{(a.Error is null ? "" : ": " + a.Error)}");
        }

        foreach (var x in report.Excluded)
        {
            error.WriteLine($"  not used: {x.Interface}: {string.Join("; ", x.Reasons)}");
        }
    }

    /// <summary>Where the racer's one-line failure starts naming the interfaces it did not use.</summary>
    private const string NotUsedSeparator = "; not used: ";
}
