using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using HeMif.Configuration;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif plan --interfaces FILE --policy FILE --host HOST --port PORT [--expected-bytes N] [--transport tcp|quic]
/// [--json] [--now TIME]</c>: the filter (§5.1) and the sort (§5.2) for one request, explained. Uses only the
/// library's public API.
/// </summary>
public static class PlanCommand
{
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var interfaces = CliInput.File("--interfaces", "JSON file with the host's interfaces (see docs/policy.md)", required: true);
        var policy = CliInput.File("--policy", "JSON policy file (see docs/policy.md)", required: true);
        var host = new Option<string>("--host") { Description = "Destination host name or IP literal", Required = true };
        var port = new Option<int>("--port")
        {
            Description = "Destination port (1-65535)",
            Required = true,
            CustomParser = r => Parse(r, "--port", "a port between 1 and 65535", 1, 65535, t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null),
        };
        var expectedBytes = new Option<long?>("--expected-bytes")
        {
            Description = "Expected transfer size in bytes",
            CustomParser = r => Parse(r, "--expected-bytes", "a size in bytes, not negative", 0, long.MaxValue, t => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null),
        };
        var transport = new Option<string>("--transport") { Description = "Transport", DefaultValueFactory = _ => "tcp" };
        transport.AcceptOnlyFromAmong("tcp", "quic");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var now = new Option<DateTimeOffset?>("--now")
        {
            Description = "Decision time (ISO 8601 with offset); default: the local time now",
            CustomParser = r =>
            {
                var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
                {
                    return t;
                }

                r.AddError($"--now: '{text}' is not a date and time such as 2026-03-02T12:00:00+01:00.");
                return null;
            },
        };

        var command = new Command("plan", "Show which interfaces a request may use, in which order, and why.")
        {
            interfaces, policy, host, port, expectedBytes, transport, json, now,
        };

