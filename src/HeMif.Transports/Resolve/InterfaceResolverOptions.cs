using System.Net;
using System.Net.Sockets;

namespace HeMif.Transports.Resolve;

/// <summary>Settings of the per-interface stub resolver.</summary>
internal sealed record InterfaceResolverOptions
{
    /// <summary>The servers' port: 53 (RFC 1035 §4.2.1 "The Internet supports name server access using TCP ... on server port 53 ... UDP ... port 53"); tests use another.</summary>
    public int Port { get; init; } = 53;

    /// <summary>
    /// How long one query (one UDP exchange, or one TCP exchange after truncation) may take before the next server
    /// is asked. Two seconds: between glibc's first retransmission (5 s total timeout is the resolv.conf default) and
    /// the fallback delays a race works with.
    /// </summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the system resolver fallback may take (glibc's default resolv.conf timeout is 5 s).</summary>
    public TimeSpan SystemResolverTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Send an EDNS(0) OPT record advertising a 1232-octet UDP payload (RFC 6891), which avoids most TCP retries.</summary>
    public bool UseEdns { get; init; } = true;

    /// <summary>Entries the answer cache holds (keyed by interface, name and type; negative answers too); 0 disables it.</summary>
    public int CacheCapacity { get; init; } = 256;

    /// <summary>The longest an answer is cached, whatever its TTL says (RFC 2181 §8 allows TTLs of 68 years).</summary>
    public TimeSpan MaxCacheTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest a negative answer (NXDOMAIN, NODATA) is cached, whatever its SOA says: 5 minutes. RFC 2308 §5 leaves
    /// the cap to the resolver ("Values of one to three hours have been found to work well" is advice to zone owners
    /// setting MINIMUM); a stub on a host that moves between networks keeps it short, so that a name published meanwhile
    /// (or a typo the user has just fixed on the server side) is seen within minutes, while a burst of lookups for a name
    /// that does not exist still asks the servers once. 5 minutes is also the bound RFC 2308 §7 sets for caching failures.
    /// </summary>
    public TimeSpan MaxNegativeCacheTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The resolver used when an interface's DNS servers are unknown; <see cref="Dns.GetHostAddressesAsync(string, AddressFamily, CancellationToken)"/> by default.</summary>
    public Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> SystemResolver { get; init; } = Dns.GetHostAddressesAsync;
}
