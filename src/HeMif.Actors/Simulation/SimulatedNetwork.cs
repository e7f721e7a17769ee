using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Simulation;

/// <summary>What a <see cref="NetworkOperation"/> records.</summary>
internal enum NetworkOperationKind
{
    ProbeStarted,
    ProbeAnswered,
    ResolveStarted,
    ResolveAnswered,
    ConnectStarted,
    Connected,
    ConnectFailed,
    Cancelled,
    Closed,
    PathChanged,
}

/// <summary>One thing the simulated network did: on which interface, what, and when (time since the network was made).</summary>
internal sealed record NetworkOperation(TimeSpan At, string Interface, NetworkOperationKind Kind, string Detail)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{At.TotalMilliseconds,9:0.###} ms {Interface,-8} {Kind,-15} {Detail}");
}

/// <summary>
/// A network of simulated interfaces (<c>docs/scenarios.md</c>), running on one <see cref="TimeProvider"/>. It hands
/// the engine the same seams a real host does: a connectivity <see cref="Probe"/>, a per-interface
/// <see cref="Resolver"/>, and the <see cref="Tcp"/> and <see cref="Quic"/> attempt transports.
/// <para>
/// Deterministic: every delayed answer is given inside a timer callback of the clock, and tasks complete without
/// <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>, so code awaiting them runs inline while the
/// virtual clock advances and its effects are visible before the clock moves on. Answers that need no time (link
/// down, no such family) are given before the call returns. Jitter and loss are drawn from one seeded generator per
/// interface: the same seed and the same calls give the same timings.
/// </para>
/// <para>
/// Cancellation completes an operation as cancelled at once and disposes its timer; a blackholed operation arms no
/// timer at all. Every operation is logged (<see cref="Log"/>), open connections are counted
/// (<see cref="OpenConnections"/>), and so are operations still waiting for an answer (<see cref="PendingOperations"/>).
/// </para>
/// </summary>
internal sealed class SimulatedNetwork
{
    /// <summary>The reason QUIC is unsupported when the scenario says the host has no QUIC.</summary>
    public const string QuicUnsupportedReason = "QUIC unsupported on this host (no libmsquic)";

    /// <summary>
    /// RFC 6298 §2.1: "Until a round-trip time (RTT) measurement has been made … the sender SHOULD set RTO &lt;- 1
    /// second"; §5.5: "The host MUST set RTO &lt;- RTO * 2 ("back off the timer")". RFC 9002's first PTO (3 × its 333 ms
    /// initial RTT) is the same 1 s, so QUIC Initials use the same schedule.
    /// </summary>
    public static readonly TimeSpan InitialRetransmissionTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly TimeProvider _clock;
    private readonly long _start;
    private readonly Dictionary<string, SimulatedPath> _paths;
    private readonly Dictionary<string, IReadOnlyList<IPAddress>> _destinations;
    private readonly int _seed;
    private readonly Dictionary<string, Random> _random = new(StringComparer.Ordinal);
    private readonly List<NetworkOperation> _log = [];
    private int _openConnections;
    private int _pendingOperations;
    private int _nextPort = 49152;

