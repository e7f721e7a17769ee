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
            Log.StartupFailed(telemetry.Logger, e.Message, e);
            lifetime.StopApplication();
            throw;
        }
    }

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
