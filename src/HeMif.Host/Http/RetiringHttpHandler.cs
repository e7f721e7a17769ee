using HeMif.Continuity;

namespace HeMif.Hosting;

/// <summary>
/// Why a pooled HTTP connection was retired (the <c>hemif.retire.reason</c> tag of <c>hemif.http.connections.retired</c>).
/// </summary>
internal enum HttpRetireReason
{
    /// <summary>Its own path is no longer viable (<see cref="PathEventKind.NotViable"/>).</summary>
    NotViable,

    /// <summary>A better path appeared for it (<see cref="PathEventKind.BetterPathAvailable"/>).</summary>
    BetterPath,

    /// <summary>
    /// Its path is fine, but it shared the pool of a connection whose path changed: SocketsHttpHandler can only drop
    /// its pool as a whole.
    /// </summary>
    SharedPool,
}

/// <summary>
/// The primary handler of a <c>UseHeMif()</c> client: acts on the path events of the connections HeMif made for it
/// (draft §7.4, session continuity; docs/continuity.md, "HttpClient"). SocketsHttpHandler has no API to retire one
/// pooled connection, and a stream cannot tell an idle HTTP/1.1 or HTTP/2 connection from a busy one (under TLS it sees
/// only ciphertext), so the pool is retired as a whole, in generations:
/// <list type="bullet">
/// <item>Requests go to the current generation, a SocketsHttpHandler with the client's settings whose connect callback
/// is HeMif's and which watches the path events of every connection it opens.</item>
/// <item>When one of them says "not viable" or "better path available", a fresh generation takes over at once: the
/// next request finds no pooled connection and races again.</item>
/// <item>The retired generation gets no new request. Once every request sent through it has its response headers, it
/// is disposed: its idle connections close then (at once when none was in flight), and connections still carrying a
/// response body finish it and close (SocketsHttpHandler's disposal lets HTTP/1.1 responses and HTTP/2 streams in
/// progress complete). No request fails because of a retirement.</item>
/// </list>
/// Events from connections of a generation already retired change nothing; "viable again" changes nothing either.
/// </summary>
internal sealed class RetiringHttpHandler : HttpMessageHandler
{
    private readonly SocketsHttpHandler _template;
    private readonly HeMifConnectCallback _callback;
    private readonly Func<bool> _enabled;
    private readonly HeMifTelemetry? _telemetry;
    private readonly Lock _gate = new();
    private readonly List<Generation> _draining = [];
    private Generation _current;
    private bool _disposed;

