using System.Net.Sockets;
using Akka.Actor;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Remember;
using HeMif.Report;
using HeMif.Validate;

namespace HeMif.Race;

/// <summary>What one race needs: the plan's candidates, the executors, where to report.</summary>
internal sealed record RaceJob(
    ConnectionRequest Request,
    ConnectionPlan Plan,
    IReadOnlyList<RaceCandidate> Candidates,
    IReadOnlyDictionary<string, InterfaceFacts> Facts,
    IReadOnlyDictionary<string, IActorRef> Supervisors,
    IReadOnlyList<ExcludedInterface> Excluded,
    RaceSettings Settings,
    IDestinationSorter Sorter,
    InterfaceResolver Resolver,
    TransportRegistry Transports,
    Action<RaceEvent> Publish,
    TaskCompletionSource<RaceResult> Completion,
    TimeProvider Clock,
    IActorRef? Engine = null,
    long RequestId = 0)
{
    /// <summary>
    /// What this request did before its race, when it waited for another race to the same unknown destination (HEv3
    /// coalescing of cold starts); the timeline starts with it. Null: it did not wait.
    /// </summary>
    public string? Coalesced { get; init; }

    /// <summary>How the request was ranked after resolution (<see cref="Sort.RankAfterResolution"/>), for the timeline; null: it was not.</summary>
    public string? RankedAfterResolution { get; init; }

    /// <summary>
    /// The lookups the request made before it was ranked, by interface and family: the race takes them over instead of
    /// asking again (draft §5.2.2 resolves once per interface). Null: none.
    /// </summary>
    public IReadOnlyDictionary<(string Interface, AddressFamily Family), Task<ResolveResult>>? Lookups { get; init; }

    /// <summary>Cancels <see cref="Lookups"/>: the race cancels it when it is decided, as it cancels its own lookups.</summary>
    public CancellationTokenSource? LookupCancel { get; init; }
}

/// <summary>A finished race: its report, and the winner's connection (the caller owns it) when it connected.</summary>
internal sealed record RaceResult(RaceReport Report, ConnectedPath? Connection)
{
    /// <summary>A request that was not raced at all, failed at once for <paramref name="why"/>.</summary>
    public static RaceResult Failed(ConnectionRequest request, RaceSettings settings, string why)
    {
        var failed = new RaceEvent(TimeSpan.Zero, "failed", why);
        return new RaceResult(new RaceReport(request.Host, request.Port, RaceOutcome.Failed, null, null,
            new RaceTimings(settings.InterfaceFallbackDelay, settings.ConnectionAttemptDelay, settings.ResolutionDelay), [], [], [failed], why), null);
    }
}

/// <summary>Messages of the racer.</summary>
internal static class RaceMessages
{
    /// <summary>The caller gave up.</summary>
    public sealed record CancelRace(string Reason);

    /// <summary>An interface left the Validated state mid-race (link down, captive portal…): stop using it.</summary>
    public sealed record InterfaceLost(string Interface, string Reason);

    /// <summary>From the racer to its request as it stops (instead of a death watch, which costs more for every race).</summary>
    public sealed class RacerStopped
    {
        public static readonly RacerStopped Instance = new();
    }
}

/// <summary>
/// One per request (docs/architecture.md §1, step 5): hosts a <see cref="RacePlanner"/>, carries out its commands through the
/// core's <see cref="InterfaceResolver"/> and each endpoint's <see cref="AttemptTransport"/> (by name, from the registry), arms its timer on HeMif's clock,
/// and reports the result and the timeline. The winner's connection goes to the caller; every other connection is
/// closed the moment the race is decided, also one that completes after it lost. The actor stops once every task it
/// started has ended, so no late result is left without an owner; stopped from outside before that (the engine
/// shutting down, its request actor after a bug), it closes a connection that still arrives after it stopped.
/// <para>
/// An <see cref="UntypedActor"/> with one <c>switch</c>, not a <see cref="ReceiveActor"/>: one is created per request, and
/// a ReceiveActor builds its handler table (delegates, type lists, match arguments) in every instance.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which Akka runs on stop.")]
internal sealed class RacerActor : UntypedActor, IWithTimers
{
    /// <summary>Between a failed race's reason and the interfaces it could not use, in <see cref="RaceReport.Failure"/>.</summary>
    internal const string NotUsedSeparator = "; not used: ";

