using System.Net;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using System.Reactive.Threading.Tasks;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Kernel;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Resolve;
using HeMif.Sort;
using HeMif.Validate;

namespace HeMif.Engine;

/// <summary>What an engine is made of: the interfaces, the policy, the executors, the clock and the timings.</summary>
internal sealed record EngineOptions
{
    public required IReadOnlyList<InterfaceFacts> Interfaces { get; init; }

    public HeMifPolicy Policy { get; init; } = HeMifPolicy.Empty;

    public required IConnectivityProbe Probe { get; init; }

    public required IInterfaceResolver Resolver { get; init; }

    public required IAttemptTransport Tcp { get; init; }

    /// <summary>The QUIC transport; null or unsupported means QUIC candidates are skipped (said once per race).</summary>
    public IAttemptTransport? Quic { get; init; }

    /// <summary>
    /// The QUIC path probe; null: none. With one, a request that may use QUIC on an interface whose history has no QUIC
    /// verdict for its destination starts a probe there in the background (never delaying the race), and the verdict
    /// is cached with the interface's outcomes, so later requests plan no QUIC attempt where QUIC is known blocked.
    /// </summary>
    public IQuicPathProbe? QuicProbe { get; init; }

    public RaceSettings Race { get; init; } = new();

    public ValidationSettings Validation { get; init; } = new();

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Sees every interface state change from the very first (subscribed before any supervisor starts; a subscription
    /// to <see cref="HeMifEngine.InterfaceStates"/> made after the constructor can miss the first "Validating").
    /// </summary>
    public IObserver<InterfaceStateChanged>? InterfaceStateObserver { get; init; }

    /// <summary>Track quiescence in the actor system (virtual-time runs: the simulator, tests).</summary>
    public bool TrackQuiescence { get; init; }

    /// <summary>How long the engine waits for its own actors to answer (on its clock).</summary>
    public TimeSpan InternalAskTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The HE-MIF engine (DESIGN.md §1): one <see cref="InterfaceSupervisor"/> per interface (validate, remember), a
/// <see cref="PolicyActor"/> (filter, sort) and a <see cref="RacerActor"/> per request (resolve, race, report).
/// Every state change is an <see cref="IObservable{T}"/> that completes when the engine is disposed.
/// </summary>
internal sealed class HeMifEngine : IAsyncDisposable
{
    private readonly EngineOptions _options;
    private readonly ActorSystem _system;
    private readonly IActorRef _policy;
    private readonly Lock _supervisorsLock = new();

    // One supervisor per interface. Replaced whole when an interface is added, never changed in place, so a request
    // works with the set as it was when it started.
    private volatile IReadOnlyDictionary<string, IActorRef> _supervisors = new Dictionary<string, IActorRef>(StringComparer.Ordinal);
    private readonly ISubject<InterfaceStateChanged> _interfaceStates = Subject.Synchronize(new Subject<InterfaceStateChanged>());
    private readonly ISubject<RaceEvent> _raceEvents = Subject.Synchronize(new Subject<RaceEvent>());
    private readonly ISubject<SubflowPlan> _subflows = Subject.Synchronize(new Subject<SubflowPlan>());
    private readonly LatestStates _latest = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IActorRef, byte> _racers = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<IActorRef, byte> _watchers = new();
    private int _disposed;
    private long _requests;
    private long _supervisorCount;

    // How many interfaces of the set have no state yet (under _supervisorsLock): with the latest states' count of
    // unexamined ones, AllExamined is O(1). It is read after every state change (the simulator, the connector's first
    // request), so a scan of every interface there made thousands of interfaces quadratic.
    private int _withoutState;

    public HeMifEngine(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Race.Validate();
        var duplicate = options.Interfaces.GroupBy(i => i.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Interface '{duplicate.Key}' is listed twice.", nameof(options));
        }

        _options = options;
        _system = ActorSystem.Create("hemif", new ActorSystemSettings
        {
            TimeProvider = options.TimeProvider,
            TrackQuiescence = options.TrackQuiescence,
            DefaultAskTimeout = options.InternalAskTimeout,
        });
        _policy = _system.ActorOf(Props.Create(() => new PolicyActor(options.Policy)), "policy");
        if (options.InterfaceStateObserver is { } observer)
        {
            _interfaceStates.Subscribe(observer);
        }

        // Under the lock: a supervisor's first state must find it in the set (PublishInterfaceState takes the lock).
        lock (_supervisorsLock)
        {
            var supervisors = new Dictionary<string, IActorRef>(StringComparer.Ordinal);
            foreach (var facts in options.Interfaces)
            {
                supervisors[facts.Name] = StartSupervisor(facts);
            }

            _supervisors = supervisors;
            _withoutState = supervisors.Count;
        }
    }

    /// <summary>
    /// An interface that appeared after start (a cellular modem coming up, a VPN connecting): it gets a supervisor and
    /// its first examination now, and joins requests once validated (draft §5.2.1: until then it is "unconnected").
    /// Throws <see cref="ArgumentException"/> for a name already known (new facts for it go to <see cref="UpdateInterface"/>).
    /// </summary>
    public void AddInterface(InterfaceFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentException.ThrowIfNullOrWhiteSpace(facts.Name, nameof(facts));
        lock (_supervisorsLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_supervisors.ContainsKey(facts.Name))
            {
                throw new ArgumentException($"Interface '{facts.Name}' is already known; new facts for it go to UpdateInterface.", nameof(facts));
            }

            IActorRef supervisor;
            try
            {
                supervisor = StartSupervisor(facts);
            }
            catch (InvalidOperationException) when (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(HeMifEngine), $"The engine was disposed before interface '{facts.Name}' could be added.");
            }

            _supervisors = new Dictionary<string, IActorRef>(_supervisors, StringComparer.Ordinal) { [facts.Name] = supervisor };
            if (!_latest.Contains(facts.Name))
            {
                _withoutState++;
            }
        }
    }

