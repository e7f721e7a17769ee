using System.Net.Sockets;
using Akka.Actor;
using HeMif.Filter;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Remember;
using HeMif.Runtime;
using HeMif.Sort;
using HeMif.Validate;

namespace HeMif.Engine;

/// <summary>
/// What a request actor needs from its engine: the interfaces' supervisors as they were when it started, and the engine
/// actor itself (it keeps each destination's latest report).
/// </summary>
internal sealed record RequestContext(
    EngineOptions Options,
    IReadOnlyDictionary<string, IActorRef> Supervisors,
    IActorRef Policy,
    Action<Report.RaceEvent> Publish,
    Action<ActorFailure> Failures,
    IActorRef Engine);

/// <summary>
/// One per connection request: gathers each interface's snapshot (step 2, validate), asks for the plan (steps 1 and 3,
/// filter and sort), and starts the racer as its child (steps 4-7). Message-driven end to end, so a virtual-time run
/// sees every step as work in flight and never moves the clock in the middle of a decision.
/// <para>
/// An <see cref="UntypedActor"/> with one <c>switch</c>, not a <see cref="ReceiveActor"/>: one is created per request, and
/// a ReceiveActor builds its handler table (delegates, type lists, match arguments: about 3.5 KB) in every instance.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which Akka runs on stop.")]
internal sealed class RequestActor : UntypedActor, IWithTimers
{
    private const string GuardTimer = "guard";
    private const string ColdStartTimer = "cold-start";
    private const string RankTimer = "rank";
    private static readonly RuleReference NotValidated = new("builtin:validation", RuleSource.BuiltIn, PreferenceLevel.Prohibit);
    private readonly long _id;
    private readonly ConnectionRequest _request;
    private readonly RequestContext _context;
    private readonly TaskCompletionSource<RaceResult> _completion;
    private readonly Destination _destination;
    private readonly List<ValidateMessages.InterfaceSnapshot> _snapshots = [];
    private IActorRef? _racer;
    private bool _cancelled;

    // Ranking after resolution (Sort/RankAfterResolution): the lookups made before the sort, handed to the race.
    private RankAfterResolution? _ranking;
    private long _rankingStart;
    private bool _ranked;
    private string? _rankingNote;
    private CancellationTokenSource? _lookupCancel;
    private Dictionary<(string Interface, AddressFamily Family), Task<ResolveResult>>? _lookups;

    /// <summary>Set once this request waited for another race to its destination (what happened, for the timeline).</summary>
    private string? _coalesced;

