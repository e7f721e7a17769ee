using HeMif.Interfaces;

namespace HeMif;

/// <summary>
/// Checks one interface (draft §5.2.1: "trying to reach a dedicated web server … If anything is abnormal, it assumes
/// there is a proxy on the path"): only interfaces whose probe passed take part in races ("Unexamined PVDs or interfaces
/// should be accounted as 'unconnected'"). The engine runs it when an interface appears or changes, and periodically.
/// <para>
/// What the engine expects (the contract suite in the repository's test kit checks it,
/// <c>HeMif.TestKit.Contracts.ConnectivityProbeContract</c>): a network
/// failure is a <see cref="ValidationResult"/> (no connectivity, a captive portal, DNS interception), never an exception;
/// cancellation ends it with <see cref="OperationCanceledException"/> and leaves nothing open. An exception is a bug in
/// the probe: its actor is restarted under supervision, with backoff.
/// </para>
/// </summary>
public abstract class ConnectivityProbe
{
    /// <summary>Examines <paramref name="networkInterface"/> and says what it found.</summary>
    public abstract Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken);
}