    /// <summary>
    /// An interface that is gone from the host: it is said Down once (races drop it, subflow watches re-plan without
    /// it), leaves the engine's set and its current states, and its supervisor stops after answering the requests that
    /// asked it just before (within the internal ask timeout). Adding it again later starts afresh.
    /// Throws <see cref="ArgumentException"/> for an unknown name.
    /// </summary>
    public void RemoveInterface(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        IActorRef supervisor;
        lock (_supervisorsLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (!_supervisors.TryGetValue(name, out supervisor!))
            {
                throw new ArgumentException($"Unknown interface '{name}'; known: {string.Join(", ", _supervisors.Keys)}.", nameof(name));
            }

            var remaining = new Dictionary<string, IActorRef>(_supervisors, StringComparer.Ordinal);
            remaining.Remove(name);
            _supervisors = remaining;
            if (!_latest.Contains(name))
            {
                _withoutState--;
            }
        }

        supervisor.Tell(new ValidateMessages.Retire(_options.InternalAskTimeout));
    }

    // The actor's name is generated (an interface name is data: any text, which actor names do not allow), with a
    // sequence number: a removed interface's supervisor may still linger when the name comes back.
    private IActorRef StartSupervisor(InterfaceFacts facts) => _system.ActorOf(
        Props.Create(() => new InterfaceSupervisor(facts, _options.Probe, _options.Validation, PublishInterfaceState, _options.QuicProbe)),
        ActorNames.InterfaceSupervisor(facts.Name, Interlocked.Increment(ref _supervisorCount)));

    /// <summary>Every validation state change of every interface.</summary>
    public IObservable<InterfaceStateChanged> InterfaceStates => _interfaceStates.AsObservable();

    /// <summary>Every timeline event of every race.</summary>
    public IObservable<RaceEvent> RaceEvents => _raceEvents.AsObservable();