    public RequestActor(long id, ConnectionRequest request, RequestContext context, TaskCompletionSource<RaceResult> completion)
    {
        _id = id;
        _request = request;
        _context = context;
        _completion = completion;
        _destination = new Destination(request.Host, request.Port);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ValidateMessages.InterfaceSnapshot snapshot:
                _snapshots.Add(snapshot);
                if (_snapshots.Count == _context.Supervisors.Count)
                {
                    SnapshotsComplete();
                }

                break;
            case EngineMessages.ColdStartLead:
                AskForPlan();
                break;
            case EngineMessages.ColdStartWait:
                // A bounded wait: the guard (a wiring check) pauses meanwhile, the cold-start timer ends the wait.
                Timers.Cancel(GuardTimer);
                Timers.StartSingleTimer(ColdStartTimer, ColdStartTimeout.Instance, _context.Options.Race.ColdStartWait);
                break;
            case EngineMessages.ColdStartVerdict:
                if (_coalesced is null && !_cancelled)
                {
                    // The race that was waited for taught the interfaces' outcome caches: look again, and start from it.
                    _coalesced = "waited for the race to this destination that was running, and starts from its verdict (HEv3 coalescing of cold starts)";
                    Timers.Cancel(ColdStartTimer);
                    _snapshots.Clear();
                    AskForSnapshots();
                }

                break;
            case ColdStartTimeout:
                if (_coalesced is null && !_cancelled)
                {
                    _coalesced = $"waited {_context.Options.Race.ColdStartWait.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} ms " +
                                 "for the race to this destination that was running, without a verdict: races on its own";
                    Timers.StartSingleTimer(GuardTimer, Guard.Instance, _context.Options.InternalAskTimeout);
                    AskForPlan();
                }

                break;
            case ConnectionPlan plan:
                if (!_cancelled)
                {
                    Timers.Cancel(GuardTimer);
                    if (!_ranked && StartRanking(plan))
                    {
                        break;
                    }

                    StartRace(plan);
                }

                break;
            case LookupEnded ended:
                if (_ranking is not null && !_ranked && !_cancelled)
                {
                    _ranking.Answered(ended.Interface, ended.Family, ended.Result, RankingNow);
                    RankWhenDone();
                }

                break;
            case RankDue:
                if (_ranking is not null && !_ranked && !_cancelled)
                {
                    RankWhenDone();
                }

                break;
            case Status.Failure failure:
                _completion.TrySetException(failure.Cause);
                Context.Stop(Self);
                break;
            case RaceMessages.CancelRace cancel:
                _cancelled = true;
                if (_racer is null)
                {
                    _lookupCancel?.Cancel();
                    _completion.TrySetCanceled();
                    Context.Stop(Self);
                }
                else
                {
                    _racer.Tell(cancel, Self);
                }

                break;
            case RaceMessages.InterfaceLost lost:
                _racer?.Tell(lost, Self);
                break;
            case Guard:
                _completion.TrySetException(new TimeoutException($"The engine's own actors did not answer within {_context.Options.InternalAskTimeout} for {_request.Host}:{_request.Port}."));
                Context.Stop(Self);
                break;
            case RaceMessages.RacerStopped:
                Context.Stop(Self); // the racer ended: so does the request
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <inheritdoc/>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// A racer that throws is a bug in HeMif (or in a plugged-in component): its attempts cannot be rebuilt, so it is
    /// stopped (its PostStop closes what it opened), and the caller gets that exception as the cause, not a vague
    /// "stopped" message.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ReportingStrategy(
        cause =>
        {
            _completion.TrySetException(InternalFailure(cause));
            return Directive.Stop;
        },
        _context.Failures);

    protected override void PreStart()
    {
        string? why;
        try
        {
            why = _context.Options.Transports.Unusable(_request.Transports);
        }
        catch (Exception e)
        {
            // A transport of the application's own threw when asked whether it works: this request fails with that
            // cause, reported like any failure inside HeMif (a restart would only ask again and throw again).
            _context.Failures(new ActorFailure(Self.Path.ToStringWithoutAddress(), e, Directive.Stop));
            _completion.TrySetException(InternalFailure(e));
            Context.Stop(Self);
            return;
        }

        if (why is not null)
        {
            // QUIC only on a host without QUIC, a transport nobody registered: nothing could ever be tried.
            FailAtOnce($"{string.Join(" and ", _request.Transports.Select(static t => t.Value.ToUpperInvariant()))} only was asked for, and {why}");
            return;
        }

        AskForSnapshots();
        if (_context.Supervisors.Count == 0)
        {
            AskForPlan();
        }
    }

    private void AskForSnapshots()
    {
        // Our own actors answer at once; the guard only turns a wiring bug into an error instead of a hang.
        Timers.StartSingleTimer(GuardTimer, Guard.Instance, _context.Options.InternalAskTimeout);
        foreach (var supervisor in _context.Supervisors.Values)
        {
            supervisor.Tell(new ValidateMessages.GetSnapshot(_destination), Self);
        }
    }

    /// <summary>
    /// Every interface answered. When none knows anything about the destination (a cold start) the engine says whether a
    /// race to it is already running: then this request waits for its verdict (at most
    /// <see cref="RaceSettings.ColdStartWait"/>) instead of racing blind beside it — HEv3's coalescing of cold starts, which
    /// with the per-family history keeps 50 simultaneous requests to a destination whose IPv6 is blackholed from making 50
    /// sets of IPv6 attempts.
    /// </summary>
    private void SnapshotsComplete()
    {
        if (_coalesced is null && _context.Options.Race.ColdStartWait > TimeSpan.Zero && _snapshots.TrueForAll(s => s.History is null))
        {
            _context.Engine.Tell(new EngineMessages.ColdStart(_id, _destination), Self);
            return;
        }

        AskForPlan();
    }

