using System.Globalization;
using HeMif.Interfaces;
using Akka.Actor;
using HeMif.Runtime;
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

    /// <summary>The most destinations the outcome cache of one interface keeps (the least recently written goes first).</summary>
    public int OutcomeCapacity { get; init; } = OutcomeCache.DefaultCapacity;

    /// <summary>
    /// How often an interface found behind a captive portal is examined again (draft §5.2.1), so that a user who logs in
    /// gets it back within this time rather than after <see cref="Period"/>. 10 to 30 s is the useful range; default 15 s.
    /// </summary>
    public TimeSpan CaptivePortalPeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The least time between two examinations caused by silence: after a race in which this validated interface failed
    /// softly (its attempts stayed silent), it is examined again at once, but not more often than this.
    /// </summary>
    public TimeSpan SilenceRevalidationInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Random source for the probe restart jitter (seeded in tests and simulations).</summary>
    public Random? Random { get; init; }

    /// <summary>Throws when a setting makes no sense, naming it.</summary>
    public void Validate()
    {
        if (Period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Period), Period, "The validation period must be positive.");
        }

        if (ProbeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeTimeout), ProbeTimeout, "The probe timeout must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(ProbeRestartBudget);
        ArgumentOutOfRangeException.ThrowIfLessThan(OutcomeCapacity, 1);
        if (CaptivePortalPeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CaptivePortalPeriod), CaptivePortalPeriod, "The captive portal re-examination period must be positive.");
        }

        if (SilenceRevalidationInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SilenceRevalidationInterval), SilenceRevalidationInterval, "The silence re-examination interval must not be negative.");
        }

        if (ProbeRestartWindow <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeRestartWindow), ProbeRestartWindow, "The probe restart window must be positive.");
        }

        ProbeRestartBackoff.Validate();
    }
}

/// <summary>Messages of the validation step.</summary>
/// <summary>
/// Why the policy keeps an interface out of every request whatever it asks, in words, or null when some request could
/// use it (the planner's answer, passed in so that validation does not depend on planning).
/// </summary>
internal delegate string? ExclusionCheck(InterfaceFacts facts, DateTimeOffset now);

internal static class ValidateMessages
{
    /// <summary>Ask: the interface's facts, state and history to <paramref name="Destination"/>.</summary>
    public sealed record GetSnapshot(Destination Destination);

    /// <summary>The answer to <see cref="GetSnapshot"/>.</summary>
    public sealed record InterfaceSnapshot(InterfaceFacts Facts, ValidationState State, string Detail, OutcomeEntry? History);

    /// <summary>The interface's facts changed (link, addresses, PvD, …).</summary>
    public sealed record UpdateFacts(InterfaceFacts Facts);

    /// <summary>
    /// The policy changed: an interface it now keeps out of every request stops being examined
    /// (<see cref="ValidationState.Excluded"/>), and one it no longer does is examined at once.
    /// </summary>
    public sealed record PolicyChanged(ExclusionCheck ExcludesAlways);

    /// <summary>What a race learned about this interface and a destination.</summary>
    public sealed record RecordOutcome(Destination Destination, bool Succeeded, TimeSpan? Rtt)
    {
        /// <summary>Each attempt's verdict by family and transport (RFC 8305 §4, draft §7.5); none: nothing per family.</summary>
        public IReadOnlyList<AttemptSummary> Attempts { get; init; } = [];

        /// <summary>
        /// The interface failed softly: its attempts stayed silent, with no hard error. A validated interface is then
        /// examined again at once (rate-limited): its path may have broken since it was validated (draft §3.1).
        /// </summary>
        public bool Silent { get; init; }

        /// <inheritdoc/>
        public bool Equals(RecordOutcome? other) =>
            other is not null && Destination == other.Destination && Succeeded == other.Succeeded && Rtt == other.Rtt && Silent == other.Silent &&
            Attempts.SequenceEqual(other.Attempts);

