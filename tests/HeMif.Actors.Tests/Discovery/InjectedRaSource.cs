using System.Net;
using HeMif.Discovery;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>An RA source a test feeds by hand: each listener's callback is kept by interface, <see cref="Send"/> calls it.</summary>
internal sealed class InjectedRaSource(string? unavailable = null) : IRouterAdvertisementSource
{
    private readonly Dictionary<string, Action<ReceivedIcmpv6>> _listeners = [];

    public int Stopped { get; private set; }

    public IReadOnlyCollection<string> Listening => _listeners.Keys;

    public bool TryListen(string interfaceName, Action<ReceivedIcmpv6> received, out IDisposable? handle, out string? why)
    {
        handle = null;
        why = unavailable;
        if (unavailable is not null)
        {
            return false;
        }

        _listeners[interfaceName] = received;
        handle = new Stop(() =>
        {
            Stopped++;
            _listeners.Remove(interfaceName);
        });
        return true;
    }

    /// <summary>Delivers <paramref name="ra"/> on <paramref name="interfaceName"/> as if it came from <paramref name="router"/>.</summary>
    public void Send(string interfaceName, RaWire ra, string router = "fe80::1", int hopLimit = 255) =>
        _listeners[interfaceName](new ReceivedIcmpv6(IPAddress.Parse(router), hopLimit, ra.ToArray()));

    private sealed class Stop(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }
}