        command.SetAction(parse =>
        {
            if (CliInput.CheckHost(parse.GetRequiredValue(host), "--host", out var hostName) is { } badHost)
            {
                return CliInput.Fail(error, badHost);
            }

            InterfaceSnapshot snapshot;
            HeMifPolicy loaded;
            try
            {
                snapshot = HeMifConfiguration.LoadInterfacesFile(parse.GetRequiredValue(interfaces));
            }
            catch (HeMifConfigurationException e)
            {
                return CliInput.Fail(error, "--interfaces: " + e.Message);
            }

            try
            {
                loaded = HeMifConfiguration.LoadPolicyFile(parse.GetRequiredValue(policy));
            }
            catch (HeMifConfigurationException e)
            {
                return CliInput.Fail(error, "--policy: " + e.Message);
            }

            var request = new ConnectionRequest(hostName, parse.GetValue(port))
            {
                ExpectedBytes = parse.GetValue(expectedBytes),
                Transports = [parse.GetValue(transport) == "quic" ? TransportName.Quic : TransportName.Tcp],
                DestinationAddresses = IPAddress.TryParse(hostName, out var literal) ? [literal] : [],
            };
            var at = parse.GetValue(now) ?? TimeProvider.System.GetLocalNow();

            ConnectionPlan plan;
            try
            {
                plan = new ConnectionPlanner(loaded).Plan(snapshot.Interfaces, request, at, snapshot.HistoryFor(request.Host));
            }
            catch (ArgumentException e)
            {
                return CliInput.Fail(error, CliInput.Message(e));
            }

            var table = loaded.AddressSelectionTable;
            if (parse.GetValue(json))
            {
                WriteJson(output.Raw, request, plan, table);
            }
            else
            {
                WriteText(output, request, plan, table);
            }

            if (plan.Failure is { } failure)
            {
                return CliInput.Fail(error, failure, Program.NoCandidate);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Parses one numeric token; a bad or out-of-range value is a parse error (exit 2), never an exception.</summary>
    private static T Parse<T>(System.CommandLine.Parsing.ArgumentResult r, string option, string expected, T min, T max, Func<string, T?> parse)
        where T : struct, IComparable<T>
    {
        var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (parse(text) is { } v && v.CompareTo(min) >= 0 && v.CompareTo(max) <= 0)
        {
            return v;
        }

        r.AddError($"{option} must be {expected}; got '{text}'.");
        return min;
    }

    /// <summary>The plan as text: one <c>WriteLine</c> per line, so the terminal writer escapes what the files put in it.</summary>
    private static void WriteText(TerminalWriter o, ConnectionRequest request, ConnectionPlan plan, AddressSelectionPolicyTable table)
    {
        o.WriteLine($"Plan for {CliInput.Endpoint(request.Host, request.Port)} over {request.Transports[0].Value.ToUpperInvariant()}" +
                    (request.ExpectedBytes is { } b ? $", {b.ToString(CultureInfo.InvariantCulture)} bytes expected" : ""));
        o.WriteLine();
        o.WriteLine(plan.Candidates.Count == 0 ? "Candidates: none" : "Candidates (best first):");
        foreach (var c in plan.Candidates)
        {
            o.WriteLine($"  {c.Rank}. {c.Interface,-10} score {c.Score}");
            foreach (var r in c.Breakdown)
            {
                o.WriteLine($"       {r.Reason}");
            }
        }

        if (plan.AllEqual && plan.Candidates.Count > 1)
        {
            o.WriteLine("  All candidates are equal: they start together (§5.2.3).");
        }

        if (plan.Excluded.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Excluded:");
            foreach (var e in plan.Excluded)
            {
                o.WriteLine($"  {e.Interface}");
                foreach (var r in e.Reasons)
                {
                    o.WriteLine($"       {r}");
                }
            }
        }

        if (plan.Conflicts.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Conflicts:");
            foreach (var c in plan.Conflicts)
            {
                o.WriteLine($"  {c.Interface}: {c.Winner} over {c.Overridden}");
                o.WriteLine($"       {c.Resolution}");
            }
        }

        // Issue 14: "The socket's source address follows the configured RFC 6724 policy table, not the default one".
        o.WriteLine();
        o.WriteLine($"RFC 6724 policy table: {TableName(table)}; it ranks the (destination, source) pairs of §4.2.4 and " +
                    "chooses the source address each attempt binds (RFC 6724 §5 Rule 6, matching label).");

        if (plan.FallbackDelayRules.Count > 0)
        {
            // Draft §7.2: "it is recommended to prioritize the input from users"; the race takes each value from the
            // first of these that states it, after the request's own (docs/policy.md, fallback delay rules).
            o.WriteLine();
            o.WriteLine("Fallback delay rules (draft §7.2, first that states a value wins):");
            foreach (var r in plan.FallbackDelayRules)
            {
                o.WriteLine($"  {r.Source.ToString().ToLowerInvariant()} rule '{r.Name}': {Describe(r.Settings)}");
            }
        }

        if (plan.Failure is { } f)
        {
            o.WriteLine();
            o.WriteLine(f);
        }
    }

    private static string TableName(AddressSelectionPolicyTable table) => ReferenceEquals(table, AddressSelectionPolicyTable.Default)
        ? "the default (RFC 6724 §2.1)"
        : $"the policy's addressSelectionTable ({table.Entries.Count.ToString(CultureInfo.InvariantCulture)} rows)";

    private static string Describe(FallbackDelaySettings settings)
    {
        var parts = new List<string>(3);
        if (settings.Delay is { } delay)
        {
            parts.Add($"delay {delay.TotalMilliseconds:0} ms");
        }

        if (settings.Min is { } min)
        {
            parts.Add($"at least {min.TotalMilliseconds:0} ms");
        }

        if (settings.Max is { } max)
        {
            parts.Add($"at most {max.TotalMilliseconds:0} ms");
        }

        return string.Join(", ", parts);
    }

    private static void WriteJson(TextWriter o, ConnectionRequest request, ConnectionPlan plan, AddressSelectionPolicyTable table)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("host", request.Host);
            w.WriteNumber("port", request.Port);
            // The plan command asks for one transport (--transport tcp|quic).
            w.WriteString("transport", request.Transports[0].Value);
            if (request.ExpectedBytes is { } b)
            {
                w.WriteNumber("expectedBytes", b);
            }

            w.WriteBoolean("allEqual", plan.AllEqual);
            w.WriteStartArray("candidates");
            foreach (var c in plan.Candidates)
            {
                w.WriteStartObject();
                w.WriteString("interface", c.Interface);
                w.WriteNumber("rank", c.Rank);
                w.WriteNumber("score", c.Score);
                w.WriteStartArray("reasons");
                foreach (var r in c.Breakdown)
                {
                    w.WriteStartObject();
                    w.WriteString("factor", r.Factor.ToString());
                    w.WriteNumber("points", r.Points);
                    w.WriteString("subject", r.Subject);
                    w.WriteString("reason", r.Reason);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("excluded");
            foreach (var e in plan.Excluded)
            {
                w.WriteStartObject();
                w.WriteString("interface", e.Interface);
                w.WriteStartArray("reasons");
                foreach (var r in e.Reasons)
                {
                    w.WriteStartObject();
                    WriteRule(w, r.Rule);
                    w.WriteString("fact", r.Fact);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("conflicts");
            foreach (var c in plan.Conflicts)
            {
                w.WriteStartObject();
                w.WriteString("interface", c.Interface);
                w.WriteStartObject("winner");
                WriteRule(w, c.Winner);
                w.WriteEndObject();
                w.WriteStartObject("overridden");
                WriteRule(w, c.Overridden);
                w.WriteEndObject();
                w.WriteString("resolution", c.Resolution);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("fallbackDelayRules");
            foreach (var r in plan.FallbackDelayRules)
            {
                w.WriteStartObject();
                w.WriteString("rule", r.Name);
                w.WriteString("source", r.Source.ToString());
                WriteMilliseconds(w, "delayMs", r.Settings.Delay);
                WriteMilliseconds(w, "minMs", r.Settings.Min);
                WriteMilliseconds(w, "maxMs", r.Settings.Max);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            // Added in issue 14: which RFC 6724 table ranked the pairs and chooses each attempt's source address.
            w.WriteStartObject("addressSelectionTable");
            w.WriteBoolean("configured", !ReferenceEquals(table, AddressSelectionPolicyTable.Default));
            w.WriteNumber("rows", table.Entries.Count);
            w.WriteEndObject();
            if (plan.Failure is { } f)
            {
                w.WriteString("failure", f);
            }
            else
            {
                w.WriteNull("failure");
            }

            w.WriteEndObject();
        }

        // JavaScriptEncoder.UnsafeRelaxedJsonEscaping escapes control characters (ESC as \u001B, C1 controls) but leaves
        // format characters such as bidi overrides as they are: TerminalText.Json escapes those too.
        o.WriteLine(TerminalText.Json(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan)));
    }

    private static void WriteMilliseconds(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v.TotalMilliseconds);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteRule(Utf8JsonWriter w, RuleReference r)
    {
        w.WriteString("rule", r.Name);
        w.WriteString("source", r.Source.ToString());
        w.WriteString("level", r.Level.ToString());
    }
}
