using System.Globalization;
using HeMif.Interfaces;
using HeMif.Kernel;
using HeMif.Remember;
using HeMif.Report;

namespace HeMif.Validate;

/// <summary>How interfaces are validated and their history kept.</summary>
internal sealed record ValidationSettings
{
    /// <summary>How often a validated interface is probed again.</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A probe that has not answered by then counts as <see cref="ValidationState.NoConnectivity"/>.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Backoff between restarts of a probe that crashed (threw instead of returning a verdict).</summary>
    public RestartBackoff ProbeRestartBackoff { get; init; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 2, 0.2);

    /// <summary>How many probe restarts <see cref="ProbeRestartWindow"/> allows before the probe is given up.</summary>
    public int ProbeRestartBudget { get; init; } = 5;

    /// <summary>The window of <see cref="ProbeRestartBudget"/>.</summary>
    public TimeSpan ProbeRestartWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Outcome cache age limit (draft §5.2.3: "Maximum on the order of 10 minutes").</summary>
    public TimeSpan OutcomeMaxAge { get; init; } = OutcomeCache.DefaultMaxAge;

    /// <summary>Random source for the probe restart jitter (seeded in tests and simulations).</summary>
    public Random? Random { get; init; }
}

/// <summary>Messages of the validation step.</summary>
internal static class ValidateMessages
{
    /// <summary>Ask: the interface's facts, state and history to <paramref name="Destination"/>.</summary>
    public sealed record GetSnapshot(Destination Destination);

    /// <summary>The answer to <see cref="GetSnapshot"/>.</summary>
    public sealed record InterfaceSnapshot(InterfaceFacts Facts, ValidationState State, string Detail, OutcomeEntry? History);

    /// <summary>The interface's facts changed (link, addresses, PvD, …).</summary>
    public sealed record UpdateFacts(InterfaceFacts Facts);

    /// <summary>What a race learned about this interface and a destination.</summary>
    public sealed record RecordOutcome(Destination Destination, bool Succeeded, TimeSpan? Rtt);

    /// <summary>
    /// A request may use QUIC here and knows no verdict for <paramref name="Destination"/>: probe it in the background
    /// unless a probe is already running or a verdict has arrived since.
    /// </summary>
    public sealed record ProbeQuicInBackground(Destination Destination);

    /// <summary>Ask: probe QUIC to <paramref name="Destination"/> now, whatever is cached; the answer is a <see cref="QuicPathVerdict"/>.</summary>
    public sealed record ProbeQuicNow(Destination Destination);

    /// <summary>A race learned whether QUIC gets through here (a QUIC handshake completed: it does).</summary>
    public sealed record RecordQuicVerdict(Destination Destination, bool Blocked);

    /// <summary>
    /// The interface is gone from the host and was removed from the engine: say Down once, stop examining, keep
    /// answering snapshots (as Down) for <paramref name="Linger"/> so that a request that asked just before the removal
    /// still gets its answer, then stop.
    /// </summary>
    public sealed record Retire(TimeSpan Linger);

    /// <summary>Probe again now.</summary>
    public sealed class Revalidate
    {
        public static readonly Revalidate Instance = new();
    }

    /// <summary>To the probe child: examine these facts.</summary>
    public sealed record RunProbe(InterfaceFacts Facts, long Generation);

    /// <summary>From the probe child: the verdict of probe <paramref name="Generation"/>.</summary>
    public sealed record ProbeDone(long Generation, ValidationResult Result);

    /// <summary>From the probe child after a restart: a probe in flight was lost.</summary>
    public sealed class ProbeRestarted
    {
        public static readonly ProbeRestarted Instance = new();
    }
}

