using System.Net;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif;

/// <summary>What one attempt is about: where from, where to, and what the request says of it beyond the endpoint.</summary>
public sealed class AttemptContext
{
    private IPAddress? _source;
    private bool _sourceChosen;

    /// <summary>Creates the context of one attempt.</summary>
    /// <param name="networkInterface">The interface the attempt must leave from.</param>
    /// <param name="remote">The one resolved endpoint to connect to.</param>
    /// <param name="host">The host the application asked for (a name or an IP literal): TLS's server name.</param>
    /// <param name="applicationProtocols">The ALPN protocol IDs to offer, in order (QUIC requires at least one, RFC 9001 §8.1).</param>
    public AttemptContext(InterfaceFacts networkInterface, IPEndPoint remote, string host, IReadOnlyList<string> applicationProtocols)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(applicationProtocols);
        Interface = networkInterface;
        Remote = remote;
        Host = host;
        ApplicationProtocols = applicationProtocols;
    }

    /// <summary>The interface's facts (name, addresses, DNS servers…): the attempt is pinned to it.</summary>
    public InterfaceFacts Interface { get; }

    /// <summary>The remote endpoint: one resolved address and the port.</summary>
    public IPEndPoint Remote { get; }

    /// <summary>The host the application asked for (TLS's SNI for QUIC).</summary>
    public string Host { get; }

    /// <summary>The ALPN protocol IDs to offer.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; }

    /// <summary>
    /// For a request/response exchange over UDP (draft §7.1; <c>IHeMifConnector.ExchangeAsync</c>): the request datagram
    /// and how to recognise its response, which the <c>udp</c> transport sends and waits for. Null for a connection.
    /// </summary>
    public DatagramExchange? Exchange { get; init; }

    /// <summary>
    /// The RFC 6724 §2.1 policy table <see cref="SourceAddress"/> is chosen by: the policy's
    /// (<see cref="Planning.HeMifPolicy.AddressSelectionTable"/>, which the race gives every attempt), by default the
    /// RFC's own table.
    /// </summary>
    public AddressSelectionPolicyTable AddressSelectionTable { get; init; } = AddressSelectionPolicyTable.Default;

    /// <summary>
    /// The interface's own address to bind for <see cref="Remote"/> (RFC 6724 §5 source address selection among the
    /// interface's addresses of the remote's family, with <see cref="AddressSelectionTable"/>), or null when it has none
    /// to offer (no addresses known, or only a link-local one without a scope). Binding it, and on Linux the device
    /// itself, pins the attempt to the interface.
    /// </summary>
    public IPAddress? SourceAddress
    {
        get
        {
            if (!_sourceChosen)
            {
                _source = SourceAddressSelection.For(Interface, Remote.Address, AddressSelectionTable);
                _sourceChosen = true;
            }

            return _source;
        }
    }

    /// <summary>"remote on interface", as error messages say where an attempt went.</summary>
    public override string ToString() => $"{Remote} on {Interface.Name}";
}
