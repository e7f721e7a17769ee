using System.Net.NetworkInformation;
using HeMif.Interfaces;

namespace HeMif.Transports.Discovery;

/// <summary>
/// Turns the host's interface changes into updates: a re-read on every <see cref="NetworkChange"/> event and on a period
/// (events are coarse and can be missed), compared with what was known; each interface whose link state or addresses
/// changed is reported (the engine then flushes its history and re-examines it, RFC 8305 §4, draft §5.2.1). An
/// interface that appears after start (a modem coming up, a VPN connecting) is reported once as new, and watched like
/// the others from then on; when it is gone again it is reported gone and forgotten (container hosts create and delete
/// interfaces all day: nothing may pile up). An interface known at start that disappears stays known, as down, with
/// its overridden facts, for when it comes back. The host resolver's per-link DNS (systemd-resolved) is re-read with
/// each re-read, and an interface whose DNS servers nobody stated is reported when it changed.
/// </summary>
internal sealed class InterfaceWatcher : IDisposable
{
    private readonly Func<IReadOnlyList<InterfaceFacts>> _discover;
    private readonly Action<InterfaceFacts> _changed;
    private readonly Action<InterfaceFacts>? _appeared;
    private readonly Action<string>? _gone;
    private readonly HashSet<string> _initial;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly bool _listenToOs;
    private readonly Dictionary<string, InterfaceFacts> _known;
    private bool _disposed;

    /// <param name="initial">The interfaces known at start (with the override file's facts applied).</param>
    /// <param name="discover">Reads the host's interfaces now.</param>
    /// <param name="changed">A known interface's link or addresses changed (its overridden facts kept).</param>
    /// <param name="time">The clock of the periodic re-read.</param>
    /// <param name="period">How often to re-read without an OS event.</param>
    /// <param name="listenToOs">Re-read on the OS's network change events too.</param>
    /// <param name="appeared">An interface not known before: called once for it.</param>
    /// <param name="gone">An interface that appeared after start is gone: called once, then it is forgotten.</param>
    public InterfaceWatcher(IReadOnlyList<InterfaceFacts> initial, Func<IReadOnlyList<InterfaceFacts>> discover, Action<InterfaceFacts> changed,
        TimeProvider time, TimeSpan period, bool listenToOs = true, Action<InterfaceFacts>? appeared = null, Action<string>? gone = null)
    {
        _discover = discover;
        _changed = changed;
        _appeared = appeared;
        _gone = gone;
        _initial = initial.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        _known = initial.ToDictionary(f => f.Name, StringComparer.Ordinal);
        _listenToOs = listenToOs;
        _timer = time.CreateTimer(static s => ((InterfaceWatcher)s!).Refresh(), this, period, period);
        if (listenToOs)
        {
            NetworkChange.NetworkAddressChanged += OnOsChange;
            NetworkChange.NetworkAvailabilityChanged += OnOsAvailability;
        }
    }

    /// <summary>Re-reads the interfaces now and reports what changed.</summary>
    public void Refresh()
    {
        IReadOnlyList<InterfaceFacts> now;
        try
        {
            now = _discover();
        }
        catch (NetworkInformationException)
        {
            return; // the OS could not answer this time; the next period tries again
        }

        var changed = new List<InterfaceFacts>();
        var appeared = new List<InterfaceFacts>();
        var gone = new List<string>();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var known in _known.Values.ToList())
            {
                var listed = now.FirstOrDefault(f => f.Name == known.Name);
                if (listed is null && !_initial.Contains(known.Name))
                {
                    _known.Remove(known.Name);
                    gone.Add(known.Name);
                    continue;
                }

                var current = listed ?? known with { IsUp = false, Addresses = [] };
                var hostDns = listed is not null && HostDnsChanged(known, current);
                if (Differs(known, current) || hostDns)
                {
                    // Keep what came from the override file (kind, cost flags, PvD, DNS servers): only the OS facts change,
                    // and the host resolver's DNS where nobody stated servers (docs/discovery.md, "The host's own DNS").
                    var updated = known with { IsUp = current.IsUp, Addresses = current.Addresses };
                    if (hostDns)
                    {
                        updated = updated with
                        {
                            DnsServers = current.DnsServers,
                            SearchDomains = current.SearchDomains,
                            Sources = updated.Sources with { DnsServers = current.Sources.DnsServers },
                        };
                    }

                    _known[known.Name] = updated;
                    changed.Add(updated);
                }
            }

            foreach (var fresh in now.Where(f => !_known.ContainsKey(f.Name)))
            {
                _known[fresh.Name] = fresh;
                appeared.Add(fresh);
            }
        }

        foreach (var facts in changed)
        {
            _changed(facts);
        }

        foreach (var name in gone)
        {
            _gone?.Invoke(name);
        }

        foreach (var facts in appeared)
        {
            _appeared?.Invoke(facts);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
        if (_listenToOs)
        {
            NetworkChange.NetworkAddressChanged -= OnOsChange;
            NetworkChange.NetworkAvailabilityChanged -= OnOsAvailability;
        }
    }

    /// <summary>
    /// The host resolver's DNS for an interface whose servers nobody stated (neither the override file nor the
    /// application) changed: servers or search domains came, went or changed.
    /// </summary>
    internal static bool HostDnsChanged(InterfaceFacts known, InterfaceFacts current) =>
        known.Sources.DnsServers is FactSource.OperatingSystem or FactSource.HostResolver or FactSource.SystemdNetworkd
        && (!known.DnsServers.SequenceEqual(current.DnsServers) || !known.SearchDomains.SequenceEqual(current.SearchDomains, StringComparer.Ordinal));

    internal static bool Differs(InterfaceFacts a, InterfaceFacts b) =>
        a.IsUp != b.IsUp || !a.Addresses.Select(x => x.Address).ToHashSet().SetEquals(b.Addresses.Select(x => x.Address));

    private void OnOsChange(object? sender, EventArgs e) => Refresh();

    private void OnOsAvailability(object? sender, NetworkAvailabilityEventArgs e) => Refresh();
}
