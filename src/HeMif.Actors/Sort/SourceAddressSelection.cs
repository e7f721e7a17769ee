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
    public static IPAddress? For(InterfaceFacts networkInterface, IPAddress destination) =>
        For(networkInterface, destination, AddressSelectionPolicyTable.Default);

    /// <summary>
    /// The same with the configured RFC 6724 §2.1 policy table (<see cref="Planning.HeMifPolicy.AddressSelectionTable"/>):
    /// source Rule 6, "Prefer matching label", compares Label(SA) and Label(D) from it. RFC 6724 §2.1: "the policy table
    /// ... can be configured by the administrator"; the draft §4.2.4: "the node should consider IP prefix and precedence
    /// parameter in policy table to select the best source address".
    /// </summary>
    public static IPAddress? For(InterfaceFacts networkInterface, IPAddress destination, AddressSelectionPolicyTable table)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(table);
        var addresses = networkInterface.Addresses;
        var candidates = new SourceCandidate[addresses.Count];
        for (var i = 0; i < addresses.Count; i++)
        {
            candidates[i] = SourceCandidate.From(addresses[i], 0, i);
        }

        if (Rfc6724.SelectSource(candidates, Rfc6724.ToUInt128(destination), 0, table) is not { } chosen)
        {
            return null;
        }

        var address = addresses[chosen.AddressIndex].Address;
        return address.IsIPv6LinkLocal && destination.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0 ? null : address;
    }
}