        /// <inheritdoc/>
        public override int GetHashCode() => HashCode.Combine(Destination, Succeeded, Rtt, Silent, Attempts.Count);
    }

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

    /// <summary>Ask (tests, diagnostics): how many destinations the outcome cache holds; the answer is an <see cref="int"/>.</summary>
    public sealed class GetCacheSize
    {
        public static readonly GetCacheSize Instance = new();
    }

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

    /// <summary>The restart backoff is over: run the lost probe again.</summary>
    public sealed class RerunProbe
    {
        public static readonly RerunProbe Instance = new();
    }
}

/// <summary>
/// One per interface (docs/architecture.md §1, step 2): its facts, its validation state, its outcome cache. Draft §5.2.1: "a
/// PVD-aware node shall perform connectivity tests and, only after validation of the PVD, consider using it …
/// Unexamined PVDs or interfaces should be accounted as 'unconnected'. It should not join the sort process." The probe
/// runs in a child actor; when it crashes Akka's supervision restarts it, and the probe in flight runs again after a
/// backoff; a probe that keeps crashing (more restarts than the budget allows within its window, both on HeMif's clock)
/// is stopped, and the interface counts as unconnected until the next periodic validation starts a fresh one.
/// Every state change goes to <c>reportTo</c> (the engine), which publishes it and tells the races.
/// <para>
/// It also keeps the interface's QUIC verdicts (a per-interface "UDP/QUIC works here" verdict is cached like any
/// outcome): it runs the QUIC path probe for a destination when a request asks (in the background, or now for an
/// on-demand probe), one probe per destination at a time, and records reachable or blocked in the outcome cache. A
/// verdict that arrives after the interface changed network answers whoever asked, but is not kept.
/// </para>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which Akka runs on stop.")]
internal sealed class InterfaceSupervisor : ReceiveActor, IWithTimers
{
    private const string RevalidateTimer = "revalidate";
    private const string RetireTimer = "retire";
    private const string RerunTimer = "rerun-probe";
    private const string PortalTimer = "captive-portal";
    private readonly ConnectivityProbe _probe;
    private readonly ValidationSettings _settings;
    private readonly TimeProvider _clock;
    private readonly IActorRef _reportTo;
    private readonly Action<ActorFailure> _failures;
    private readonly OutcomeCache _cache;
    private readonly RestartBudget _budget;
    private readonly Random _random;
    private InterfaceFacts _facts;
    private ValidationState _state = ValidationState.Unknown;
    private string _detail = "not examined yet";
    private IActorRef? _probeChild;
    private long _generation;
    private long _probeChildren;
    private bool _probeInFlight;
    private bool _retired;
    private TimeSpan _rerunAfter;
    private readonly QuicPathProbe? _quicProbe;
    private readonly InterfaceResolver? _resolver;
    private readonly Dictionary<Destination, QuicProbeInFlight> _quicProbes = [];
    private CancellationTokenSource _quicCancel = new();
    private long _network;
    private DateTimeOffset? _lastSilenceExamination;
    private ExclusionCheck? _excludesAlways;