    /// <summary>Creates the handler.</summary>
    /// <param name="template">
    /// The client's configured SocketsHttpHandler: the first generation, and the settings every later one copies. Its
    /// connect callback is replaced.
    /// </param>
    /// <param name="callback">HeMif's connect callback (the connector and the client's connect options).</param>
    /// <param name="enabled">Read at each path event: whether to retire (HeMif:RetireHttpConnections).</param>
    /// <param name="telemetry">The metric and the log event of each retired connection; null: neither.</param>
    public RetiringHttpHandler(SocketsHttpHandler template, HeMifConnectCallback callback, Func<bool> enabled, HeMifTelemetry? telemetry)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentNullException.ThrowIfNull(enabled);
        _template = template;
        _callback = callback;
        _enabled = enabled;
        _telemetry = telemetry;
        _current = new Generation(this, 0, template);
    }

    /// <summary>The current generation's number (0 until the first retirement); for tests.</summary>
    internal int CurrentGeneration
    {
        get
        {
            lock (_gate)
            {
                return _current.Number;
            }
        }
    }

    /// <summary>
    /// A SocketsHttpHandler with every setting of <paramref name="template"/> but the connect callback. Every public
    /// settable property is listed (a test checks the list against the type); <see cref="SocketsHttpHandler.Properties"/>
    /// is copied entry by entry. Objects (cookie container, credentials, proxy, TLS options) are shared, not copied: the
    /// generations are one client.
    /// </summary>
    internal static SocketsHttpHandler Clone(SocketsHttpHandler template)
    {
        var copy = new SocketsHttpHandler
        {
            ActivityHeadersPropagator = template.ActivityHeadersPropagator,
            AllowAutoRedirect = template.AllowAutoRedirect,
            AutomaticDecompression = template.AutomaticDecompression,
            ConnectTimeout = template.ConnectTimeout,
            CookieContainer = template.CookieContainer,
            Credentials = template.Credentials,
            DefaultProxyCredentials = template.DefaultProxyCredentials,
            EnableMultipleHttp2Connections = template.EnableMultipleHttp2Connections,
            EnableMultipleHttp3Connections = template.EnableMultipleHttp3Connections,
            Expect100ContinueTimeout = template.Expect100ContinueTimeout,
            InitialHttp2StreamWindowSize = template.InitialHttp2StreamWindowSize,
            KeepAlivePingDelay = template.KeepAlivePingDelay,
            KeepAlivePingPolicy = template.KeepAlivePingPolicy,
            KeepAlivePingTimeout = template.KeepAlivePingTimeout,
            MaxAutomaticRedirections = template.MaxAutomaticRedirections,
            MaxConnectionsPerServer = template.MaxConnectionsPerServer,
            MaxResponseDrainSize = template.MaxResponseDrainSize,
            MaxResponseHeadersLength = template.MaxResponseHeadersLength,
            MeterFactory = template.MeterFactory,
            PlaintextStreamFilter = template.PlaintextStreamFilter,
            PooledConnectionIdleTimeout = template.PooledConnectionIdleTimeout,
            PooledConnectionLifetime = template.PooledConnectionLifetime,
            PreAuthenticate = template.PreAuthenticate,
            Proxy = template.Proxy,
            RequestHeaderEncodingSelector = template.RequestHeaderEncodingSelector,
            ResponseDrainTimeout = template.ResponseDrainTimeout,
            ResponseHeaderEncodingSelector = template.ResponseHeaderEncodingSelector,
            SslOptions = template.SslOptions,
            UseCookies = template.UseCookies,
            UseProxy = template.UseProxy,
        };
        foreach (var (key, value) in template.Properties)
        {
            copy.Properties[key] = value;
        }

        return copy;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var generation = Enter();
        try
        {
            return await generation.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave(generation);
        }
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var generation = Enter();
        try
        {
            return generation.Invoker.Send(request, cancellationToken);
        }
        finally
        {
            Leave(generation);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<Generation> all;
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                all = [_current, .. _draining];
                _draining.Clear();
            }

            foreach (var generation in all)
            {
                generation.Invoker.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private Generation Enter()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _current.InFlight++;
            return _current;
        }
    }

    private void Leave(Generation generation)
    {
        lock (_gate)
        {
            generation.InFlight--;
            if (!generation.Retired || generation.InFlight > 0 || !_draining.Remove(generation))
            {
                return;
            }
        }

        // The last request of a retired generation has its response headers: close what it pools.
        generation.Invoker.Dispose();
    }

    /// <summary>A path event of <paramref name="connection"/>, a connection of <paramref name="generation"/>.</summary>
    private void OnPathEvent(Generation generation, Pooled connection, PathEvent e)
    {
        if (e.Kind is not (PathEventKind.NotViable or PathEventKind.BetterPathAvailable) || !_enabled())
        {
            return;
        }

        List<Pooled> retired;
        var disposeNow = false;
        lock (_gate)
        {
            if (_disposed || !ReferenceEquals(generation, _current))
            {
                return; // already retired (another of its connections said so first)
            }

            // The swap is made here, on the event's thread, so that a request sent after the event cannot reach the old pool.
            generation.Retired = true;
            _current = new Generation(this, generation.Number + 1, Clone(_template));
            retired = [.. generation.Open];
            if (generation.InFlight == 0)
            {
                disposeNow = true;
            }
            else
            {
                _draining.Add(generation);
            }
        }

        var own = e.Kind == PathEventKind.NotViable ? HttpRetireReason.NotViable : HttpRetireReason.BetterPath;
        foreach (var r in retired)
        {
            var reason = r.Interface == connection.Interface ? own : HttpRetireReason.SharedPool;
            _telemetry?.HttpConnectionRetired(r.Host, r.Port, r.Interface, reason, e);
        }

        if (disposeNow)
        {
            // Closing sockets is not work for HeMif's threads, which call path observers.
            ThreadPool.QueueUserWorkItem(static g => g.Invoker.Dispose(), generation, preferLocal: false);
        }
    }

    /// <summary>One SocketsHttpHandler and what it pools.</summary>
    private sealed class Generation
    {
        private readonly RetiringHttpHandler _owner;

        public Generation(RetiringHttpHandler owner, int number, SocketsHttpHandler handler)
        {
            _owner = owner;
            Number = number;
            handler.ConnectCallback = ConnectAsync;
            Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        }

        public int Number { get; }

        public HttpMessageInvoker Invoker { get; }

        /// <summary>Requests sent through it whose response headers have not come yet (under the owner's lock).</summary>
        public int InFlight { get; set; }

        /// <summary>Whether a newer generation took over (under the owner's lock).</summary>
        public bool Retired { get; set; }

        /// <summary>Its open connections (under the owner's lock).</summary>
        public HashSet<Pooled> Open { get; } = [];

        private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var connection = await _owner._callback.RaceAsync(context, cancellationToken).ConfigureAwait(false);
            var pooled = new Pooled(context.DnsEndPoint.Host, context.DnsEndPoint.Port, connection.Interface);
            lock (_owner._gate)
            {
                Open.Add(pooled);
            }

            // The stream's disposal disposes the connection, which completes its path events (ending this subscription).
            var stream = new ConnectionStream(connection, () =>
            {
                lock (_owner._gate)
                {
                    Open.Remove(pooled);
                }
            });
            connection.PathEvents.Subscribe(e => _owner.OnPathEvent(this, pooled, e), _ => { }, () => { });
            return stream;
        }
    }

    /// <summary>A connection a generation opened: where to, and over which interface (compared by reference: one per connection).</summary>
    private sealed class Pooled(string host, int port, string @interface)
    {
        public string Host => host;

        public int Port => port;

        public string Interface => @interface;
    }
}