    private const string PollTimer = "poll";
    private readonly RaceJob _job;
    private readonly RacePlanner _planner;
    private readonly Destination _destination;
    private readonly long _start;
    private readonly List<RaceEvent> _events = [];
    private RaceEvent? _fallback;
    private readonly Dictionary<AttemptId, InFlightAttempt> _inFlight = [];
    private readonly CancellationTokenSource _raceCancel = new();
    private int _outstanding;
    private bool _finished;
    private AttemptId? _winner;
    private ConnectedPath? _winnerPath;

    public RacerActor(RaceJob job)
    {
        _job = job;
        _destination = new Destination(job.Request.Host, job.Request.Port);
        _planner = new RacePlanner(job.Candidates, job.Request.Port, job.Settings, job.Sorter);
        _start = job.Clock.GetTimestamp();
    }

    /// <summary>Handles one message; the racer stops once the race is decided and every task it started has ended.</summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Poll:
                Drain();
                break;
            case Resolved resolved:
                _outstanding--;
                OnResolved(resolved);
                break;
            case AttemptDone done:
                _outstanding--;
                OnAttemptDone(done);
                break;
            case RaceMessages.CancelRace cancel:
                if (!_finished)
                {
                    _planner.Handle(new RaceInput.Cancelled(cancel.Reason), Now);
                    Drain();
                }

                break;
            case RaceMessages.InterfaceLost lost:
                if (!_finished)
                {
                    _planner.Handle(new RaceInput.InterfaceLost(lost.Interface, lost.Reason), Now);
                    Drain();
                }