    public InterfaceSupervisor(InterfaceFacts facts, ConnectivityProbe probe, ValidationSettings settings, TimeProvider clock, IActorRef reportTo, Action<ActorFailure> failures, QuicPathProbe? quicProbe = null, InterfaceResolver? resolver = null, ExclusionCheck? excludesAlways = null)
    {
        _facts = facts;
        _excludesAlways = excludesAlways;
        _probe = probe;
        _quicProbe = quicProbe;
        _resolver = resolver;
        _settings = settings;
        _clock = clock;
        _reportTo = reportTo;
        _failures = failures;
        _random = settings.Random ?? new Random();
        _cache = new OutcomeCache(clock, settings.OutcomeMaxAge, settings.OutcomeCapacity);
        _budget = new RestartBudget(settings.ProbeRestartBudget, settings.ProbeRestartWindow, clock);

        Receive<ValidateMessages.GetSnapshot>(get => Sender.Tell(new ValidateMessages.InterfaceSnapshot(_facts, _state, _detail, _cache.Lookup(get.Destination))));
        Receive<ValidateMessages.ProbeDone>(done =>
        {
            if (done.Generation == _generation)
            {
                _probeInFlight = false;
                SetState(done.Result.State, done.Result.Detail);
            }

            // else: an older probe's verdict: the facts changed since
        });
        Receive<ValidateMessages.ProbeRestarted>(_ =>
        {
            if (_probeInFlight)
            {
                Timers.StartSingleTimer(RerunTimer, ValidateMessages.RerunProbe.Instance, _rerunAfter);
            }
        });
        Receive<ValidateMessages.RerunProbe>(_ =>
        {
            if (_probeInFlight)
            {
                _probeChild?.Tell(new ValidateMessages.RunProbe(_facts, _generation), Self);
            }
        });
        Receive<ValidateMessages.Revalidate>(_ =>
        {
            if (!_retired)
            {
                StartValidation("periodic re-examination", periodic: true);
            }
        });
        Receive<PortalRecheck>(_ =>
        {
            // Draft §5.2.1: a captive portal "forces a login or a click-through": once the user has logged in the interface
            // works, and only a new examination can tell. Its verdict stands until the probe answers.
            if (!_retired && _state == ValidationState.CaptivePortal && !_probeInFlight)
            {
                StartValidation("re-examination of a captive portal", periodic: true);
            }
        });
        Receive<ValidateMessages.UpdateFacts>(update =>
        {
            if (!_retired)
            {
                OnFactsChanged(update.Facts);
            }
        });
        Receive<ValidateMessages.PolicyChanged>(changed =>
        {
            _excludesAlways = changed.ExcludesAlways;
            if (!_retired && (_state == ValidationState.Excluded) != (ExcludedBy() is not null))
            {
                StartValidation("the policy changed");
            }
        });
        Receive<ValidateMessages.Retire>(retire =>
        {
            if (_retired)
            {
                return; // gone: nothing more to examine
            }

            _retired = true;
            Timers.Cancel(RevalidateTimer);
            Timers.Cancel(RerunTimer);
            _facts = _facts with { IsUp = false, Addresses = [] };
            _generation++; // a probe in flight no longer counts
            _probeInFlight = false;
            _cache.Flush();
            ForgetDnsAnswers();
            SetState(ValidationState.Down, "the interface is gone from the host");
            Timers.StartSingleTimer(RetireTimer, Retired.Instance, retire.Linger);
        });
        Receive<Retired>(_ => Context.Stop(Self));
        Receive<ValidateMessages.RecordOutcome>(outcome =>
        {
            _cache.Record(outcome.Destination, outcome.Succeeded, outcome.Rtt, outcome.Attempts);
            if (outcome.Silent && !_retired && _state == ValidationState.Validated && !_probeInFlight)
            {
                // The path stayed silent although validated (draft §3.1: "a node might assume that because a valid IP
                // address has been allocated, the WiFi link provides connectivity ... However, this might not be the
                // case"): examine it again now, not at the next period, but at most once per interval.
                var now = _clock.GetUtcNow();
                if (_lastSilenceExamination is not { } last || now - last >= _settings.SilenceRevalidationInterval)
                {
                    _lastSilenceExamination = now;
                    StartValidation($"attempts to {outcome.Destination} stayed silent in a race: examined again at once", periodic: true);
                }
            }
        });
        Receive<ValidateMessages.GetCacheSize>(_ => Sender.Tell(_cache.Count));
        Receive<ValidateMessages.ProbeQuicInBackground>(background =>
        {
            if (_quicProbe is not null && _facts.IsUp && _cache.Lookup(background.Destination)?.QuicBlocked is null)
            {
                StartQuicProbe(background.Destination, null);
            }
        });
        Receive<ValidateMessages.ProbeQuicNow>(now =>
        {
            if (_quicProbe is null)
            {
                Sender.Tell(new QuicPathVerdict(_facts.Name, QuicPathState.Unknown, "no QUIC path probe is configured"));
            }
            else if (_state == ValidationState.Excluded)
            {
                // Nothing is sent on an interface the policy keeps out of every request, a QUIC probe included.
                Sender.Tell(new QuicPathVerdict(_facts.Name, QuicPathState.Unknown, $"not probed: {_detail}"));
            }
            else
            {
                StartQuicProbe(now.Destination, Sender);
            }
        });
        Receive<QuicProbed>(OnQuicProbed);
        Receive<ValidateMessages.RecordQuicVerdict>(verdict => _cache.RecordQuicVerdict(verdict.Destination, verdict.Blocked));
        Receive<Terminated>(terminated =>
        {
            if (!terminated.ActorRef.Equals(_probeChild))
            {
                return;
            }

            _probeChild = null;
            _probeInFlight = false;
            Timers.Cancel(RerunTimer);
            if (!_retired)
            {
                SetState(ValidationState.NoConnectivity, "the connectivity probe kept failing and was given up after its restart budget; it starts afresh at the next periodic examination");
            }
        });
    }

