using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif.Planning;

/// <summary>
/// Everything configured that the filter (§5.1) and the sort (§5.2) read: the two rule sources of §4.1, the kind order
/// of §4.2.5, the RFC 6724 policy table of §4.2.4 and corrections to interface facts. Bound from the <c>HeMif</c>
/// configuration section or loaded from a JSON file by <see cref="Configuration.HeMifConfiguration"/>.
/// </summary>
public sealed record HeMifPolicy
{
    /// <summary>The §4.2.5 default: "Prefer WiFi over a 3GPP interface", wired Ethernet above both, VPN last.</summary>
    public static IReadOnlyList<InterfaceKind> DefaultKindOrder { get; } =
        [InterfaceKind.Ethernet, InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Vpn];

    /// <summary>§4.1.1 operator policy, in the operator's order.</summary>
    public IReadOnlyList<PolicyRule> OperatorRules { get; init; } = [];

    /// <summary>§4.1.2 user preferences; they win every conflict with an operator rule.</summary>
    public IReadOnlyList<PolicyRule> UserRules { get; init; } = [];

    /// <summary>
    /// §4.2.5 common practice: kinds earlier in the list rank higher; kinds not listed get nothing from it. An empty
    /// list switches common practice off.
    /// </summary>
    public IReadOnlyList<InterfaceKind> KindOrder { get; init; } = DefaultKindOrder;

    /// <summary>The RFC 6724 §2.1 policy table used by §4.2.4.</summary>
    public AddressSelectionPolicyTable AddressSelectionTable { get; init; } = AddressSelectionPolicyTable.Default;

    /// <summary>
    /// Rules that state the fallback delay (draft §7.2) per destination and preferred interface; user rules win over
    /// operator rules, field by field. The first matching rule of each source counts.
    /// </summary>
    public IReadOnlyList<FallbackDelayRule> FallbackDelays { get; init; } = [];

    /// <summary>Corrections applied to interface facts before anything else reads them.</summary>
    public IReadOnlyList<InterfaceOverride> InterfaceOverrides { get; init; } = [];

    /// <summary>An empty policy: no rules, the default kind order and table.</summary>
    public static HeMifPolicy Empty { get; } = new();
}

/// <summary>What the application asks for: one connection to a destination.</summary>
/// <param name="Host">The destination host name or IP literal (checked and normalized by <see cref="HostName"/>).</param>
/// <param name="Port">The destination port.</param>
public sealed record ConnectionRequest(string Host, int Port)
{
    private readonly string _host = HostName.Normalize(Host);
    private readonly IReadOnlyList<TransportName> _transports = TcpOnly;

    private static readonly IReadOnlyList<TransportName> TcpOnly = [TransportName.Tcp];

    /// <summary>
    /// The destination: an IP literal (IPv6 without brackets) or a host name (an internationalized one in its ASCII
    /// form). A host that is neither is an <see cref="ArgumentException"/> naming the rule it breaks (<see cref="HostName"/>),
    /// before anything is planned or sent.
    /// </summary>
    public string Host
    {
        get => _host;
        init => _host = HostName.Normalize(value);
    }

    /// <summary>
    /// The transports the request may use, by name (policy rules match them: <see cref="RequestMatch.Transport"/>). The
    /// engine tries those it has registered, in the registry's order (HEv3: transports over UDP, QUIC, before TCP), and
    /// fails the request at once, saying why, when none of them can be used on this host. Default: <c>tcp</c>. Never
    /// empty.
    /// </summary>
    public IReadOnlyList<TransportName> Transports
    {
        get => _transports;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Count == 0)
            {
                throw new ArgumentException("A connection request needs at least one transport it may use.", nameof(value));
            }

            if (value.Any(static t => t.Value is null))
            {
                throw new ArgumentException("A connection request's transports must not include default(TransportName).", nameof(value));
            }

            _transports = value;
        }
    }

    /// <summary>
    /// What this request asks of the interfaces (pin an interface or a PvD, require or prohibit kinds or PvDs), checked
    /// against the policy: it only narrows the candidates (<see cref="InterfaceChoice"/>). Null: no choice.
    /// </summary>
    public InterfaceChoice? Choice { get; init; }

    /// <summary>How many bytes the application expects to transfer, when it knows (§4.1.2 "larger than 20Mb").</summary>
    public long? ExpectedBytes { get; init; }

    /// <summary>A traffic class the application names (e.g. "background"), matched by rules.</summary>
    public string? TrafficClass { get; init; }

    /// <summary>
    /// The fallback delay (draft §7.2) this request states: it wins over every rule and setting, and over the delay
    /// adapted from history ("it is recommended to prioritize the input from users (e.g., real customers or applications)").
    /// </summary>
    public FallbackDelaySettings FallbackDelay { get; init; } = FallbackDelaySettings.None;

    /// <summary>
    /// Destination addresses already known (resolved, or the host itself when it is an IP literal). They enable
    /// §4.2.3 (routes) and §4.2.4 (RFC 6724) and the address-family check of the filter.
    /// </summary>
    public IReadOnlyList<System.Net.IPAddress> DestinationAddresses { get; init; } = [];

    /// <summary>
    /// Each interface's own answers for the host (draft §5.2.2: "Name resolution is executed on the validated interfaces";
    /// §7.3: an answer is valid for its provisioning domain), when the request resolved before it was ranked
    /// (<see cref="Sort.RankAfterResolution"/>): the sort's address-based factors (§4.2.2 networks, §4.2.3 routes, §4.2.4
    /// RFC 6724) read each interface's own answers. Null: not resolved per interface yet.
    /// </summary>
    internal IReadOnlyDictionary<string, IReadOnlyList<System.Net.IPAddress>>? InterfaceAddresses { get; init; }

    /// <summary>The ALPN protocol IDs QUIC attempts offer (RFC 9001 §8.1: QUIC requires ALPN). Default: HTTP/3.</summary>
    internal IReadOnlyList<string> ApplicationProtocols { get; init; } = DefaultApplicationProtocols;

    /// <summary>HTTP/3's ALPN ID (RFC 9114 §3.1: "h3").</summary>
    internal static IReadOnlyList<string> DefaultApplicationProtocols { get; } = ["h3"];
}
