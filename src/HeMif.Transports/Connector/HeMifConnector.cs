using System.Net;
using System.Net.Quic;
using System.Net.Security;
using System.Net.Sockets;
using System.Reactive.Linq;
using HeMif.Continuity;
using HeMif.Engine;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Report;
using HeMif.Transports.Discovery;
using HeMif.Transports.Mptcp;
using HeMif.Transports.Probes;
using HeMif.Transports.Quic;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tcp;
using HeMif.Validate;

namespace HeMif;

/// <summary>How a connector is set up.</summary>
public sealed record HeMifConnectorOptions
{
    /// <summary>The hard and soft sets (draft §4). Default: none, common practice only.</summary>
    public HeMifPolicy Policy { get; init; } = HeMifPolicy.Empty;

    /// <summary>The interfaces to use; null (the default) discovers the host's own.</summary>
    public IReadOnlyList<InterfaceFacts>? Interfaces { get; init; }

    /// <summary>
    /// A host override file (what the OS cannot tell: kind, cost flags, PvD, DNS servers, probe settings; see
    /// docs/connect.md). Null: none.
    /// </summary>
    public string? OverridesFile { get; init; }

    /// <summary>The connectivity check URL (draft §5.2.1); null keeps the file's or the default platform check.</summary>
    public Uri? ProbeUrl { get; init; }

    /// <summary>Skip validation (every up interface counts as validated). Only for hosts without a check server.</summary>
    public bool DisableValidation { get; init; }

    /// <summary>How long the whole race may take. Default: 30 s.</summary>
    public TimeSpan RaceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The application's fallback delay (draft §7.2: how long the preferred interface gets alone before the others join):
    /// a stated <see cref="FallbackDelaySettings.Delay"/> wins over the delay HeMif adapts from history, a stated range
    /// bounds it. Below a request's own (<see cref="ConnectOptions.FallbackDelay"/>) and the policy's fallback delay rules
    /// (docs/connect.md, "The fallback delay"). Default: nothing stated.
    /// </summary>
    public FallbackDelaySettings FallbackDelay { get; init; } = FallbackDelaySettings.None;

    /// <summary>The clock. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// How long the QUIC path probe waits for a Version Negotiation before it calls UDP/QUIC blocked on an interface
    /// (docs/connect.md, "QUIC"). Default: 1.5 s.
    /// </summary>
    public TimeSpan QuicProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>The least <see cref="CaptivePortalPeriod"/> (10 s).</summary>
    public static readonly TimeSpan MinCaptivePortalPeriod = TimeSpan.FromSeconds(10);

    /// <summary>The most <see cref="CaptivePortalPeriod"/> (30 s).</summary>
    public static readonly TimeSpan MaxCaptivePortalPeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often an interface found behind a captive portal (draft §5.2.1: "an HTTP proxy that forces a login or a
    /// click-through") is examined again, so that a user who logs in gets it back within this time rather than after
    /// the 5-minute validation period: <see cref="MinCaptivePortalPeriod"/> to <see cref="MaxCaptivePortalPeriod"/>
    /// (docs/connect.md, "State that stays fresh"). Default: 15 s.
    /// </summary>
    public TimeSpan CaptivePortalPeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Validates the server certificate of QUIC connections (TLS 1.3 inside QUIC); null (the default): the system's
    /// validation against the host name. For private CAs and tests.
    /// </summary>
    public RemoteCertificateValidationCallback? QuicCertificateValidation { get; init; }

    /// <summary>
    /// Validates the server certificate when HeMif fetches a PvD's Additional Information (RFC 8801 §4,
    /// <c>https://&lt;PvD-ID&gt;/.well-known/pvd</c>, docs/discovery.md); null (the default): the system's validation
    /// against the PvD ID. For private CAs and tests.
    /// </summary>
    public RemoteCertificateValidationCallback? PvdCertificateValidation { get; init; }

    /// <summary>
    /// Read the host resolver's own per-interface DNS servers and search domains (systemd-resolved over D-Bus) for the
    /// interfaces HeMif discovers (docs/discovery.md, "The host's own DNS"): below the override file, above nothing known.
    /// When there is no bus, no resolved, or no answer within two seconds, HeMif goes on without them and
    /// <see cref="IHeMifConnector.HostDns"/> says why. Default: true.
    /// </summary>
    public bool UseHostResolver { get; init; } = true;

    /// <summary>
    /// The D-Bus address of the bus systemd-resolved is asked on (for example <c>unix:path=/run/dbus/system_bus_socket</c>);
    /// null (the default): <c>DBUS_SYSTEM_BUS_ADDRESS</c>, else the standard system bus.
    /// </summary>
    public string? SystemBusAddress { get; init; }

    /// <summary>
    /// Where systemd-networkd keeps each link's state (<c>&lt;ifindex&gt;</c> files with <c>DNS=</c> and <c>DOMAINS=</c>),
    /// read after the host resolver for the interfaces it said nothing about (docs/discovery.md, "The host's own DNS").
    /// Default: <c>/run/systemd/netif/links</c>; a directory that does not exist is not read. Read only when
    /// <see cref="UseHostResolver"/> is on and HeMif discovers the interfaces itself.
    /// </summary>
    public string NetworkdStateDirectory { get; init; } = HeMif.Discovery.NetworkdState.DefaultDirectory;

    /// <summary>
    /// Runs the connectivity check on loopback too (normally loopback is validated by definition: it reaches only this
    /// host). Tests use it: loopback is the one network every machine has to run the check against.
    /// </summary>
    internal bool ProbeLoopback { get; init; }

    /// <summary>Reads the host's interfaces (null: <see cref="InterfaceDiscovery"/>); tests give their own host.</summary>
    internal Func<IReadOnlyList<InterfaceFacts>>? Discover { get; init; }

    /// <summary>Where Router Advertisements come from (null: a raw ICMPv6 socket per discovered interface); tests inject their own.</summary>
    internal HeMif.Discovery.IRouterAdvertisementSource? RouterAdvertisements { get; init; }

    /// <summary>Fetches PvD Additional Information (null: over HTTPS, <see cref="HttpsPvdInformationFetcher"/>); tests inject their own.</summary>
    internal HeMif.Discovery.IPvdInformationFetcher? PvdInformation { get; init; }

    /// <summary>
    /// The actor system HeMif's actors live in (an application's own, through Akka.Hosting's <c>WithHeMif</c>); null: the
    /// connector creates one of its own and terminates it on dispose.
    /// </summary>
    internal Akka.Actor.ActorSystem? ActorSystem { get; init; }

    /// <summary>The name of HeMif's top actor in <see cref="ActorSystem"/> (null: generated).</summary>
    internal string? ActorName { get; init; }
}

/// <summary>Which transports a request may use.</summary>
public enum TransportPreference
{
    /// <summary>TCP only (the default).</summary>
    Tcp,