/// <summary>
/// One per interface (DESIGN.md §1, step 2): its facts, its validation state, its outcome cache. Draft §5.2.1: "a
/// PVD-aware node shall perform connectivity tests and, only after validation of the PVD, consider using it …
/// Unexamined PVDs or interfaces should be accounted as 'unconnected'. It should not join the sort process." The probe
/// runs in a child actor, restarted with backoff when it crashes; a probe that keeps crashing is given up and the
/// interface counts as unconnected until the next periodic validation starts a fresh one.
/// <para>
/// It also keeps the interface's QUIC verdicts (DESIGN.md, "QUIC": "a per-interface 'UDP/QUIC works here' verdict is
/// cached like any outcome"): it runs the QUIC path probe for a destination when a request asks (in the background,
/// or now for an on-demand probe), one probe per destination at a time, and records reachable or blocked in the
/// outcome cache. A verdict that arrives after the interface changed network answers whoever asked, but is not kept.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which the kernel runs on stop and before a restart.")]
internal sealed class InterfaceSupervisor : Actor
{
    private const string RevalidateTimer = "revalidate";
    private const string RetireTimer = "retire";
    private readonly IConnectivityProbe _probe;
    private readonly ValidationSettings _settings;
    private readonly Action<InterfaceStateChanged> _publish;
    private readonly OutcomeCache _cache;
    private InterfaceFacts _facts;
    private ValidationState _state = ValidationState.Unknown;
    private string _detail = "not examined yet";
    private IActorRef? _probeChild;
    private long _generation;
    private bool _probeInFlight;
    private bool _retired;
    private readonly IQuicPathProbe? _quicProbe;
    private readonly Dictionary<Destination, QuicProbeInFlight> _quicProbes = [];
    private CancellationTokenSource _quicCancel = new();
    private long _network;

    public InterfaceSupervisor(InterfaceFacts facts, IConnectivityProbe probe, ValidationSettings settings, Action<InterfaceStateChanged> publish, IQuicPathProbe? quicProbe = null)
    {
        _facts = facts;
        _probe = probe;
        _quicProbe = quicProbe;
        _settings = settings;
        _publish = publish;
        _cache = new OutcomeCache(Context.TimeProvider, settings.OutcomeMaxAge);
    }

    protected internal override SupervisorStrategy SupervisorStrategy =>
        new(_ => Directive.Restart, _settings.ProbeRestartBudget, _settings.ProbeRestartWindow, _settings.ProbeRestartBackoff, _settings.Random);

    protected internal override void PreStart()
    {
        Context.ScheduleRepeatedly(RevalidateTimer, ValidateMessages.Revalidate.Instance, _settings.Period, _settings.Period);
        StartValidation("first examination");
    }

