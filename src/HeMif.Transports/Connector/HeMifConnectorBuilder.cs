namespace HeMif;

/// <summary>
/// Composes a connector: HeMif's own transports (<c>tcp</c>, <c>quic</c>, <c>mptcp</c>), resolver and probes, with any
/// of them added to or replaced by the application's (<see cref="AddTransport"/>, <see cref="UseResolver"/>,
/// <see cref="UseProbe"/>, <see cref="UseQuicProbe"/>). <see cref="HeMifConnector.Create(HeMifConnectorOptions)"/> is this builder with
/// nothing added; <c>services.AddHeMif()</c> feeds one from the container. A builder makes one connector.
/// <para>
/// Ownership: what the application gives (a transport, a resolver, a probe) stays the application's. HeMif never
/// disposes it, calls it only while the connector lives, and may call it concurrently from several races; dispose it, if
/// it needs that, after disposing the connector. A <see cref="ConnectedPath"/> a transport hands back is HeMif's: the
/// race disposes every loser, and the winner goes to the caller inside <see cref="HeMifConnection"/>.
/// </para>
/// </summary>
public sealed class HeMifConnectorBuilder
{
    private readonly List<AttemptTransport> _transports = [];
    private HeMifConnectorOptions _options = new();
    private List<TransportName>? _defaults;
    private bool _built;

    /// <summary>Creates a builder with the default options and nothing of the application's.</summary>
    public HeMifConnectorBuilder()
    {
    }

    /// <summary>The application's transports, in the order they were added (after HeMif's own).</summary>
    internal IReadOnlyList<AttemptTransport> Transports => _transports;

    /// <summary>The names a request that names none may use (null: <c>tcp</c>).</summary>
    internal IReadOnlyList<TransportName>? Defaults => _defaults;

    /// <summary>The application's resolver, or null for HeMif's (each interface's own DNS servers).</summary>
    internal InterfaceResolver? Resolver { get; private set; }

    /// <summary>The application's connectivity probe, or null for HeMif's (the HTTP check, per PvD).</summary>
    internal ConnectivityProbe? Probe { get; private set; }

    /// <summary>The application's QUIC path probe, or null for HeMif's (RFC 9000 §6 Version Negotiation).</summary>
    internal QuicPathProbe? QuicProbe { get; private set; }

    /// <summary>A QUIC transport in place of HeMif's (tests force the host's QUIC support either way), or null.</summary>
    internal AttemptTransport? Quic { get; private set; }

    /// <summary>Uses <paramref name="options"/> (replacing any set before).</summary>
    public HeMifConnectorBuilder UseOptions(HeMifConnectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        return this;
    }

    /// <summary>
    /// Changes the options (a record: <c>o =&gt; o with { RaceTimeout = TimeSpan.FromSeconds(10) }</c>); the function
    /// gets the options as they are and returns the new ones.
    /// </summary>
    public HeMifConnectorBuilder Configure(Func<HeMifConnectorOptions, HeMifConnectorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _options = configure(_options) ?? throw new InvalidOperationException("HeMifConnectorBuilder.Configure: the function returned null options; return the options it was given, changed (o => o with { … }).");
        return this;
    }

    /// <summary>
    /// Registers <paramref name="transport"/> under its <see cref="AttemptTransport.Name"/>, beside HeMif's <c>tcp</c>,
    /// <c>quic</c>, <c>mptcp</c> and <c>udp</c> (UDP exchanges). A request races it when it may use that name: name it in
    /// <see cref="UseDefaultTransports"/> (the transports of requests that name none). Two transports with one name
    /// (one of HeMif's included) are an <see cref="ArgumentException"/> naming both types.
    /// </summary>
    public HeMifConnectorBuilder AddTransport(AttemptTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var name = transport.Name;
        if (name.Value is null)
        {
            throw new ArgumentException($"Transport {transport.GetType().FullName} has no name (its Name is default(TransportName)): give it one such as new TransportName(\"socks5\").", nameof(transport));
        }

        if (HeMifConnector.BuiltInTransports.FirstOrDefault(b => b.Name == name) is { Type: not null } builtIn)
        {
            throw new ArgumentException($"Transport '{name}' is registered twice: HeMif's own {builtIn.Type} and {transport.GetType().FullName}. Give yours another name.", nameof(transport));
        }

        if (_transports.Find(t => t.Name == name) is { } twice)
        {
            throw new ArgumentException($"Transport '{name}' is registered twice: {twice.GetType().FullName} and {transport.GetType().FullName}.", nameof(transport));
        }

        _transports.Add(transport);
        return this;
    }

    /// <summary>
    /// The transports a request that names none may use (<see cref="TransportPreference.Tcp"/>, the default; with
    /// <see cref="TransportPreference.Any"/> QUIC comes first), each registered by HeMif or through
    /// <see cref="AddTransport"/>; HEv3 orders them (transports over UDP first, then the others in registration
    /// order). Default: <c>tcp</c>. A name nobody registered fails <see cref="Build"/>, naming the registered ones.
    /// </summary>
    public HeMifConnectorBuilder UseDefaultTransports(params IEnumerable<TransportName> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        if (list.Count == 0 || list.Exists(n => n.Value is null))
        {
            throw new ArgumentException("UseDefaultTransports needs at least one transport name, none default(TransportName).", nameof(names));
        }

        _defaults = list;
        return this;
    }

    /// <summary>
    /// Resolves names with <paramref name="resolver"/> instead of HeMif's (each interface's own DNS servers, draft §7.3);
    /// HeMif's probes resolve through it too.
    /// </summary>
    public HeMifConnectorBuilder UseResolver(InterfaceResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        Resolver = resolver;
        return this;
    }

    /// <summary>
    /// Validates interfaces with <paramref name="probe"/> instead of HeMif's HTTP check (draft §5.2.1). Loopback is still
    /// validated by definition (it reaches only this host) and never given to it. Cannot be combined with
    /// <see cref="HeMifConnectorOptions.DisableValidation"/> (<see cref="Build"/> says so).
    /// </summary>
    public HeMifConnectorBuilder UseProbe(ConnectivityProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        Probe = probe;
        return this;
    }

    /// <summary>Probes UDP/QUIC paths with <paramref name="probe"/> instead of HeMif's Version Negotiation probe (RFC 9000 §6).</summary>
    public HeMifConnectorBuilder UseQuicProbe(QuicPathProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        QuicProbe = probe;
        return this;
    }

    /// <summary>Replaces HeMif's QUIC transport (tests force the host's QUIC support either way).</summary>
    internal HeMifConnectorBuilder UseQuicTransport(AttemptTransport quic)
    {
        ArgumentNullException.ThrowIfNull(quic);
        Quic = quic;
        return this;
    }

    /// <summary>
    /// Makes the connector: discovers (or takes) the interfaces, applies the override file, starts validating them.
    /// Throws what <see cref="HeMifConnector.Create(HeMifConnectorOptions)"/> throws for bad options, <see cref="ArgumentException"/> for a
    /// default transport nobody registered or a probe given with validation disabled, and
    /// <see cref="InvalidOperationException"/> when called a second time (a builder makes one connector).
    /// </summary>
    public IHeMifConnector Build()
    {
        if (_built)
        {
            throw new InvalidOperationException("HeMifConnectorBuilder.Build was already called: a builder makes one connector. Use a new builder for another.");
        }

        var connector = HeMifConnector.Compose(_options, this);
        _built = true;
        return connector;
    }
}