    /// <summary>
    /// QUIC first with TCP behind it to each address (HEv3: QUIC is preferred and TCP follows one attempt delay later).
    /// Where this host cannot do QUIC, or QUIC is known blocked on an interface, that QUIC is skipped and the timeline
    /// says why: the request proceeds on TCP.
    /// </summary>
    Any,

    /// <summary>
    /// QUIC only: no TCP attempt. Where this host cannot do QUIC the request fails at once with
    /// <see cref="HeMifConnectException"/> saying why; interfaces where QUIC is known blocked are not tried.
    /// </summary>
    Quic,
}

/// <summary>Per-request hints.</summary>
public sealed record ConnectOptions
{
    /// <summary>The transports the request may use: TCP only (default), QUIC first with TCP behind it, or QUIC only.</summary>
    public TransportPreference Transport { get; init; } = TransportPreference.Tcp;

    /// <summary>
    /// The ALPN protocol IDs QUIC attempts offer, in order (QUIC requires ALPN: RFC 9001 §8.1). Default: <c>h3</c>
    /// (HTTP/3). Each ID is 1 to 255 bytes of ASCII (RFC 7301 §3.1).
    /// </summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = ConnectionRequest.DefaultApplicationProtocols;

    /// <summary>The expected transfer size, for size rules (draft §4.1.2: "Only download applications larger than 20Mb over WiFi").</summary>
    public long? ExpectedBytes { get; init; }

    /// <summary>A traffic class for policy rules.</summary>
    public string? TrafficClass { get; init; }

    /// <summary>
    /// Multipath TCP (RFC 8684) in this mode; null (the default) for plain TCP. The race's TCP attempts use MPTCP
    /// sockets (falling back to TCP where the kernel or the peer does not do MPTCP, and saying so in
    /// <see cref="HeMifConnection.Multipath"/>), and on Linux the winner's subflow plan (draft §7.6; see
    /// <see cref="IHeMifConnector.PlanSubflowsAsync"/>) is applied through the kernel's path manager and kept current
    /// until the connection is closed. QUIC attempts are not affected.
    /// </summary>
    public MultipathMode? Multipath { get; init; }

    /// <summary>
    /// What this request asks of the interfaces: pin an interface (<see cref="InterfaceChoice.Interface"/>) or a PvD,
    /// require or prohibit kinds or PvDs. Checked against the policy: it only narrows the candidates, never lifts an
    /// operator or user Prohibit; when nothing qualifies, <see cref="HeMifConnectException"/> names every rule that
    /// excluded each interface (docs/connect.md). Null: no choice.
    /// </summary>
    public InterfaceChoice? Choice { get; init; }

    /// <summary>
    /// This request's fallback delay (draft §7.2, "it is recommended to prioritize the input from users (e.g., real
    /// customers or applications)"): it wins over the policy's rules, the connector's options and the delay adapted from
    /// history; the report's <see cref="RaceTimings"/> say which value was used and why. Null (the default): nothing stated.
    /// </summary>
    public FallbackDelaySettings? FallbackDelay { get; init; }
}

/// <summary>Connects over the best interface (draft-ietf-mif-happy-eyeballs-extension), racing the others behind it.</summary>
public interface IHeMifConnector : IAsyncDisposable
{
    /// <summary>Every validation state change of every interface (a caller may re-select on it).</summary>
    IObservable<InterfaceStateChanged> InterfaceStates { get; }

    /// <summary>
    /// What HeMif knows about each interface now, in name order: the facts it decides with (with the provisioning domains
    /// learned from Router Advertisements, each fact with its lifetime), the validation state and why, and how RA learning
    /// goes (docs/discovery.md). Empty for a connector that does not know (one implemented elsewhere).
    /// </summary>
    IReadOnlyList<HeMif.Discovery.InterfaceView> Interfaces => [];

    /// <summary>
    /// The MIF API's stream: first every interface's <see cref="Interfaces"/> entry as it is when the subscription starts,
    /// then each entry again whenever what HeMif knows about it changes (a fact, a learned PvD, the validation state, RA
    /// learning; an interface that goes away says so once with <see cref="HeMif.Discovery.InterfaceView.Removed"/>).
    /// Completes when the connector is disposed; called on the engine's thread: hand heavy work off.
    /// </summary>
    IObservable<HeMif.Discovery.InterfaceView> InterfaceChanges => System.Reactive.Linq.Observable.Empty<HeMif.Discovery.InterfaceView>();

    /// <summary>
    /// How the last reading of the host resolver's per-interface DNS went (systemd-resolved over D-Bus,
    /// <see cref="HeMifConnectorOptions.UseHostResolver"/>): read, or unavailable and why (no bus, resolved not running,
    /// no answer in time, a malformed reply), or off.
    /// </summary>
    HeMif.Discovery.HostDnsStatus HostDns => HeMif.Discovery.HostDnsStatus.Off;

