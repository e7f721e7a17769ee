using System.Reactive.Disposables;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using Akka.Actor;
using Akka.Hosting;
using HeMif.Multipath;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HeMif.Hosting;

/// <summary>
/// The connector DI hands out: the real connector (made from <see cref="HeMifOptions"/> and DI's
/// <see cref="TimeProvider"/>) plus what a host needs around it — telemetry for every race, the configured default
/// transport, live policy updates from <see cref="IOptionsMonitor{TOptions}"/>, the <see cref="IHeMifEvents"/> streams,
/// and a drain on dispose that fails pending requests cleanly instead of leaving them to the engine's shutdown.
/// </summary>
internal sealed class HostedConnector : IHeMifConnector, IHeMifEvents, IDisposable
{
    private readonly IHeMifConnector _inner;
    private readonly IHeMifConnectorControl? _control;
    private readonly HeMifTelemetry _telemetry;
    private readonly IOptionsMonitor<HeMifOptions> _monitor;
    private readonly HeMifOptions _started;
    private readonly ISubject<RaceReport> _races = Subject.Synchronize(new Subject<RaceReport>());
    private readonly CancellationTokenSource _stopping = new();
    private readonly CompositeDisposable _subscriptions = [];
    private readonly Lock _policyLock = new();
    private HeMifOptions _applied;
    private int _inFlight;
    private int _disposed;
    private TaskCompletionSource? _drained;

    public HostedConnector(IOptionsMonitor<HeMifOptions> monitor, TimeProvider timeProvider, HeMifTelemetry telemetry, IEnumerable<IOptionsChangeTokenSource<HeMifOptions>> changes,
        ActorSystem actorSystem, HeMifComposition composition, IServiceProvider services, IHostApplicationLifetime? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(monitor);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(actorSystem);
        _monitor = monitor;
        _telemetry = telemetry;
        try
        {
            if (HeMifActorSystems.ClockMismatch(actorSystem, timeProvider) is { } mismatch)
            {
                throw new InvalidOperationException(
                    $"HeMif's timers would not follow the application's TimeProvider: {mismatch}. Call builder.WithHeMif(sp) inside services.AddAkka(…, (builder, sp) => …).");
            }

            _started = _applied = monitor.CurrentValue;
            _inner = Create(_started, timeProvider, actorSystem, composition, services);
            // The application's actors find HeMif's top actor in the registry (IRequiredActor<HeMifActor>).
            if (_inner is IHeMifConnectorControl control)
            {
                ActorRegistry.For(actorSystem).TryRegister<HeMifActor>(control.Actor);
            }
        }
        catch (Exception e)
        {
            // Made while the host creates its hosted services (an application service that takes IHeMifConnector or
            // IHeMifEvents), this runs before HeMifHostedService.StartAsync could log it: log it here, once.
            HeMifHostedService.ReportStartupFailure(telemetry, lifetime, _started, e);
            throw;
        }

        _control = _inner as IHeMifConnectorControl;
        // Through the replaying stream: the engine starts validating inside Create, so a first verdict may come before
        // this line, and the log and the validation counter must still see it (once).
        _subscriptions.Add(InterfaceStates.Subscribe(telemetry.InterfaceChanged));
        _subscriptions.Add(_inner.RaceEvents.Subscribe(telemetry.RaceEvent));
        if (_control is not null)
        {
            _subscriptions.Add(_control.InternalFailures.Subscribe(telemetry.InternalFailure));
        }

        var change = monitor.OnChange(OptionsChanged);
        if (change is not null)
        {
            _subscriptions.Add(change);
        }

        // The options monitor never hands an invalid change to OnChange: it throws where the reload happens (for a
        // reloaded appsettings.json, in the file watcher). Watch the same sources to say so in the log.
        foreach (var source in changes)
        {
            _subscriptions.Add(ChangeToken.OnChange(source.GetChangeToken, () => CheckChange(source.Name)));
        }
    }

    /// <summary>The connector: the options from configuration, then what the application added through <c>HeMifBuilder</c>.</summary>
    private static IHeMifConnector Create(HeMifOptions started, TimeProvider timeProvider, ActorSystem actorSystem, HeMifComposition composition, IServiceProvider services) =>
        composition.ApplyTo(HeMifConnector.CreateBuilder().UseOptions(Options(started, timeProvider, actorSystem)), services).Build();

    private static HeMifConnectorOptions Options(HeMifOptions started, TimeProvider timeProvider, ActorSystem actorSystem) => new()
    {
        ActorSystem = actorSystem,
        ActorName = HeMifServices.TopActorName,
        Policy = started.Policy,
        Interfaces = started.Interfaces,
        OverridesFile = started.OverridesFile,
        ProbeUrl = started.ProbeUrl,
        DisableValidation = started.DisableValidation,
        ProbeLoopback = started.ProbeLoopback,
        RaceTimeout = started.RaceTimeout,
        FallbackDelay = started.FallbackDelay,
        QuicProbeTimeout = started.QuicProbeTimeout,
        CaptivePortalPeriod = started.CaptivePortalPeriod,
        QuicCertificateValidation = started.QuicCertificateValidation,
        TimeProvider = timeProvider,
    };

