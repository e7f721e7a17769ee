using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif;

/// <summary>RFC 6724 §5 source address selection among one interface's own addresses: what a transport binds to pin an attempt.</summary>
public static class SourceAddressSelection
{
    /// <summary>
    /// The address of <paramref name="networkInterface"/> to send from toward <paramref name="destination"/> (RFC 6724 §5,
    /// the default policy table), or null when it has none of that family, or only a link-local IPv6 address without a
    /// scope (which cannot be bound: let the kernel choose on the device).
    /// </summary>
    public static IPAddress? For(InterfaceFacts networkInterface, IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(destination);
        var addresses = networkInterface.Addresses;
        var candidates = new SourceCandidate[addresses.Count];
        for (var i = 0; i < addresses.Count; i++)
        {
            candidates[i] = SourceCandidate.From(addresses[i], 0, i);
        }

        if (Rfc6724.SelectSource(candidates, Rfc6724.ToUInt128(destination), 0, AddressSelectionPolicyTable.Default) is not { } chosen)
        {
            return null;
        }

        var address = addresses[chosen.AddressIndex].Address;
        return address.IsIPv6LinkLocal && destination.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0 ? null : address;
    }
}
