using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.Validate;

/// <summary>
/// Validation per PvD (draft §5.2.1 with RFC 7556 §5.3): an interface that serves only its own scope
/// (<see cref="InterfaceScope"/>: a PvD that says noInternet, a split-tunnel VPN) is not judged by the Internet check,
/// which it is not meant to pass; it is validated for its own scope: its DNS servers must answer for its first DNS
/// zone, or, when its PvD's Additional Information or the override file names a check URL of its own
/// (<see cref="InterfaceScope.CheckUrl"/>), that URL must answer the check (<paramref name="checkAt"/> makes the check for
/// a URL). With no zone or no DNS server and no check URL there is nothing in its scope to check, and it is taken as
/// validated, saying so. Every other interface gets the Internet check (<paramref name="internet"/>).
/// </summary>
internal sealed class ScopedProbe(ConnectivityProbe internet, InterfaceResolver resolver, TimeProvider time, Func<Uri, ConnectivityProbe>? checkAt = null) : ConnectivityProbe
{
    /// <inheritdoc/>
    public override async Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        if (InterfaceScope.Of(networkInterface, time.GetUtcNow()) is not { } scope)
        {
            return await internet.ProbeAsync(networkInterface, cancellationToken).ConfigureAwait(false);
        }

        var what = $"validated for its own scope, {scope.Describe()}, as {scope.Why}; the Internet check does not decide it";
        if (scope.CheckUrl is { } url && checkAt is not null)
        {
            // Its own check URL, through the interface as any check: the network named it, so it decides.
            var check = await checkAt(url).ProbeAsync(networkInterface, cancellationToken).ConfigureAwait(false);
            return check.State == ValidationState.Validated
                ? new ValidationResult(ValidationState.Validated, $"{what}: its own check URL {url} answered ({check.Detail})")
                : check with { Detail = $"not validated for its own scope ({scope.Why}): its own check URL {url} did not answer: {check.Detail}" };
        }

        if (scope.Zones.Count == 0 || networkInterface.DnsServers.Count == 0)
        {
            return new ValidationResult(ValidationState.Validated, $"{what} (nothing in its scope to check: {(scope.Zones.Count == 0 ? "no DNS zone" : "no DNS server")})");
        }

        // The zone's own name: a server that serves the zone answers for it (NODATA is an answer; only a failure is not).
        var zone = scope.Zones[0].TrimEnd('.');
        var answer = await resolver.ResolveAsync(networkInterface, zone, AddressFamily.InterNetwork, cancellationToken).ConfigureAwait(false);
        return answer.Error is null
            ? new ValidationResult(ValidationState.Validated, $"{what}: its DNS servers answered for {zone}")
            : new ValidationResult(ValidationState.NoConnectivity, $"not validated for its own scope ({scope.Why}): its DNS servers did not answer for {zone}: {answer.Error}");
    }
}
