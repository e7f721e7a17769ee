using System.Globalization;
using System.Net;
using System.Text.Json;

namespace HeMif.Integration.Tests;

/// <summary>One TCP connect from the client namespace (HeMif.Lab probe-tcp).</summary>
public sealed record TcpProbe(string Remote, bool Connected, double Ms, string Error, string? Local, bool Echoed);

/// <summary>Repeated TCP connects (HeMif.Lab measure): the median handshake time in milliseconds.</summary>
public sealed record Measurement(string Remote, int Count, int Connected, double MedianMs, double MinMs, IReadOnlyList<double> Samples, IReadOnlyList<string> Errors);

/// <summary>One HTTP GET from the client namespace (HeMif.Lab http-get).</summary>
public sealed record HttpProbe(string Url, string Remote, int Status, string? Location, string Error);

/// <summary>One DNS query from the client namespace (HeMif.Lab dns-query).</summary>
public sealed record DnsProbe(string Server, string Name, bool Answered, string Rcode, IReadOnlyList<string> Addresses, double Ms, string Error);

/// <summary>
/// Packets the client sent per interface: every frame (<c>/sys/class/net/IF/statistics/tx_packets</c>,
/// neighbour discovery included) and its TCP/UDP packets only (an nftables counter on the client's output).
/// </summary>
public sealed record PacketCounts(long WifiTx, long WifiTransport, long CellTx, long CellTransport);

/// <summary>
/// What the relay did in one direction of one link since it started, by its own record (its stats file): the delay it
/// was configured with, frames relayed, the shortest and longest time it held a frame (null before the first), and
/// frames released before their due time (the relay never does: it waits on a monotonic clock).
/// </summary>
public sealed record RelayDirection(string Name, double DelayMs, long Frames, double? MinHeldMs, double? MaxHeldMs, long Early);

/// <summary>The relay's record: <see cref="Round"/> counts its rewrites (every 100 ms), one entry per direction.</summary>
public sealed record RelayStats(long Round, IReadOnlyList<RelayDirection> Directions)
{
    /// <summary>The client's interface sending (<c>wlan0&gt;…</c>) or receiving (<c>…&gt;wlan0</c>).</summary>
    public RelayDirection Of(string clientInterface, bool fromClient) =>
        Directions.Single(d => fromClient ? d.Name.StartsWith(clientInterface + ">", StringComparison.Ordinal) : d.Name.EndsWith(">" + clientInterface, StringComparison.Ordinal));
}

