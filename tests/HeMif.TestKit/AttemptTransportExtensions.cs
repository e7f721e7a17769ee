using System.Net;
using HeMif.Interfaces;

namespace HeMif.TestKit;

/// <summary>Shorthands for tests that call a transport directly with one interface and one endpoint.</summary>
public static class AttemptTransportExtensions
{
    /// <summary>The ALPN the shorthand offers (HTTP/3), as a request that names none does.</summary>
    public static readonly IReadOnlyList<string> H3 = ["h3"];

    /// <summary>
    /// <see cref="AttemptTransport.ConnectAsync"/> from <paramref name="networkInterface"/> to <paramref name="remote"/>,
    /// the host being <paramref name="host"/> (default: the remote address as a literal) and ALPN <paramref name="alpn"/>
    /// (default: h3).
    /// </summary>
    public static Task<ConnectedPath> ConnectAsync(this AttemptTransport transport, InterfaceFacts networkInterface, IPEndPoint remote,
        CancellationToken cancellationToken, string? host = null, IReadOnlyList<string>? alpn = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(remote);
        return transport.ConnectAsync(new AttemptContext(networkInterface, remote, host ?? remote.Address.ToString(), alpn ?? H3), cancellationToken);
    }
}