    /// <summary>
    /// Stopped before its racer could finish (the engine is shutting down): the caller gets a failed race that says so,
    /// never a wait without end. Once the racer has completed the task, this changes nothing.
    /// </summary>
    protected override void PostStop()
    {
        // Lookups made for the ranking that the race did not take over end here (the racer cancels those it took).
        _lookupCancel?.Cancel();
        _lookupCancel?.Dispose();
        _completion.TrySetResult(RaceResult.Failed(_request, _context.Options.Race, HeMifEngine.EngineStoppedReason));
        // The registry forgets this request (its racer, if it decided a race, has already said so with the report).
        Context.Parent.Tell(new EngineMessages.RequestEnded(_id, null));
    }

    /// <summary>This actor threw (a bug): the caller gets the cause at once, and the request is not started again.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _completion.TrySetException(InternalFailure(reason));
        base.PreRestart(reason, message);
    }

    /// <summary>A restart after a failure that already answered the caller: nothing is left to do.</summary>
    protected override void PostRestart(Exception reason) => Context.Stop(Self);

    private InvalidOperationException InternalFailure(Exception cause) =>
        new($"The race for {_request.Host}:{_request.Port} failed inside HeMif ({cause.GetType().Name}: {cause.Message}).", cause);

    /// <summary>The plan request for these snapshots: facts in name order, and each interface's history to the destination.</summary>
    internal static PolicyMessages.MakePlan PlanMessage(IReadOnlyCollection<ValidateMessages.InterfaceSnapshot> snapshots, ConnectionRequest request, DateTimeOffset now)
    {
        var facts = snapshots.Select(s => s.Facts).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var history = snapshots.Where(s => s.History is not null)
            .Select(s => new PathHistory(s.Facts.Name, s.History!.RecentFailures, s.History.SmoothedRtt)).ToList();
        return new PolicyMessages.MakePlan(facts, request, now, history);
    }

    private void AskForPlan() => _context.Policy.Tell(PlanMessage(_snapshots, _request, _context.Options.TimeProvider.GetLocalNow()), Self);

    private TimeSpan RankingNow => _context.Options.TimeProvider.GetElapsedTime(_rankingStart);

    /// <summary>
    /// Ranking after resolution (draft §5.2.2, <see cref="RankAfterResolution"/>): when the validated candidates differ in
    /// something an address decides, resolve on each of them now, and rank again with their answers. Returns false when
    /// it does not apply (the race starts with this plan).
    /// </summary>
    private bool StartRanking(ConnectionPlan plan)
    {
        var byName = _snapshots.ToDictionary(s => s.Facts.Name, StringComparer.Ordinal);
        var validated = plan.Candidates
            .Where(c => byName.TryGetValue(c.Interface, out var s) && s.State == ValidationState.Validated)
            .Select(c => byName[c.Interface].Facts)
            .ToList();
        var wait = _context.Options.Race.RankingWait;
        if (!RankAfterResolution.Applies(_request, validated, wait))
        {
            return false;
        }

        _ranking = new RankAfterResolution(
            validated.ConvertAll(f => (f.Name, RankAfterResolution.Families(f).IPv6, RankAfterResolution.Families(f).IPv4)),
            wait, _context.Options.Race.InterfaceFallbackDelay);
        _rankingStart = _context.Options.TimeProvider.GetTimestamp();
        _lookupCancel = new CancellationTokenSource();
        _lookups = [];
        var facts = validated.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var (name, family) in _ranking.Lookups)
        {
            Task<ResolveResult> lookup;
            try
            {
                lookup = _context.Options.Resolver.ResolveAsync(facts[name], _request.Host, family, _lookupCancel.Token);
            }
#pragma warning disable CA1031 // A resolver that throws instead of returning a failure: that lookup failed, as the race treats it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                lookup = Task.FromException<ResolveResult>(e);
            }

            _lookups[(name, family)] = lookup;
            lookup.PipeTo(Self,
                success: r => new LookupEnded(name, family, r),
                failure: e => new LookupEnded(name, family, ResolveResult.Failure(e is OperationCanceledException ? "cancelled" : e.Message)));
        }

        Timers.StartSingleTimer(RankTimer, RankDue.Instance, _ranking.Deadline);
        return true;
    }

    /// <summary>Ranks again with the answers once the ranking may go ahead (<see cref="RankAfterResolution.IsDone"/>), else waits for the deadline.</summary>
    private void RankWhenDone()
    {
        var now = RankingNow;
        if (!_ranking!.IsDone(now))
        {
            Timers.StartSingleTimer(RankTimer, RankDue.Instance, _ranking.Deadline - now);
            return;
        }

        Timers.Cancel(RankTimer);
        _ranked = true;
        _rankingNote = _ranking.Describe(now);
        var ranked = _request with { DestinationAddresses = _ranking.Union(), InterfaceAddresses = _ranking.Answers() };
        Timers.StartSingleTimer(GuardTimer, Guard.Instance, _context.Options.InternalAskTimeout);
        _context.Policy.Tell(PlanMessage(_snapshots, ranked, _context.Options.TimeProvider.GetLocalNow()), Self);
    }

    private void StartRace(ConnectionPlan plan)
    {
        // §5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'. It should not join the sort process."
        var byName = _snapshots.ToDictionary(s => s.Facts.Name, StringComparer.Ordinal);
        var excluded = plan.Excluded.ToList();
        var candidates = new List<RaceCandidate>();
        var transports = new RaceTransports(_context.Options.Transports, _request.Transports);
        foreach (var candidate in plan.Candidates)
        {
            var snapshot = byName[candidate.Interface];
            if (snapshot.State != ValidationState.Validated)
            {
                excluded.Add(new ExcludedInterface(candidate.Interface, [new ExclusionReason(NotValidated,
                    $"not validated: {snapshot.State} ({snapshot.Detail}); draft §5.2.1: unexamined or failed interfaces are 'unconnected'")]));
                continue;
            }

            var raceCandidate = ToRaceCandidate(candidate, snapshot, transports, plan, out var triesUdp);
            candidates.Add(raceCandidate);
            if (triesUdp && snapshot.History?.QuicBlocked is null && _context.Options.QuicProbe is not null)
            {
                // Nothing known about UDP/QUIC on this path yet: find out in the background for the next request,
                // without delaying this one (its QUIC attempt races with TCP behind it anyway).
                _context.Supervisors[candidate.Interface].Tell(new ValidateMessages.ProbeQuicInBackground(_destination), Self);
            }
        }

        var facts = _snapshots.ToDictionary(s => s.Facts.Name, s => s.Facts, StringComparer.Ordinal);
        var options = _context.Options;
        var job = new RaceJob(_request, plan, candidates, facts, _context.Supervisors, excluded,
            RaceSettingsFor.Request(options.Race, _request, plan), new Rfc6724DestinationSorter(facts, plan.Policy), options.Resolver, options.Transports,
            _context.Publish, _completion, options.TimeProvider, _context.Engine, _id)
        {
            Coalesced = _coalesced,
            RankedAfterResolution = _rankingNote,
            Lookups = _lookups,
            LookupCancel = _lookupCancel,
        };
        // Not watched: the racer says when it stops (RaceMessages.RacerStopped, from its PostStop).
        _racer = Context.ActorOf(ActorProps.Of(() => new RacerActor(job)), "racer");
    }

    /// <summary>
    /// The race candidate for a validated plan candidate: the families the interface can carry, the transports to try
    /// there (the request's, in the registry's order, less those this host cannot open and, for transports over UDP,
    /// where UDP/QUIC is known blocked on this interface) and its history. <paramref name="triesUdp"/>: some transport
    /// over UDP will be tried here.
    /// </summary>
    private RaceCandidate ToRaceCandidate(PlanCandidate candidate, ValidateMessages.InterfaceSnapshot snapshot, RaceTransports transports, ConnectionPlan plan, out bool triesUdp)
    {
        var f = snapshot.Facts;
        var ipv6 = f.Ipv6 ?? f.Addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6 && !a.Address.IsIPv6LinkLocal);
        var ipv4 = f.Ipv4 ?? f.Addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetwork);
        var blocked = snapshot.History?.QuicBlocked == true;
        triesUdp = transports.TriesUdp && !blocked;
        var raceCandidate = new RaceCandidate(candidate.Interface, candidate.Rank, ipv6, ipv4, snapshot.History?.SmoothedRtt, snapshot.History?.RecentFailures ?? 0)
        {
            Transports = blocked ? transports.UsableWhereUdpBlocked : transports.Usable,
            Skipped = blocked ? transports.SkippedWhereUdpBlocked : transports.Skipped,
        };
        return RaceCandidateHistory.With(raceCandidate, f, snapshot.History, plan.Policy, _context.Options.TimeProvider.GetUtcNow());
    }

    /// <summary>
    /// The request's transports as this host can race them, worked out once per request: in the registry's order, those
    /// that can be used, and those that cannot (not registered or unsupported here), with the same where UDP/QUIC is
    /// known blocked on an interface.
    /// </summary>
    private sealed class RaceTransports
    {
        public RaceTransports(TransportRegistry registry, IReadOnlyList<TransportName> requested)
        {
            var usable = new List<TransportName>(requested.Count);
            var skipped = new List<SkippedTransport>();
            var usableWhereBlocked = new List<TransportName>(requested.Count);
            var skippedWhereBlocked = new List<SkippedTransport>();
            foreach (var transport in registry.Order(requested))
            {
                if (transport.UnsupportedReason is not null)
                {
                    skipped.Add(new SkippedTransport(transport.Name, TransportSkip.UnsupportedOnHost));
                    skippedWhereBlocked.Add(new SkippedTransport(transport.Name, TransportSkip.UnsupportedOnHost));
                    continue;
                }

                usable.Add(transport.Name);
                if (transport.RunsOverUdp)
                {
                    TriesUdp = true;
                    skippedWhereBlocked.Add(new SkippedTransport(transport.Name, TransportSkip.KnownBlocked));
                }
                else
                {
                    usableWhereBlocked.Add(transport.Name);
                }
            }

            // Asked for but not registered: as good as unsupported here, and said so.
            foreach (var name in requested)
            {
                if (registry.Find(name) is null)
                {
                    skipped.Add(new SkippedTransport(name, TransportSkip.UnsupportedOnHost));
                    skippedWhereBlocked.Add(new SkippedTransport(name, TransportSkip.UnsupportedOnHost));
                }
            }

            Usable = usable;
            Skipped = skipped;
            UsableWhereUdpBlocked = usableWhereBlocked;
            SkippedWhereUdpBlocked = skippedWhereBlocked;
        }

        public bool TriesUdp { get; }

        public IReadOnlyList<TransportName> Usable { get; }

        public IReadOnlyList<SkippedTransport> Skipped { get; }

        public IReadOnlyList<TransportName> UsableWhereUdpBlocked { get; }

        public IReadOnlyList<SkippedTransport> SkippedWhereUdpBlocked { get; }
    }

    /// <summary>The request cannot be carried at all (QUIC only on a host without QUIC): a failed race, at once, saying why.</summary>
    private void FailAtOnce(string why)
    {
        var result = RaceResult.Failed(_request, _context.Options.Race, why);
        _context.Publish(result.Report.Events[0]);
        _context.Engine.Tell(new EngineMessages.RequestEnded(_id, result.Report));
        _completion.TrySetResult(result);
        Context.Stop(Self);
    }

    /// <summary>A lookup made for the ranking ended.</summary>
    private sealed record LookupEnded(string Interface, AddressFamily Family, ResolveResult Result);

    /// <summary>The timer message: the ranking's wait may be over.</summary>
    private sealed class RankDue
    {
        public static readonly RankDue Instance = new();
    }

    private sealed class Guard
    {
        public static readonly Guard Instance = new();
    }

    /// <summary>The timer message that ends the wait for another race's verdict.</summary>
    private sealed class ColdStartTimeout
    {
        public static readonly ColdStartTimeout Instance = new();
    }
}
