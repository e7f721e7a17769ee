using HeMif.Interfaces;

namespace HeMif.Validate;

/// <summary>An interface's validation state (draft §5.2.1).</summary>
public enum ValidationState
{
    /// <summary>Not examined yet. Draft §5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'."</summary>
    Unknown,

    /// <summary>A probe is running.</summary>
    Validating,

    /// <summary>The probe passed: the interface may take part in races.</summary>
    Validated,

    /// <summary>An HTTP proxy "that forces a login or a click-through" (§5.2.1) answered the probe.</summary>
    CaptivePortal,

    /// <summary>DNS answers were tampered with (§7.3: "The DNS server modified and replied the answer").</summary>
    DnsIntercepted,

    /// <summary>The probe got no answer, or not the expected one.</summary>
    NoConnectivity,

    /// <summary>The link is down.</summary>
    Down,
}

/// <summary>What a connectivity probe found.</summary>
/// <param name="State">The verdict.</param>
/// <param name="Detail">In words, for the timeline and logs.</param>
/// <param name="PortalUrl">Where a captive portal redirected to, when known.</param>
internal sealed record ValidationResult(ValidationState State, string Detail, Uri? PortalUrl = null);

/// <summary>
/// Checks one interface (draft §5.2.1: "trying to reach a dedicated web server … If anything is abnormal, it assumes
/// there is a proxy on the path"). The core declares it; real probes live in HeMif.Transports, simulated ones in
/// <see cref="Simulation"/>. A network failure is a result, not an exception; an exception is a bug in the probe
/// (the probe's actor is then restarted under supervision).
/// </summary>
internal interface IConnectivityProbe
{
    Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken);
}
