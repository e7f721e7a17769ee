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
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> sorted, int firstAddressFamilyCount) =>
        Interleave(sorted, firstAddressFamilyCount, new List<IPAddress>(sorted.Count));

    /// <summary>Same, into <paramref name="result"/> (cleared first), so a caller can reuse one list.</summary>
    public static List<IPAddress> Interleave(IReadOnlyList<IPAddress> sorted, int firstAddressFamilyCount, List<IPAddress> result)
    {
        result.Clear();
        if (sorted.Count == 0)
        {
            return result;
        }

        // Two cursors over the sorted list, one per family, instead of two queues: a race's hot path.
        var preferred = sorted[0].AddressFamily;
        int p = 0, o = 0;
        for (var i = 0; i < firstAddressFamilyCount && Next(sorted, preferred, true, ref p) is { } a; i++)
        {
            result.Add(a);
        }

        var takeOther = true;
        while (result.Count < sorted.Count)
        {
            var next = takeOther ? Next(sorted, preferred, false, ref o) ?? Next(sorted, preferred, true, ref p)
                : Next(sorted, preferred, true, ref p) ?? Next(sorted, preferred, false, ref o);
            result.Add(next!);
            takeOther = !takeOther;
        }

        return result;
    }

    private static IPAddress? Next(IReadOnlyList<IPAddress> sorted, AddressFamily preferred, bool ofPreferred, ref int cursor)
    {
        while (cursor < sorted.Count)
        {
            var a = sorted[cursor++];
            if ((a.AddressFamily == preferred) == ofPreferred)
            {
                return a;
            }
        }

        return null;
    }

    /// <summary>"IPv6" or "IPv4", for notes.</summary>
    public static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private sealed class IPv6First : IDestinationSorter
    {
        public IReadOnlyList<IPAddress> Sort(string interfaceName, IReadOnlyList<IPAddress> destinations)
        {
            var inOrder = true;
            for (var i = 1; i < destinations.Count && inOrder; i++)
            {
                inOrder = destinations[i - 1].AddressFamily == AddressFamily.InterNetworkV6 || destinations[i].AddressFamily != AddressFamily.InterNetworkV6;
            }

            if (inOrder)
            {
                return destinations; // already IPv6 first: nothing to allocate
            }

            var sorted = new List<IPAddress>(destinations.Count);
            foreach (var a in destinations)
            {
                if (a.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    sorted.Add(a);
                }
            }

            foreach (var a in destinations)
            {
                if (a.AddressFamily != AddressFamily.InterNetworkV6)
                {
                    sorted.Add(a);
                }
            }

            return sorted;
        }
    }
}
