using System.Net;
using System.Net.Sockets;

namespace HeMif.Race;

/// <summary>
/// Sorts one interface's destination addresses (RFC 6724 §6 destination rules; the RFC 8305 §4 first step).
/// The sort step provides the full implementation; <see cref="AddressOrdering.PreferIPv6"/> is the default.
/// </summary>
internal interface IDestinationSorter
{
    IReadOnlyList<IPAddress> Sort(string interfaceName, IReadOnlyList<IPAddress> destinations);
}

/// <summary>RFC 8305 §4 ordering: sort, then interleave address families; endpoints per transport.</summary>
internal static class AddressOrdering
{
    /// <summary>
    /// What RFC 6724 §6 gives when nothing but the family is known: Rule 6 ("Prefer higher precedence") with the §2.1
    /// default policy table ranks ::/0 (precedence 40) above ::ffff:0:0/96, IPv4 (35). A stable sort, so the resolver's
    /// order is kept within each family.
    /// </summary>
    public static IDestinationSorter PreferIPv6 { get; } = new IPv6First();

    /// <summary>
    /// RFC 8305 §4: "the client SHOULD modify the ordered list to interleave address families … the first address
    /// family count … addresses of the preferred family, then one of the other family, then the rest alternating".
    /// The preferred family is the family of the first sorted address.
    /// </summary>
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> sorted, int firstAddressFamilyCount)
    {
        if (sorted.Count == 0)
        {
            return [];
        }

        var preferred = sorted[0].AddressFamily;
        var first = new Queue<IPAddress>(sorted.Where(a => a.AddressFamily == preferred));
        var other = new Queue<IPAddress>(sorted.Where(a => a.AddressFamily != preferred));
        var result = new List<IPAddress>(sorted.Count);
        for (var i = 0; i < firstAddressFamilyCount && first.Count > 0; i++)
        {
            result.Add(first.Dequeue());
        }

        var takeOther = true;
        while (first.Count > 0 || other.Count > 0)
        {
            var queue = (takeOther && other.Count > 0) || first.Count == 0 ? other : first;
            result.Add(queue.Dequeue());
            takeOther = !takeOther;
        }

        return result;
    }

    /// <summary>
    /// One endpoint per address and transport, QUIC before TCP for the same address (HEv3: "the preference policy
    /// favors QUIC over TCP"), so the interleaving of families is kept and TCP follows its QUIC twin one attempt
    /// delay later.
    /// </summary>
    public static IEnumerable<Endpoint> Endpoints(string interfaceName, IEnumerable<IPAddress> ordered, int port, bool quic)
    {
        foreach (var address in ordered)
        {
            if (quic)
            {
                yield return new Endpoint(interfaceName, new IPEndPoint(address, port), TransportProtocol.Quic);
            }

            yield return new Endpoint(interfaceName, new IPEndPoint(address, port), TransportProtocol.Tcp);
        }
    }

    /// <summary>"IPv6" or "IPv4", for notes.</summary>
    public static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private sealed class IPv6First : IDestinationSorter
    {
        public IReadOnlyList<IPAddress> Sort(string interfaceName, IReadOnlyList<IPAddress> destinations) =>
            destinations.OrderBy(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? 0 : 1).ToList();
    }
}
