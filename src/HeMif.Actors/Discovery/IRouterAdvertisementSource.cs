using System.Net;

namespace HeMif.Discovery;

/// <summary>One ICMPv6 packet as a Router Advertisement source received it.</summary>
/// <param name="Source">The IPv6 source address.</param>
/// <param name="HopLimit">The IPv6 hop limit the packet arrived with (RFC 4861 §6.1.2 needs it to be 255).</param>
/// <param name="Message">The ICMPv6 message from its type octet on.</param>
internal sealed record ReceivedIcmpv6(IPAddress Source, int HopLimit, byte[] Message);

/// <summary>
/// Where Router Advertisements come from (a port: the core declares it, <c>HeMif.Transports</c> implements it with a raw
/// ICMPv6 socket, tests inject packets). The Linux kernel reads RAs too but ignores the PvD option, so HeMif reads them
/// again in user space.
/// </summary>
internal interface IRouterAdvertisementSource
{
    /// <summary>
    /// Starts listening on <paramref name="interfaceName"/>; <paramref name="received"/> is called for each packet, on any
    /// thread, until the returned handle is disposed. False with the <paramref name="unavailable"/> reason when listening
    /// is not possible here (no raw sockets without root or CAP_NET_RAW, another OS, no such interface).
    /// </summary>
    bool TryListen(string interfaceName, Action<ReceivedIcmpv6> received, out IDisposable? handle, out string? unavailable);
}
