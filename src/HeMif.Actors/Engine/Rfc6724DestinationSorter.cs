using System.Net;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Sort;
using HeMif.Interfaces;

namespace HeMif.Engine;

/// <summary>
/// RFC 6724 §6 destination ordering for one interface's answers (RFC 8305 §4: "the client SHOULD order the list of
/// destination addresses … using the rules from RFC 6724"), with that interface's own source addresses.
/// </summary>
internal sealed class Rfc6724DestinationSorter(IReadOnlyDictionary<string, InterfaceFacts> interfaces, HeMifPolicy policy) : IDestinationSorter
{
    public IReadOnlyList<IPAddress> Sort(string interfaceName, IReadOnlyList<IPAddress> destinations) =>
        interfaces.TryGetValue(interfaceName, out var facts)
            ? Rfc6724.SortDestinations(destinations, facts, policy.AddressSelectionTable)
            : AddressOrdering.PreferIPv6.Sort(interfaceName, destinations);
}