    /// <summary>Creates the network.</summary>
    /// <param name="paths">Each interface's path, by interface name; an interface not listed has <see cref="SimulatedPath.Default"/>.</param>
    /// <param name="destinations">What the resolvers answer: host name (case-insensitive) → addresses of both families.</param>
    /// <param name="quicSupported">Whether this host can open QUIC connections at all.</param>
    /// <param name="clock">The clock every delay runs on (a <see cref="VirtualClock"/> in practice).</param>
    /// <param name="seed">Seeds jitter and loss.</param>
    public SimulatedNetwork(
        IReadOnlyDictionary<string, SimulatedPath> paths,
        IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> destinations,
        bool quicSupported,
        TimeProvider clock,
        int seed)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(destinations);
        ArgumentNullException.ThrowIfNull(clock);
        _paths = new Dictionary<string, SimulatedPath>(paths, StringComparer.Ordinal);
        _destinations = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (host, addresses) in destinations)
        {
            _destinations[host.TrimEnd('.')] = addresses;
        }

        _clock = clock;
        _start = clock.GetTimestamp();
        _seed = seed;
        Probe = new SimulatedProbe(this);
        Resolver = new SimulatedResolver(this);
        Tcp = new SimulatedTransport(this, TransportName.Tcp, overUdp: false, null);
        Quic = new SimulatedTransport(this, TransportName.Quic, overUdp: true, quicSupported ? null : QuicUnsupportedReason);
        Udp = new SimulatedTransport(this, TransportName.Udp, overUdp: true, null);
    }

    /// <summary>The connectivity probe (draft §5.2.1).</summary>
    public ConnectivityProbe Probe { get; }

    /// <summary>The per-interface resolver (draft §7.3).</summary>
    public InterfaceResolver Resolver { get; }

    /// <summary>TCP attempts.</summary>
    public AttemptTransport Tcp { get; }

    /// <summary>QUIC attempts; <see cref="AttemptTransport.UnsupportedReason"/> is set when the host has no QUIC.</summary>
    public AttemptTransport Quic { get; }

    /// <summary>
    /// UDP request/response exchanges (draft §7.1): the destination's responder echoes the request one round trip later,
    /// resent on <see cref="DatagramExchange"/>'s backoff when the path loses it; <see cref="SimulatedPath.Udp"/> may block
    /// it or answer with ICMP port unreachable.
    /// </summary>
    public AttemptTransport Udp { get; }

    /// <summary>The engine's registry of this network's transports: QUIC, TCP and UDP exchanges, TCP alone for a request that names none.</summary>
    internal Race.TransportRegistry Transports => new([Tcp, Quic, Udp], [TransportName.Tcp]);

    /// <summary>Connections established and not yet disposed.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _openConnections;
            }
        }
    }

    /// <summary>Operations (probes, queries, attempts) still waiting for an answer or a cancellation.</summary>
    public int PendingOperations
    {
        get
        {
            lock (_lock)
            {
                return _pendingOperations;
            }
        }
    }

    /// <summary>Everything the network did so far, in order.</summary>
    public IReadOnlyList<NetworkOperation> Log
    {
        get
        {
            lock (_lock)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The transport named <paramref name="name"/> (<c>tcp</c>, <c>quic</c> or <c>udp</c>).</summary>
    public AttemptTransport TransportFor(TransportName name) =>
        name == TransportName.Quic ? Quic : name == TransportName.Tcp ? Tcp : name == TransportName.Udp ? Udp : throw new ArgumentException($"The simulated network has no transport '{name}'.", nameof(name));

    /// <summary>The operations logged on one interface.</summary>
    public IReadOnlyList<NetworkOperation> LogOf(string interfaceName)
    {
        lock (_lock)
        {
            return _log.Where(o => o.Interface == interfaceName).ToList();
        }
    }

    /// <summary>Time since the network was made, on its clock.</summary>
    public TimeSpan Now => _clock.GetElapsedTime(_start);

    private SimulatedPath PathOf(string interfaceName)
    {
        lock (_lock)
        {
            return _paths.TryGetValue(interfaceName, out var p) ? p : SimulatedPath.Default;
        }
    }

    /// <summary>
    /// From now on, <paramref name="interfaceName"/>'s path behaves as <paramref name="path"/> (a scenario's change):
    /// operations already under way keep the behaviour they started with, as packets already in flight would.
    /// </summary>
    /// <param name="interfaceName">The interface.</param>
    /// <param name="path">Its path's whole behaviour from now on.</param>
    /// <param name="description">What happened, in words, for the log.</param>
    public void SetPath(string interfaceName, SimulatedPath path, string description)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        ArgumentNullException.ThrowIfNull(path);
        lock (_lock)
        {
            _paths[interfaceName] = path;
        }

        Record(interfaceName, NetworkOperationKind.PathChanged, description);
    }

    private void Record(string interfaceName, NetworkOperationKind kind, string detail)
    {
        var at = Now;
        lock (_lock)
        {
            _log.Add(new NetworkOperation(at, interfaceName, kind, detail));
        }
    }

    private static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";

    /// <summary>The time from the first send to the (n+1)-th: 1 s, then 2 s more, then 4 s more…</summary>
    private static TimeSpan RetransmissionOffset(int lostTries) =>
        InitialRetransmissionTimeout * ((1L << lostTries) - 1);

    /// <summary>How many of an attempt's tries are lost, and its jitter; draws only what the path needs.</summary>
    private (int Lost, TimeSpan Jitter) Draw(string interfaceName, SimulatedPath path)
    {
        lock (_lock)
        {
            if (path.Loss <= 0 && path.Jitter <= TimeSpan.Zero)
            {
                return (0, TimeSpan.Zero);
            }

            if (!_random.TryGetValue(interfaceName, out var random))
            {
                // A stable per-interface stream (string.GetHashCode is randomised per process): one interface's draws
                // never shift another's.
#pragma warning disable CA5394 // Simulated jitter and loss, not security: a seeded, reproducible generator is the point.
                random = new Random(_seed ^ StableHash(interfaceName));
                _random[interfaceName] = random;
            }

            var lost = 0;
            while (path.Loss > 0 && lost < path.MaxTries && random.NextDouble() < path.Loss)
            {
                lost++;
            }

            var jitter = path.Jitter > TimeSpan.Zero ? TimeSpan.FromTicks((long)(random.NextDouble() * path.Jitter.Ticks)) : TimeSpan.Zero;
#pragma warning restore CA5394
            return (lost, jitter);
        }
    }

    /// <summary>FNV-1a over the name's UTF-16 code units.</summary>
    private static int StableHash(string s)
    {
        var h = 2166136261u;
        foreach (var c in s)
        {
            h = (h ^ c) * 16777619u;
        }

        return unchecked((int)h);
    }

    private Task<T> Schedule<T>(string interfaceName, string what, TimeSpan? delay, Action<TaskCompletionSource<T>> complete, CancellationToken cancellationToken)
    {
        var operation = new Operation<T>(this, interfaceName, what, complete);
        lock (_lock)
        {
            _pendingOperations++;
        }

        operation.Start(delay, cancellationToken);
        return operation.Task;
    }

    private void Ended()
    {
        lock (_lock)
        {
            _pendingOperations--;
        }
    }

    private SimulatedConnection Open(InterfaceFacts networkInterface, IPEndPoint remote, TransportName protocol)
    {
        int port;
        lock (_lock)
        {
            _openConnections++;
            port = _nextPort++;
        }

        var local = networkInterface.Addresses.FirstOrDefault(a => a.Address.AddressFamily == remote.AddressFamily)?.Address;
        var connection = new SimulatedConnection(this, networkInterface.Name, $"{protocol.Value.ToUpperInvariant()} {remote}",
            local is null ? null : new IPEndPoint(local, port), remote);
        Record(networkInterface.Name, NetworkOperationKind.Connected, connection.What);
        return connection;
    }

    private void Close(SimulatedConnection connection)
    {
        lock (_lock)
        {
            _openConnections--;
        }

        Record(connection.Interface, NetworkOperationKind.Closed, connection.What);
    }

    private Task<T> Immediately<T>(string interfaceName, NetworkOperationKind kind, string detail, T result)
    {
        Record(interfaceName, kind, detail);
        return Task.FromResult(result);
    }

    private Task<ConnectedPath> FailNow(string interfaceName, string what, string error)
    {
        Record(interfaceName, NetworkOperationKind.ConnectFailed, what + ": " + error);
        return Task.FromException<ConnectedPath>(new AttemptFailedException(AttemptFailureKind.Hard, $"{error} ({what} on {interfaceName})"));
    }

    private Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ValidationResult>(cancellationToken);
        }

        var name = networkInterface.Name;
        var path = PathOf(name);
        Record(name, NetworkOperationKind.ProbeStarted, "connectivity check");
        if (path.LinkDown || path.Probe == ValidationState.Down)
        {
            return Immediately(name, NetworkOperationKind.ProbeAnswered, "Down: the link is down", new ValidationResult(ValidationState.Down, "the link is down"));
        }

        var (delay, result) = ProbeVerdict(path);
        if (delay is null)
        {
            return Immediately(name, NetworkOperationKind.ProbeAnswered, result.State + ": " + result.Detail, result);
        }

        return Schedule<ValidationResult>(name, "connectivity check", delay, tcs =>
        {
            Record(name, NetworkOperationKind.ProbeAnswered, result.State + ": " + result.Detail);
            tcs.TrySetResult(result);
        }, cancellationToken);
    }

    /// <summary>What the probe finds on <paramref name="path"/> and after how long (null: at once).</summary>
    private static (TimeSpan? Delay, ValidationResult Result) ProbeVerdict(SimulatedPath path)
    {
        AddressFamily[] present = [.. new[] { AddressFamily.InterNetworkV6, AddressFamily.InterNetwork }.Where(f => path.BehaviorFor(f) != FamilyBehavior.Absent)];
        var rtt = present.Length == 0 ? path.Rtt : present.Min(path.RttFor);
        if (path.Probe is { } forced)
        {
            return (rtt, new ValidationResult(forced, $"{forced} (as the scenario states)", forced == ValidationState.CaptivePortal ? path.CaptivePortal : null));
        }

        if (path.CaptivePortal is { } portal)
        {
            return (rtt, new ValidationResult(ValidationState.CaptivePortal, $"the check was redirected to {portal}", portal));
        }

        if (path.DnsInterception is { } fake)
        {
            return (rtt, new ValidationResult(ValidationState.DnsIntercepted, $"the resolver answered the check server's name with {string.Join(", ", fake)}"));
        }

        foreach (var f in present.Where(f => path.BehaviorFor(f) == FamilyBehavior.Ok).OrderBy(path.RttFor))
        {
            return (path.RttFor(f), new ValidationResult(ValidationState.Validated, $"the check server answered over {FamilyName(f)}"));
        }

        foreach (var f in present.Where(f => path.BehaviorFor(f) is FamilyBehavior.Reject or FamilyBehavior.Unreachable))
        {
            var reject = path.BehaviorFor(f) == FamilyBehavior.Reject;
            return (reject ? path.RttFor(f) : path.RttFor(f) / 2,
                new ValidationResult(ValidationState.NoConnectivity, $"the check failed: {(reject ? "connection refused" : "host unreachable")} over {FamilyName(f)}"));
        }

        return present.Length > 0
            ? (path.ProbeTimeout, new ValidationResult(ValidationState.NoConnectivity, $"no answer from the check server within {Ms(path.ProbeTimeout)}"))
            : (null, new ValidationResult(ValidationState.NoConnectivity, "no IPv6 or IPv4 connectivity"));
    }

    private Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "Resolve IPv6 (AAAA) or IPv4 (A).");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ResolveResult>(cancellationToken);
        }

        var name = networkInterface.Name;
        var path = PathOf(name);
        var query = (family == AddressFamily.InterNetworkV6 ? "AAAA " : "A ") + host;
        Record(name, NetworkOperationKind.ResolveStarted, query);
        if (path.LinkDown)
        {
            return Immediately(name, NetworkOperationKind.ResolveAnswered, query + ": network is down", ResolveResult.Failure("network is down"));
        }

        if (IPAddress.TryParse(host, out var literal))
        {
            IReadOnlyList<IPAddress> same = literal.AddressFamily == family ? [literal] : [];
            return Immediately(name, NetworkOperationKind.ResolveAnswered, query + " → " + Describe(same), new ResolveResult(same));
        }

        var delay = path.DnsDelayFor(family);
        ResolveResult answer;
        switch (path.Dns)
        {
            case DnsBehavior.Timeout:
                delay = path.DnsTimeout;
                answer = ResolveResult.Failure("timed out after " + Ms(path.DnsTimeout));
                break;
            case DnsBehavior.Servfail:
                answer = ResolveResult.Failure("SERVFAIL");
                break;
            case DnsBehavior.Nxdomain:
                answer = ResolveResult.Failure("NXDOMAIN");
                break;
            default:
                if (path.DnsInterception is { } fake)
                {
                    answer = new ResolveResult(fake.Where(a => a.AddressFamily == family).ToList());
                }
                else if (_destinations.TryGetValue(host.TrimEnd('.'), out var addresses))
                {
                    answer = new ResolveResult(addresses.Where(a => a.AddressFamily == family).ToList());
                }
                else
                {
                    answer = ResolveResult.Failure("NXDOMAIN");
                }

                break;
        }

        return Schedule<ResolveResult>(name, query, delay, tcs =>
        {
            Record(name, NetworkOperationKind.ResolveAnswered, query + (answer.Error is { } e ? ": " + e : " → " + Describe(answer.Addresses)));
            tcs.TrySetResult(answer);
        }, cancellationToken);
    }

    private static string Describe(IReadOnlyList<IPAddress> addresses) =>
        addresses.Count == 0 ? "no addresses" : string.Join(", ", addresses);

    private Task<ConnectedPath> ConnectAsync(TransportName protocol, bool overUdp, string? unsupported, InterfaceFacts networkInterface, IPEndPoint remote,
        DatagramExchange? exchange, CancellationToken cancellationToken)
    {
        if (protocol == TransportName.Udp)
        {
            return ExchangeAsync(networkInterface, remote, exchange, cancellationToken);
        }

        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(remote);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ConnectedPath>(cancellationToken);
        }

        var name = networkInterface.Name;
        var path = PathOf(name);
        var family = remote.AddressFamily;
        var what = $"{protocol.Value.ToUpperInvariant()} {remote}";
        Record(name, NetworkOperationKind.ConnectStarted, what);
        if (unsupported is not null)
        {
            return FailNow(name, what, unsupported);
        }

        if (path.LinkDown)
        {
            return FailNow(name, what, "network is down");
        }

        var behavior = path.BehaviorFor(family);
        if (behavior == FamilyBehavior.Absent)
        {
            return FailNow(name, what, "network unreachable");
        }

        if (overUdp && (path.Quic == QuicBehavior.Blocked || path.Udp == UdpBehavior.Blocked))
        {
            behavior = FamilyBehavior.Blackhole;
        }

        if (behavior == FamilyBehavior.Blackhole)
        {
            return Schedule<ConnectedPath>(name, what, null, _ => { }, cancellationToken);
        }

        var (lost, jitter) = Draw(name, path);
        if (lost == path.MaxTries)
        {
            var tries = path.MaxTries + (overUdp ? " Initials" : " SYNs");
            return Schedule<ConnectedPath>(name, what, RetransmissionOffset(lost), tcs =>
            {
                Record(name, NetworkOperationKind.ConnectFailed, $"{what}: timed out ({tries} lost)");
                tcs.TrySetException(new AttemptFailedException(AttemptFailureKind.Soft, $"timed out ({what} on {name}; {tries} unanswered)"));
            }, cancellationToken);
        }

        var roundTrip = path.RttFor(family) + jitter;
        var delay = RetransmissionOffset(lost) + (behavior == FamilyBehavior.Unreachable ? roundTrip / 2 : roundTrip);
        return Schedule<ConnectedPath>(name, what, delay, tcs =>
        {
            switch (behavior)
            {
                case FamilyBehavior.Ok:
                    tcs.TrySetResult(Open(networkInterface, remote, protocol));
                    break;
                default:
                    var error = behavior == FamilyBehavior.Reject ? "connection refused" : "host unreachable";
                    Record(name, NetworkOperationKind.ConnectFailed, what + ": " + error);
                    tcs.TrySetException(new AttemptFailedException(AttemptFailureKind.Hard, $"{error} ({what} on {name})"));
                    break;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// One try of a UDP exchange, as <c>UdpExchangeTransport</c> makes it on a real host: sends on the documented backoff
    /// (0, 1, 3, 7 s; <see cref="DatagramExchange"/>) while the path loses them, an answer one round trip after the send
    /// that got through (the responder echoes the request; one the matcher does not take is ignored, and the try waits on),
    /// silence where UDP is blocked, ICMP port unreachable (hard) where nothing listens, and a soft failure 8 s after the
    /// fourth send was lost.
    /// </summary>
    private Task<ConnectedPath> ExchangeAsync(InterfaceFacts networkInterface, IPEndPoint remote, DatagramExchange? exchange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(remote);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ConnectedPath>(cancellationToken);
        }

        var name = networkInterface.Name;
        var path = PathOf(name);
        var what = $"UDP {remote}";
        Record(name, NetworkOperationKind.ConnectStarted, what);
        if (exchange is null)
        {
            return FailNow(name, what, "the udp transport carries request/response exchanges only (IHeMifConnector.ExchangeAsync); this attempt has no request datagram");
        }

        if (path.LinkDown)
        {
            return FailNow(name, what, "network is down");
        }

        var behavior = path.BehaviorFor(remote.AddressFamily);
        if (behavior == FamilyBehavior.Absent)
        {
            return FailNow(name, what, "network unreachable");
        }

        var response = exchange.Request.ToArray();
        if (behavior == FamilyBehavior.Blackhole || path.Udp == UdpBehavior.Blocked || path.Quic == QuicBehavior.Blocked || !exchange.Matches(response))
        {
            // Nothing comes back that the try would take: it waits until the race or its own deadline ends it.
            return Schedule<ConnectedPath>(name, what, null, _ => { }, cancellationToken);
        }

        var (lost, jitter) = Draw(name, path with { MaxTries = DatagramExchange.MaxSends });
        if (lost == DatagramExchange.MaxSends)
        {
            return Schedule<ConnectedPath>(name, what, RetransmissionOffset(lost), tcs =>
            {
                Record(name, NetworkOperationKind.ConnectFailed, $"{what}: no answer ({lost} sends lost)");
                tcs.TrySetException(new AttemptFailedException(AttemptFailureKind.Soft, $"no answer from {remote} on {name} ({lost} sends unanswered)"));
            }, cancellationToken);
        }

        var roundTrip = path.RttFor(remote.AddressFamily) + jitter;
        var refused = path.Udp == UdpBehavior.PortUnreachable || behavior == FamilyBehavior.Reject;
        var delay = RetransmissionOffset(lost) + (behavior == FamilyBehavior.Unreachable ? roundTrip / 2 : roundTrip);
        return Schedule<ConnectedPath>(name, what, delay, tcs =>
        {
            if (refused || behavior == FamilyBehavior.Unreachable)
            {
                var error = refused ? "ICMP port unreachable" : "ICMP host unreachable";
                Record(name, NetworkOperationKind.ConnectFailed, what + ": " + error);
                tcs.TrySetException(new AttemptFailedException(AttemptFailureKind.Hard, $"{error} ({remote} on {name})"));
                return;
            }

            var local = networkInterface.Addresses.FirstOrDefault(a => a.Address.AddressFamily == remote.AddressFamily)?.Address;
            Record(name, NetworkOperationKind.Connected, $"{what}: answered ({response.Length} bytes) after {lost + 1} {(lost == 0 ? "send" : "sends")}");
            tcs.TrySetResult(new DatagramAnswer(response, local is null ? null : new IPEndPoint(local, 49152), remote, lost + 1, 0, ""));
        }, cancellationToken);
    }

    /// <summary>One operation waiting for its timer (or, blackholed, for nothing) or its cancellation.</summary>
    private sealed class Operation<T>(SimulatedNetwork owner, string interfaceName, string what, Action<TaskCompletionSource<T>> complete)
    {
        // No RunContinuationsAsynchronously: awaiting code runs inline inside the clock's Advance.
        private readonly TaskCompletionSource<T> _tcs = new();
        private readonly Lock _lock = new();
        private ITimer? _timer;
        private CancellationTokenRegistration _registration;
        private CancellationToken _token;
        private bool _done;

        public Task<T> Task => _tcs.Task;

        public void Start(TimeSpan? delay, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _token = cancellationToken;
                _registration = cancellationToken.UnsafeRegister(static s => ((Operation<T>)s!).Cancel(), this);
                if (!_done && delay is { } d)
                {
                    _timer = owner._clock.CreateTimer(static s => ((Operation<T>)s!).Fire(), this, d, Timeout.InfiniteTimeSpan);
                }
            }
        }

        private bool Claim(out ITimer? timer)
        {
            lock (_lock)
            {
                timer = _timer;
                if (_done)
                {
                    return false;
                }

                _done = true;
                return true;
            }
        }

        private void Fire()
        {
            if (!Claim(out var timer))
            {
                return;
            }

            timer?.Dispose();
            _registration.Unregister();
            owner.Ended();
            complete(_tcs);
        }

        private void Cancel()
        {
            if (!Claim(out var timer))
            {
                return;
            }

            timer?.Dispose();
            owner.Ended();
            owner.Record(interfaceName, NetworkOperationKind.Cancelled, what);
            _tcs.TrySetCanceled(_token);
        }
    }

    private sealed class SimulatedConnection(SimulatedNetwork owner, string interfaceName, string what, IPEndPoint? local, IPEndPoint remote) : ConnectedPath
    {
        private int _closed;

        public string Interface => interfaceName;

        public string What => what;

        public override IPEndPoint? LocalEndPoint => local;

        public override IPEndPoint RemoteEndPoint => remote;

        public override Stream Stream => System.IO.Stream.Null;

        public override ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                owner.Close(this);
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class SimulatedProbe(SimulatedNetwork owner) : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) =>
            owner.ProbeAsync(networkInterface, cancellationToken);
    }

    private sealed class SimulatedResolver(SimulatedNetwork owner) : InterfaceResolver
    {
        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            owner.ResolveAsync(networkInterface, host, family, cancellationToken);
    }

    private sealed class SimulatedTransport(SimulatedNetwork owner, TransportName name, bool overUdp, string? unsupportedReason) : AttemptTransport
    {
        public override TransportName Name => name;

        public override bool RunsOverUdp => overUdp;

        public override string? UnsupportedReason => unsupportedReason;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(context);
            return owner.ConnectAsync(name, overUdp, unsupportedReason, context.Interface, context.Remote, context.Exchange, cancellationToken);
        }
    }
}