    /// <inheritdoc cref="IHeMifEvents.InterfaceStates"/>
    public IObservable<InterfaceStateChanged> InterfaceStates => Observable.Create<InterfaceStateChanged>(observer =>
    {
        // Subscribe first and hold live changes back while the latest states are replayed: nothing is lost between
        // the snapshot and the subscription, and each interface's last word is its newest state.
        var gate = new Lock();
        List<InterfaceStateChanged>? held = [];
        var live = _inner.InterfaceStates.Subscribe(
            change =>
            {
                lock (gate)
                {
                    if (held is not null)
                    {
                        held.Add(change);
                        return;
                    }

                    observer.OnNext(change);
                }
            },
            observer.OnError,
            observer.OnCompleted);
        lock (gate)
        {
            var latest = _control?.CurrentStates.Values.ToList() ?? [];
            foreach (var state in latest)
            {
                observer.OnNext(state);
            }

            // A change published while the snapshot was taken is in both: say it once.
            foreach (var change in held.Where(h => !latest.Contains(h)))
            {
                observer.OnNext(change);
            }

            held = null;
        }

        return live;
    });

    /// <inheritdoc cref="IHeMifConnector.Interfaces"/>
    public IReadOnlyList<HeMif.Discovery.InterfaceView> Interfaces => _inner.Interfaces;

    /// <inheritdoc cref="IHeMifConnector.InterfaceChanges"/>
    public IObservable<HeMif.Discovery.InterfaceView> InterfaceChanges => _inner.InterfaceChanges;

    /// <inheritdoc cref="IHeMifConnector.HostDns"/>
    public HeMif.Discovery.HostDnsStatus HostDns => _inner.HostDns;

    /// <inheritdoc cref="IHeMifEvents.RaceEvents"/>
    public IObservable<RaceEvent> RaceEvents => _inner.RaceEvents;

    /// <inheritdoc/>
    public IObservable<RaceReport> Races => _races.AsObservable();

    /// <inheritdoc cref="IHeMifEvents.SubflowSuggestions"/>
    public IObservable<SubflowPlan> SubflowSuggestions => _inner.SubflowSuggestions;

    /// <summary>Whether every interface has had its first examination.</summary>
    internal bool AllExamined => _control?.AllExamined ?? true;

    /// <summary>The latest state of each interface examined so far.</summary>
    internal IReadOnlyDictionary<string, InterfaceStateChanged> CurrentStates => _control?.CurrentStates ?? new Dictionary<string, InterfaceStateChanged>();

