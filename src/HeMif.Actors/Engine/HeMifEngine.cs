using System.Net;
using System.Reactive;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Threading.Tasks;
using Akka.Actor;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Runtime;
using HeMif.Simulation;
using HeMif.Validate;

namespace HeMif.Engine;

/// <summary>
/// The HE-MIF engine (docs/architecture.md §1, §3), seen from outside the actors: its top actor (<see cref="EngineActor"/>) holds one
/// <see cref="InterfaceSupervisor"/> per interface (validate, remember), a <see cref="PolicyActor"/> (filter, sort) and
/// a <see cref="RequestActor"/> per request (resolve, race, report). It lives in an actor system of its own (real or
/// virtual time) or in an application's. Every state change is an <see cref="IObservable{T}"/> that completes when the
/// engine is disposed.
/// </summary>
internal sealed class HeMifEngine : IAsyncDisposable
{
    private static long _sharedSystemEngines;
    private readonly EngineOptions _options;
    private readonly EngineShared _shared;
    private readonly ActorSystem _system;
    private readonly bool _ownsSystem;
    private readonly IActorRef _actor;
    private int _disposed;
    private long _requests;

    public HeMifEngine(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TimeProvider is null)
        {
            throw new ArgumentException("EngineOptions.TimeProvider is null: every timer of the engine follows it.", nameof(options));
        }

        options.Race.Validate();
        options.Validation.Validate();
        var duplicate = options.Interfaces.GroupBy(i => i.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Interface '{duplicate.Key}' is listed twice.", nameof(options));
        }

        if (options.VirtualTime && options.TimeProvider is not VirtualClock)
        {
            throw new ArgumentException("A virtual-time engine needs a VirtualClock as its TimeProvider.", nameof(options));
        }

        if (options.VirtualTime && options.ActorSystem is not null)
        {
            throw new ArgumentException("A virtual-time engine runs in an actor system of its own, not in a given one.", nameof(options));
        }

        _options = options;
        _shared = new EngineShared(options);
        // Known (and unexamined) from the start, before the engine actor has started their supervisors: a request must
        // not find "all examined" in an engine that has not examined anything yet.
        _shared.Snapshot = options.Interfaces.Aggregate(EngineSnapshot.Empty, (snapshot, facts) => snapshot.With(facts.Name));
        if (options.InterfaceStateObserver is { } observer)
        {
            _shared.InterfaceStates.Subscribe(observer);
        }

        if (options.ActorSystem is { } system)
        {
            _system = system;
        }
        else
        {
            Pump = options.VirtualTime ? new VirtualTimePump() : null;
            _system = HeMifActorSystem.Create("hemif", options.TimeProvider, Pump);
            _ownsSystem = true;
        }