                break;
            default:
                Unhandled(message);
                return;
        }

        StopWhenDone();
    }

    /// <inheritdoc/>
    public ITimerScheduler Timers { get; set; } = null!;

    private TimeSpan Now => _job.Clock.GetElapsedTime(_start);

    protected override void PreStart()
    {
        if (_job.Coalesced is { } coalesced)
        {
            Log("note", coalesced, null);
        }

        if (_job.RankedAfterResolution is { } ranked)
        {
            Log("note", ranked, null);
        }

        // The decision, with its reasons ("why is wlan0 first?"), before the race it starts.
        var racing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in _job.Candidates)
        {
            racing.Add(r.Interface);
        }

        foreach (var candidate in _job.Plan.Candidates.Where(c => racing.Contains(c.Interface)))
        {
            var why = candidate.Breakdown.Count == 0 ? "no soft-set information" : string.Join(", ", candidate.Breakdown.Select(b => b.Reason));
            Log("plan", $"rank {candidate.Rank}, score {candidate.Score}: {why}", candidate.Interface);
        }

        foreach (var conflict in _job.Plan.Conflicts)
        {
            Log("conflict", conflict.Resolution, conflict.Interface);
        }

        foreach (var excluded in _job.Excluded)
        {
            Log("excluded", string.Join("; ", excluded.Reasons.Select(r => r.ToString())), excluded.Interface);
        }

        Drain();
        StopWhenDone(); // a race decided at once (nothing to try) ends here
    }

    /// <summary>The racer stops once the race is decided and every task it started has ended.</summary>
    private void StopWhenDone()
    {
        if (_finished && _outstanding == 0)
        {
            Context.Stop(Self);
        }
    }

    protected override void PostStop()
    {
        _raceCancel.Cancel();
        foreach (var attempt in _inFlight.Values)
        {
            attempt.Cancel.Dispose();
            // Its result will reach a stopped actor: a connection made anyway (the handshake completed as the cancellation
            // arrived) has no owner left but this, so it is closed where it completes.
            _ = attempt.Connecting.ContinueWith(static t => Close(t.Result), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        _raceCancel.Dispose();
        // Stopped before the race was decided (the engine is shutting down): a failed race that says so. A racer stopped
        // for a bug of its own was already answered with the cause by its request actor.
        _job.Completion.TrySetResult(RaceResult.Failed(_job.Request, _job.Settings, HeMifEngine.EngineStoppedReason));
        Context.Parent.Tell(RaceMessages.RacerStopped.Instance);
    }

    private void OnResolved(Resolved resolved)
    {
        if (_finished)
        {
            return;
        }

        var name = AddressOrdering.Name(resolved.Family);
        if (resolved.Result.Error is { } error)
        {
            Log("resolve-failed", $"{name}: {error}", resolved.Interface);
            _planner.Handle(new RaceInput.ResolutionFailed(resolved.Interface, resolved.Family, error), Now);
        }
        else
        {
            var note = resolved.Result.Note is { } n ? $" ({n})" : "";
            Log("resolved", (resolved.Result.Addresses.Count == 0 ? $"{name}: no addresses" : $"{name}: {string.Join(", ", resolved.Result.Addresses)}") + note, resolved.Interface);
            _planner.Handle(new RaceInput.ResolutionAnswered(resolved.Interface, resolved.Family, resolved.Result.Addresses), Now);
        }

        Drain();
    }

    private void OnAttemptDone(AttemptDone done)
    {
        if (_inFlight.Remove(done.Id, out var attempt))
        {
            attempt.Cancel.Dispose();
        }

        if (!_finished)
        {
            switch (done.Error)
            {
                case null:
                    _planner.Handle(new RaceInput.AttemptSucceeded(done.Id), Now);
                    break;
                case AttemptFailedException failed:
                    Log("attempt-failed", $"{done.Id}: {failed.Message} ({failed.Kind.ToString().ToLowerInvariant()} error)", done.Interface);
                    _planner.Handle(new RaceInput.AttemptFailed(done.Id, failed.Kind, failed.Message), Now);
                    break;
                case OperationCanceledException:
                    break; // we cancelled it; the planner already counts it as cancelled
                default:
                    Log("attempt-failed", $"{done.Id}: unexpected {done.Error.GetType().Name}: {done.Error.Message}", done.Interface);
                    _planner.Handle(new RaceInput.AttemptFailed(done.Id, AttemptFailureKind.Soft, $"unexpected {done.Error.GetType().Name}: {done.Error.Message}"), Now);
                    break;
            }

            if (done.Path is not null && _winner is null)
            {
                _winnerPath = done.Path; // the planner declares it the winner in this Drain
            }

            Drain();
        }

        if (done.Path is not null && done.Id != _winner)
        {
            Close(done.Path); // a loser that connected anyway, possibly after the race ended
        }
    }

    /// <summary>Carries out the planner's commands until it waits or finishes.</summary>
    private void Drain()
    {
        // One reading of the clock per command: the clock moves while we work (a real one, on a busy machine), so a
        // second reading could be past the planner's WaitUntil and ask the kernel for a timer in the past.
        TimeSpan now;
        while (!_finished && _planner.Poll(now = Now) is { } command)
        {
            switch (command)
            {
                case RaceCommand.StartResolution resolve:
                    StartResolution(resolve);
                    break;
                case RaceCommand.StartAttempt attempt:
                    StartAttempt(attempt);
                    break;
                case RaceCommand.CancelAttempt cancel:
                    Log("cancel", $"{cancel.Id}: {cancel.Reason}", Interface(cancel.Id));
                    if (_inFlight.TryGetValue(cancel.Id, out var inFlight))
                    {
                        inFlight.Cancel.Cancel();
                    }

                    break;
                case RaceCommand.Note note:
                    Log("note", note.Text, note.Interface);
                    if (note.IsFallback)
                    {
                        _fallback ??= _events[^1];
                    }

                    break;
                case RaceCommand.WaitUntil wait:
                    Timers.StartSingleTimer(PollTimer, Poll.Instance, wait.At > now ? wait.At - now : TimeSpan.Zero);
                    return;
                case RaceCommand.Won won:
                    _winner = won.Id;
                    Log("won", $"{won.Id}: {won.Endpoint}", won.Endpoint.Interface);
                    Finish(RaceOutcome.Connected, null);
                    return;
                case RaceCommand.Failed failed:
                    var reason = _job.Excluded.Count == 0 ? failed.Reason
                        : $"{failed.Reason}{NotUsedSeparator}{string.Join("; ", _job.Excluded.Select(x => $"{x.Interface} [{string.Join(", ", x.Reasons)}]"))}";
                    Log("failed", reason, null);
                    Finish(RaceOutcome.Failed, reason);
                    return;
            }
        }
    }

    private void StartResolution(RaceCommand.StartResolution resolve)
    {
        var name = AddressOrdering.Name(resolve.Family);
        Log("resolve", $"{name} ({(resolve.Family == AddressFamily.InterNetworkV6 ? "AAAA" : "A")}) for {_job.Request.Host}", resolve.Interface);
        _outstanding++;
        var family = resolve.Family;
        var iface = resolve.Interface;
        var lookup = _job.Lookups is { } made && made.TryGetValue((iface, family), out var earlier) ? earlier
            : Started(() => _job.Resolver.ResolveAsync(_job.Facts[iface], _job.Request.Host, family, _raceCancel.Token));
        lookup
            .PipeTo(Self, success: r => new Resolved(iface, family, r),
                failure: e => new Resolved(iface, family, ResolveResult.Failure(e is OperationCanceledException ? "cancelled" : e.Message)));
    }

    private void StartAttempt(RaceCommand.StartAttempt attempt)
    {
        var endpoint = attempt.Endpoint;
        var transport = _job.Transports.Find(endpoint.Transport);
        Log("attempt", $"{attempt.Id}: {endpoint}", endpoint.Interface);
        var id = attempt.Id;
        var iface = endpoint.Interface;
        if (transport is null)
        {
            // The planner only plans registered transports; a missing one here is a wiring error, not a crash.
            Self.Tell(new AttemptDone(id, iface, null, new AttemptFailedException(AttemptFailureKind.Soft, $"no transport named '{endpoint.Transport}' is registered")));
            _outstanding++;
            return;
        }

        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_raceCancel.Token);
        _outstanding++;
        // The socket's source address follows the configured RFC 6724 policy table, not the default one (issue 14).
        var context = new AttemptContext(_job.Facts[iface], endpoint.Remote, _job.Request.Host, _job.Request.ApplicationProtocols)
        {
            AddressSelectionTable = _job.Plan.Policy.AddressSelectionTable,
        };
        var connecting = Started(() => transport.ConnectAsync(context, cancel.Token));
        _inFlight[id] = new InFlightAttempt(cancel, connecting);
        connecting.PipeTo(Self, success: p => new AttemptDone(id, iface, p, null), failure: e => new AttemptDone(id, iface, null, e));
    }

    private void Finish(RaceOutcome outcome, string? failure)
    {
        _finished = true;
        Timers.Cancel(PollTimer);
        _raceCancel.Cancel();
        _job.LookupCancel?.Cancel();
        var report = BuildReport(outcome, failure);
        if (!failure?.StartsWith("cancelled", StringComparison.Ordinal) ?? true)
        {
            RecordOutcomes(report);
        }

        // The engine keeps the report (HeMifActor.GetLastRaceReport) before the caller has it: whoever the caller then
        // asks finds it there.
        _job.Engine?.Tell(new EngineMessages.RequestEnded(_job.RequestId, report));
        var path = outcome == RaceOutcome.Connected ? _winnerPath : null;
        if (!_job.Completion.TrySetResult(new RaceResult(report, path)) && path is not null)
        {
            Close(path);
        }
    }

    /// <summary>
    /// Tells each interface's supervisor what this race learned (draft §5.2.3: "The node would cache information
    /// regarding the outcome of each connection attempt"), per address family too (<see cref="RaceLessons"/>).
    /// </summary>
    private void RecordOutcomes(RaceReport report)
    {
        foreach (var lesson in RaceLessons.From(_planner.Attempts, report.TimeToConnect ?? Now, _planner.FallbackDelay))
        {
            if (!_job.Supervisors.TryGetValue(lesson.Interface, out var supervisor))
            {
                continue;
            }

            if (lesson.Succeeded || lesson.Failed)
            {
                supervisor.Tell(new ValidateMessages.RecordOutcome(_destination, lesson.Succeeded, lesson.Rtt) { Attempts = lesson.Attempts, Silent = lesson.Silent }, Self);
            }

            if (lesson.Succeeded && lesson.Attempts.Any(a => a.Verdict == AttemptVerdict.Won && _job.Transports.Find(a.Transport) is { RunsOverUdp: true }))
            {
                // A completed QUIC handshake (any transport over UDP) is the strongest proof that UDP/QUIC gets through here.
                supervisor.Tell(new ValidateMessages.RecordQuicVerdict(_destination, Blocked: false), Self);
            }
        }
    }

    private RaceReport BuildReport(RaceOutcome outcome, string? failure)
    {
        var attempts = _planner.Attempts.Select(a => new AttemptReport(
            a.Id.Value,
            a.Endpoint.Interface,
            a.Endpoint.Transport.Value,
            a.Endpoint.Family == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4",
            a.Endpoint.Remote.ToString(),
            a.Started,
            a.Ended,
            a.Outcome switch { AttemptOutcome.Won => "won", AttemptOutcome.Failed => "failed", AttemptOutcome.Cancelled => "cancelled", _ => "running" },
            a.Error)).ToList();
        WinnerReport? winner = null;
        TimeSpan? timeToConnect = null;
        if (outcome == RaceOutcome.Connected && _planner.Attempts.FirstOrDefault(a => a.Outcome == AttemptOutcome.Won) is { } w)
        {
            var facts = _job.Facts[w.Endpoint.Interface];
            winner = new WinnerReport(w.Endpoint.Interface, facts.Kind, w.Endpoint.Transport.Value,
                w.Endpoint.Family == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4", w.Endpoint.Remote.ToString());
            timeToConnect = w.Ended;
        }

        var decision = _planner.Decision;
        var timings = new RaceTimings(_planner.FallbackDelay, _job.Settings.ConnectionAttemptDelay, _job.Settings.ResolutionDelay)
        {
            FallbackDelaySource = decision.Source,
            FallbackDelayReason = decision.Reason,
            CostlyFallbackDelay = _planner.CostlyWaited ? decision.CostlyDelay : null,
            FallbackTimerStart = _planner.TimerStart,
        };
        return new RaceReport(_job.Request.Host, _job.Request.Port, outcome, winner, timeToConnect, timings, attempts, _job.Excluded, [.. _events], failure)
        {
            Fallback = _fallback,
        };
    }

    /// <summary>
    /// The task <paramref name="start"/> returns, or a faulted one when it throws before returning a task: a resolver or
    /// transport (possibly the application's own) that throws synchronously fails that one step, not the whole race.
    /// </summary>
    private static Task<T> Started<T>(Func<Task<T>> start)
    {
        try
        {
            return start();
        }
#pragma warning disable CA1031 // Any exception is that step's failure; the planner decides what it means.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Task.FromException<T>(e);
        }
    }

    // Attempt ids are issued in order from 0 and the planner lists its attempts in start order: the id is the index.
    private string? Interface(AttemptId id) =>
        id.Value < (ulong)_planner.Attempts.Count && _planner.Attempts[(int)id.Value] is { } a && a.Id == id ? a.Endpoint.Interface : null;

    private void Log(string kind, string detail, string? iface)
    {
        var entry = new RaceEvent(Now, kind, detail, iface);
        _events.Add(entry);
        _job.Publish(entry);
    }

    private static void Close(ConnectedPath path) =>
        _ = path.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private sealed class Poll
    {
        public static readonly Poll Instance = new();
    }

    private sealed record Resolved(string Interface, AddressFamily Family, ResolveResult Result);

    private sealed record AttemptDone(AttemptId Id, string Interface, ConnectedPath? Path, Exception? Error);

    /// <summary>An attempt whose result has not reached the racer yet: how to cancel it, and its task.</summary>
    private sealed record InFlightAttempt(CancellationTokenSource Cancel, Task<ConnectedPath> Connecting);
}
