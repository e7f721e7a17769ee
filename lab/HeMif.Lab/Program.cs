using System.Globalization;
using System.Net;
using System.Text.Json;

namespace HeMif.Lab;

/// <summary>A command line that cannot be carried out as written.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// <c>HeMif.Lab COMMAND ...</c>: the lab's helpers. Probes print one JSON object on one line and exit
/// 0 when they succeeded, 1 when the network said no (refused, unreachable, timed out), 2 on bad input.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: HeMif.Lab COMMAND [options]
          relay --link NSA:DEVA:NSB:DEVB:DELAYMS [--link ...] [--pid-file F] [--stats-file F] [--control-file F]
                join TAP devices of two namespaces, holding each frame DELAYMS in each direction; the stats file
                (rewritten every 100 ms) says per direction: frames relayed, shortest and longest hold, early releases;
                the control file (read every 20 ms, one line per link: DEVA delay_ms=D loss_pct=P) changes a link's
                delay and loss while the relay runs
          serve [--echo-port N] [--http-port N] [--mode check|portal] [--pid-file F]
                TCP echo and HTTP (check: 204 on /generate_204; portal: 302 to the login page)
          probe-tcp ADDR PORT [--bind ADDR] [--device DEV] [--timeout-ms N] [--echo]
          measure ADDR PORT [--bind ADDR] [--device DEV] [--count N] [--timeout-ms N]
          tcpclient HOST PORT [--count N] [--timeout-ms N]
                .NET's own TcpClient.ConnectAsync(host, port): the baseline of lab/bench.sh
          http-get URL [--connect ADDR] [--bind ADDR] [--device DEV] [--timeout-ms N]
          dns-query SERVER NAME A|AAAA [--bind ADDR] [--device DEV] [--timeout-ms N]
          send-ra --device DEV [--router-lifetime S] [--prf high|medium|low] [--pvd FQDN [--seq N] [--http] [--delay N]]
                  [--rdnss ADDR,LIFETIME]... [--dnssl DOMAIN,LIFETIME]... [--route PREFIX,PRF,LIFETIME]...
                  [--prefix PREFIX,VALID,PREFERRED]... [--count N] [--interval-ms MS]
                a Router Advertisement to ff02::1 on DEV (run in a router's namespace); with --pvd every option is
                inside the RFC 8801 PvD option
          serve-pvd --port N --pfx FILE --document FILE
                HTTPS: GET /.well-known/pvd answers the JSON document (RFC 8801 PvD Additional Information), with the
                certificate and key of the PKCS#12 file (no password)
          mptcp-sink --port N [--pid-file F]
                MPTCP server (IPv4 and IPv6): reads each connection to its end, answers "SHA256HEX BYTES\n"
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static async Task<int> Main(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help")
            {
                Console.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }

            var options = Options.Parse(args.Skip(1));
            return args[0] switch
            {
                "relay" => TapRelay.Run(options.All("link").Select(LinkSpec.Parse).ToList(), options.Value("pid-file"), options.Value("stats-file"), options.Value("control-file")),
                "serve" => await LabServer.RunAsync(options.Int("echo-port", 0), options.Int("http-port", 0), options.Mode(), options.Value("pid-file")),
                "probe-tcp" => await ProbeTcpAsync(options),
                "measure" => await MeasureAsync(options),
                "tcpclient" => await TcpClientAsync(options),
                "http-get" => await HttpGetAsync(options),
                "dns-query" => await DnsQueryAsync(options),
                "mptcp-sink" => await MptcpSink.RunAsync(options.Int("port", 0), options.Value("pid-file")),
                "send-ra" => await SendRaAsync(options),
                "serve-pvd" => await PvdServer.RunAsync(options.Int("port", 0), options.Value("pfx") ?? throw new UsageException("serve-pvd needs --pfx"),
                    options.Value("document") ?? throw new UsageException("serve-pvd needs --document")),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"HeMif.Lab: {e.Message}\n{Usage}");
            return 2;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"HeMif.Lab {args[0]}: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> SendRaAsync(Options options)
    {
        static uint Seconds(string text) => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw new UsageException($"'{text}' is not a lifetime in seconds");
        static string[] Parts(string text, int count, string form)
        {
            var parts = text.Split(',');
            return parts.Length == count ? parts : throw new UsageException($"'{text}' is not {form}");
        }

        var spec = new RaSender.Spec
        {
            RouterLifetime = (ushort)options.Int("router-lifetime", 1800),
            Preference = RaSender.Preference(options.Value("prf") ?? "medium"),
            PvdId = options.Value("pvd"),
            Sequence = (ushort)options.Int("seq", 0),
            Http = options.Flag("http"),
            Delay = options.Int("delay", 0),
        };
        foreach (var r in options.All("rdnss"))
        {
            var p = Parts(r, 2, "ADDRESS,LIFETIME");
            spec.Rdnss.Add((IPAddress.TryParse(p[0], out var a) ? a : throw new UsageException($"'{p[0]}' is not an address"), Seconds(p[1])));
        }

        foreach (var d in options.All("dnssl"))
        {
            var p = Parts(d, 2, "DOMAIN,LIFETIME");
            spec.Dnssl.Add((p[0], Seconds(p[1])));
        }

        foreach (var r in options.All("route"))
        {
            var p = Parts(r, 3, "PREFIX,PRF,LIFETIME");
            var (prefix, length) = RaSender.Prefix(p[0]);
            spec.Routes.Add((prefix, length, RaSender.Preference(p[1]), Seconds(p[2])));
        }

        foreach (var x in options.All("prefix"))
        {
            var p = Parts(x, 3, "PREFIX,VALID,PREFERRED");
            var (prefix, length) = RaSender.Prefix(p[0]);
            spec.Prefixes.Add((prefix, length, Seconds(p[1]), Seconds(p[2])));
        }

        return await RaSender.RunAsync(options.Value("device") ?? throw new UsageException("--device is required"), spec,
            options.Int("count", 1), TimeSpan.FromMilliseconds(options.Int("interval-ms", 1000)));
    }

    private static async Task<int> ProbeTcpAsync(Options options)
    {
        var remote = options.Endpoint(0, 1);
        var result = await Probes.ConnectAsync(remote, options.Pin(), options.Timeout(), options.Flag("echo"));
        Print(new { remote = remote.ToString(), result.Connected, ms = Math.Round(result.Milliseconds, 3), result.Error, result.Local, result.Echoed });
        return result.Connected && (!options.Flag("echo") || result.Echoed) ? 0 : 1;
    }

    private static async Task<int> MeasureAsync(Options options)
    {
        var remote = options.Endpoint(0, 1);
        var count = options.Int("count", 5);
        if (count is < 1 or > 1000)
        {
            throw new UsageException("--count must be 1..1000");
        }

        var samples = new List<double>();
        var errors = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var result = await Probes.ConnectAsync(remote, options.Pin(), options.Timeout(), echo: false);
            if (result.Connected)
            {
                samples.Add(Math.Round(result.Milliseconds, 3));
            }
            else
            {
                errors.Add(result.Error);
            }
        }

        Print(new { remote = remote.ToString(), count, connected = samples.Count, medianMs = Median(samples), minMs = samples.DefaultIfEmpty().Min(), samples, errors });
        return errors.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// The baseline the issue names: `new TcpClient().ConnectAsync(host, port)`, exactly as an application would call it
    /// (system resolver, default route, no Happy Eyeballs in .NET 10), capped by --timeout-ms so a broken path ends.
    /// </summary>
    private static async Task<int> TcpClientAsync(Options options)
    {
        var host = options.Positional(0);
        if (!int.TryParse(options.Positional(1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new UsageException("tcpclient wants HOST PORT");
        }

        var count = options.Int("count", 5);
        var samples = new List<double>();
        var errors = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var client = new System.Net.Sockets.TcpClient();
            using var cts = new CancellationTokenSource(options.Timeout());
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await client.ConnectAsync(host, port, cts.Token);
                samples.Add(Math.Round(watch.Elapsed.TotalMilliseconds, 3));
            }
            catch (OperationCanceledException)
            {
                errors.Add($"timed out after {options.Timeout().TotalMilliseconds:0} ms");
            }
            catch (System.Net.Sockets.SocketException e)
            {
                errors.Add($"{e.SocketErrorCode} after {watch.Elapsed.TotalMilliseconds:0} ms");
            }
        }

        Print(new { host, port, count, connected = samples.Count, medianMs = Median(samples), samples, errors });
        return errors.Count == 0 ? 0 : 1;
    }

    /// <summary>The median of the samples (0 when there are none).</summary>
    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static async Task<int> HttpGetAsync(Options options)
    {
        if (!Uri.TryCreate(options.Positional(0), UriKind.Absolute, out var url) || url.Scheme != "http")
        {
            throw new UsageException("http-get wants an http:// URL");
        }

        var host = options.Value("connect") ?? url.Host.Trim('[', ']');
        if (!IPAddress.TryParse(host, out var address))
        {
            throw new UsageException($"'{host}' is not an address: give --connect ADDR for a URL with a name");
        }

        var remote = new IPEndPoint(address, url.Port);
        var (status, location, error) = await Probes.HttpGetAsync(url, remote, options.Pin(), options.Timeout());
        Print(new { url = url.ToString(), remote = remote.ToString(), status, location, error });
        return status > 0 ? 0 : 1;
    }

    private static async Task<int> DnsQueryAsync(Options options)
    {
        var server = new IPEndPoint(options.Address(0), 53);
        var name = options.Positional(1);
        var type = options.Positional(2).ToUpperInvariant() switch
        {
            "A" => (ushort)1,
            "AAAA" => (ushort)28,
            var t => throw new UsageException($"dns-query asks A or AAAA, not '{t}'"),
        };
        var result = await DnsQuery.QueryAsync(server, name, type, options.Pin(), options.Timeout());
        Print(new
        {
            server = server.ToString(),
            name,
            result.Answered,
            result.Rcode,
            addresses = result.Addresses.Select(a => a.ToString()).ToList(),
            ms = Math.Round(result.Milliseconds, 3),
            result.Error,
        });
        return result.Answered ? 0 : 1;
    }

    private static void Print<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary><c>--name value</c> pairs (repeatable), <c>--flag</c> switches and positional words.</summary>
    private sealed class Options
    {
        private static readonly HashSet<string> Flags = ["echo", "http"];
        private readonly List<string> positional = [];
        private readonly List<KeyValuePair<string, string>> named = [];

        public static Options Parse(IEnumerable<string> args)
        {
            var options = new Options();
            using var e = args.GetEnumerator();
            while (e.MoveNext())
            {
                var arg = e.Current;
                if (!arg.StartsWith("--", StringComparison.Ordinal))
                {
                    options.positional.Add(arg);
                    continue;
                }

                var key = arg[2..];
                if (Flags.Contains(key))
                {
                    options.named.Add(new(key, "true"));
                }
                else if (e.MoveNext())
                {
                    options.named.Add(new(key, e.Current));
                }
                else
                {
                    throw new UsageException($"{arg} needs a value");
                }
            }

            return options;
        }

        public string Positional(int index) =>
            index < positional.Count ? positional[index] : throw new UsageException($"argument {index + 1} is missing");

        public IEnumerable<string> All(string key) => named.Where(p => p.Key == key).Select(p => p.Value);

        public string? Value(string key) => All(key).LastOrDefault();

        public bool Flag(string key) => Value(key) == "true";

        public int Int(string key, int fallback)
        {
            var text = Value(key);
            return text is null ? fallback
                : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                : throw new UsageException($"--{key} wants a number, got '{text}'");
        }

        public TimeSpan Timeout() => TimeSpan.FromMilliseconds(Int("timeout-ms", 3000));

        public HttpMode Mode() => Value("mode") switch
        {
            null or "check" => HttpMode.Check,
            "portal" => HttpMode.Portal,
            var m => throw new UsageException($"--mode is check or portal, not '{m}'"),
        };

        public IPAddress Address(int index) =>
            IPAddress.TryParse(Positional(index), out var a) ? a : throw new UsageException($"'{Positional(index)}' is not an IP address");

        public IPEndPoint Endpoint(int addressIndex, int portIndex)
        {
            var address = Address(addressIndex);
            return int.TryParse(Positional(portIndex), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
                ? new IPEndPoint(address, port)
                : throw new UsageException($"'{Positional(portIndex)}' is not a port (1..65535)");
        }

        public Pin Pin()
        {
            var bind = Value("bind");
            IPAddress? address = null;
            if (bind is not null && !IPAddress.TryParse(bind, out address))
            {
                throw new UsageException($"--bind wants an address, got '{bind}'");
            }

            return new Pin(address, Value("device"));
        }
    }
}