    /// <inheritdoc/>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Restart a crashed probe, within the budget; each restart's re-run waits the backoff (n = restarts already in the
    /// window). Over budget: stop it (the <see cref="Terminated"/> that follows marks the interface unconnected).
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ReportingStrategy(
        _ =>
        {
            var n = _budget.InWindow;
            if (!_budget.TryTake())
            {
                return Directive.Stop;
            }

            _rerunAfter = _settings.ProbeRestartBackoff.DelayFor(n, _random.NextDouble());
            return Directive.Restart;
        },
        _failures);

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(RevalidateTimer, ValidateMessages.Revalidate.Instance, _settings.Period, _settings.Period);
        StartValidation("first examination");
    }

    protected override void PostStop()
    {
        _quicCancel.Cancel();
        _quicCancel.Dispose();
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
                      || !Discovery.LearnedFacts.SameNetwork(old.Pvds, facts.Pvds)
                      || !string.Equals(old.WifiNetwork, facts.WifiNetwork, StringComparison.Ordinal)
                      || !old.Addresses.Select(a => a.Address).ToHashSet().SetEquals(facts.Addresses.Select(a => a.Address));
        if (!changed && (_state == ValidationState.Excluded) != (ExcludedBy() is not null))
        {
            // A fact a hard rule reads (kind, name, cost flags) changed: the interface left or joined the excluded ones.
            StartValidation("the interface changed (a fact the policy's hard rules read)");
        }

        var now = _clock.GetUtcNow();
        if (!changed && !InterfaceScope.Same(InterfaceScope.Of(old, now), InterfaceScope.Of(facts, now)))
        {
            // Validation per PvD: its PvD's Additional Information came, went or changed what it says (noInternet, zones, its
            // own check URL), so the check that decides it changed: examined again, on the same network (history kept).
            StartValidation("its scope changed (its PvD's Additional Information or routes): examined again");
        }

        if (changed)
        {
            _cache.Flush();
            ForgetDnsAnswers();
            // QUIC probes of the old network say nothing about the new one: cancel them (their askers still get an answer).
            _network++;
            _quicCancel.Cancel();
            _quicCancel.Dispose();
            _quicCancel = new CancellationTokenSource();
            StartValidation("the interface changed (link, addresses, PvD or network)");
        }
    }

    /// <summary>
    /// The resolver's answers for this interface go with its outcome cache (issue 14: "The per-interface DNS cache is
    /// flushed when the interface's network, addresses or PvD change"; draft §7.3: "A DNS answer may be only valid for a
    /// specific provisioning domain"), before the new examination resolves anything. The resolver is a port others
    /// implement: a throw is reported, never a crash of this actor.
    /// </summary>
    private void ForgetDnsAnswers()
    {
        try
        {
            _resolver?.OnInterfaceChanged(_facts);
        }
        catch (Exception e)
        {
            _failures(new ActorFailure(Self.Path.ToString(), new InvalidOperationException(
                $"{_resolver!.GetType().Name}.OnInterfaceChanged({_facts.Name}) threw {e.GetType().Name}: {e.Message}; its cached answers for {_facts.Name} may be stale", e), Directive.Resume));
        }
    }

    /// <summary>The timer message of the captive portal's re-examinations.</summary>
    private sealed class PortalRecheck
    {
        public static readonly PortalRecheck Instance = new();
    }

    /// <summary>The timer message that ends a retired supervisor's linger.</summary>
    private sealed class Retired
    {
        public static readonly Retired Instance = new();
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

        probing.PipeTo(Self,
            success: v => new QuicProbed(destination, entry, v),
            failure: e => new QuicProbed(destination, entry, new QuicPathVerdict(name, QuicPathState.Unknown,
                e is OperationCanceledException ? "the QUIC probe was cancelled (the interface changed or the engine stopped)" : $"the QUIC probe failed: {e.Message}")));
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

        if (_facts.Addresses.Count == 0)
        {
            // Nothing to examine with: a check bound to an interface with no address of its own leaves with another
            // interface's source address (the kernel picks one), on a link the hard set excludes anyway (no address
            // family). Found by the chaos lab: a veth peer without addresses carried a check's SYN and ARP.
            _generation++;
            _probeInFlight = false;
            SetState(ValidationState.NoConnectivity, "not examined: the interface has no IP address");
            return;
        }

        if (ExcludedBy() is { } rule)
        {
            // The hard set decides before validation (draft §5.1, §5.2.1): an interface no request may use is not examined,
            // so not a packet goes out on it (a connectivity check resolves and connects there).
            _generation++;
            _probeInFlight = false;
            SetState(ValidationState.Excluded, $"not examined: {rule}");
            return;
        }

        if (_probeChild is null)
        {
            // Named by a counter, not by the interface's name: names come from the OS or a file, and may hold characters
            // an actor name cannot.
            var probe = _probe;
            var timeout = _settings.ProbeTimeout;
            _probeChild = Context.ActorOf(ActorProps.Of(() => new ProbeActor(probe, timeout)), "probe-" + (++_probeChildren).ToString(CultureInfo.InvariantCulture));
            Context.Watch(_probeChild);
        }

        _generation++;
        _probeInFlight = true;
        if (!(periodic && _state is ValidationState.Validated or ValidationState.CaptivePortal))
        {
            SetState(ValidationState.Validating, why);
        }

        // else: a re-examination (periodic, after silence, of a captive portal) does not withdraw a verdict. Until the
        // probe answers, the interface stays Validated: otherwise every period would push new connections (and subflows)
        // off a working Wi-Fi onto cellular for as long as a probe takes; and a captive portal stays one (unused) without
        // a Validating in between every few seconds. The probe's answer changes the state if the path changed.
        _probeChild.Tell(new ValidateMessages.RunProbe(_facts, _generation), Self);
    }

    /// <summary>Why the policy keeps this interface out of every request now, or null.</summary>
    /// <remarks>
    /// Loopback is never held back: nothing it carries leaves the host, and its examination is a verdict by definition, so
    /// a policy update that lifts its exclusion finds it validated at once (a real interface takes part again once its
    /// examination passes, as a new one does: draft §5.2.1, "unexamined ... should be accounted as 'unconnected'").
    /// </remarks>
    private string? ExcludedBy() => _facts.Kind == InterfaceKind.Loopback ? null : _excludesAlways?.Invoke(_facts, _clock.GetUtcNow());

    private void SetState(ValidationState state, string detail)
    {
        if (state == ValidationState.CaptivePortal)
        {
            // Said where a user looks (the state's detail: the timeline's validation line, a race's exclusion reason):
            // when the portal is looked at again (issue 14: "re-examined often (every 10–30 s, configurable)").
            detail = string.Create(CultureInfo.InvariantCulture, $"{detail}; examined again every {_settings.CaptivePortalPeriod.TotalSeconds:0.###} s");
        }

        if (state == _state && detail == _detail)
        {
            return;
        }

        if (state == ValidationState.CaptivePortal && _state != ValidationState.CaptivePortal)
        {
            Timers.StartPeriodicTimer(PortalTimer, PortalRecheck.Instance, _settings.CaptivePortalPeriod, _settings.CaptivePortalPeriod);
        }
        else if (state != ValidationState.CaptivePortal && _state == ValidationState.CaptivePortal)
        {
            Timers.Cancel(PortalTimer);
        }

        _state = state;
        _detail = detail;
        _reportTo.Tell(new InterfaceStateChanged(_facts.Name, state, detail, _clock.GetUtcNow()), Self);
    }
}

