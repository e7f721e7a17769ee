using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using HeMif.Multipath;

namespace HeMif.Transports.Mptcp;

/// <summary>An endpoint of the in-kernel path manager this manager created (and so may change and delete).</summary>
/// <param name="Id">The endpoint id it was created with.</param>
/// <param name="Interface">The interface (the endpoint's <c>dev</c>).</param>
/// <param name="Address">The local address.</param>
/// <param name="Subflow">Whether it has the <c>subflow</c> flag (the kernel opens a subflow from it).</param>
/// <param name="Backup">Whether it has the <c>backup</c> flag (its subflows are MP_PRIO backup, RFC 8684 §3.3.8).</param>
internal sealed record OwnedEndpoint(int Id, string Interface, IPAddress Address, bool Subflow, bool Backup);

/// <summary>
/// Applies a <see cref="SubflowPlan"/> through Linux's in-kernel MPTCP path manager with iproute2's
/// <c>ip mptcp endpoint</c> and <c>ip mptcp limits</c>, one endpoint per interface and address family:
/// <list type="bullet">
/// <item>Active (or a Primary that is not the connection's own address): a <c>subflow</c> endpoint, so the kernel
/// opens an additional subflow from that address; Backup: a <c>subflow backup</c> endpoint (the subflow is opened as
/// a backup, used only when no other subflow works, RFC 8684 §3.3.8).</item>
/// <item>The connection's own address (its initial subflow; before <see cref="Connected"/>, the plan's Primary): no
/// endpoint while it is Primary or Active. An endpoint there would add no subflow, and one flagged <c>backup</c> would
/// make the kernel mark the initial subflow backup. Demoted to Backup, it gets a flag-less endpoint changed to
/// <c>backup</c> (the change, not the add, sends MP_PRIO); an endpoint of ours that is already on that address is kept
/// and only its backup flag changed, because deleting it would close the initial subflow.</item>
/// <item>An interface the plan drops (excluded, lost) has the endpoints this manager made for it deleted, which
/// closes the subflows from its address.</item>
/// </list>
/// The kernel opens subflows for a connection only from endpoints that exist when the connection is created, or that
/// are added once it is fully established (after its first data is acknowledged): an endpoint added in between is
/// ignored for it. So a plan is applied before the race (<see cref="Connected"/> not yet called: every family, the
/// plan's Primary taken for the connection's own interface) and again once the winner is known (its family only; the
/// other family's endpoints are deleted). A role change is <c>ip mptcp endpoint change id N backup|nobackup</c>
/// (MP_PRIO on the live subflow, no new handshake). The manager only changes and deletes endpoints it created (by
/// their ids); an endpoint someone else made for the same address is left as it is and the log says so. It raises the
/// <c>subflows</c> limit when the plan needs more, remembers the limits it found, and puts them back on dispose unless
/// someone changed them since. The in-kernel path manager is one per network namespace: its endpoints apply to every
/// MPTCP connection of the namespace, which is why everything added is removed again. What to add, change and delete is
/// decided by <see cref="EndpointDiff"/> (no I/O); this class reads the kernel, runs <c>ip</c> and keeps what it owns.
/// </summary>
internal sealed class LinuxPathManager : IAsyncDisposable
{
    /// <summary>The in-kernel path manager's ceiling for both limits (<c>MPTCP_PM_ADDR_MAX</c>, 8).</summary>
    public const int MaxLimit = 8;

    private readonly ICommandRunner _runner;
    private readonly Func<string, AddressFamily, IPAddress?> _addressOf;
    private readonly KernelInterfaces _kernel;
    private readonly string _ip;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(string Interface, AddressFamily Family), OwnedEndpoint> _owned = [];
    private readonly List<Follower> _followers = [];
    private readonly Lock _followersLock = new();
    private IPAddress? _connectionAddress;
    private Limits? _previousLimits;
    private Limits? _setLimits;
    private bool _disposed;