/// <summary>
/// One lab (<c>lab/lab.sh up</c>) for the whole test collection: its names and addresses (the KEY=VALUE
/// lines lab.sh prints), switching, probes run inside the client namespace, packet counters, and a
/// teardown that always runs (DisposeAsync, and at process exit if the runner never got there).
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private string? runId;

    /// <summary>The repository's root (the folder holding lab/lab.sh).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>lab/lab.sh.</summary>
    public static string Script => Path.Combine(RepoRoot, "lab", "lab.sh");

    /// <summary>The lab's helpers, built with this project and copied beside it.</summary>
    public static string LabDll => Path.Combine(AppContext.BaseDirectory, "HeMif.Lab.dll");

    /// <summary>The environment lab.sh gets: the helpers from this build.</summary>
    public static IReadOnlyDictionary<string, string> ScriptEnvironment { get; } = new Dictionary<string, string> { ["HEMIF_LAB_DLL"] = LabDll };

    /// <summary>Every KEY=VALUE line <c>lab.sh up</c> printed.</summary>
    public IReadOnlyDictionary<string, string> Values => values;

    public string RunId => runId ?? throw new InvalidOperationException("the lab is not up: " + (LabRequirements.Missing ?? "InitializeAsync did not run"));

    public string ClientNamespace => this["NS_CLIENT"];

    public string WifiInterface => this["WIFI_IF"];

    public string CellInterface => this["CELL_IF"];

    public IPAddress WifiAddress4 => Address("WIFI_ADDR4");

    public IPAddress WifiAddress6 => Address("WIFI_ADDR6");

    public IPAddress CellAddress4 => Address("CELL_ADDR4");

    public IPAddress CellAddress6 => Address("CELL_ADDR6");

    public IPAddress WifiDns4 => Address("WIFI_DNS4");

    public IPAddress WifiDns6 => Address("WIFI_DNS6");

    public IPAddress CellDns4 => Address("CELL_DNS4");

    public IPAddress CellDns6 => Address("CELL_DNS6");

    public IPAddress ServerAddress4 => Address("SERVER_ADDR4");

    public IPAddress ServerAddress6 => Address("SERVER_ADDR6");

    public IPAddress PortalAddress4 => Address("PORTAL_ADDR4");

    public IPAddress PortalAddress6 => Address("PORTAL_ADDR6");

    public int ServerTcpPort => Number("SERVER_TCP_PORT");

    public int ServerHttpPort => Number("SERVER_HTTP_PORT");

    public string ServiceName => this["SERVICE_NAME"];

    public int WifiDelayMs => Number("WIFI_DELAY_MS");

    public int CellDelayMs => Number("CELL_DELAY_MS");

    public string this[string key] => values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"lab.sh up printed no {key} (run {runId ?? "not up"})");

    public async Task InitializeAsync()
    {
        if (LabRequirements.Missing is { } why)
        {
            if (LabRequirements.InCi)
            {
                throw new InvalidOperationException("CI=true but the network lab cannot run: " + why + " (.ci/run installs the lab's packages)");
            }

            return; // every lab test is skipped with this reason (LabFactAttribute)
        }

        var up = await LabProcess.RunAsync("bash", [Script, "up"], TimeSpan.FromSeconds(120), ScriptEnvironment);
        if (up.ExitCode != 0)
        {
            throw new InvalidOperationException("lab/lab.sh up failed (it tears down what it built):\n" + up);
        }

        foreach (var line in up.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[line[..eq]] = line[(eq + 1)..];
            }
        }

        runId = values.GetValueOrDefault("RUN_ID") ?? throw new InvalidOperationException("lab/lab.sh up printed no RUN_ID:\n" + up);
        AppDomain.CurrentDomain.ProcessExit += TearDownAtExit;
    }

    public async Task DisposeAsync()
    {
        if (runId is null)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= TearDownAtExit;
        var run = runId;
        runId = null;
        var down = await LabProcess.RunAsync("bash", [Script, "down", run], TimeSpan.FromSeconds(60), ScriptEnvironment);
        var left = await NamespacesOfRunAsync(run);
        if (down.ExitCode != 0 || left.Count > 0)
        {
            throw new InvalidOperationException($"lab/lab.sh down {run} left namespaces [{string.Join(", ", left)}]:\n{down}");
        }
    }

    /// <summary>The namespaces of one run that <c>ip netns list</c> still shows.</summary>
    public static async Task<IReadOnlyList<string>> NamespacesOfRunAsync(string run)
    {
        var list = await LabProcess.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10));
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0])
            .Where(n => n.StartsWith($"hm{run}-", StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>
    /// Puts the lab into a state: one of lab.sh's switches, or several joined by commas. First (unless <paramref name="settleFirst"/> is false: a switch
    /// in the middle of a transfer) the client's closing connections finish on the network they were opened on: a
    /// switch in the middle of a closing handshake would drop its FIN, and the retransmission would leave later, on
    /// whatever the next test counts.
    /// </summary>
    public async Task SwitchAsync(string name, bool settleFirst = true)
    {
        if (settleFirst)
        {
            await SettleAsync();
        }

        var result = await LabProcess.RunAsync("bash", [Script, "switch", RunId, name], TimeSpan.FromSeconds(30), ScriptEnvironment);
        Assert.True(result.ExitCode == 0, $"lab.sh switch {name} failed:\n{result}");
    }

    /// <summary>The client namespace's TCP sockets (<c>ss -tan</c>), to <paramref name="remotePort"/> only when given: state and line.</summary>
    public async Task<IReadOnlyList<(string State, string Line)>> ClientTcpSocketsAsync(int? remotePort = null)
    {
        string[] filter = remotePort is { } p ? ["dport", "=", ":" + Int(p)] : [];
        var ss = await LabProcess.RunAsync("ip", ["netns", "exec", ClientNamespace, "ss", "-tanH", .. filter], TimeSpan.FromSeconds(10));
        return ss.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => (l.Split(' ')[0], l)).ToList();
    }

    /// <summary>
    /// Waits (at most 15 s) until every TCP connection of the client namespace has finished its closing handshake
    /// (TIME-WAIT, or gone). A connection a test's process closed as it exited — the race's winner, the connectivity
    /// check's HTTP connection — still exchanges FIN and ACK over the delayed links afterwards (and retransmits them
    /// if a switch dropped them); counted on rmnet0, that would wrongly fail a test that counts rmnet0's packets.
    /// </summary>
    public async Task SettleAsync()
    {
        for (var i = 0; i < 150; i++)
        {
            var sockets = await ClientTcpSocketsAsync();
            if (sockets.All(s => s.State is "TIME-WAIT" or "LISTEN"))
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs a HeMif.Lab command inside the client namespace (<c>ip netns exec</c>).</summary>
    public Task<ProcessResult> InClientAsync(params string[] args) =>
        LabProcess.RunAsync("ip", ["netns", "exec", ClientNamespace, "dotnet", LabDll, .. args], TimeSpan.FromSeconds(60));

    public async Task<TcpProbe> ConnectAsync(IPAddress remote, IPAddress bind, int timeoutMs = 3000, bool echo = true)
    {
        string[] args = ["probe-tcp", remote.ToString(), Int(ServerTcpPort), "--bind", bind.ToString(), "--timeout-ms", Int(timeoutMs)];
        return await ParseAsync<TcpProbe>(InClientAsync(echo ? [.. args, "--echo"] : args));
    }

    public Task<Measurement> MeasureAsync(IPAddress remote, IPAddress bind, int count) =>
        ParseAsync<Measurement>(InClientAsync("measure", remote.ToString(), Int(ServerTcpPort), "--bind", bind.ToString(), "--count", Int(count)));

    public Task<DnsProbe> QueryAsync(IPAddress server, string name, string type, IPAddress bind, int timeoutMs = 2000) =>
        ParseAsync<DnsProbe>(InClientAsync("dns-query", server.ToString(), name, type, "--bind", bind.ToString(), "--timeout-ms", Int(timeoutMs)));

    public Task<HttpProbe> HttpGetAsync(string url, IPAddress connect, IPAddress bind, int timeoutMs = 3000) =>
        ParseAsync<HttpProbe>(InClientAsync("http-get", url, "--connect", connect.ToString(), "--bind", bind.ToString(), "--timeout-ms", Int(timeoutMs)));

    /// <summary>
    /// The relay's record as it is now: the stats file is read once it has been rewritten after this call began, so
    /// it covers every frame relayed before the call (the hang guard, 10 s, only stops a dead relay from hanging).
    /// </summary>
    public async Task<RelayStats> RelayStatsAsync()
    {
        var path = this["RELAY_STATS"];
        var before = File.Exists(path) ? ParseRelayStats(await File.ReadAllLinesAsync(path)).Round : 0;
        for (var i = 0; i < 200; i++)
        {
            if (File.Exists(path) && ParseRelayStats(await File.ReadAllLinesAsync(path)) is { } stats && stats.Round >= before + 2)
            {
                return stats;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the relay's stats file {path} was not rewritten within 10 s (hang guard)");
    }

    private static RelayStats ParseRelayStats(string[] lines)
    {
        long round = 0;
        var directions = new List<RelayDirection>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 1 && fields[0].StartsWith("round=", StringComparison.Ordinal))
            {
                round = long.Parse(fields[0]["round=".Length..], NumberStyles.None, CultureInfo.InvariantCulture);
                continue;
            }

            var kv = fields.Skip(1).Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
            static double? Ms(string text) => text == "none" ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            directions.Add(new RelayDirection(fields[0], Ms(kv["delay_ms"])!.Value, long.Parse(kv["frames"], NumberStyles.None, CultureInfo.InvariantCulture),
                Ms(kv["min_held_ms"]), Ms(kv["max_held_ms"]), long.Parse(kv["early"], NumberStyles.None, CultureInfo.InvariantCulture)));
        }

        return new RelayStats(round, directions);
    }

    /// <summary>Packets the client has sent so far on each interface (lab.sh count).</summary>
    public async Task<PacketCounts> CountAsync()
    {
        var result = await LabProcess.RunAsync("bash", [Script, "count", RunId], TimeSpan.FromSeconds(30), ScriptEnvironment);
        Assert.True(result.ExitCode == 0, "lab.sh count failed:\n" + result);
        var counts = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => long.Parse(p[1], NumberStyles.None, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return new PacketCounts(counts["WIFI_TX_PACKETS"], counts["WIFI_TRANSPORT_PACKETS"], counts["CELL_TX_PACKETS"], counts["CELL_TRANSPORT_PACKETS"]);
    }

    private static async Task<T> ParseAsync<T>(Task<ProcessResult> run)
    {
        var result = await run;
        if (result.ExitCode > 1)
        {
            throw new InvalidOperationException("HeMif.Lab could not run the probe:\n" + result);
        }

        return JsonSerializer.Deserialize<T>(result.Stdout, Json) ?? throw new InvalidOperationException("HeMif.Lab printed nothing:\n" + result);
    }

    private static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);

    private IPAddress Address(string key) => IPAddress.Parse(this[key]);

    private int Number(string key) => int.Parse(this[key], NumberStyles.None, CultureInfo.InvariantCulture);

    private void TearDownAtExit(object? sender, EventArgs e)
    {
        if (runId is { } run)
        {
            LabProcess.RunAsync("bash", [Script, "down", run], TimeSpan.FromSeconds(30), ScriptEnvironment).GetAwaiter().GetResult();
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "lab", "lab.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no lab/lab.sh above {AppContext.BaseDirectory}");
    }
}

/// <summary>Every lab test shares one lab and runs one at a time (switches change the whole lab).</summary>
[CollectionDefinition(Name)]
public sealed class NetworkLab : ICollectionFixture<LabFixture>
{
    public const string Name = "network lab";
}