    /// <summary>Every subflow suggestion issued by any <see cref="WatchSubflows"/> subscription.</summary>
    public IObservable<SubflowPlan> SubflowSuggestions => _subflows.AsObservable();

    /// <summary>
    /// Whether every interface has had its first examination (none Unknown or Validating): only then can a request see
    /// them all as validated or not (draft §5.2.1).
    /// </summary>
    public bool AllExamined
    {
        get
        {
            lock (_supervisorsLock)
            {
                return _withoutState == 0 && _latest.UnexaminedCount == 0;
            }
        }
    }

    /// <summary>The actor system (for virtual-time drivers: <see cref="ActorSystem.WhenIdleAsync"/>).</summary>
    internal ActorSystem System => _system;

    /// <summary>The latest known state of each interface.</summary>
    public IReadOnlyDictionary<string, InterfaceStateChanged> CurrentStates => _latest.Snapshot();

    /// <summary>
    /// Runs one request through filter, validation, sort, resolution and the race. Returns the result whether or not
    /// anything connected (the report says why); throws <see cref="OperationCanceledException"/> when the caller
    /// cancels before a connection was made.
    /// </summary>
    public Task<RaceResult> ConnectAsync(ConnectionRequest request, CancellationToken cancellationToken = default) =>
        ConnectAsync(request, tcp: null, cancellationToken);

    /// <summary>
    /// Runs one request whose TCP attempts use <paramref name="tcp"/> instead of the engine's TCP transport (null: the
    /// engine's): a multipath request races MPTCP sockets, every other part of the request is the same.
    /// </summary>
    public async Task<RaceResult> ConnectAsync(ConnectionRequest request, IAttemptTransport? tcp, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (completion, requestActor) = Start(request, tcp);
        using var registration = cancellationToken.Register(() => requestActor.Tell(new RaceMessages.CancelRace("the caller cancelled")));
        RaceResult result;
        try
        {
            result = await completion.ConfigureAwait(false);
        }
        catch (TaskCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The connection request was cancelled.", cancellationToken);
        }

        if (cancellationToken.IsCancellationRequested && result.Connection is null)
        {
            throw new OperationCanceledException("The connection request was cancelled.", cancellationToken);
        }

        return result;
    }

    /// <summary>
    /// Starts a request and returns the task its racer completes (virtual-time drivers watch it: it completes inside
    /// the actor that decides, so nothing is left in flight when it does).
    /// </summary>
    internal (Task<RaceResult> Completion, IActorRef Request) Start(ConnectionRequest request, IAttemptTransport? tcp = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var completion = new TaskCompletionSource<RaceResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = new RequestContext(tcp is null ? _options : _options with { Tcp = tcp }, _supervisors, _policy, PublishRaceEvent, RegisterRacer);
        var actor = _system.ActorOf(Props.Create(() => new RequestActor(request, context, completion)), "request-" + Interlocked.Increment(ref _requests));
        return (completion.Task, actor);
    }

    /// <summary>Why this engine cannot open QUIC connections (no QUIC transport, or the host lacks QUIC), or null when it can.</summary>
    public string? QuicUnsupportedReason => QuicUnsupported(_options.Quic);

    /// <summary>
    /// Probes now whether UDP/QUIC reaches <paramref name="host"/>:<paramref name="port"/> through each interface (or
    /// only <paramref name="interfaceName"/>), in parallel; every verdict is also cached like a background one.
    /// Throws <see cref="InvalidOperationException"/> when the engine has no QUIC path probe and
    /// <see cref="ArgumentException"/> for an unknown interface.
    /// </summary>
    public async Task<IReadOnlyList<QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var destination = new Remember.Destination(host, port);
        if (_options.QuicProbe is null)
        {
            throw new InvalidOperationException("This engine has no QUIC path probe.");
        }