    /// <param name="runner">Runs <c>ip</c>.</param>
    /// <param name="addressOf">An interface's usable address of a family, or null when it has none.</param>
    /// <param name="kernel">What the kernel reports: a name and an address are used only if it reports them.</param>
    /// <param name="ipCommand">The iproute2 program.</param>
    public LinuxPathManager(ICommandRunner runner, Func<string, AddressFamily, IPAddress?> addressOf, KernelInterfaces kernel, string ipCommand = "ip")
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(addressOf);
        ArgumentNullException.ThrowIfNull(kernel);
        _runner = runner;
        _addressOf = addressOf;
        _kernel = kernel;
        _ip = ipCommand;
    }

    /// <summary>The endpoints this manager created and has not deleted.</summary>
    internal IReadOnlyList<OwnedEndpoint> Owned
    {
        get
        {
            _gate.Wait();
            try
            {
                return [.. _owned.Values.OrderBy(o => o.Id)];
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// The connection is made from <paramref name="local"/>: from the next <see cref="ApplyAsync"/> on, only its family
    /// is planned, and its address is the initial subflow's.
    /// </summary>
    public void Connected(IPEndPoint local)
    {
        ArgumentNullException.ThrowIfNull(local);
        _gate.Wait();
        try
        {
            _connectionAddress = local.Address.IsIPv4MappedToIPv6 ? local.Address.MapToIPv4() : local.Address;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Makes the kernel's endpoints match <paramref name="plan"/> (see the class summary) and returns what it did, one
    /// line per command or decision. Throws <see cref="PathManagerException"/> naming the command and its stderr when
    /// <c>ip</c> fails; what was done before the failure stays recorded and is undone on dispose.
    /// </summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(SubflowPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var log = new List<string>();
            var desired = EndpointDiff.Desired(plan, _connectionAddress, _owned, _addressOf, log);

            // Drop first (an interface lost or excluded, a family not used, an address that changed), so ids are free again.
            foreach (var removal in EndpointDiff.Removals(plan, _owned, desired))
            {
                await RunAsync(log, removal.Why, cancellationToken, "mptcp", "endpoint", "delete", "id", Number(removal.Owned.Id)).ConfigureAwait(false);
                _owned.Remove(removal.Key);
            }

            await EnsureLimitsAsync(EndpointDiff.SubflowsNeeded(desired), log, cancellationToken).ConfigureAwait(false);

            List<KernelEndpoint>? existing = null;
            foreach (var (key, want) in desired)
            {
                var name = key.Interface;
                if (_owned.TryGetValue(key, out var owned))
                {
                    if (owned.Backup != want.Backup)
                    {
                        await RunAsync(log, $"{name}: {want.Role}", cancellationToken,
                            "mptcp", "endpoint", "change", "id", Number(owned.Id), want.Backup ? "backup" : "nobackup").ConfigureAwait(false);
                        _owned[key] = owned with { Backup = want.Backup };
                    }

                    continue;
                }

                if (!want.Subflow && !want.Backup)
                {
                    continue; // the connection's own address as Primary/Active: nothing to add
                }

                // The name and the address go to a child process: only what the kernel reports is used (issue 17, "a
                // hostile network": nothing HeMif passes to ip may be read as an option or a second command).
                if (_kernel.Refusal(name, want.Address) is { } refusal)
                {
                    log.Add($"{name}: not used for an endpoint: {refusal}");
                    continue;
                }

                existing ??= await ListAsync(cancellationToken).ConfigureAwait(false);
                if (existing.FirstOrDefault(e => e.Address.Equals(want.Address)) is { } foreign)
                {
                    log.Add($"{name}: endpoint id {foreign.Id} for {want.Address} exists and is not ours; left as it is ({foreign.Describe()})");
                    continue;
                }

                var id = EndpointDiff.FreeId(existing.Select(e => e.Id), _owned.Values.Select(o => o.Id))
                    ?? throw new PathManagerException("The in-kernel path manager has no free endpoint id (1-255 are all taken).");
                await RunAsync(log, $"{name}: {want.Role}", cancellationToken, EndpointDiff.AddArguments(want, name, id)).ConfigureAwait(false);
                _owned[key] = new OwnedEndpoint(id, name, want.Address, want.Subflow, want.Subflow && want.Backup);
                existing.Add(new KernelEndpoint(id, want.Address, name, want.Subflow, want.Subflow && want.Backup));
                if (!want.Subflow)
                {
                    // The connection's own address demoted to Backup: the change (not the add) sends MP_PRIO.
                    await RunAsync(log, $"{name}: {want.Role} (the initial subflow)", cancellationToken,
                        "mptcp", "endpoint", "change", "id", Number(id), "backup").ConfigureAwait(false);
                    _owned[key] = _owned[key] with { Backup = true };
                }
            }

            return log;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies every plan <paramref name="plans"/> publishes (the connector's <c>WatchSubflows</c>), one at a time and
    /// in order; plans that arrive while one is being applied are coalesced to the latest. <paramref name="applied"/>
    /// gets each plan with what was done, <paramref name="failed"/> each failure (following goes on). Dispose the
    /// result to stop following; disposing the manager stops it too.
    /// </summary>
    public IDisposable Follow(IObservable<SubflowPlan> plans, Action<SubflowPlan, IReadOnlyList<string>>? applied = null, Action<SubflowPlan, Exception>? failed = null)
    {
        ArgumentNullException.ThrowIfNull(plans);
        var follower = new Follower(this, applied, failed);
        lock (_followersLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _followers.Add(follower);
        }

        follower.Start(plans);
        return follower;
    }

    /// <summary>Stops following, deletes every endpoint this manager created and restores the limits it changed.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Follower> followers;
        lock (_followersLock)
        {
            followers = [.. _followers];
            _followers.Clear();
        }

        foreach (var follower in followers)
        {
            await follower.StopAsync().ConfigureAwait(false);
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            var errors = new List<string>();
            foreach (var (key, owned) in _owned.ToList())
            {
                var result = await _runner.RunAsync(_ip, ["mptcp", "endpoint", "delete", "id", Number(owned.Id)], CancellationToken.None).ConfigureAwait(false);
                if (result.ExitCode != 0 && !result.Stderr.Contains("not found", StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{key.Interface}: endpoint id {owned.Id}: {result.Stderr.Trim()}");
                }

                _owned.Remove(key);
            }

            if (_previousLimits is { } previous && _setLimits is { } set)
            {
                var now = await ReadLimitsAsync(CancellationToken.None).ConfigureAwait(false);
                if (now == set)
                {
                    var result = await _runner.RunAsync(_ip, LimitsArgs(previous), CancellationToken.None).ConfigureAwait(false);
                    if (result.ExitCode != 0)
                    {
                        errors.Add($"limits: {result.Stderr.Trim()}");
                    }
                }
            }

            if (errors.Count > 0)
            {
                throw new PathManagerException("The MPTCP path manager could not undo everything it did: " + string.Join("; ", errors));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task EnsureLimitsAsync(int subflows, List<string> log, CancellationToken cancellationToken)
    {
        if (subflows == 0)
        {
            return;
        }

        // Only the subflows limit gates the plan. add_addr_accepted (subflows toward addresses the peer announces) is
        // restated unchanged: raising it would open subflows the plan did not ask for.
        var current = await ReadLimitsAsync(cancellationToken).ConfigureAwait(false);
        var needed = Math.Min(subflows, MaxLimit);
        if (current.Subflows >= needed)
        {
            return;
        }

        var wanted = current with { Subflows = needed };
        await RunAsync(log, $"limits were {current}", cancellationToken, LimitsArgs(wanted)).ConfigureAwait(false);
        _previousLimits ??= current;
        _setLimits = wanted;
    }

    private async Task<Limits> ReadLimitsAsync(CancellationToken cancellationToken)
    {
        var result = await RunCheckedAsync(cancellationToken, "mptcp", "limits", "show").ConfigureAwait(false);
        return Limits.Parse(result.Stdout);
    }

    private async Task<List<KernelEndpoint>> ListAsync(CancellationToken cancellationToken)
    {
        var result = await RunCheckedAsync(cancellationToken, "-j", "mptcp", "endpoint", "show").ConfigureAwait(false);
        return KernelEndpoint.ParseList(result.Stdout);
    }

    private async Task RunAsync(List<string> log, string why, CancellationToken cancellationToken, params string[] args)
    {
        await RunCheckedAsync(cancellationToken, args).ConfigureAwait(false);
        log.Add($"{_ip} {string.Join(' ', args)}  ({why})");
    }

    private async Task<CommandResult> RunCheckedAsync(CancellationToken cancellationToken, params string[] args)
    {
        var result = await _runner.RunAsync(_ip, args, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            var stderr = result.Stderr.Trim();
            var hint = stderr.Contains("not permitted", StringComparison.OrdinalIgnoreCase) ? " (the in-kernel path manager needs CAP_NET_ADMIN: run as root)" : "";
            throw new PathManagerException($"'{_ip} {string.Join(' ', args)}' failed (exit {result.ExitCode}): {(stderr.Length == 0 ? "no message" : stderr)}{hint}");
        }

        return result;
    }

    private static string[] LimitsArgs(Limits limits) =>
        ["mptcp", "limits", "set", "subflows", Number(limits.Subflows), "add_addr_accepted", Number(limits.AddAddrAccepted)];

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The per-namespace limits (<c>ip mptcp limits show</c>: "add_addr_accepted 0 subflows 2"; iproute2 6.1 has no JSON for it).</summary>
    internal sealed record Limits(int AddAddrAccepted, int Subflows)
    {
        public static Limits Parse(string text)
        {
            var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            int? Value(string key)
            {
                var i = Array.IndexOf(words, key);
                return i >= 0 && i + 1 < words.Length && int.TryParse(words[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
            }

            return new Limits(Value("add_addr_accepted") ?? throw Bad(text), Value("subflows") ?? throw Bad(text));
        }

        public override string ToString() => $"subflows {Subflows} add_addr_accepted {AddAddrAccepted}";

        private static PathManagerException Bad(string text) => new($"'ip mptcp limits show' printed '{text.Trim()}', not 'add_addr_accepted N subflows N'.");
    }

    /// <summary>One endpoint as <c>ip -j mptcp endpoint show</c> prints it.</summary>
    internal sealed record KernelEndpoint(int Id, IPAddress Address, string? Device, bool Subflow, bool Backup)
    {
        public static List<KernelEndpoint> ParseList(string json)
        {
            try
            {
                using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
                return document.RootElement.EnumerateArray().Select(e => new KernelEndpoint(
                    e.GetProperty("id").GetInt32(),
                    IPAddress.Parse(e.GetProperty("address").GetString()!),
                    e.TryGetProperty("dev", out var dev) ? dev.GetString() : null,
                    e.TryGetProperty("subflow", out var subflow) && subflow.ValueKind == JsonValueKind.True,
                    e.TryGetProperty("backup", out var backup) && backup.ValueKind == JsonValueKind.True)).ToList();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new PathManagerException($"'ip -j mptcp endpoint show' printed something that is not its endpoint list: {json.Trim()}", e);
            }
        }

        public string Describe() => $"{Address}{(Device is null ? "" : " dev " + Device)}{(Subflow ? " subflow" : "")}{(Backup ? " backup" : "")}";
    }

    /// <summary>One <see cref="Follow"/> subscription: plans into a channel, one loop applying the latest.</summary>
    private sealed class Follower(LinuxPathManager manager, Action<SubflowPlan, IReadOnlyList<string>>? applied, Action<SubflowPlan, Exception>? failed) : IDisposable, IObserver<SubflowPlan>
    {
        private readonly Channel<SubflowPlan> _plans = Channel.CreateUnbounded<SubflowPlan>(new UnboundedChannelOptions { SingleReader = true });
        private readonly CancellationTokenSource _stop = new();
        private IDisposable? _subscription;
        private Task _loop = Task.CompletedTask;
        private Task? _stopping;

        public void Start(IObservable<SubflowPlan> plans)
        {
            _loop = Task.Run(LoopAsync);
            _subscription = plans.Subscribe(this);
        }

        public void OnNext(SubflowPlan value) => _plans.Writer.TryWrite(value);

        public void OnError(Exception error) => _plans.Writer.TryComplete();

        public void OnCompleted() => _plans.Writer.TryComplete();

        public void Dispose()
        {
            lock (manager._followersLock)
            {
                manager._followers.Remove(this);
            }

            _ = StopAsync();
        }

        /// <summary>Unsubscribes, stops the loop (an apply in progress is cancelled) and waits for it; idempotent.</summary>
        public Task StopAsync()
        {
            lock (_plans)
            {
                return _stopping ??= StopOnceAsync();
            }
        }

        private async Task StopOnceAsync()
        {
            _subscription?.Dispose();
            _plans.Writer.TryComplete();
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            try
            {
                while (await _plans.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    SubflowPlan? latest = null;
                    while (_plans.Reader.TryRead(out var plan))
                    {
                        latest = plan;
                    }

                    if (latest is null)
                    {
                        continue;
                    }

                    try
                    {
                        var actions = await manager.ApplyAsync(latest, _stop.Token).ConfigureAwait(false);
                        applied?.Invoke(latest, actions);
                    }
                    catch (Exception e) when (e is PathManagerException or ObjectDisposedException)
                    {
                        failed?.Invoke(latest, e);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // stopped
            }
        }
    }
}