    /// <summary>Every timeline event of every race.</summary>
    IObservable<RaceEvent> RaceEvents { get; }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/>. Throws <see cref="HeMifConnectException"/> (with the
    /// report of every attempt and exclusion) when nothing connects, <see cref="OperationCanceledException"/> when the
    /// caller cancels, <see cref="ArgumentException"/> for a bad port or a host that is neither an IP literal nor a valid
    /// host name (<see cref="Planning.HostName"/>: the message names the rule), before any packet is sent.
    /// </summary>
    Task<HeMifConnection> ConnectAsync(string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves a connection the application owns (draft §7.4, session continuity): races a new connection to the same
    /// destination with the same options under the current policy and hands it over while <paramref name="connection"/>
    /// stays open, so that the application can drain the old one and then dispose it (HeMif does not touch it). The new
    /// connection's <see cref="RaceReport.Move"/> says it was a move, from where and why, and its timeline starts with
    /// a note saying so. It may be over the same interface when that is still the best. Fails as
    /// <see cref="ConnectAsync"/> does, the old connection untouched.
    /// </summary>
    /// <param name="connection">The connection to move away from; it stays open.</param>
    /// <param name="reason">Why, in words, for the report (for example the <see cref="PathEvent"/> that prompted it).</param>
    /// <param name="cancellationToken">Cancels the new race.</param>
    async Task<HeMifConnection> MoveAsync(HeMifConnection connection, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        var moved = await ConnectAsync(connection.Report.Host, connection.Report.Port, connection.Options, cancellationToken).ConfigureAwait(false);
        return moved.MarkMoveFrom(connection, reason);
    }

    /// <summary>
    /// A request/response exchange over UDP (draft §7.1: "For connectionless transport protocols (e.g., UDP), a similar
    /// mechanism can be used if the application has request/response semantics"; docs/exchange.md): sends
    /// <paramref name="request"/> to <paramref name="host"/>:<paramref name="port"/> over the preferred interface first
    /// (each try on a socket pinned to its interface, as TCP attempts are), over the others after the fallback delay or
    /// at once on an ICMP hard error (port, host or network unreachable), each interface with its own IPv6/IPv4 order
    /// and attempt delay (RFC 8305); each try resends on <see cref="DatagramExchange"/>'s backoff. Returns the first
    /// response <paramref name="matcher"/> takes, with the interface, addresses and time it came with; datagrams it does
    /// not take are counted and ignored, a response from another source than the one sent to never reaches it, and a
    /// response after the winner is dropped. The hard set, validation, soft set, policy rules (transport <c>udp</c>) and
    /// <see cref="ExchangeOptions.Choice"/> apply as for <see cref="ConnectAsync"/>, and the outcomes go to the same
    /// outcome cache. Throws <see cref="HeMifExchangeException"/> (every try listed) when no response came within
    /// <see cref="ExchangeOptions.Timeout"/> or every try failed, <see cref="HeMifExchangeCanceledException"/> (an
    /// <see cref="OperationCanceledException"/>) when the caller cancels, <see cref="ArgumentException"/> for a bad
    /// host, port or request before any packet is sent. Every socket is closed when it returns or throws.
    /// A connector implemented elsewhere that does not override it throws <see cref="NotSupportedException"/>.
    /// </summary>
    /// <param name="host">A host name or IP literal.</param>
    /// <param name="port">The UDP port, 1 to 65535.</param>
    /// <param name="request">The request datagram, 1 to <see cref="DatagramExchange.MaxRequestBytes"/> bytes.</param>
    /// <param name="matcher">Recognises the response to this request (a request identifier, for instance).</param>
    /// <param name="options">Per-exchange hints; null: none.</param>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    Task<HeMifExchange> ExchangeAsync(string host, int port, ReadOnlyMemory<byte> request, ResponseMatcher matcher, ExchangeOptions? options = null,
        CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not implement ExchangeAsync (UDP request/response); the connectors HeMif makes do.");

    /// <summary>
    /// Probes, now, whether UDP/QUIC reaches <paramref name="host"/>:<paramref name="port"/> (UDP) through each
    /// interface, or only <paramref name="interfaceName"/>: a client Initial with a reserved version that a QUIC server
    /// answers with Version Negotiation (RFC 9000 §6), no TLS. One verdict per interface, in name order; each is also
    /// remembered for later requests to that destination. Throws <see cref="ArgumentException"/> for a bad host
    /// (<see cref="Planning.HostName"/>), port or interface name, before any packet is sent. Toward this host (a loopback
    /// destination) only the loopback interface applies: every other one is <see cref="QuicPathState.Unknown"/>, "not
    /// applicable", without a packet, as a race would not use it either.
    /// </summary>
    Task<IReadOnlyList<QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default);

    /// <summary>Every subflow suggestion issued by any <see cref="WatchSubflows"/> subscription.</summary>
    IObservable<SubflowPlan> SubflowSuggestions { get; }

    /// <summary>
    /// Which interfaces may carry subflows of a multipath (MPTCP) connection to <paramref name="host"/>:<paramref name="port"/>
    /// in <paramref name="mode"/>, decided by the same filter, validation and sort as a race (draft §7.6). Waits for the
    /// first examination of the interfaces like <see cref="ConnectAsync"/>.
    /// </summary>
    Task<SubflowPlan> PlanSubflowsAsync(string host, int port, MultipathMode mode, ConnectOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Subflow suggestions for one destination: the first at once, then a new one whenever an interface change alters an
    /// assignment (Wi-Fi lost: move to cellular; Wi-Fi back: return). Completes when the connector is disposed.
    /// </summary>
    IObservable<SubflowPlan> WatchSubflows(string host, int port, MultipathMode mode, ConnectOptions? options = null);
}

/// <summary>The winning connection. Disposing it closes it.</summary>
public sealed class HeMifConnection : IAsyncDisposable
{
    private readonly ConnectedPath _path;
    private readonly MultipathSession? _multipath;

    private readonly System.Reactive.Subjects.AsyncSubject<System.Reactive.Unit> _disposed = new();

    internal HeMifConnection(ConnectedPath path, RaceReport report, MultipathSession? multipath = null, IObservable<PathEvent>? pathEvents = null,
        ConnectOptions? options = null)
    {
        _path = path;
        _multipath = multipath;
        Options = options;
        // Cold: each subscription watches on its own; all of them end when the connection is disposed.
        PathEvents = System.Reactive.Linq.Observable.TakeUntil(pathEvents ?? System.Reactive.Linq.Observable.Never<PathEvent>(), _disposed);
        Multipath = multipath?.Info;
        Stream = path.Stream;
        Path = path;
        Socket = path.Socket;
        QuicConnection = QuicConnection.IsSupported && path is QuicConnectedPath quic ? quic.Connection : null;
        LocalEndPoint = path.LocalEndPoint;
        RemoteEndPoint = path.RemoteEndPoint;
        Report = report;
    }

    /// <summary>The byte stream.</summary>
    public Stream Stream { get; }

    /// <summary>
    /// The winning transport's connection as it handed it over (for a transport of your own, your
    /// <see cref="ConnectedPath"/> type). Disposing this <see cref="HeMifConnection"/> disposes it.
    /// </summary>
    public ConnectedPath Path { get; }

    /// <summary>The socket, for TCP.</summary>
    public Socket? Socket { get; }

    /// <summary>
    /// The QUIC connection, when QUIC won (<see cref="Stream"/> is then its first bidirectional stream, opened after
    /// the handshake); open more streams on it as the application protocol needs. Null for TCP. Disposing this
    /// <see cref="HeMifConnection"/> closes it.
    /// </summary>
    public QuicConnection? QuicConnection { get; }

    /// <summary>The local endpoint (on the winning interface).</summary>
    public IPEndPoint? LocalEndPoint { get; }

    /// <summary>The remote endpoint.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The race that chose it: winner, attempts, exclusions, timeline (and <see cref="RaceReport.Move"/> for a move).</summary>
    public RaceReport Report { get; private set; }

    /// <summary>The winning interface's name.</summary>
    public string Interface => Report.Winner!.Interface;

    /// <summary>The winning transport's name (<c>tcp</c>, <c>quic</c>, <c>mptcp</c>, or a registered transport of your own).</summary>
    public string Transport => Report.Winner!.Transport;

    /// <summary>
    /// The multipath side when <see cref="ConnectOptions.Multipath"/> was set: MPTCP or which fallback, the subflow plan
    /// applied, the live subflows. Null for a connection opened without it.
    /// </summary>
    public MultipathInfo? Multipath { get; }

    /// <summary>
    /// What happens to this connection's path while it runs (draft §7.4, session continuity; docs/continuity.md): not
    /// viable (its interface went down or away, lost validation, or lost the connection's local address), viable again,
    /// and better path available (another interface now ranks first under the current policy, for example Wi-Fi back
    /// while this connection runs on metered cellular). The same events for TCP, QUIC, MPTCP and transports of your own.
    /// Cold: each subscription starts its own watch, which first looks at the interface as it is now (an interface that
    /// is already not viable says so at once). Completes when the connection is disposed or the connector is;
    /// observers are called on HeMif's threads: hand heavy work off. To move, see <see cref="IHeMifConnector.MoveAsync"/>.
    /// </summary>
    public IObservable<PathEvent> PathEvents { get; }

    /// <summary>The options the connection was made with (a move races with the same).</summary>
    internal ConnectOptions? Options { get; }

    /// <summary>This connection's report, marked as a move away from <paramref name="from"/> for <paramref name="reason"/>.</summary>
    internal HeMifConnection MarkMoveFrom(HeMifConnection from, string reason)
    {
        var move = new ConnectionMove(from.Interface, from.RemoteEndPoint.ToString(), reason);
        Report = Report with
        {
            Move = move,
            Events = [new RaceEvent(TimeSpan.Zero, "note", $"a move of the connection over {move.FromInterface} to {move.FromRemote}: {reason}", from.Interface), .. Report.Events],
        };
        return this;
    }

    /// <summary>Closes the connection (and removes what the path manager added for it); ends <see cref="PathEvents"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed.OnNext(System.Reactive.Unit.Default);
        _disposed.OnCompleted();
        await _path.DisposeAsync().ConfigureAwait(false);
        if (_multipath is not null)
        {
            await _multipath.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Nothing connected; <see cref="Report"/> lists every attempt, why it failed, and every excluded interface.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1032:Implement standard exception constructors",
    Justification = "Every HeMifConnectException carries the race that failed: a constructor without a report would make Report null.")]
public sealed class HeMifConnectException : Exception
{
    /// <summary>Creates the exception from the race's report.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="report"/> is null.</exception>
    public HeMifConnectException(RaceReport report)
        : base(Describe(report ?? throw new ArgumentNullException(nameof(report)))) => Report = report;

    /// <summary>The race: attempts, exclusions, timeline. Never null.</summary>
    public RaceReport Report { get; }

    private static string Describe(RaceReport report)
    {
        // The racer's one-line failure also names every excluded interface; here each gets a line of its own instead.
        var failure = report.Failure ?? "no attempt connected";
        if (report.Excluded.Count > 0 && failure.IndexOf(RacerActor.NotUsedSeparator, StringComparison.Ordinal) is var cut and >= 0)
        {
            failure = failure[..cut];
        }

        var lines = new List<string> { $"No connection to {report.Host}:{report.Port}: {failure}" };
        lines.AddRange(report.Attempts.Select(a => $"  attempt #{a.Id} {a.Transport} {a.Remote} on {a.Interface}: {a.Result}{(a.Error is null ? "" : ": " + a.Error)}"));
        lines.AddRange(report.Excluded.Select(x => $"  not used: {x.Interface}: {string.Join("; ", x.Reasons)}"));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>Creates connectors on the real network.</summary>
public static class HeMifConnector
{
    /// <summary>
    /// Creates a connector: discovers (or takes) the interfaces, applies the override file, starts validating them.
    /// Throws <see cref="ArgumentException"/> when there is no usable interface, and
    /// <see cref="Configuration.HeMifConfigurationException"/> naming the file, the JSON path and the value for an override
    /// file that cannot be used: missing, not a regular file, larger than
    /// <see cref="Configuration.HeMifConfiguration.MaxFileBytes"/>, malformed, or naming an interface the host does not have.
    /// </summary>
    public static IHeMifConnector Create(HeMifConnectorOptions? options = null) => CreateBuilder().UseOptions(options ?? new HeMifConnectorOptions()).Build();

    /// <summary>
    /// A builder for a connector with transports, a resolver or probes of the application's own beside or instead of
    /// HeMif's (docs/architecture.md, "Composition"); <see cref="Create(HeMifConnectorOptions)"/> is this builder with nothing added.
    /// </summary>
    public static HeMifConnectorBuilder CreateBuilder() => new();

    /// <summary>The same, with a QUIC transport of the caller's (tests force the host's QUIC support either way).</summary>
    internal static IHeMifConnector Create(HeMifConnectorOptions? options, AttemptTransport? quic, params AttemptTransport[] more)
    {
        var builder = CreateBuilder().UseOptions(options ?? new HeMifConnectorOptions());
        if (quic is not null)
        {
            builder.UseQuicTransport(quic);
        }

        foreach (var transport in more)
        {
            builder.AddTransport(transport);
        }

        return builder.Build();
    }

    /// <summary>HeMif's own transports, as <see cref="HeMifConnectorBuilder.AddTransport"/> names them when another takes their name.</summary>
    internal static readonly (TransportName Name, string Type)[] BuiltInTransports =
    [
        (TransportName.Tcp, typeof(TcpTransport).FullName!),
        (TransportName.Quic, typeof(QuicTransport).FullName!),
        (TransportName.Mptcp, typeof(MptcpTransport).FullName!),
        (TransportName.Udp, typeof(Transports.Udp.UdpExchangeTransport).FullName!),
    ];

    /// <summary>
    /// The one composition root: every connector is made here, from a builder (HeMif's own parts where the builder has
    /// none of the application's).
    /// </summary>
    internal static IHeMifConnector Compose(HeMifConnectorOptions options, HeMifConnectorBuilder parts)
    {
        if (options.TimeProvider is null)
        {
            throw new ArgumentException("HeMifConnectorOptions.TimeProvider is null: every timer of HeMif follows it; give TimeProvider.System (the default) or a clock of your own.", nameof(options));
        }

        if (options.QuicProbeTimeout <= TimeSpan.Zero || options.QuicProbeTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.QuicProbeTimeout, $"QuicProbeTimeout must be positive and at most one minute; got {options.QuicProbeTimeout}.");
        }

        if (parts.Probe is not null && options.DisableValidation)
        {
            throw new ArgumentException("HeMifConnectorBuilder.UseProbe gave a connectivity probe, but HeMifConnectorOptions.DisableValidation is set: choose one.", nameof(options));
        }

        if (options.CaptivePortalPeriod < HeMifConnectorOptions.MinCaptivePortalPeriod || options.CaptivePortalPeriod > HeMifConnectorOptions.MaxCaptivePortalPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CaptivePortalPeriod,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"HeMifConnectorOptions.CaptivePortalPeriod must be between {HeMifConnectorOptions.MinCaptivePortalPeriod:c} and {HeMifConnectorOptions.MaxCaptivePortalPeriod:c} (docs/connect.md); got {options.CaptivePortalPeriod:c}."));
        }

        var fallbackDelay = ConfiguredFallbackDelay(options);
        var overrides = options.OverridesFile is null ? null : HostOverrides.Load(options.OverridesFile);
        var discovery = new InterfaceDiscovery();
        var discover = options.Discover ?? (() => discovery.Discover());
        // The host resolver's per-link DNS, for the host's own interfaces only (not given ones, nor a test's made-up host).
        var readsHost = options.Interfaces is null && options.Discover is null && options.UseHostResolver;
        var hostDns = new HeMif.Discovery.HostDnsReading(
            readsHost ? new HeMif.Discovery.ResolvedClient(options.SystemBusAddress, HeMif.Discovery.ResolvedClient.DefaultTimeout) : null,
            readsHost ? options.NetworkdStateDirectory : null);
        discover = hostDns.Around(discover);
        var interfaces = options.Interfaces ?? discover();
        if (overrides is not null)
        {
            interfaces = overrides.ApplyTo(interfaces);
        }

        if (interfaces.Count == 0)
        {
            throw new ArgumentException("There is no interface to connect over: the host reports none and none were given.", nameof(options));
        }

        var probeSettings = overrides?.Probe ?? new ProbeSettings();
        var tcp = new TcpTransport();
        var book = new InterfaceBook(interfaces);
        var resolver = parts.Resolver ?? new DnsInterfaceResolver(timeProvider: options.TimeProvider);
        ConnectivityProbe probe = parts.Probe is { } own
            ? (options.ProbeLoopback ? own : new LoopbackExemptProbe(own))
            : options.DisableValidation || probeSettings.Disabled
                ? new NoValidation()
                : BuildProbe(probeSettings with { Url = options.ProbeUrl ?? probeSettings.Url }, resolver, tcp, options.TimeProvider, options.ProbeLoopback);
        var mptcp = new MptcpTransport(tcp);
        // TCP by default; QUIC when a request asks for it (TransportPreference.Any or Quic), MPTCP for a multipath one;
        // the application's after them.
        // UDP exchanges (ExchangeAsync) have a transport of their own that only they name.
        var transports = Registry([tcp, parts.Quic ?? new QuicTransport(options.QuicCertificateValidation), mptcp,
            new Transports.Udp.UdpExchangeTransport(options.TimeProvider), .. parts.Transports], parts.Defaults ?? [TransportName.Tcp]);
        var engineOptions = new EngineOptions
        {
            Interfaces = interfaces,
            Policy = options.Policy,
            Probe = probe,
            Resolver = resolver,
            Transports = transports,
            QuicProbe = parts.QuicProbe ?? new QuicVersionProbe(resolver, new QuicPathProbeOptions { Timeout = options.QuicProbeTimeout }, options.TimeProvider),
            TimeProvider = options.TimeProvider,
            // Discovered interfaces learn from their routers' RAs (docs/discovery.md); given ones are the caller's facts.
            RouterAdvertisements = options.RouterAdvertisements ?? (options.Interfaces is null ? new RawIcmpv6Source() : null),
            // PvDs with the H-flag: their Additional Information over their own interface and resolver (RFC 8801 §4).
            PvdInformation = options.PvdInformation ?? new HttpsPvdInformationFetcher(resolver, book.Get, options.TimeProvider, HttpsPvdInformationFetcher.DefaultTimeout, options.PvdCertificateValidation),
            ActorSystem = options.ActorSystem,
            ActorName = options.ActorName,
            Race = new RaceSettings { RaceTimeout = options.RaceTimeout, ConfiguredFallbackDelay = fallbackDelay },
            Validation = new ValidationSettings { Period = probeSettings.Period, ProbeTimeout = probeSettings.Timeout + TimeSpan.FromSeconds(1), CaptivePortalPeriod = options.CaptivePortalPeriod },
        };
        var engine = new HeMifEngine(engineOptions);
        // Only discovered interfaces are watched: given ones are the caller's to update. One that appears later joins
        // the engine (examined first, raced once validated) and leaves it when it is gone again.
        var watchErrors = new System.Reactive.Subjects.Subject<string>();
        var watcher = options.Interfaces is not null ? null : new InterfaceWatcher(interfaces, discover,
            facts =>
            {
                book.Set(facts);
                Observe(() => engine.UpdateInterfaceAsync(facts), watchErrors);
            },
            options.TimeProvider, TimeSpan.FromSeconds(30), listenToOs: options.Discover is null,
            appeared: facts =>
            {
                book.Set(facts);
                Observe(() => engine.AddInterfaceAsync(facts), watchErrors);
            },
            gone: name =>
            {
                book.Remove(name);
                Observe(() => engine.RemoveInterfaceAsync(name), watchErrors);
            });
        IReadOnlyList<string> composition =
        [
            .. transports.All.Select(t => $"transport {t.Name}: {t.GetType().FullName}"),
            $"defaults: {string.Join(", ", transports.Defaults)}",
            $"resolver: {resolver.GetType().FullName}",
            $"probe: {Describe(probe)}",
            $"quic probe: {engineOptions.QuicProbe.GetType().FullName}",
        ];
        return new Connector(engine, watcher, probeSettings.Timeout + TimeSpan.FromSeconds(2), options.TimeProvider, book, watchErrors, composition) { HostDnsReading = hostDns };
    }

    /// <summary>The transport registry; a default transport nobody registered is the builder's error, said as such.</summary>
    private static TransportRegistry Registry(IReadOnlyList<AttemptTransport> transports, IReadOnlyList<TransportName> defaults)
    {
        var registered = string.Join(", ", transports.Select(t => t.Name.Value));
        foreach (var name in defaults)
        {
            if (!transports.Any(t => t.Name == name))
            {
                throw new ArgumentException($"HeMifConnectorBuilder.UseDefaultTransports names '{name}', which no transport is registered as (registered: {registered}); add it with AddTransport first.", nameof(defaults));
            }
        }

        return new TransportRegistry(transports, defaults);
    }

    /// <summary>The connector's fallback delay, checked before anything starts (a clear error naming the option, not a failed race later).</summary>
    private static FallbackDelaySettings ConfiguredFallbackDelay(HeMifConnectorOptions options)
    {
        var settings = options.FallbackDelay ?? FallbackDelaySettings.None;
        return settings.Problem() is { } problem
            ? throw new ArgumentException($"HeMifConnectorOptions.FallbackDelay: {problem}.", nameof(options))
            : settings;
    }

    /// <summary>
    /// Hands a watcher's change to the engine, on the watcher's thread, without waiting: a change that fails is said on
    /// the internal failures stream, and one that arrives while the connector is being disposed is dropped (nothing is
    /// raced any more).
    /// </summary>
    private static void Observe(Func<Task> change, System.Reactive.Subjects.Subject<string> errors)
    {
        Task task;
        try
        {
            task = change();
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        _ = task.ContinueWith(
            t =>
            {
                if (t.Exception?.GetBaseException() is { } e and not ObjectDisposedException)
                {
                    errors.OnNext($"interface watcher: {e.GetType().Name}: {e.Message}");
                }
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static ConnectivityProbe BuildProbe(ProbeSettings settings, InterfaceResolver resolver, TcpTransport tcp, TimeProvider time, bool probeLoopback)
    {
        var check = BuildCheck(settings, resolver, tcp, time);
        return probeLoopback ? check : new LoopbackExemptProbe(check);
    }

    private static ScopedProbe BuildCheck(ProbeSettings settings, InterfaceResolver resolver, TcpTransport tcp, TimeProvider time)
    {
        var http = new HttpConnectivityProbe(resolver, tcp, new HttpProbeOptions
        {
            Url = settings.Url ?? new HttpProbeOptions().Url,
            ExpectedStatus = settings.ExpectedStatus,
            Timeout = settings.Timeout,
        }, time);
        ConnectivityProbe internet = settings.NonexistentName is { } ghost
            ? new CompositeConnectivityProbe(new DnsInterceptionProbe(resolver, new DnsInterceptionOptions { NonexistentName = ghost }), http)
            : http;
        // Validation per PvD: an interface that serves only its own scope (noInternet, a split tunnel) is checked there.
        return new ScopedProbe(internet, resolver, time, url => new HttpConnectivityProbe(resolver, tcp, new HttpProbeOptions
        {
            Url = url,
            ExpectedStatus = settings.ExpectedStatus,
            Timeout = settings.Timeout,
        }, time));
    }

    /// <summary>A probe's type, with the one it wraps (loopback exemption around the check).</summary>
    private static string Describe(ConnectivityProbe probe) => probe is LoopbackExemptProbe exempt
        ? $"{probe.GetType().FullName}({Describe(exempt.Inner)})"
        : probe.GetType().FullName!;

    private sealed class Connector(HeMifEngine engine, InterfaceWatcher? watcher, TimeSpan validationWait, TimeProvider time, InterfaceBook interfaces,
        System.Reactive.Subjects.Subject<string> watchErrors, IReadOnlyList<string> composition)
        : IHeMifConnector, IHeMifConnectorControl
    {
        private readonly ProcessCommandRunner _ip = new(TimeSpan.FromSeconds(10));

        private readonly SemaphoreSlim _firstValidation = new(1, 1);
        private bool _validated;

        public IObservable<InterfaceStateChanged> InterfaceStates => engine.InterfaceStates;

        public IReadOnlyList<HeMif.Discovery.InterfaceView> Interfaces => engine.Interfaces;

        public IObservable<HeMif.Discovery.InterfaceView> InterfaceChanges => engine.InterfaceChanges;

        public HeMif.Discovery.HostDnsReading? HostDnsReading { get; init; }

        public HeMif.Discovery.HostDnsStatus HostDns => HostDnsReading?.Status ?? HeMif.Discovery.HostDnsStatus.Off;

        public IObservable<RaceEvent> RaceEvents => engine.RaceEvents;

        public IObservable<SubflowPlan> SubflowSuggestions => engine.SubflowSuggestions;

        public bool AllExamined => engine.AllExamined;

        public IReadOnlyList<string> Composition => composition;

        public IReadOnlyDictionary<string, InterfaceStateChanged> CurrentStates => engine.CurrentStates;

        public void RefreshInterfaces() => watcher?.Refresh();

        public IObservable<string> InternalFailures => engine.Failures
            .Select(f => $"{f.Actor}: {f.Exception.GetType().Name}: {f.Exception.Message} ({Decision(f.Directive)})")
            .Merge(watchErrors);

        public Akka.Actor.IActorRef Actor => engine.Actor;

        private static string Decision(Akka.Actor.Directive directive) => directive switch
        {
            Akka.Actor.Directive.Restart => "restarted by its supervisor",
            Akka.Actor.Directive.Resume => "resumed by its supervisor",
            Akka.Actor.Directive.Escalate => "escalated to its supervisor's supervisor",
            _ => "stopped by its supervisor",
        };

        public Task UpdatePolicyAsync(HeMifPolicy policy, CancellationToken cancellationToken = default) => engine.UpdatePolicyAsync(policy, cancellationToken);

        public async Task<HeMifConnection> ConnectAsync(string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        {
            var request = ToRequest(host, port, options);
            cancellationToken.ThrowIfCancellationRequested();
            // QUIC only where the host cannot do QUIC fails at once: no reason to wait for validation first.
            if (!Unusable(request))
            {
                await WaitForFirstValidationAsync(cancellationToken).ConfigureAwait(false);
            }

            if (options?.Multipath is not { } mode)
            {
                var single = await engine.ConnectAsync(request, cancellationToken).ConfigureAwait(false);
                return single.Connection is { } connected
                    ? new HeMifConnection(connected, single.Report, pathEvents: PathEventsOf(request, connected, single.Report), options: options)
                    : throw new HeMifConnectException(single.Report);
            }

            // The kernel opens subflows only from path manager endpoints that exist when a connection is created: the
            // plan is applied before the race, then again for the winner.
            var session = await MultipathSession.PrepareAsync(mode, ct => engine.PlanSubflowsAsync(request, mode, "before connecting", ct), interfaces, _ip,
                request.DestinationAddresses, cancellationToken).ConfigureAwait(false);
            ConnectedPath? path = null;
            try
            {
                var result = await engine.ConnectAsync(request, cancellationToken).ConfigureAwait(false);
                path = result.Connection ?? throw new HeMifConnectException(result.Report);
                if (path is not MptcpConnectedPath multipath)
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                    return new HeMifConnection(path, result.Report, pathEvents: PathEventsOf(request, path, result.Report), options: options);
                }

                await session.ConnectedAsync(multipath, engine.WatchSubflows(request, mode), cancellationToken).ConfigureAwait(false);
                return new HeMifConnection(path, result.Report, session, PathEventsOf(request, path, result.Report), options);
            }
            catch
            {
                if (path is not null)
                {
                    await path.DisposeAsync().ConfigureAwait(false);
                }

                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task<HeMifExchange> ExchangeAsync(string host, int port, ReadOnlyMemory<byte> request, ResponseMatcher matcher, ExchangeOptions? options = null,
            CancellationToken cancellationToken = default)
        {
            var exchange = ToExchangeRequest(host, port, request, matcher, options);
            cancellationToken.ThrowIfCancellationRequested();
            if (!Unusable(exchange))
            {
                await WaitForFirstValidationAsync(cancellationToken).ConfigureAwait(false);
            }

            // Started here rather than through engine.ConnectAsync: a cancelled exchange still hands back its report.
            var (completion, id) = engine.Start(exchange);
            RaceResult result;
            using (cancellationToken.Register(() => engine.Cancel(id, "the caller cancelled")))
            {
                try
                {
                    result = await completion.ConfigureAwait(false);
                }
                catch (TaskCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The exchange was cancelled.", cancellationToken);
                }
            }

            switch (result.Connection)
            {
                case DatagramAnswer answer:
                    return new HeMifExchange(answer, result.Report);
                case { } other:
                    // Only the udp transport is raced for an exchange; anything else here is a wiring error, closed and said.
                    await other.DisposeAsync().ConfigureAwait(false);
                    throw new InvalidOperationException($"The exchange with {host}:{port} was answered by {other.GetType().Name}, not a datagram answer.");
                default:
                    throw cancellationToken.IsCancellationRequested
                        ? new HeMifExchangeCanceledException(result.Report, cancellationToken)
                        : new HeMifExchangeException(result.Report);
            }
        }

        /// <summary>An exchange as the engine races it: the udp transport alone, with the request, matcher and deadline.</summary>
        private ConnectionRequest ToExchangeRequest(string host, int port, ReadOnlyMemory<byte> request, ResponseMatcher matcher, ExchangeOptions? options)
        {
            ArgumentNullException.ThrowIfNull(matcher);
            options ??= new ExchangeOptions();
            if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), timeout, $"ExchangeOptions.Timeout must be positive; got {timeout}.");
            }

            var connect = ToRequest(host, port, new ConnectOptions { Choice = options.Choice, TrafficClass = options.TrafficClass, FallbackDelay = options.FallbackDelay });
            return connect with
            {
                Transports = [TransportName.Udp],
                Exchange = new DatagramExchange(request, matcher),
                Timeout = options.Timeout,
            };
        }

        /// <summary>The path events of a connection the engine made (the winner's interface and local address).</summary>
        private IObservable<PathEvent> PathEventsOf(ConnectionRequest request, ConnectedPath path, RaceReport report) =>
            engine.WatchPath(request, report.Winner!.Interface, path.LocalEndPoint?.Address);

        public async Task<SubflowPlan> PlanSubflowsAsync(string host, int port, MultipathMode mode, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        {
            var request = ToRequest(host, port, options);
            cancellationToken.ThrowIfCancellationRequested();
            await WaitForFirstValidationAsync(cancellationToken).ConfigureAwait(false);
            return await engine.PlanSubflowsAsync(request, mode, "first plan", cancellationToken).ConfigureAwait(false);
        }

        public IObservable<SubflowPlan> WatchSubflows(string host, int port, MultipathMode mode, ConnectOptions? options = null)
        {
            var request = ToRequest(host, port, options);
            return System.Reactive.Linq.Observable.SelectMany(
                System.Reactive.Linq.Observable.FromAsync(WaitForFirstValidationAsync), _ => engine.WatchSubflows(request, mode));
        }

        /// <summary>
        /// Whether none of the request's transports can be used on this host. A transport whose
        /// <see cref="AttemptTransport.UnsupportedReason"/> throws counts as usable here: the race asks it again and fails
        /// the request with that cause, reported as a failure inside HeMif.
        /// </summary>
        private bool Unusable(ConnectionRequest request)
        {
            try
            {
                return engine.UnusableReason(request.Transports) is not null;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return false;
            }
        }

        private ConnectionRequest ToRequest(string host, int port, ConnectOptions? options)
        {
            ArgumentNullException.ThrowIfNull(host);
            host = HostName.Normalize(host);
            if (port is < 1 or > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, $"The port must be between 1 and 65535; got {port}.");
            }

            options ??= new ConnectOptions();
            ValidateApplicationProtocols(options.ApplicationProtocols);
            if (!Enum.IsDefined(options.Transport))
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.Transport, "ConnectOptions.Transport must be Tcp, Any or Quic.");
            }

            if (options.FallbackDelay?.Problem() is { } fallbackProblem)
            {
                throw new ArgumentException($"ConnectOptions.FallbackDelay: {fallbackProblem}.", nameof(options));
            }

            // The engine's default transports (TCP), QUIC before them (HEv3), or QUIC alone; a multipath request's TCP
            // attempts use MPTCP sockets.
            IReadOnlyList<TransportName> transports = options.Transport switch
            {
                TransportPreference.Quic => [TransportName.Quic],
                TransportPreference.Any => [TransportName.Quic, .. engine.DefaultTransports.Where(t => t != TransportName.Quic)],
                _ => engine.DefaultTransports,
            };
            if (options.Multipath is not null)
            {
                transports = [.. transports.Select(t => t == TransportName.Tcp ? TransportName.Mptcp : t)];
            }

            return new ConnectionRequest(host, port)
            {
                // Policy rules match on the transports a request may use.
                Transports = transports,
                ApplicationProtocols = options.ApplicationProtocols,
                ExpectedBytes = options.ExpectedBytes,
                TrafficClass = options.TrafficClass,
                FallbackDelay = options.FallbackDelay ?? FallbackDelaySettings.None,
                DestinationAddresses = IPAddress.TryParse(host, out var literal) ? [literal] : [],
                Choice = ValidateChoice(options.Choice),
            };
        }

        /// <summary>A choice with a null entry or an undefined kind is the caller's mistake, said before anything is planned.</summary>
        private static InterfaceChoice? ValidateChoice(InterfaceChoice? choice)
        {
            if (choice is null)
            {
                return null;
            }

            if (choice.Interface is { Length: 0 } || choice.Pvd is { Length: 0 })
            {
                throw new ArgumentException("ConnectOptions.Choice: Interface and Pvd must be null (no choice) or a name; got an empty string.", nameof(choice));
            }

            foreach (var (kinds, property) in new[] { (choice.RequireKinds, "RequireKinds"), (choice.ProhibitKinds, "ProhibitKinds") })
            {
                if (kinds is null || kinds.Any(k => !Enum.IsDefined(k)))
                {
                    throw new ArgumentException($"ConnectOptions.Choice.{property} must list defined interface kinds ({string.Join(", ", Enum.GetNames<InterfaceKind>())}).", nameof(choice));
                }
            }

            if (choice.ProhibitPvds is null || choice.ProhibitPvds.Any(string.IsNullOrEmpty))
            {
                throw new ArgumentException("ConnectOptions.Choice.ProhibitPvds must list PvD IDs, none null or empty.", nameof(choice));
            }

            return choice;
        }

        public Task<IReadOnlyList<QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(host);
            host = HostName.Normalize(host);
            if (port is < 1 or > 65535)
            {
                throw new ArgumentOutOfRangeException(nameof(port), port, $"The port must be between 1 and 65535; got {port}.");
            }

            return engine.ProbeQuicAsync(host, port, interfaceName, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            watcher?.Dispose();
            await engine.DisposeAsync().ConfigureAwait(false);
            watchErrors.OnCompleted();
            watchErrors.Dispose();
            _firstValidation.Dispose();
        }

        /// <summary>
        /// Draft §5.2.1: only validated interfaces take part, so the first request waits (at most the probe timeout) for
        /// the first examination of every interface instead of racing on none.
        /// </summary>
        private async Task WaitForFirstValidationAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _validated))
            {
                return;
            }

            await _firstValidation.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Woken by the state change that completes the first examination (the engine records a state before it
                // publishes it), or by the configured clock once the wait is over: then the race goes on with what has
                // been examined, the rest being "unconnected" (§5.2.1).
                var examined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (engine.InterfaceStates.Subscribe(
                           _ =>
                           {
                               if (engine.AllExamined)
                               {
                                   examined.TrySetResult();
                               }
                           },
                           () => examined.TrySetResult())) // disposed meanwhile: the request fails at once, as disposed
                {
                    if (!engine.AllExamined)
                    {
                        try
                        {
                            await examined.Task.WaitAsync(validationWait, time, cancellationToken).ConfigureAwait(false);
                        }
                        catch (TimeoutException)
                        {
                            // Not all examined in time: race on the validated ones.
                        }
                    }
                }

                Volatile.Write(ref _validated, true);
            }
            finally
            {
                _firstValidation.Release();
            }
        }
    }

    /// <summary>RFC 7301 §3.1: protocol IDs are 1 to 255 bytes; QUIC needs at least one (RFC 9001 §8.1).</summary>
    private static void ValidateApplicationProtocols(IReadOnlyList<string>? protocols)
    {
        if (protocols is null || protocols.Count == 0)
        {
            throw new ArgumentException("ConnectOptions.ApplicationProtocols needs at least one ALPN protocol ID (QUIC requires ALPN, RFC 9001 §8.1).", nameof(protocols));
        }

        foreach (var p in protocols)
        {
            if (string.IsNullOrEmpty(p) || p.Length > 255 || !p.All(char.IsAscii))
            {
                throw new ArgumentException($"ALPN protocol ID '{p}' must be 1 to 255 ASCII characters (RFC 7301 §3.1).", nameof(protocols));
            }
        }
    }

    /// <summary>Validation turned off by configuration: an up interface counts as validated, and the timeline says so.</summary>
    private sealed class NoValidation : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) =>
            Task.FromResult(new ValidationResult(ValidationState.Validated, "validation disabled by configuration"));
    }
}
