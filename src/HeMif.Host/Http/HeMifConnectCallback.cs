using HeMif.Report;

namespace HeMif.Hosting;

/// <summary>
/// Plugs a connector into <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>: every new HTTP/1.1 and
/// HTTP/2 connection is a HeMif race across the interfaces, and the winning stream carries the requests (pooled
/// connections are reused as usual; only new connections race). For a hand-built handler:
/// <code>new SocketsHttpHandler { ConnectCallback = new HeMifConnectCallback(connector).ConnectAsync }</code>
/// In DI, <c>services.AddHttpClient("x").UseHeMif()</c> does this.
/// </summary>
public sealed class HeMifConnectCallback
{
    /// <summary>
    /// Set on the request that opened a new connection (its <see cref="HttpRequestMessage.Options"/>): the race that
    /// chose the connection. Absent when the request went over a pooled connection.
    /// </summary>
    public static readonly HttpRequestOptionsKey<RaceReport> RaceReportKey = new("HeMif.RaceReport");

    /// <summary>
    /// Set by the application on a request (<c>request.Options.Set(HeMifConnectCallback.ChoiceKey, choice)</c>): what the
    /// connection this request opens asks of the interfaces (<see cref="ConnectOptions.Choice"/>: pin an interface or a
    /// PvD, require or prohibit kinds or PvDs), in place of the client's own choice. Checked against the policy like any
    /// choice. It decides only a connection the request opens: SocketsHttpHandler reuses a pooled connection to the same
    /// server whatever the request's choice, so requests that must not share connections get clients of their own
    /// (<c>UseHeMif(new ConnectOptions { Choice = … })</c> on a named client; docs/connect.md).
    /// </summary>
    public static readonly HttpRequestOptionsKey<Filter.InterfaceChoice> ChoiceKey = new("HeMif.Choice");

    private readonly IHeMifConnector _connector;
    private readonly ConnectOptions? _options;

    /// <summary>Creates the callback.</summary>
    /// <param name="connector">The connector that races each new connection.</param>
    /// <param name="options">
    /// Per-connection hints (traffic class, expected size) for policy rules, and the client's interface choice. HTTP/1.1 and HTTP/2 run over TCP, so the
    /// transport is always TCP here (SocketsHttpHandler makes HTTP/3's QUIC connections itself); null: the connector's
    /// defaults with TCP.
    /// </param>
    public HeMifConnectCallback(IHeMifConnector connector, ConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connector);
        _connector = connector;
        _options = options;
    }

    /// <summary>
    /// The <see cref="System.Net.Http.SocketsHttpHandler.ConnectCallback"/>: races to the context's host and port and
    /// returns the winning stream (the handler owns it; disposing it closes the connection). A race that connects
    /// nowhere reaches the caller as an <see cref="HttpRequestException"/> (<see cref="HttpRequestError.ConnectionError"/>)
    /// with the report's message (every attempt and exclusion) and the <see cref="HeMifConnectException"/> inside; the
    /// handler's cancellation ends the race.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var connection = await RaceAsync(context, cancellationToken).ConfigureAwait(false);

        // A plain TCP connection is its NetworkStream, which owns the socket: hand it over as it is. An MPTCP connection
        // owns more than its socket (the path manager's endpoints), so the handler gets a stream that disposes it all.
        return connection.Multipath is null ? connection.Stream : new ConnectionStream(connection);
    }

    /// <summary>
    /// Whether <c>UseHeMif()</c> wraps the handler this callback serves in a <see cref="RetiringHttpHandler"/> (pooled
    /// connections retired when their path changes; docs/continuity.md). Off for a callback an application builds itself.
    /// </summary>
    internal bool RetireOnPathChange { get; init; }

    /// <summary>Races the connection for <paramref name="context"/>, and notes its report on the request that opened it.</summary>
    internal async ValueTask<HeMifConnection> RaceAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var endpoint = context.DnsEndPoint;
        var options = (_options ?? (_connector as HostedConnector)?.DefaultOptions() ?? new ConnectOptions()) with { Transport = TransportPreference.Tcp };
        if (context.InitialRequestMessage.Options.TryGetValue(ChoiceKey, out var choice))
        {
            options = options with { Choice = choice };
        }

        // A failed race throws HeMifConnectException (stopping: ObjectDisposedException) as it is: SocketsHttpHandler
        // wraps whatever the callback throws, other than the caller's cancellation, in an HttpRequestException
        // (ConnectionError) with the same message plus "(host:port)" and this exception inside. Wrapping it here too
        // would only add a layer.
        var connection = await _connector.ConnectAsync(endpoint.Host, endpoint.Port, options, cancellationToken).ConfigureAwait(false);
        context.InitialRequestMessage.Options.Set(RaceReportKey, connection.Report);
        return connection;
    }
}
