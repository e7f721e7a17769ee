namespace HeMif.Race;

/// <summary>
/// The transports an engine may race, by name, in the order they were registered, and which of them a request that
/// names none gets. The planner asks it which transports a request may use and in what order: HEv3 prefers QUIC over
/// TCP ("the preference policy favors QUIC over TCP"), so transports over UDP come first, then the TCP family, each in
/// registration order. No name is special: a transport of the application's own is raced like TCP or QUIC.
/// </summary>
internal sealed class TransportRegistry
{
    private readonly List<AttemptTransport> _all;
    private readonly Dictionary<TransportName, AttemptTransport> _byName;

    /// <summary>Registers <paramref name="transports"/>; <paramref name="defaults"/> are the names a request gets when it names none.</summary>
    public TransportRegistry(IEnumerable<AttemptTransport> transports, IEnumerable<TransportName> defaults)
    {
        ArgumentNullException.ThrowIfNull(transports);
        ArgumentNullException.ThrowIfNull(defaults);
        _all = [];
        _byName = [];
        foreach (var transport in transports)
        {
            ArgumentNullException.ThrowIfNull(transport, nameof(transports));
            var name = transport.Name;
            if (name.Value is null)
            {
                throw new ArgumentException($"Transport {transport.GetType().Name} has no name (default(TransportName)).", nameof(transports));
            }

            if (!_byName.TryAdd(name, transport))
            {
                throw new ArgumentException($"Two transports are registered as '{name}' ({_byName[name].GetType().Name} and {transport.GetType().Name}).", nameof(transports));
            }

            _all.Add(transport);
        }

        var chosen = new List<TransportName>();
        foreach (var name in defaults)
        {
            if (!_byName.ContainsKey(name))
            {
                throw new ArgumentException($"Default transport '{name}' is not registered (registered: {Registered}).", nameof(defaults));
            }

            if (!chosen.Contains(name))
            {
                chosen.Add(name);
            }
        }

        Defaults = chosen;
    }

    /// <summary>Every registered transport, in registration order.</summary>
    public IReadOnlyList<AttemptTransport> All => _all;

    /// <summary>The transports of a request that names none (may be empty: then every request must name its own).</summary>
    public IReadOnlyList<TransportName> Defaults { get; }

    /// <summary>The registered names, for messages ("tcp, quic, mptcp", or "none").</summary>
    public string Registered => _all.Count == 0 ? "none" : string.Join(", ", _all.Select(static t => t.Name.Value));

    /// <summary>The transport registered as <paramref name="name"/>, or null.</summary>
    public AttemptTransport? Find(TransportName name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// The registered transports among <paramref name="requested"/>, in racing order: over UDP first (HEv3: QUIC before
    /// TCP), then the rest, each in registration order. Names not registered are left out (<see cref="Unusable"/> says why).
    /// </summary>
    public IReadOnlyList<AttemptTransport> Order(IReadOnlyList<TransportName> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        var ordered = new List<AttemptTransport>(requested.Count);
        foreach (var overUdp in (ReadOnlySpan<bool>)[true, false])
        {
            foreach (var transport in _all)
            {
                if (transport.RunsOverUdp == overUdp && requested.Contains(transport.Name))
                {
                    ordered.Add(transport);
                }
            }
        }

        return ordered;
    }

    /// <summary>
    /// Why none of <paramref name="requested"/> can be used on this host (each is not registered, or unsupported: its
    /// <see cref="AttemptTransport.UnsupportedReason"/>), or null when at least one can.
    /// </summary>
    public string? Unusable(IReadOnlyList<TransportName> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        List<string>? reasons = null;
        foreach (var name in requested)
        {
            var transport = Find(name);
            if (transport is not null && transport.UnsupportedReason is null)
            {
                return null;
            }

            (reasons ??= []).Add(transport is null
                ? $"{name.Value.ToUpperInvariant()} unsupported: no transport named '{name}' is registered (registered: {Registered})"
                : transport.UnsupportedReason!);
        }

        return reasons is null ? "no transport was asked for" : string.Join("; ", reasons);
    }
}