        var name = options.ActorName ?? (_ownsSystem ? "hemif" : "hemif-" + Interlocked.Increment(ref _sharedSystemEngines));
        try
        {
            var shared = _shared;
            _actor = _system.ActorOf(ActorProps.Of(() => new EngineActor(shared)), name);
        }
        catch (Exception e) when (e is InvalidActorNameException or InvalidOperationException && !_ownsSystem)
        {
            throw new InvalidOperationException($"HeMif's top actor cannot be created as '{name}' in actor system '{_system.Name}': {e.Message}", e);
        }
    }

    /// <summary>HeMif's top actor (what Akka.Hosting's registry holds as <see cref="HeMifActor"/>).</summary>
    public IActorRef Actor => _actor;

    /// <summary>The actor system the engine lives in.</summary>
    public ActorSystem System => _system;

    /// <summary>The executor of a virtual-time engine (<see cref="EngineOptions.VirtualTime"/>), which its driver runs; null in real time.</summary>
    public VirtualTimePump? Pump { get; }

    /// <summary>Every validation state change of every interface.</summary>
    public IObservable<InterfaceStateChanged> InterfaceStates => _shared.InterfaceStates.AsObservable();

    /// <summary>Every timeline event of every race.</summary>
    public IObservable<RaceEvent> RaceEvents => _shared.RaceEvents.AsObservable();

    /// <summary>Every subflow suggestion issued by any <see cref="WatchSubflows"/> subscription.</summary>
    public IObservable<SubflowPlan> SubflowSuggestions => _shared.SubflowSuggestions.AsObservable();

    /// <summary>Every failure inside HeMif's actors (an actor threw), with what its supervisor decided.</summary>
    public IObservable<ActorFailure> Failures => _shared.Failures.AsObservable();

    /// <summary>What HeMif knows about each interface now (facts with learned PvDs, validation state, RA learning), in name order.</summary>
    public IReadOnlyList<Discovery.InterfaceView> Interfaces => _shared.Views.Current;

    /// <summary>Every interface's view now, then each view as it changes; completes when the engine is disposed.</summary>
    public IObservable<Discovery.InterfaceView> InterfaceChanges => _shared.Views.Changes;

    /// <summary>
    /// Whether every interface has had its first examination (none Unknown or Validating): only then can a request see
    /// them all as validated or not (draft §5.2.1).
    /// </summary>
    public bool AllExamined => _shared.Snapshot.AllExamined;

    /// <summary>The latest known state of each interface the engine uses.</summary>
    public IReadOnlyDictionary<string, InterfaceStateChanged> CurrentStates => _shared.Snapshot.States;

    /// <summary>How long the engine waits for its own actors to answer (on its clock).</summary>
    private TimeSpan AskTimeout => _options.InternalAskTimeout;

    /// <summary>
    /// An interface that appeared after start (a cellular modem coming up, a VPN connecting): it gets a supervisor and
    /// its first examination now, and joins requests once validated (draft §5.2.1: until then it is "unconnected").
    /// Fails with <see cref="ArgumentException"/> for a name already known (new facts for it go to <see cref="UpdateInterfaceAsync"/>).
    /// </summary>
    public Task AddInterfaceAsync(InterfaceFacts facts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentException.ThrowIfNullOrWhiteSpace(facts.Name, nameof(facts));
        return ChangeAsync(new EngineMessages.AddInterface(facts), $"interface '{facts.Name}' could be added", cancellationToken);
    }

    /// <summary>
    /// An interface that is gone from the host: it is said Down once (races drop it, subflow watches re-plan without
    /// it), leaves the engine's set and its current states, and its supervisor stops after answering the requests that
    /// asked it just before (within the internal ask timeout). Adding it again later starts afresh.
    /// Fails with <see cref="ArgumentException"/> for an unknown name.
    /// </summary>
    public Task RemoveInterfaceAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return ChangeAsync(new EngineMessages.RemoveInterface(name), $"interface '{name}' could be removed", cancellationToken);
    }

    /// <summary>
    /// New facts for a known interface (link, addresses, PvD…): its history is flushed and it is re-examined. Fails with
    /// <see cref="ArgumentException"/> for an unknown name.
    /// </summary>
    public Task UpdateInterfaceAsync(InterfaceFacts facts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        return ChangeAsync(new EngineMessages.UpdateInterface(facts), $"interface '{facts.Name}' could be updated", cancellationToken);
    }

    // No async/await on these paths: in virtual time the answer completes on the pump, and an await would resume on the
    // thread pool, out of the driver's sight.
    private Task ChangeAsync(object change, string what, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return Task.FromException(new ObjectDisposedException(nameof(HeMifEngine), $"The engine was disposed before {what}."));
        }

        Pump?.Claim();
        return _actor.AskOnClock<EngineMessages.Done>(change, AskTimeout, _options.TimeProvider, Pump, cancellationToken);
    }

    /// <summary>
    /// Runs one request through filter, validation, sort, resolution and the race. Returns the result whether or not
    /// anything connected (the report says why); throws <see cref="OperationCanceledException"/> when the caller
    /// cancels before a connection was made.
    /// </summary>
    public async Task<RaceResult> ConnectAsync(ConnectionRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (completion, id) = Start(request);
        using var registration = cancellationToken.Register(() => Cancel(id, "the caller cancelled"));
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
    /// Starts a request and returns the task its racer completes (virtual-time drivers watch it: it completes inside the
    /// actor that decides, so nothing is left in flight when it does) and the request's number, for
    /// <see cref="Cancel"/>. A request that the engine can no longer take (it is stopping or stopped, or its actor
    /// system is shutting down) completes with a failed report that says so, never a hang.
    /// </summary>
    internal (Task<RaceResult> Completion, long Id) Start(ConnectionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfDisposed($"the request for {request.Host}:{request.Port} could start");
        var completion = new TaskCompletionSource<RaceResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var id = Interlocked.Increment(ref _requests);
        if (_shared.Stopped.IsCancellationRequested)
        {
            completion.TrySetResult(ShuttingDown(request));
            return (completion.Task, id);
        }

        // The engine actor may stop between this check and the message's delivery: then the message is a dead letter,
        // and this registration answers the caller.
        var stopped = _shared.Stopped.Register(() => completion.TrySetResult(ShuttingDown(request)));
        _ = completion.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), stopped, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Pump?.Claim();
        _actor.Tell(new EngineMessages.StartRequest(id, request, completion));
        return (completion.Task, id);
    }

    /// <summary>Gives up request <paramref name="id"/> (its attempts are cancelled; the race reports the cancellation).</summary>
    internal void Cancel(long id, string reason)
    {
        Pump?.Claim();
        _actor.Tell(new EngineMessages.CancelRequest(id, reason));
    }

    /// <summary>The failed result of a request that arrived while HeMif's actors were stopping.</summary>
    private RaceResult ShuttingDown(ConnectionRequest request) => RaceResult.Failed(request, _options.Race, EngineStoppedReason);

    /// <summary>Why a request got no race: the engine or its actor system stopped first.</summary>
    internal const string EngineStoppedReason = "HeMif's actors are shutting down (the engine was disposed or its actor system is terminating): the request was not raced";

    /// <summary>The transports of a request that names none.</summary>
    public IReadOnlyList<TransportName> DefaultTransports => _options.Transports.Defaults;

    /// <summary>
    /// Why a request for <paramref name="transports"/> cannot be raced on this host at all (each is unsupported here, or
    /// not registered), or null when one of them can be used.
    /// </summary>
    public string? UnusableReason(IReadOnlyList<TransportName> transports) => _options.Transports.Unusable(transports);

    /// <summary>The transport registered as <paramref name="name"/>, or null.</summary>
    public AttemptTransport? FindTransport(TransportName name) => _options.Transports.Find(name);

    /// <summary>
    /// Probes now whether UDP/QUIC reaches <paramref name="host"/>:<paramref name="port"/> through each interface (or
    /// only <paramref name="interfaceName"/>), in parallel; every verdict is also cached like a background one.
    /// Throws <see cref="InvalidOperationException"/> when the engine has no QUIC path probe and
    /// <see cref="ArgumentException"/> for an unknown interface.
    /// </summary>
    public Task<IReadOnlyList<QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed("the QUIC probe could start");
        var destination = new Remember.Destination(host, port);
        if (_options.QuicProbe is null)
        {
            throw new InvalidOperationException("This engine has no QUIC path probe.");
        }

        var known = _shared.Snapshot.Interfaces;
        if (interfaceName is not null && !known.Contains(interfaceName))
        {
            throw new ArgumentException($"Unknown interface '{interfaceName}'; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}.", nameof(interfaceName));
        }

        Pump?.Claim();
        return _actor.AskOnClock<EngineMessages.QuicVerdicts>(new EngineMessages.ProbeQuic(destination, interfaceName), AskTimeout, _options.TimeProvider, Pump, cancellationToken)
            .Then(answer => answer.Verdicts);
    }

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
        catch (InvalidOperationException) when (Volatile.Read(ref _disposed) != 0 || _shared.Stopped.IsCancellationRequested)
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

    /// <summary>
    /// The path events of a connection to <paramref name="request"/>'s destination over
    /// <paramref name="interfaceName"/> from <paramref name="localAddress"/> (draft §7.4, <see cref="Continuity.PathWatch"/>):
    /// not viable, viable again, better path available. Each subscription watches on its own (one re-planning watcher
    /// actor); it completes when the engine is disposed.
    /// </summary>
    public IObservable<Continuity.PathEvent> WatchPath(ConnectionRequest request, string interfaceName, IPAddress? localAddress)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        // Handover planning ranks every allowed, validated interface with the primary first: the order a new race
        // would try them in.
        return Continuity.PathWatch.Create(interfaceName, localAddress, InterfaceChanges, Watch(request, MultipathMode.Handover, "first plan"), _options.TimeProvider);
    }

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
            if (Volatile.Read(ref _disposed) != 0 || _shared.Stopped.IsCancellationRequested)
            {
                observer.OnCompleted();
                return Disposable.Empty;
            }

            var id = Interlocked.Increment(ref _requests);
            // The engine actor may stop before it starts the watcher: complete the observer then instead of never.
            var stopped = _shared.Stopped.Register(observer.OnCompleted);
            var safe = Observer.Create<SubflowPlan>(observer.OnNext, e =>
            {
                stopped.Dispose();
                observer.OnError(e);
            }, () =>
            {
                stopped.Dispose();
                observer.OnCompleted();
            });
            Pump?.Claim();
            _actor.Tell(new EngineMessages.StartWatch(id, new SubflowWatch(request, mode, firstTrigger, safe)));
            return Disposable.Create(() =>
            {
                stopped.Dispose();
                _actor.Tell(new EngineMessages.StopWatch(id));
            });
        });
    }

    /// <summary>Replaces the policy; applies to the next request.</summary>
    public Task UpdatePolicyAsync(HeMifPolicy policy, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed("the policy could be updated");
        Pump?.Claim();
        return _actor.AskOnClock<HeMifPolicy>(new PolicyMessages.UpdatePolicy(policy), AskTimeout, _options.TimeProvider, Pump, cancellationToken);
    }

    /// <summary>
    /// Stops every actor (pending requests fail), then completes the streams. An engine of its own terminates its actor
    /// system; one in an application's system stops its top actor only.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (Pump is not null)
        {
            await HeMifActorSystem.TerminateVirtualAsync(_system, Pump, (VirtualClock)_options.TimeProvider, TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        }
        else if (_ownsSystem)
        {
            await _system.Terminate().ConfigureAwait(false);
        }
        else if (!_system.WhenTerminated.IsCompleted)
        {
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (_shared.Stopped.Register(() => stopped.TrySetResult()))
            {
                _system.Stop(_actor);
                await Task.WhenAny(stopped.Task, _system.WhenTerminated).ConfigureAwait(false);
            }
        }

        _shared.MarkStopped();
        _shared.Complete();
    }

    private void ThrowIfDisposed(string what)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(HeMifEngine), $"The engine was disposed before {what}.");
        }
    }
}
