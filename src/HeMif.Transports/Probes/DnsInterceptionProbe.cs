using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Transports.Probes;

/// <summary>What the DNS interception check asks and expects: a name with known addresses, or one that must not exist.</summary>
internal sealed record DnsInterceptionOptions
{
    /// <summary>A name that must not exist (answers other than NXDOMAIN mean a resolver that lies); null to skip.</summary>
    public string? NonexistentName { get; init; }

    /// <summary>A name whose answer must be within <see cref="ExpectedAddresses"/>; null to skip.</summary>
    public string? KnownName { get; init; }

    /// <summary>The only addresses <see cref="KnownName"/> may resolve to.</summary>
    public IReadOnlyList<IPAddress> ExpectedAddresses { get; init; } = [];
}

/// <summary>
/// Draft §7.3: "The DNS server modified and replied the answer with the IP address of captive portal rather than the
/// intended destination address. In those cases, TCP connection may succeed, but Internet connectivity is not
/// available." Checks the interface's own resolver against answers that must be what they are.
/// </summary>
internal sealed class DnsInterceptionProbe(InterfaceResolver resolver, DnsInterceptionOptions options) : ConnectivityProbe
{
    public override async Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        if (options.NonexistentName is { } ghost)
        {
            var answer = await ResolveBothAsync(networkInterface, ghost, cancellationToken).ConfigureAwait(false);
            if (answer.Addresses.Count > 0)
            {
                return new ValidationResult(ValidationState.DnsIntercepted,
                    $"{ghost}, which must not exist, resolved to {string.Join(", ", answer.Addresses)} on {networkInterface.Name}");
            }
        }

        if (options.KnownName is { } known)
        {
            var answer = await ResolveBothAsync(networkInterface, known, cancellationToken).ConfigureAwait(false);
            var unexpected = answer.Addresses.Where(a => !options.ExpectedAddresses.Contains(a)).ToList();
            if (unexpected.Count > 0)
            {
                return new ValidationResult(ValidationState.DnsIntercepted,
                    $"{known} resolved to {string.Join(", ", unexpected)} on {networkInterface.Name}, not one of {string.Join(", ", options.ExpectedAddresses)}");
            }
        }

        return new ValidationResult(ValidationState.Validated, "DNS answers are as expected");
    }

    private async Task<ResolveResult> ResolveBothAsync(InterfaceFacts facts, string name, CancellationToken ct)
    {
        var v6 = await resolver.ResolveAsync(facts, name, AddressFamily.InterNetworkV6, ct).ConfigureAwait(false);
        var v4 = await resolver.ResolveAsync(facts, name, AddressFamily.InterNetwork, ct).ConfigureAwait(false);
        return new ResolveResult([.. v6.Addresses, .. v4.Addresses], v6.Error ?? v4.Error);
    }
}

/// <summary>Runs several checks in order; the first that does not validate gives the verdict.</summary>
internal sealed class CompositeConnectivityProbe(params ConnectivityProbe[] probes) : ConnectivityProbe
{
    public override async Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
    {
        var details = new List<string>();
        foreach (var probe in probes)
        {
            var result = await probe.ProbeAsync(networkInterface, cancellationToken).ConfigureAwait(false);
            if (result.State != ValidationState.Validated)
            {
                return result;
            }

            details.Add(result.Detail);
        }

        return new ValidationResult(ValidationState.Validated, string.Join("; ", details));
    }
}
