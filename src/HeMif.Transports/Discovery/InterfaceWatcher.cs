using System.Net.NetworkInformation;
using HeMif.Interfaces;

namespace HeMif.Transports.Discovery;

/// <summary>
/// Turns the host's interface changes into updates: a re-read on every <see cref="NetworkChange"/> event and on a period
/// (events are coarse and can be missed), compared with what was known; each interface whose link state or addresses
/// changed is reported (the engine then flushes its history and re-examines it, RFC 8305 §4, draft §5.2.1). Interfaces
/// that appear after start are reported by name through <see cref="Appeared"/>; the engine races only the interfaces it
/// started with.
/// </summary>
internal sealed class InterfaceWatcher : IDisposable
{
    private readonly Func<IReadOnlyList<InterfaceFacts>> _discover;
    private readonly Action<InterfaceFacts> _changed;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly bool _listenToOs;
    private readonly Dictionary<string, InterfaceFacts> _known;
    private bool _disposed;

    public InterfaceWatcher(IReadOnlyList<InterfaceFacts> initial, Func<IReadOnlyList<InterfaceFacts>> discover, Action<InterfaceFacts> changed,
        TimeProvider time, TimeSpan period, bool listenToOs = true)
    {
        _discover = discover;
        _changed = changed;
        _known = initial.ToDictionary(f => f.Name, StringComparer.Ordinal);
        _listenToOs = listenToOs;
        _timer = time.CreateTimer(static s => ((InterfaceWatcher)s!).Refresh(), this, period, period);
        if (listenToOs)
        {
            NetworkChange.NetworkAddressChanged += OnOsChange;
            NetworkChange.NetworkAvailabilityChanged += OnOsAvailability;
        }
    }

    /// <summary>Names of interfaces seen after start (not raced until the connector is recreated).</summary>
    public IReadOnlyCollection<string> Appeared { get; private set; } = [];

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
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            foreach (var known in _known.Values.ToList())
            {
                var current = now.FirstOrDefault(f => f.Name == known.Name) ?? known with { IsUp = false, Addresses = [] };
                if (Differs(known, current))
                {
                    // Keep what came from the override file (kind, cost flags, PvD, DNS servers): only the OS facts change.
                    var updated = known with { IsUp = current.IsUp, Addresses = current.Addresses };
                    _known[known.Name] = updated;
                    changed.Add(updated);
                }
            }

            Appeared = now.Select(f => f.Name).Where(n => !_known.ContainsKey(n)).ToList();
        }

        foreach (var facts in changed)
        {
            _changed(facts);
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

    internal static bool Differs(InterfaceFacts a, InterfaceFacts b) =>
        a.IsUp != b.IsUp || !a.Addresses.Select(x => x.Address).ToHashSet().SetEquals(b.Addresses.Select(x => x.Address));

    private void OnOsChange(object? sender, EventArgs e) => Refresh();

    private void OnOsAvailability(object? sender, NetworkAvailabilityEventArgs e) => Refresh();
}
