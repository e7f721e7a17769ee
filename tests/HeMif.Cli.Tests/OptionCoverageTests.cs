using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using HeMif.TestKit;

namespace HeMif.Cli.Tests;

/// <summary>
/// Issue 11: "<c>hemif connect --probe-url URL</c> crashes for every value … no test runs it. Every documented CLI
/// option gets at least one test that runs it." The options are read from the command tree itself, so an option added
/// without a case here (and without a mention in README.md or docs/) fails <see cref="Every_option_of_every_command_has_cases_and_docs"/>.
/// Each case runs the whole command line in-process, on loopback only: a listener, a payload sink, a QUIC responder
/// and a silent UDP port stand in for the network.
/// </summary>
public sealed class OptionCoverageTests : IClassFixture<OptionCoverageTests.Services>
{
    private readonly Services _services;

    public OptionCoverageTests(Services services) => _services = services;

    /// <summary>One run: the arguments (placeholders in braces), the exit code and a text stdout or stderr must contain.</summary>
    public sealed record CliCase(string Args, int Exit, string Expect);

    /// <summary>
    /// The table: for each option (<c>command --option</c>) or argument (<c>command &lt;name&gt;</c>), runs that use it,
    /// good values and bad ones. Placeholders: {tcp} a loopback port that accepts, {sink} one that answers like the lab's
    /// mptcp-sink, {quic} a QUIC responder, {silent} a UDP port that never answers, {udp} a UDP echo, {interfaces} {policy} the samples,
    /// {scenario} {overrides} {no-loopback} files of the fixture, {missing} {dir} a missing file and a directory.
    /// </summary>
    public static readonly Dictionary<string, CliCase[]> Cases = new(StringComparer.Ordinal)
    {
        ["plan --interfaces"] = [new(Plan(), 0, "Candidates (best first):"), new("plan --interfaces {missing} --policy {policy} --host www.example.com --port 443", 2, "does not exist")],
        ["plan --policy"] = [new(Plan(), 0, "no-3g-4g-while-roaming"), new("plan --interfaces {interfaces} --policy {dir} --host www.example.com --port 443", 2, "found a directory")],
        ["plan --host"] =
        [
            new(Plan(), 0, "Plan for www.example.com:443 over TCP"),
            new(Plan(host: "2001:db8::1"), 0, "Plan for [2001:db8::1]:443 over TCP"),
            new(Plan(host: "[2001:db8::1]"), 0, "Plan for [2001:db8::1]:443 over TCP"),
            new(Plan(host: "bücher.example"), 0, "Plan for xn--bcher-kva.example:443"),
            new(Plan(host: "a..b"), 2, "--host"),
        ],
        ["plan --port"] = [new(Plan(port: "8443"), 0, "www.example.com:8443"), new(Plan(port: "x"), 2, "--port must be a port between 1 and 65535; got 'x'"), new(Plan(port: "70000"), 2, "got '70000'")],
        ["plan --expected-bytes"] =
        [
            new(Plan() + " --expected-bytes 50000000", 0, "50000000 bytes expected"),
            new(Plan() + " --expected-bytes -1", 2, "--expected-bytes must be"),
            new(Plan() + " --expected-bytes lots", 2, "got 'lots'"),
        ],
        ["plan --transport"] = [new(Plan() + " --transport quic", 0, "over QUIC"), new(Plan() + " --transport udp", 2, "udp")],
        ["plan --json"] = [new(Plan() + " --json", 0, "\"candidates\": [")],
        ["plan --now"] = [new(Plan() + " --now 2026-03-02T12:00:00+01:00", 0, "Candidates"), new(Plan() + " --now yesterday", 2, "--now: 'yesterday' is not a date and time")],

        ["simulate <name>"] = [new("simulate wifi-broken", 0, "connected over rmnet0 (Cellular)"), new("simulate no-such-scenario", 2, "no-such-scenario")],
        ["simulate --scenario"] = [new("simulate --scenario {scenario}", 0, "connected over wlan0"), new("simulate --scenario {missing}", 2, "does not exist")],
        ["simulate --json"] = [new("simulate healthy --json", 0, "\"scenario\": \"healthy\"")],
        ["simulate --list"] = [new("simulate --list", 0, "wifi-broken")],
        ["simulate --color"] = [new("simulate healthy --color always", 0, "\u001b["), new("simulate healthy --color never", 0, "connected over"), new("simulate healthy --color sometimes", 2, "sometimes")],
        ["simulate --events"] = [new("simulate healthy --events", 0, "Events")],

        ["connect <host>"] = [new("connect 127.0.0.1 {tcp} --no-validation", 0, "connected over lo"), new("connect localhost {tcp} --no-validation", 0, "connected over lo"), new("connect a..b {tcp} --no-validation", 2, "HOST")],
        ["connect <port>"] = [new("connect 127.0.0.1 0 --no-validation", 2, "PORT must be a port between 1 and 65535; got '0'"), new("connect 127.0.0.1 http --no-validation", 2, "got 'http'")],
        ["connect --interfaces"] =
        [
            new("connect 127.0.0.1 {tcp} --no-validation --interfaces {overrides}", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --no-validation --interfaces {absent-interface}", 2, "$.interfaces[0].name"),
        ],
        ["connect --policy"] =
        [
            new("connect 127.0.0.1 {tcp} --no-validation --policy {policy}", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --no-validation --policy {no-loopback}", 3, "no-loopback"),
        ],
        ["connect --transport"] =
        [
            new("connect 127.0.0.1 {tcp} --no-validation --transport any", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --no-validation --transport quic", 3, "QUIC"),
            new("connect 127.0.0.1 {tcp} --no-validation --transport udp", 2, "udp"),
        ],
        ["connect --probe-url"] =
        [
            // Validation on: loopback is validated by definition, so the check URL is taken (parsed) and the race runs.
            new("connect 127.0.0.1 {tcp} --probe-url http://127.0.0.1:{tcp}/generate_204", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --probe-url http://[::1]:{tcp}/generate_204", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --probe-url ftp://example.net/", 2, "--probe-url must be an absolute http:// URL"),
            new("connect 127.0.0.1 {tcp} --probe-url https://example.net/", 2, "plain HTTP"),
            new("connect 127.0.0.1 {tcp} --probe-url generate_204", 2, "got 'generate_204'"),
        ],
        // Without it every interface is checked against the default check URL on the internet; the other cases use it too.
        ["connect --no-validation"] = [new("connect 127.0.0.1 {tcp} --no-validation --events", 0, "won            lo: #0: TCP 127.0.0.1:")],
        ["connect --json"] = [new("connect 127.0.0.1 {tcp} --no-validation --json", 0, "\"outcome\": \"connected\"")],
        ["connect --listen"] =
        [
            new("connect 127.0.0.1 {tcp} --no-validation --listen 10", 0, "connected over lo"),
            new("connect 127.0.0.1 {tcp} --listen -1", 2, "--listen must be between 0 and 600000 ms"),
            new("connect 127.0.0.1 {tcp} --listen 1s", 2, "got '1s'"),
        ],
        ["connect --pvd-ca"] =
            [new("connect 127.0.0.1 {tcp} --no-validation --pvd-ca {missing}", 2, "Could not find file"), new("connect 127.0.0.1 {tcp} --no-validation --pvd-ca {overrides}", 2, "not a readable PEM certificate")],
        ["connect --count"] =
        [
            new("connect 127.0.0.1 {tcp} --no-validation --count 3", 0, "Connect 3 of 3"),
            new("connect 127.0.0.1 {tcp} --no-validation --count 0", 2, "--count must be between 1 and 1000; got '0'"),
            new("connect 127.0.0.1 {tcp} --no-validation --count many", 2, "got 'many'"),
        ],
        ["connect --mptcp"] =
        [
            new("connect 127.0.0.1 {sink} --no-validation --send-bytes 1000 --mptcp", 0, "multipath (handover)"),
            new("connect 127.0.0.1 {sink} --no-validation --mptcp interactive --send-bytes 1000", 0, "multipath (interactive)"),
            new("connect 127.0.0.1 {tcp} --no-validation --mptcp sideways", 2, "sideways"),
        ],
        ["connect --send-bytes"] =
        [
            new("connect 127.0.0.1 {sink} --no-validation --send-bytes 3000", 0, "server received 3000 bytes"),
            new("connect 127.0.0.1 {tcp} --no-validation --send-bytes -1", 2, "--send-bytes must be 0 or more"),
            new("connect 127.0.0.1 {tcp} --no-validation --send-bytes 1MB", 2, "got '1MB'"),
        ],
        ["connect --send-rate"] =
        [
            new("connect 127.0.0.1 {sink} --no-validation --send-bytes 2000 --send-rate 1000000", 0, ": intact"),
            new("connect 127.0.0.1 {tcp} --no-validation --send-rate -5", 2, "--send-rate must be 0 or more"),
        ],
        ["connect --hold"] = [new("connect 127.0.0.1 {tcp} --no-validation --hold 1", 0, "connected over lo"), new("connect 127.0.0.1 {tcp} --no-validation --hold -1", 2, "--hold must be between 0 and 3600000")],
        ["connect --color"] = [new("connect 127.0.0.1 {tcp} --no-validation --color always", 0, "\u001b["), new("connect 127.0.0.1 {tcp} --no-validation --color blue", 2, "blue")],
        ["connect --events"] = [new("connect 127.0.0.1 {tcp} --no-validation --events", 0, "Events")],

        ["exchange <host>"] =
        [
            new("exchange 127.0.0.1 {udp} --text hello --no-validation", 0, "response: 5 bytes from 127.0.0.1:"),
            new("exchange localhost {udp} --text hello --no-validation", 0, "over lo"),
            new("exchange a..b {udp} --text hello --no-validation", 2, "HOST"),
        ],
        ["exchange <port>"] = [new("exchange 127.0.0.1 0 --text x --no-validation", 2, "PORT must be a port between 1 and 65535; got '0'"), new("exchange 127.0.0.1 dns --text x --no-validation", 2, "got 'dns'")],
        ["exchange --hex"] =
        [
            new("exchange 127.0.0.1 {udp} --hex 1b00ff --no-validation", 0, ": 1b00ff"),
            new("exchange 127.0.0.1 {udp} --hex 1b0 --no-validation", 2, "--hex: expected hexadecimal digits, two per byte"),
            new("exchange 127.0.0.1 {udp} --hex xy --no-validation", 2, "'x' is not one"),
            new("exchange 127.0.0.1 {udp} --hex 00 --text x --no-validation", 2, "exactly one of --hex BYTES or --text STRING"),
        ],
        ["exchange --text"] = [new("exchange 127.0.0.1 {udp} --text ping --no-validation", 0, "\"ping\""), new("exchange 127.0.0.1 {udp} --no-validation", 2, "exactly one of --hex BYTES or --text STRING")],
        ["exchange --expect-prefix"] =
        [
            new("exchange 127.0.0.1 {udp} --text ping --expect-prefix pi --no-validation", 0, "\"ping\""),
            new("exchange 127.0.0.1 {udp} --text ping --expect-prefix 0x7069 --no-validation", 0, "(1 send, 0 ignored)"),
            new("exchange 127.0.0.1 {udp} --text ping --expect-prefix pong --no-validation --timeout 200", 3, "No answer from 127.0.0.1:"),
            new("exchange 127.0.0.1 {udp} --text ping --expect-prefix 0xzz --no-validation", 2, "--expect-prefix: expected hexadecimal digits"),
        ],
        ["exchange --interfaces"] =
        [
            new("exchange 127.0.0.1 {udp} --text x --no-validation --interfaces {overrides}", 0, "over lo"),
            new("exchange 127.0.0.1 {udp} --text x --no-validation --interfaces {absent-interface}", 2, "$.interfaces[0].name"),
        ],
        ["exchange --policy"] =
        [
            new("exchange 127.0.0.1 {udp} --text x --no-validation --policy {policy}", 0, "over lo"),
            new("exchange 127.0.0.1 {udp} --text x --no-validation --policy {no-loopback}", 3, "no-loopback"),
        ],
        ["exchange --probe-url"] =
        [
            new("exchange 127.0.0.1 {udp} --text x --probe-url http://127.0.0.1:{tcp}/generate_204", 0, "over lo"),
            new("exchange 127.0.0.1 {udp} --text x --probe-url ftp://example.net/", 2, "--probe-url must be an absolute http:// URL"),
        ],
        ["exchange --no-validation"] = [new("exchange 127.0.0.1 {udp} --text x --no-validation --events", 0, "won            lo: #0: UDP 127.0.0.1:")],
        ["exchange --timeout"] =
        [
            new("exchange 127.0.0.1 {silent} --text x --no-validation --timeout 200", 3, "no answer within the race timeout of 200 ms"),
            new("exchange 127.0.0.1 {udp} --text x --no-validation --timeout 0", 2, "--timeout must be between 1 and 600000 ms; got '0'"),
            new("exchange 127.0.0.1 {udp} --text x --no-validation --timeout 1s", 2, "got '1s'"),
        ],
        ["exchange --json"] = [new("exchange 127.0.0.1 {udp} --text ping --no-validation --json", 0, "\"text\": \"ping\"")],
        ["exchange --color"] = [new("exchange 127.0.0.1 {udp} --text x --no-validation --color always", 0, "\u001b["), new("exchange 127.0.0.1 {udp} --text x --no-validation --color blue", 2, "blue")],
        ["exchange --events"] = [new("exchange 127.0.0.1 {udp} --text x --no-validation --events", 0, "Events")],

        ["probe quic <host>"] = [new("probe quic 127.0.0.1 {quic} --interface lo", 0, "reachable"), new("probe quic a..b {quic}", 2, "HOST")],
        ["probe quic <port>"] = [new("probe quic 127.0.0.1 0", 2, "PORT must be a port between 1 and 65535; got '0'"), new("probe quic 127.0.0.1 quic", 2, "got 'quic'")],
        ["probe quic --interface"] = [new("probe quic 127.0.0.1 {quic} --interface lo", 0, "QUIC path probe: 127.0.0.1:"), new("probe quic 127.0.0.1 {quic} --interface no-such-if0", 2, "--interface")],
        ["probe quic --interfaces"] = [new("probe quic 127.0.0.1 {quic} --interface lo --interfaces {overrides}", 0, "reachable"), new("probe quic 127.0.0.1 {quic} --interfaces {missing}", 2, "does not exist")],
        ["probe quic --timeout"] =
        [
            new("probe quic 127.0.0.1 {silent} --interface lo --timeout 200", 3, "within 200 ms"),
            new("probe quic 127.0.0.1 {silent} --timeout 0", 2, "--timeout must be between 1 and 60000 ms; got '0'"),
            new("probe quic 127.0.0.1 {silent} --timeout 1s", 2, "got '1s'"),
        ],
        ["probe quic --json"] = [new("probe quic 127.0.0.1 {quic} --interface lo --json", 0, "\"verdicts\": [")],

        ["interfaces --interfaces"] = [new("interfaces --no-validation --interfaces {overrides}", 0, "metered no (override file)"), new("interfaces --interfaces {missing}", 2, "does not exist")],
        ["interfaces --listen"] =
        [
            new("interfaces --no-validation --listen 10", 0, "lo (Loopback"),
            new("interfaces --listen -1", 2, "--listen must be between 0 and 600000 ms"),
            new("interfaces --listen 1s", 2, "got '1s'"),
        ],
        ["interfaces --watch"] = [new("interfaces --no-validation --watch --listen 10 --json", 0, "\"interfaces\":")],
        ["interfaces --probe-url"] = [new("interfaces --probe-url https://x.example/", 2, "--probe-url")],
        ["interfaces --no-validation"] = [new("interfaces --no-validation", 0, "validation disabled by configuration")],
        ["interfaces --json"] = [new("interfaces --no-validation --json", 0, "\"sources\": {")],
        ["interfaces --pvd-ca"] =
            [new("interfaces --no-validation --pvd-ca {missing}", 2, "Could not find file"), new("interfaces --no-validation --pvd-ca {overrides}", 2, "not a readable PEM certificate")],
    };

    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (key, cases) in Cases)
        {
            for (var i = 0; i < cases.Length; i++)
            {
                data.Add(key, i);
            }
        }

        return data;
    }

    /// <summary>Every option and argument in the command tree has a case (and no case names one that is gone); every option is in the docs.</summary>
    [Fact]
    public void Every_option_of_every_command_has_cases_and_docs()
    {
        var tree = TreeEntries().ToList();
        var untested = tree.Where(t => !Cases.ContainsKey(t.Key)).Select(t => t.Key).ToList();
        Assert.True(untested.Count == 0, "options without a case in OptionCoverageTests.Cases: " + string.Join(", ", untested));
        var stale = Cases.Keys.Except(tree.Select(t => t.Key)).ToList();
        Assert.True(stale.Count == 0, "cases for options that no command has: " + string.Join(", ", stale));

        var root = Cli.RepositoryRoot();
        var docs = File.ReadAllText(Path.Combine(root, "README.md")) + "\n" +
                   string.Join("\n", Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(File.ReadAllText));
        var undocumented = tree.Where(t => t.Option is not null && !docs.Contains("`" + t.Option, StringComparison.Ordinal) && !docs.Contains(" " + t.Option + " ", StringComparison.Ordinal) &&
                                           !docs.Contains("[" + t.Option, StringComparison.Ordinal))
            .Select(t => t.Key).ToList();
        Assert.True(undocumented.Count == 0, "options not in README.md or docs/*.md: " + string.Join(", ", undocumented));
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Each_case_runs_with_the_expected_exit_code_and_output(string option, int index)
    {
        var c = Cases[option][index];
        var args = _services.Expand(c.Args);
        var (exit, output, error) = Cli.Run(args);
        var what = $"{option}: hemif {string.Join(' ', args)}\nexit {exit}\nstdout: {Cli.Show(output)}\nstderr: {Cli.Show(error)}";
        Assert.True(exit == c.Exit, what);
        Assert.True((output + error).Contains(c.Expect, StringComparison.Ordinal), $"expected '{Cli.Show(c.Expect)}'\n{what}");
        Cli.AssertNoInternals(output + error, what);
        if (c.Exit == 2)
        {
            Cli.AssertBadInput((exit, output, error), option.Split(' ')[^1].Trim('<', '>') is var name && name.StartsWith('-') ? name : "", args);
        }
    }

    /// <summary>The options and arguments of every command, as "command --option" / "command &lt;argument&gt;"; help and version are System.CommandLine's own.</summary>
    private static IEnumerable<(string Key, string? Option)> TreeEntries()
    {
        var root = Program.CreateRoot(TextWriter.Null, TextWriter.Null);
        var stack = new Stack<(Command Command, string Path)>(root.Subcommands.Select(c => (c, c.Name)));
        while (stack.Count > 0)
        {
            var (command, path) = stack.Pop();
            foreach (var sub in command.Subcommands)
            {
                stack.Push((sub, path + " " + sub.Name));
            }

            foreach (var argument in command.Arguments)
            {
                yield return ($"{path} <{argument.Name}>", null);
            }

            foreach (var option in command.Options.Where(o => o is not System.CommandLine.Help.HelpOption and not VersionOption))
            {
                yield return ($"{path} {option.Name}", option.Name);
            }
        }
    }

    private static string Plan(string host = "www.example.com", string port = "443") =>
        $"plan --interfaces {{interfaces}} --policy {{policy}} --host {host} --port {port}";

    /// <summary>The loopback services and files the cases use, made once for the class.</summary>
    public sealed class Services : IAsyncLifetime
    {
        private readonly TempDir _dir = new();
        private readonly TcpListener _tcp = new(IPAddress.Loopback, 0);
        private readonly TcpListener _sink = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = [];
        private FakeQuicServer? _quic;
        private FakeQuicServer? _silent;
        private FakeQuicServer? _udp;
        private Dictionary<string, string> _values = [];

        public Task InitializeAsync()
        {
            _tcp.Start();
            _sink.Start();
            _loops.Add(AcceptAsync(_tcp, s => Task.CompletedTask));
            _loops.Add(AcceptAsync(_sink, AnswerLikeTheSinkAsync));
            _quic = new FakeQuicServer(IPAddress.Loopback, d => [FakeQuicServer.ValidAnswer(d)]);
            _silent = new FakeQuicServer(IPAddress.Loopback);
            _udp = new FakeQuicServer(IPAddress.Loopback, d => [d]); // a UDP echo for hemif exchange
            var samples = Path.Combine(AppContext.BaseDirectory, "samples");
            Directory.CreateDirectory(_dir.Name("dir"));
            _values = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["tcp"] = Port(_tcp),
                ["sink"] = Port(_sink),
                ["quic"] = _quic.EndPoint.Port.ToString(CultureInfo.InvariantCulture),
                ["silent"] = _silent.EndPoint.Port.ToString(CultureInfo.InvariantCulture),
                ["udp"] = _udp.EndPoint.Port.ToString(CultureInfo.InvariantCulture),
                ["interfaces"] = Path.Combine(samples, "interfaces.json"),
                ["policy"] = Path.Combine(samples, "policy.json"),
                ["missing"] = _dir.Name("missing.json"),
                ["dir"] = _dir.Name("dir"),
                ["overrides"] = _dir.File("overrides.json", """{ "interfaces": [ { "name": "lo", "kind": "Loopback", "metered": false } ] }"""),
                ["absent-interface"] = _dir.File("absent.json", """{ "interfaces": [ { "name": "no-such-if0", "kind": "Wifi" } ] }"""),
                ["no-loopback"] = _dir.File("no-loopback.json", """{ "userRules": [ { "name": "no-loopback", "level": "Prohibit", "interface": { "kinds": [ "Loopback" ] } } ] }"""),
                ["scenario"] = _dir.File("one.json", """
                    {
                      "interfaces": [ { "name": "wlan0", "kind": "Wifi", "addresses": [ { "address": "192.0.2.10", "prefixLength": 24 } ] } ],
                      "destinations": { "www.example.com": [ "198.51.100.80" ] },
                      "requests": [ { "host": "www.example.com" } ]
                    }
                    """),
            };
            return Task.CompletedTask;
        }

        public string[] Expand(string args) => args.Split(' ').Select(a =>
        {
            foreach (var (k, v) in _values)
            {
                a = a.Replace("{" + k + "}", v, StringComparison.Ordinal);
            }

            return a;
        }).ToArray();

        public async Task DisposeAsync()
        {
            await _stop.CancelAsync();
            _tcp.Stop();
            _sink.Stop();
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (_quic is not null)
            {
                await _quic.DisposeAsync();
            }

            if (_silent is not null)
            {
                await _silent.DisposeAsync();
            }

            if (_udp is not null)
            {
                await _udp.DisposeAsync();
            }

            _stop.Dispose();
            _dir.Dispose();
        }

        private static string Port(TcpListener l) => ((IPEndPoint)l.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        private async Task AcceptAsync(TcpListener listener, Func<Socket, Task> serve)
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await serve(client);
                        }
                        catch (Exception e) when (e is SocketException or OperationCanceledException)
                        {
                            // the client went away
                        }
                    }
                });
            }
        }

        /// <summary>Reads the connection to its end and answers "SHA256HEX BYTES", like the lab's mptcp-sink.</summary>
        private async Task AnswerLikeTheSinkAsync(Socket client)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[65536];
            long total = 0;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }

            await client.SendAsync(Encoding.ASCII.GetBytes($"{Convert.ToHexStringLower(hash.GetHashAndReset())} {total}\n"), SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
        }
    }
}
