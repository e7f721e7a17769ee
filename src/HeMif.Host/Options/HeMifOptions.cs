using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;

namespace HeMif.Hosting;

/// <summary>
/// HeMif in a host, bound from the configuration section <c>HeMif</c> (keys below, case-insensitive) and from
/// <see cref="Microsoft.Extensions.DependencyInjection.HeMifBuilder"/>. The policy keys of docs/policy.md
/// (<c>kindOrder</c>, <c>operatorRules</c>, <c>userRules</c>, <c>interfaceOverrides</c>,
/// <c>addressSelectionTable</c>) sit in the same section. Which settings apply live and which at restart:
/// docs/hosting.md.
/// </summary>
public sealed class HeMifOptions
{
    /// <summary>The least <see cref="RaceTimeout"/> (1 s).</summary>
    public static readonly TimeSpan MinRaceTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The most <see cref="RaceTimeout"/> (10 min).</summary>
    public static readonly TimeSpan MaxRaceTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The most <see cref="QuicProbeTimeout"/> (1 min).</summary>
    public static readonly TimeSpan MaxQuicProbeTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The most <see cref="StartupTimeout"/> (5 min).</summary>
    public static readonly TimeSpan MaxStartupTimeout = TimeSpan.FromMinutes(5);

    private HeMifPolicy _policy = HeMifPolicy.Empty;

    /// <summary>
    /// The policy (draft §4): from the section's policy keys, from <see cref="PolicyFile"/>, or set in code. Applies to
    /// the next request when it changes.
    /// </summary>
    public HeMifPolicy Policy
    {
        get => _policy;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            _policy = value;
            PolicyGiven = !ReferenceEquals(value, HeMifPolicy.Empty);
            PolicyText = null;
        }
    }

    /// <summary>A policy file (docs/policy.md) instead of policy keys in the section (HeMif:PolicyFile). Read at start and on every configuration change.</summary>
    public string? PolicyFile { get; set; }

    /// <summary>The interfaces to use, set in code; null (the default) discovers the host's own. Applies at restart.</summary>
    public IReadOnlyList<InterfaceFacts>? Interfaces { get; set; }

    /// <summary>The host override file of docs/connect.md (HeMif:OverridesFile): kinds, cost flags, DNS servers, probe settings. Applies at restart.</summary>
    public string? OverridesFile { get; set; }

    /// <summary>The connectivity check URL, plain <c>http://</c> (HeMif:ProbeUrl); null keeps the override file's or the default. Applies at restart.</summary>
    public Uri? ProbeUrl { get; set; }

    /// <summary>Skip validation: every up interface counts as validated (HeMif:DisableValidation). Applies at restart.</summary>
    public bool DisableValidation { get; set; }

    /// <summary>
    /// Whether <c>UseHeMif()</c> clients retire their pooled connections when a connection's path is no longer viable
    /// or a better path appears, so that the next request races again while requests in flight finish where they are
    /// (HeMif:RetireHttpConnections, true or false; default true; docs/continuity.md). Read at each path event, so a
    /// change applies to the next one. A client opts out on its own with <c>UseHeMif(options, retireOnPathChange: false)</c>.
    /// </summary>
    public bool RetireHttpConnections { get; set; } = true;

    /// <summary>Runs the connectivity check on loopback too (tests: it is the one network they have to check against).</summary>
    internal bool ProbeLoopback { get; set; }

    /// <summary>The transport of a request whose caller does not choose one (HeMif:Transport: Tcp, Any — QUIC first with TCP behind it — or Quic only). Applies to the next request.</summary>
    public TransportPreference Transport { get; set; } = TransportPreference.Tcp;

    /// <summary>
    /// Multipath TCP (RFC 8684) for requests whose caller does not choose (HeMif:Multipath: Off, Handover, Interactive or
    /// Aggregate; default Off): TCP attempts use MPTCP sockets and the winner's subflow plan is applied (docs/multipath.md).
    /// HttpClient connections follow it too. Applies to the next request.
    /// </summary>
    public MultipathMode? Multipath { get; set; }

    /// <summary>
    /// How long the QUIC path probe waits for a Version Negotiation before it calls UDP/QUIC blocked on an interface
    /// (HeMif:QuicProbeTimeout, above 00:00:00 and at most 00:01:00; default 00:00:01.5). Applies at restart.
    /// </summary>
    public TimeSpan QuicProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>
    /// Validates the server certificate of QUIC connections, set in code (private CAs, tests); null: the system's
    /// validation against the host name. Applies at restart.
    /// </summary>
    public System.Net.Security.RemoteCertificateValidationCallback? QuicCertificateValidation { get; set; }

    /// <summary>
    /// How often an interface found behind a captive portal is examined again (HeMif:CaptivePortalPeriod, 00:00:10 to
    /// 00:00:30; default 00:00:15), so that a user who logs in gets it back within this time rather than after the
    /// 5-minute validation period (draft §5.2.1; docs/connect.md, "State that stays fresh"). Applies at restart.
    /// </summary>
    public TimeSpan CaptivePortalPeriod { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one race may take (HeMif:RaceTimeout, 00:00:01 to 00:10:00; default 00:00:30). Applies at restart.</summary>
    public TimeSpan RaceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The application's fallback delay (draft §7.2: how long the preferred interface gets alone before the others join):
    /// HeMif:FallbackDelay (00:00:00 to 00:10:00) wins over the delay adapted from history; HeMif:MinFallbackDelay and
    /// HeMif:MaxFallbackDelay bound that adaptive delay instead. A request's own value and the policy's
    /// <c>fallbackDelays</c> rules win over these (docs/connect.md, "The fallback delay"). Default: nothing stated.
    /// Applies at restart.
    /// </summary>
    public FallbackDelaySettings FallbackDelay { get; set; } = FallbackDelaySettings.None;

    /// <summary>
    /// How long start-up waits for the first examination of every interface (HeMif:StartupTimeout, 00:00:00 to
    /// 00:05:00; default 00:00:10). Start-up goes on after it with what is examined by then, and says so.
    /// </summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether <see cref="Policy"/> was given (in the section, a file or code) rather than left empty.</summary>
    internal bool PolicyGiven { get; private set; }

    /// <summary>
    /// The text the policy was read from (the section's policy keys, or the file), so that a configuration change that
    /// leaves the policy as it was is not taken for a new policy; null when it was set in code.
    /// </summary>
    internal string? PolicyText { get; set; }

    /// <summary>Problems found while binding the section; the validator reports them at start (and on every change).</summary>
    internal List<string> BindErrors { get; } = [];
}