    protected internal override void OnReceive(object message)
    {
        switch (message)
        {
            case ValidateMessages.GetSnapshot get:
                Reply(new ValidateMessages.InterfaceSnapshot(_facts, _state, _detail, _cache.Lookup(get.Destination)));
                break;
            case ValidateMessages.ProbeDone done when done.Generation == _generation:
                _probeInFlight = false;
                SetState(done.Result.State, done.Result.Detail);
                break;
            case ValidateMessages.ProbeDone:
                break; // an older probe's verdict: the facts changed since
            case ValidateMessages.ProbeRestarted when _probeInFlight:
                _probeChild?.Tell(new ValidateMessages.RunProbe(_facts, _generation), Self);
                break;
            case ValidateMessages.Revalidate when !_retired:
                StartValidation("periodic re-examination", periodic: true);
                break;
            case ValidateMessages.UpdateFacts update when !_retired:
                OnFactsChanged(update.Facts);
                break;
            case ValidateMessages.Retire retire when !_retired:
                _retired = true;
                Context.CancelTimer(RevalidateTimer);
                _facts = _facts with { IsUp = false, Addresses = [] };
                _generation++; // a probe in flight no longer counts
                _probeInFlight = false;
                _cache.Flush();
                SetState(ValidationState.Down, "the interface is gone from the host");
                Context.ScheduleOnce(RetireTimer, Retired.Instance, retire.Linger);
                break;
            case Retired:
                Context.Stop(Self);
                break;
            case ValidateMessages.Revalidate or ValidateMessages.UpdateFacts or ValidateMessages.Retire when _retired:
                break; // gone: nothing more to examine
            case ValidateMessages.RecordOutcome outcome:
                if (outcome.Succeeded)
                {
                    _cache.RecordSuccess(outcome.Destination, outcome.Rtt ?? TimeSpan.Zero);
                }
                else
                {
                    _cache.RecordFailure(outcome.Destination);
                }

                break;
            case ValidateMessages.ProbeQuicInBackground background:
                if (_quicProbe is not null && _facts.IsUp && _cache.Lookup(background.Destination)?.QuicBlocked is null)
                {
                    StartQuicProbe(background.Destination, null);
                }

                break;
            case ValidateMessages.ProbeQuicNow now:
                if (_quicProbe is null)
                {
                    Reply(new QuicPathVerdict(_facts.Name, QuicPathState.Unknown, "no QUIC path probe is configured"));
                }
                else
                {
                    StartQuicProbe(now.Destination, Sender);
                }

                break;
            case QuicProbed probed:
                OnQuicProbed(probed);
                break;
            case ValidateMessages.RecordQuicVerdict verdict:
                _cache.RecordQuicVerdict(verdict.Destination, verdict.Blocked);
                break;
            case Terminated terminated when ReferenceEquals(terminated.Actor, _probeChild):
                _probeChild = null;
                _probeInFlight = false;
                if (_retired)
                {
                    break;
                }

                SetState(ValidationState.NoConnectivity, "the connectivity probe kept failing and was given up after its restart budget; it starts afresh at the next periodic examination");
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// RFC 8305 §4: history "SHOULD be flushed whenever a device changes the network to which it is attached"; a new
    /// network also needs a new examination.
    /// </summary>
    private void OnFactsChanged(InterfaceFacts facts)
    {
        var old = _facts;
        _facts = facts;
        var changed = old.IsUp != facts.IsUp
                      || !string.Equals(old.PvdId, facts.PvdId, StringComparison.Ordinal)
                      || !string.Equals(old.WifiNetwork, facts.WifiNetwork, StringComparison.Ordinal)
                      || !old.Addresses.Select(a => a.Address).ToHashSet().SetEquals(facts.Addresses.Select(a => a.Address));
        if (changed)
        {
            _cache.Flush();
            // QUIC probes of the old network say nothing about the new one: cancel them (their askers still get an answer).
            _network++;
            _quicCancel.Cancel();
            _quicCancel.Dispose();
            _quicCancel = new CancellationTokenSource();
            StartValidation("the interface changed (link, addresses, PvD or network)");
        }
    }

    /// <summary>The timer message that ends a retired supervisor's linger.</summary>
    private sealed class Retired
    {
        public static readonly Retired Instance = new();
    }

    protected internal override void PostStop()
    {
        _quicCancel.Cancel();
        _quicCancel.Dispose();
    }

    private void StartQuicProbe(Destination destination, IActorRef? asker)
    {
        if (_quicProbes.TryGetValue(destination, out var running) && running.Network == _network)
        {
            if (asker is not null)
            {
                running.Askers.Add(asker); // one probe per destination at a time: join the one under way
            }

            return;
        }

        var entry = new QuicProbeInFlight(_network, asker is null ? [] : [asker]);
        _quicProbes[destination] = entry;
        var name = _facts.Name;
        Task<QuicPathVerdict> probing;
        try
        {
            probing = _quicProbe!.ProbeAsync(_facts, destination.Host, destination.Port, _quicCancel.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            probing = Task.FromException<QuicPathVerdict>(e);
        }

        // The probe waits on the network or the clock: not work in flight for a virtual-time run.
        probing.PipeTo(Self,
            success: v => new QuicProbed(destination, entry, v),
            failure: e => new QuicProbed(destination, entry, new QuicPathVerdict(name, QuicPathState.Unknown,
                e is OperationCanceledException ? "the QUIC probe was cancelled (the interface changed or the engine stopped)" : $"the QUIC probe failed: {e.Message}")),
            countsAsWork: false);
    }

    private void OnQuicProbed(QuicProbed probed)
    {
        if (_quicProbes.TryGetValue(probed.Destination, out var current) && ReferenceEquals(current, probed.Probe))
        {
            _quicProbes.Remove(probed.Destination);
        }

        if (probed.Probe.Network == _network && probed.Verdict.State is QuicPathState.Reachable or QuicPathState.Blocked)
        {
            _cache.RecordQuicVerdict(probed.Destination, probed.Verdict.State == QuicPathState.Blocked);
        }

        foreach (var asker in probed.Probe.Askers)
        {
            asker.Tell(probed.Verdict, Self);
        }
    }

    private void StartValidation(string why, bool periodic = false)
    {
        if (!_facts.IsUp)
        {
            _generation++;
            _probeInFlight = false;
            SetState(ValidationState.Down, "link down");
            return;
        }

        if (_probeChild is null)
        {
            _probeChild = Context.ActorOf(Props.Create(() => new ProbeActor(_probe, _settings.ProbeTimeout)), "probe-" + (_generation + 1).ToString(CultureInfo.InvariantCulture));
            Context.Watch(_probeChild);
        }

        _generation++;
        _probeInFlight = true;
        if (!(periodic && _state == ValidationState.Validated))
        {
            SetState(ValidationState.Validating, why);
        }

        // else: a periodic re-examination does not withdraw a verdict. Until the probe answers, the interface stays
        // Validated: otherwise every period would push new connections (and subflows) off a working Wi-Fi onto
        // cellular for as long as a probe takes. The probe's answer changes the state if the path stopped working.
        _probeChild.Tell(new ValidateMessages.RunProbe(_facts, _generation), Self);
    }

    private void SetState(ValidationState state, string detail)
    {
        if (state == _state && detail == _detail)
        {
            return;
        }

        _state = state;
        _detail = detail;
        _publish(new InterfaceStateChanged(_facts.Name, state, detail, Context.TimeProvider.GetUtcNow()));
    }
}

/// <summary>A QUIC probe under way: the network (facts generation) it started on, and who waits for its verdict.</summary>
internal sealed record QuicProbeInFlight(long Network, List<IActorRef> Askers);

/// <summary>A QUIC probe's verdict, back at its <see cref="InterfaceSupervisor"/>.</summary>
internal sealed record QuicProbed(Destination Destination, QuicProbeInFlight Probe, QuicPathVerdict Verdict);

/// <summary>
/// Runs one probe at a time for its <see cref="InterfaceSupervisor"/>. A probe that throws is a crash: the supervisor
/// restarts this actor with backoff, and the fresh instance tells its parent so the probe in flight is re-run. A probe
/// that does not answer within the timeout is cancelled and counts as no connectivity.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which the kernel runs on stop and before a restart.")]
internal sealed class ProbeActor(IConnectivityProbe probe, TimeSpan timeout) : Actor
{
    private const string TimeoutTimer = "probe-timeout";
    private CancellationTokenSource? _cancel;
    private long _generation;

    protected internal override void OnReceive(object message)
    {
        switch (message)
        {
            case ValidateMessages.RunProbe run:
                CancelRunning();
                _generation = run.Generation;
                _cancel = new CancellationTokenSource();
                Context.ScheduleOnce(TimeoutTimer, new TimedOut(run.Generation), timeout);
                var generation = run.Generation;
                probe.ProbeAsync(run.Facts, _cancel.Token)
                    .PipeTo(Self, success: r => new Probed(generation, r), failure: e => new Faulted(generation, e), countsAsWork: false);
                break;
            case Probed probed when probed.Generation == _generation:
                Context.CancelTimer(TimeoutTimer);
                Context.Parent.Tell(new ValidateMessages.ProbeDone(probed.Generation, probed.Result), Self);
                break;
            case TimedOut timedOut when timedOut.Generation == _generation:
                CancelRunning();
                Context.Parent.Tell(new ValidateMessages.ProbeDone(timedOut.Generation, new ValidationResult(
                    ValidationState.NoConnectivity, $"the connectivity probe got no answer within {timeout.TotalMilliseconds:0} ms")), Self);
                break;
            case Faulted faulted when faulted.Generation == _generation && faulted.Exception is not OperationCanceledException:
                Context.CancelTimer(TimeoutTimer);
                throw new ProbeCrashedException($"The connectivity probe threw: {faulted.Exception.Message}", faulted.Exception);
        }
    }

    protected internal override void PostRestart(Exception reason) => Context.Parent.Tell(ValidateMessages.ProbeRestarted.Instance, Self);

    protected internal override void PostStop() => CancelRunning();

    private void CancelRunning()
    {
        _cancel?.Cancel();
        _cancel?.Dispose();
        _cancel = null;
    }

    private sealed record Probed(long Generation, ValidationResult Result);

    private sealed record Faulted(long Generation, Exception Exception);

    private sealed record TimedOut(long Generation);
}

/// <summary>A probe threw instead of returning a verdict: a bug or a broken environment, handled by supervision.</summary>
internal sealed class ProbeCrashedException(string message, Exception inner) : Exception(message, inner);
