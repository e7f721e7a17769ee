using System.CommandLine;
using System.Text.Json;
using HeMif.Configuration;
using HeMif.Planning;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif connect HOST PORT [--interfaces FILE] [--policy FILE] [--transport tcp|quic|any] [--probe-url URL]
/// [--no-validation] [--json] [--mptcp [MODE]] [--send-bytes N] [--send-rate B/S] [--hold MS]</c>: one real race from this host over its interfaces, printed like <c>hemif simulate</c>
/// (times in real milliseconds), and with <c>--mptcp</c> the subflow plan and the subflows (<see cref="MultipathCli"/>).
/// Exit codes: 0 connected, 3 nothing connected, 2 bad input, 4 the payload did not arrive intact.
/// </summary>
public static class ConnectCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var host = new Argument<string>("host") { Description = "Destination host name or IP literal" };
        var port = new Argument<int>("port") { Description = "Destination port (1-65535)" };
        var interfaces = new Option<FileInfo?>("--interfaces") { Description = "Host override file: kind, cost flags, PvD, DNS servers, probe settings (docs/connect.md)" };
        var policy = new Option<FileInfo?>("--policy") { Description = "Policy file (docs/policy.md)" };
        var transport = new Option<string>("--transport")
        {
            Description = "tcp: TCP only; any: QUIC first with TCP behind it (QUIC skipped where unsupported or blocked); quic: QUIC only (fails at once where the host lacks QUIC)",
            DefaultValueFactory = _ => "tcp",
        };
        transport.AcceptOnlyFromAmong("tcp", "quic", "any");
        var probeUrl = new Option<Uri?>("--probe-url") { Description = "Connectivity check URL (must answer 204)" };
        var noValidation = new Option<bool>("--no-validation") { Description = "Skip the connectivity check (hosts without a check server)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the timeline" };
        var count = new Option<int>("--count") { Description = "Connect this many times in a row through one connector (its outcome cache carries over), 1-1000", DefaultValueFactory = _ => 1 };
        var multipath = new MultipathCli();
        var command = new Command("connect", "Connect to HOST:PORT over the best interface of this host and show the race.")
        {
            host, port, interfaces, policy, transport, probeUrl, noValidation, json, count,
        };
        foreach (var option in multipath.All)
        {
            command.Options.Add(option);
        }

        var view = ViewOptions.AddTo(command);

        command.SetAction(parse =>
        {
            var portValue = parse.GetValue(port);
            if (portValue is < 1 or > 65535)
            {
                error.WriteLine($"hemif: the port must be between 1 and 65535; got {portValue}.");
                return Program.BadInput;
            }

            IHeMifConnector connector;
            try
            {
                var policyFile = parse.GetValue(policy);
                connector = HeMifConnector.Create(new HeMifConnectorOptions
                {
                    Policy = policyFile is null ? HeMifPolicy.Empty : HeMifConfiguration.LoadPolicyFile(policyFile.FullName),
                    OverridesFile = parse.GetValue(interfaces)?.FullName,
                    ProbeUrl = parse.GetValue(probeUrl),
                    DisableValidation = parse.GetValue(noValidation),
                });
            }
            catch (Exception e) when (e is HeMifConfigurationException or ArgumentException)
            {
                error.WriteLine($"hemif: {e.Message}");
                return Program.BadInput;
            }

            var options = new ConnectOptions
            {
                Transport = parse.GetValue(transport) switch { "quic" => TransportPreference.Quic, "any" => TransportPreference.Any, _ => TransportPreference.Tcp },
                Multipath = multipath.Mode(parse),
            };
            var times = parse.GetValue(count);
            if (times is < 1 or > 1000)
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
                error.WriteLine($"hemif: --count must be between 1 and 1000; got {times}.");
                return Program.BadInput;
            }

            if (multipath.Validate(parse, times) is { } badMultipath)
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
                error.WriteLine($"hemif: {badMultipath}");
                return Program.BadInput;
            }

            try
            {
                var reports = new List<Report.RaceReport>();
                var extras = new Dictionary<int, ConnectionExtras>();
                var exit = 0;
                for (var i = 0; i < times; i++)
                {
                    try
                    {
                        var connection = connector.ConnectAsync(parse.GetValue(host)!, portValue, options).GetAwaiter().GetResult();
                        reports.Add(connection.Report);
                        var extra = multipath.Run(connection, parse, error);
                        extras[reports.Count - 1] = extra;
                        connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
                        exit = MultipathCli.Failed(extra) ? MultipathCli.TransferFailed : 0;
                    }
                    catch (HeMifConnectException e)
                    {
                        reports.Add(e.Report);
                        error.WriteLine($"hemif: {e.Message}");
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

                    output.WriteLine(JsonSerializer.Serialize(document, RaceOutput.JsonOptions));
                }
                else
                {
                    var raceView = TimelineView.Create(output, view.Read(parse));
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
                error.WriteLine($"hemif: {e.Message}");
                return Program.BadInput;
            }
            finally
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
        return command;
    }
}
