using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Transports.Probes;

/// <summary>
/// The connectivity check (draft §5.2.1) asks whether an interface reaches the network behind it: "a PVD-aware node
/// shall perform connectivity tests and, only after validation of the PVD, consider using it". Loopback has no such
/// network and no PvD: it reaches only this host, and the hard set (builtin:loopback) sends it loopback destinations
/// only. Probing it against an internet check server can only fail, which would make every request to a local service
/// (a sidecar, a health endpoint) fail whenever validation is on. So loopback is validated by definition; every other
/// interface goes to the real check.
/// </summary>
internal sealed class LoopbackExemptProbe(ConnectivityProbe inner) : ConnectivityProbe
{
    /// <summary>The detail a loopback interface is validated with.</summary>
    internal const string Detail = "loopback reaches only this host: the connectivity check does not apply (draft §5.2.1 validates networks)";

    /// <summary>The probe every other interface goes to.</summary>
    internal ConnectivityProbe Inner => inner;

    public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        return networkInterface.Kind == InterfaceKind.Loopback
            ? Task.FromResult(new ValidationResult(ValidationState.Validated, Detail))
            : inner.ProbeAsync(networkInterface, cancellationToken);
    }
}