        var supervisors = _supervisors;
        if (interfaceName is not null && !supervisors.ContainsKey(interfaceName))
        {
            throw new ArgumentException($"Unknown interface '{interfaceName}'; known: {string.Join(", ", supervisors.Keys)}.", nameof(interfaceName));
        }

        var asked = supervisors.Where(s => interfaceName is null || s.Key == interfaceName).OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
        var verdicts = await Task.WhenAll(asked.Select(s => s.Value.Ask<QuicPathVerdict>(new ValidateMessages.ProbeQuicNow(destination), cancellationToken: cancellationToken))).ConfigureAwait(false);
        return verdicts;
    }

    /// <summary>Why <paramref name="quic"/> cannot be used, or null when it can.</summary>
    internal static string? QuicUnsupported(IAttemptTransport? quic) =>
        quic is null ? "QUIC unsupported: no QUIC transport is configured" : quic.UnsupportedReason;

    /// <summary>
    /// Which interfaces may carry subflows of a multipath connection for <paramref name="request"/> now: the same
    /// snapshots (validate) and plan (filter, sort) a race would use, then <see cref="SubflowPlanner"/>.
    /// </summary>
    public async Task<SubflowPlan> PlanSubflowsAsync(ConnectionRequest request, MultipathMode mode, string trigger, CancellationToken cancellationToken = default)
    {
        try
        {
            return await Watch(request, mode, trigger).FirstAsync().ToTask(cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(HeMifEngine), "The engine was disposed before the subflow plan was made.");
        }
    }

    /// <summary>
    /// Subflow suggestions for <paramref name="request"/>: the first plan at once, then a new one each time an interface
    /// change alters an assignment (Wi-Fi lost: move to cellular; Wi-Fi back: return). Suggestions that change nothing
    /// (a periodic re-validation) are not repeated. Each subscription has its own watcher actor; observers are called
    /// on it, one suggestion at a time. Completes when the engine is disposed.
    /// </summary>
    public IObservable<SubflowPlan> WatchSubflows(ConnectionRequest request, MultipathMode mode) => Watch(request, mode, "first plan");

    private IObservable<SubflowPlan> Watch(ConnectionRequest request, MultipathMode mode, string firstTrigger)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(firstTrigger);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown multipath mode.");
        }

        return Observable.Create<SubflowPlan>(observer =>
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                observer.OnCompleted();
                return Disposable.Empty;
            }

            var watch = new SubflowWatch(request, mode, firstTrigger, () => [.. _supervisors.Values], _policy, observer, _subflows.OnNext);
            var watcher = _system.ActorOf(Props.Create(() => new SubflowWatcher(watch)), "subflows-" + Interlocked.Increment(ref _requests));
            _watchers.TryAdd(watcher, 0);
            return Disposable.Create(() =>
            {
                _watchers.TryRemove(watcher, out _);
                _system.Stop(watcher);
            });
        });
    }

    /// <summary>Replaces the policy; applies to the next request.</summary>
    public Task UpdatePolicyAsync(HeMifPolicy policy, CancellationToken cancellationToken = default) =>
        _policy.Ask<HeMifPolicy>(new PolicyMessages.UpdatePolicy(policy), cancellationToken: cancellationToken);

    /// <summary>New facts for a known interface (link, addresses, PvD…): its history is flushed and it is re-examined.</summary>
    public void UpdateInterface(InterfaceFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var supervisors = _supervisors;
        if (!supervisors.TryGetValue(facts.Name, out var supervisor))
        {
            throw new ArgumentException($"Unknown interface '{facts.Name}'; known: {string.Join(", ", supervisors.Keys)} (a new one goes to AddInterface).", nameof(facts));
        }

        supervisor.Tell(new ValidateMessages.UpdateFacts(facts));
    }

    /// <summary>Stops every actor (pending requests fail), then completes the streams.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _system.ShutdownAsync().ConfigureAwait(false);
        _interfaceStates.OnCompleted();
        _raceEvents.OnCompleted();
        _subflows.OnCompleted();
    }

    private void PublishInterfaceState(InterfaceStateChanged change)
    {
        lock (_supervisorsLock)
        {
            // A removed interface's last word (Down) still reaches observers and races, but not the current states.
            if (_supervisors.ContainsKey(change.Interface))
            {
                if (_latest.Set(change))
                {
                    _withoutState--;
                }
            }
            else
            {
                _latest.Remove(change.Interface);
            }
        }

        _interfaceStates.OnNext(change);
        foreach (var watcher in _watchers.Keys)
        {
            watcher.Tell(new SubflowMessages.InterfaceChanged(change));
        }

        // An interface that stops being usable mid-race is dropped from every race in flight at once (its attempts are
        // cancelled, and if it was the preferred one the others start without waiting for the fallback delay).
        // Validating is not a loss: a periodic re-examination must not interrupt races.
        if (change.State is not (ValidationState.Validated or ValidationState.Validating))
        {
            foreach (var racer in _racers.Keys)
            {
                racer.Tell(new RaceMessages.InterfaceLost(change.Interface, $"{change.State}: {change.Detail}"));
            }
        }
    }

    private void RegisterRacer(IActorRef racer, bool running)
    {
        if (running)
        {
            _racers.TryAdd(racer, 0);
        }
        else
        {
            _racers.TryRemove(racer, out _);
        }
    }

    private void PublishRaceEvent(RaceEvent e) => _raceEvents.OnNext(e);

    /// <summary>The latest state per interface, readable from any thread.</summary>
    private sealed class LatestStates
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, InterfaceStateChanged> _latest = new(StringComparer.Ordinal);
        private int _unexamined;

        /// <summary>How many interfaces' latest state is Unknown or Validating (not examined yet, or being re-examined).</summary>
        public int UnexaminedCount
        {
            get
            {
                lock (_lock)
                {
                    return _unexamined;
                }
            }
        }

        /// <summary>Records <paramref name="change"/> as its interface's latest state; true when the interface had none.</summary>
        public bool Set(InterfaceStateChanged change)
        {
            lock (_lock)
            {
                var added = true;
                if (_latest.TryGetValue(change.Interface, out var old))
                {
                    added = false;
                    _unexamined -= Unexamined(old) ? 1 : 0;
                }

                _latest[change.Interface] = change;
                _unexamined += Unexamined(change) ? 1 : 0;
                return added;
            }
        }

        public void Remove(string name)
        {
            lock (_lock)
            {
                if (_latest.Remove(name, out var old))
                {
                    _unexamined -= Unexamined(old) ? 1 : 0;
                }
            }
        }

        public bool Contains(string name)
        {
            lock (_lock)
            {
                return _latest.ContainsKey(name);
            }
        }

        private static bool Unexamined(InterfaceStateChanged change) => change.State is ValidationState.Unknown or ValidationState.Validating;

        public Dictionary<string, InterfaceStateChanged> Snapshot()
        {
            lock (_lock)
            {
                return new Dictionary<string, InterfaceStateChanged>(_latest, StringComparer.Ordinal);
            }
        }
    }
}

/// <summary>
/// RFC 6724 §6 destination ordering for one interface's answers (RFC 8305 §4: "the client SHOULD order the list of
/// destination addresses … using the rules from RFC 6724"), with that interface's own source addresses.
/// </summary>
internal sealed class Rfc6724DestinationSorter(IReadOnlyDictionary<string, InterfaceFacts> interfaces, HeMifPolicy policy) : IDestinationSorter
{
    public IReadOnlyList<IPAddress> Sort(string interfaceName, IReadOnlyList<IPAddress> destinations) =>
        interfaces.TryGetValue(interfaceName, out var facts)
            ? Rfc6724.SortDestinations(destinations, facts, policy.AddressSelectionTable)
            : AddressOrdering.PreferIPv6.Sort(interfaceName, destinations);
}