/// <summary>A QUIC probe under way: the network (facts generation) it started on, and who waits for its verdict.</summary>
internal sealed record QuicProbeInFlight(long Network, List<IActorRef> Askers);

/// <summary>A QUIC probe's verdict, back at its <see cref="InterfaceSupervisor"/>.</summary>
internal sealed record QuicProbed(Destination Destination, QuicProbeInFlight Probe, QuicPathVerdict Verdict);

/// <summary>
/// Runs one probe at a time for its <see cref="InterfaceSupervisor"/>. A probe that throws is a crash: the supervisor
/// restarts this actor, and the fresh instance tells its parent so the probe in flight is re-run after the backoff. A
/// probe that does not answer within the timeout is cancelled and counts as no connectivity.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "An actor's resources are released in PostStop, which Akka runs on stop and before a restart.")]
internal sealed class ProbeActor : ReceiveActor, IWithTimers
{
    private const string TimeoutTimer = "probe-timeout";
    private CancellationTokenSource? _cancel;
    private long _generation;

    public ProbeActor(ConnectivityProbe probe, TimeSpan timeout)
    {
        Receive<ValidateMessages.RunProbe>(run =>
        {
            CancelRunning();
            _generation = run.Generation;
            _cancel = new CancellationTokenSource();
            Timers.StartSingleTimer(TimeoutTimer, new TimedOut(run.Generation), timeout);
            var generation = run.Generation;
            Task<ValidationResult> probing;
            try
            {
                probing = probe.ProbeAsync(run.Facts, _cancel.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                probing = Task.FromException<ValidationResult>(e);
            }

            probing.PipeTo(Self, success: r => new Probed(generation, r), failure: e => new Faulted(generation, e));
        });
        Receive<Probed>(probed =>
        {
            if (probed.Generation == _generation)
            {
                Timers.Cancel(TimeoutTimer);
                Context.Parent.Tell(new ValidateMessages.ProbeDone(probed.Generation, probed.Result), Self);
            }
        });
        Receive<TimedOut>(timedOut =>
        {
            if (timedOut.Generation == _generation)
            {
                CancelRunning();
                Context.Parent.Tell(new ValidateMessages.ProbeDone(timedOut.Generation, new ValidationResult(
                    ValidationState.NoConnectivity, $"the connectivity probe got no answer within {timeout.TotalMilliseconds:0} ms")), Self);
            }
        });
        Receive<Faulted>(faulted =>
        {
            if (faulted.Generation == _generation && faulted.Exception is not OperationCanceledException)
            {
                Timers.Cancel(TimeoutTimer);
                throw new ProbeCrashedException($"The connectivity probe threw: {faulted.Exception.Message}", faulted.Exception);
            }
        });
    }

    /// <inheritdoc/>
    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PostRestart(Exception reason) => Context.Parent.Tell(ValidateMessages.ProbeRestarted.Instance, Self);

    protected override void PostStop() => CancelRunning();

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
