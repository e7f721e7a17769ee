using System.Globalization;
using HeMif.Report;
using HeMif.Validate;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HeMif.Hosting;

/// <summary>
/// Starts HeMif with the host: creates the connector (which discovers the interfaces and starts validating them) and
/// waits, at most HeMif:StartupTimeout, for the first examination of every interface, so that the application's
/// first request already races on validated interfaces (draft §5.2.1). If the engine cannot be made, it logs
/// Critical, stops the application and fails start-up. On stop it drains: pending requests fail, sockets close.
/// </summary>
internal sealed class HeMifHostedService(
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IOptionsMonitor<HeMifOptions> options,
    TimeProvider timeProvider,
    HeMifTelemetry telemetry) : IHostedService
{
    private HostedConnector? _connector;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var settings = options.CurrentValue;
            if (services.GetRequiredService<IHeMifConnector>() is not HostedConnector connector)
            {
                // The application registered its own connector before AddHeMif (TryAdd): it is the application's to run.
                return;
            }

            _connector = connector;
            var complete = await connector.WaitForFirstExaminationAsync(settings.StartupTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
            var states = Describe(connector.CurrentStates);
            if (complete)
            {
                var validated = connector.CurrentStates.Values.Count(s => s.State == ValidationState.Validated);
                Log.Started(telemetry.Logger, validated, connector.CurrentStates.Count, states);
            }
            else
            {
                Log.StartupExaminationIncomplete(telemetry.Logger, settings.StartupTimeout, states);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            ReportStartupFailure(telemetry, lifetime, options.CurrentValue, e);
            throw;
        }
    }

    /// <summary>
    /// Logs Critical (event 3, <c>StartupFailed</c>) naming the setting or the file that failed, and stops the
    /// application — once, wherever the failure surfaces first: in <see cref="StartAsync"/>, or earlier while the
    /// host creates its hosted services (an application service that takes <see cref="IHeMifConnector"/> or
    /// <see cref="IHeMifEvents"/> in its constructor makes the connector then). A configuration error is the user's
    /// input, not a bug: it is logged without a stack trace.
    /// </summary>
    internal static void ReportStartupFailure(HeMifTelemetry telemetry, IHostApplicationLifetime? lifetime, HeMifOptions? settings, Exception e)
    {
        if (e.Data[LoggedKey] is true)
        {
            return;
        }

        e.Data[LoggedKey] = true;
        var reason = e switch
        {
            HeMif.Configuration.HeMifConfigurationException c when settings?.OverridesFile is { } file && c.Origin == file =>
                $"{HeMifOptionsSetup.Key(HeMifOptionsSetup.OverridesFileKey)}: {e.Message}",
            ArgumentException { ParamName: { } name } a => a.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal),
            _ => e.Message,
        };
        var userInput = e is HeMif.Configuration.HeMifConfigurationException or OptionsValidationException or ArgumentException;
        Log.StartupFailed(telemetry.Logger, reason, userInput ? null : e);
        lifetime?.StopApplication();
    }

    /// <summary>Marks an exception whose start-up failure is already logged (it may surface twice: DI does not cache a failed singleton).</summary>
    private const string LoggedKey = "HeMif.StartupFailedLogged";

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_connector is { } connector)
        {
            // Disposing drains by itself (bounded); the host's stop token bounds how long the host waits for it.
            await connector.DisposeAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static string Describe(IReadOnlyDictionary<string, InterfaceStateChanged> states) =>
        states.Count == 0 ? "none examined" : string.Join(", ", states.Values.OrderBy(s => s.Interface, StringComparer.Ordinal)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Interface} {s.State}")));
}