    /// <summary>
    /// Races to <paramref name="host"/>:<paramref name="port"/>. Without <paramref name="options"/>, the configured
    /// transport and multipath mode (HeMif:Transport, HeMif:Multipath, read per request). A request still pending when the host stops fails with
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async Task<HeMifConnection> ConnectAsync(string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        options ??= DefaultOptions();
        Interlocked.Increment(ref _inFlight);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        using var activity = HeMifTelemetry.StartRace(host, port);
        try
        {
            var connection = await _inner.ConnectAsync(host, port, options, linked.Token).ConfigureAwait(false);
            Finished(connection.Report, activity);
            return connection;
        }
        catch (HeMifConnectException e) when (e.Report is not null)
        {
            Finished(e.Report, activity);
            throw;
        }
        catch (Exception e) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested && e is not ArgumentException)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "HeMif stopped");
            throw new ObjectDisposedException($"HeMif stopped (the host is shutting down) before a connection to {host}:{port} was made.", e);
        }
        catch (Exception e)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && _stopping.IsCancellationRequested)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }

    /// <inheritdoc/>
    public Task<SubflowPlan> PlanSubflowsAsync(string host, int port, MultipathMode mode, ConnectOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _inner.PlanSubflowsAsync(host, port, mode, options ?? DefaultOptions(), cancellationToken);
    }

    /// <inheritdoc/>
    public IObservable<SubflowPlan> WatchSubflows(string host, int port, MultipathMode mode, ConnectOptions? options = null) =>
        _inner.WatchSubflows(host, port, mode, options ?? DefaultOptions());

    /// <inheritdoc/>
    public Task<IReadOnlyList<QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _inner.ProbeQuicAsync(host, port, interfaceName, cancellationToken);
    }

    /// <summary>
    /// Waits for the first examination of every interface, at most <paramref name="timeout"/> on
    /// <paramref name="timeProvider"/>. Returns whether every interface was examined.
    /// </summary>
    internal async Task<bool> WaitForFirstExaminationAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (AllExamined)
        {
            return true;
        }

        var examined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _inner.InterfaceStates.Subscribe(_ =>
        {
            if (AllExamined)
            {
                examined.TrySetResult();
            }
        });
        if (AllExamined)
        {
            return true;
        }

        try
        {
            await examined.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Stops: pending requests fail with <see cref="ObjectDisposedException"/>, then the engine shuts down.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _subscriptions.Dispose();
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        var abandoned = Volatile.Read(ref _inFlight);
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _inFlight) > 0)
        {
            // Cancelled requests end as soon as their racer has closed its sockets; the engine's shutdown below stops
            // whatever is left, so this wait is short and never the only way out.
            await drained.Task.WaitAsync(TimeSpan.FromSeconds(5), TimeProvider.System).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await _inner.DisposeAsync().ConfigureAwait(false);
        _races.OnCompleted();
        Log.Stopped(_telemetry.Logger, abandoned);
    }

    /// <summary>For containers disposed synchronously: the same as <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The hints of a request whose caller gives none: the configured settings, read now.</summary>
    internal ConnectOptions DefaultOptions()
    {
        HeMifOptions current;
        try
        {
            current = _monitor.CurrentValue;
        }
        catch (OptionsValidationException)
        {
            // An invalid change was refused (and logged where it was made); keep the last valid settings.
            current = _applied;
        }

        return new ConnectOptions
        {
            Transport = current.Transport,
            Multipath = current.Multipath,
        };
    }

    /// <summary>HeMif:RetireHttpConnections as it is now (the last valid settings when a change was refused).</summary>
    internal bool RetireHttpConnections()
    {
        try
        {
            return _monitor.CurrentValue.RetireHttpConnections;
        }
        catch (OptionsValidationException)
        {
            return _applied.RetireHttpConnections;
        }
    }

    private void Finished(RaceReport report, System.Diagnostics.Activity? activity)
    {
        _telemetry.RaceFinished(report, activity);
        _races.OnNext(report);
    }

    /// <summary>
    /// A valid configuration change (an invalid one never gets here: the options monitor refuses it). The policy goes to
    /// the engine at once, so the next request is planned with it; settings that shape the engine itself wait for a
    /// restart, and the log says which.
    /// </summary>
    private void OptionsChanged(HeMifOptions next, string? name)
    {
        if (name is not null && name != Microsoft.Extensions.Options.Options.DefaultName)
        {
            return;
        }

        lock (_policyLock)
        {
            var previous = _applied;
            _applied = next;
            var samePolicy = ReferenceEquals(previous.Policy, next.Policy) || (previous.PolicyText is not null && previous.PolicyText == next.PolicyText);
            if (!samePolicy && _control is not null && Volatile.Read(ref _disposed) == 0)
            {
                // Tell happens inside the call, before it returns: a request that starts after this line sees the policy.
                var update = _control.UpdatePolicyAsync(next.Policy);
                _ = update.ContinueWith(
                    t => Log.PolicyUpdateFailed(_telemetry.Logger, t.Exception!.GetBaseException().Message, t.Exception),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                Log.PolicyUpdated(_telemetry.Logger, next.Policy.OperatorRules.Count, next.Policy.UserRules.Count);
            }

            WarnIfChanged(HeMifOptionsSetup.OverridesFileKey, previous.OverridesFile, next.OverridesFile, _started.OverridesFile);
            WarnIfChanged(HeMifOptionsSetup.ProbeUrlKey, previous.ProbeUrl, next.ProbeUrl, _started.ProbeUrl);
            WarnIfChanged(HeMifOptionsSetup.DisableValidationKey, previous.DisableValidation, next.DisableValidation, _started.DisableValidation);
            WarnIfChanged(HeMifOptionsSetup.RaceTimeoutKey, previous.RaceTimeout, next.RaceTimeout, _started.RaceTimeout);
            WarnIfChanged(HeMifOptionsSetup.StartupTimeoutKey, previous.StartupTimeout, next.StartupTimeout, _started.StartupTimeout);
            WarnIfChanged(HeMifOptionsSetup.QuicProbeTimeoutKey, previous.QuicProbeTimeout, next.QuicProbeTimeout, _started.QuicProbeTimeout);
            WarnIfChanged(HeMifOptionsSetup.CaptivePortalPeriodKey, previous.CaptivePortalPeriod, next.CaptivePortalPeriod, _started.CaptivePortalPeriod);
            WarnIfChanged(HeMifOptionsSetup.FallbackDelayKey, previous.FallbackDelay, next.FallbackDelay, _started.FallbackDelay);
        }
    }

    private void CheckChange(string? name)
    {
        try
        {
            _ = _monitor.Get(name);
        }
        catch (OptionsValidationException e)
        {
            Log.ConfigurationRejected(_telemetry.Logger, e.Message);
        }
    }

    /// <summary>Says once, when it changes, that a setting the engine was built with waits for a restart.</summary>
    private void WarnIfChanged<T>(string key, T previous, T next, T running)
    {
        var comparer = EqualityComparer<T>.Default;
        if (!comparer.Equals(previous, next) && !comparer.Equals(next, running))
        {
            Log.RestartRequired(_telemetry.Logger, key);
        }
    }
}
