using System.Net;
using HeMif.Interfaces;

namespace HeMif.Resolve;

/// <summary>The DNS servers to ask for one name through one interface, in order, and why the order is what it is.</summary>
/// <param name="Servers">The servers, the first to ask first; each server once.</param>
/// <param name="Selected">
/// The RFC 6731 selection that put its server first (the namespace matched), or null when the interface's own servers
/// are asked in their order.
/// </param>
/// <param name="Domain">The selection's domain the name is in, or null.</param>
internal sealed record DnsServerOrder(IReadOnlyList<IPAddress> Servers, DnsServerSelection? Selected, string? Domain)
{
    /// <summary>The note a lookup carries when a selection chose its server: "RFC 6731: 192.0.2.53 selected for corp.example".</summary>
    public string? Note => Selected is null ? null : $"RFC 6731: {Selected.Server} selected for {Domain}";
}

/// <summary>
/// RFC 6731 (draft §4.2.2 "DNS Server Selection"): an interface may have received RDNSS selection options, each "a DNS
/// server ... that is to be used for resolving names in the listed domains" with a preference. The draft uses them "to
/// select an interface for a particular namespace" (the ranker does, <c>SoftSetRanker</c>), and the resolver then asks
/// that server for a name inside its domains: the server selected for the namespace is the one queried, not just any of
/// the interface's servers. Pure: the facts and the name in, the order out.
/// </summary>
internal static class DnsServerChoice
{
    /// <summary>
    /// The servers to ask for <paramref name="host"/> through <paramref name="networkInterface"/>: first the servers of the
    /// selection options whose domains contain the name (the higher preference first, then the longer, more specific
    /// domain, then the order received), then the interface's own DNS servers in their order; a server listed twice is
    /// asked once. A selection whose server is not among the interface's servers is still asked: the option names it.
    /// Empty when the interface knows no server and no selection matches (the caller falls back to the system resolver).
    /// </summary>
    public static DnsServerOrder For(InterfaceFacts networkInterface, string host)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(host);
        if (networkInterface.DnsSelection.Count == 0)
        {
            return new DnsServerOrder(networkInterface.DnsServers, null, null);
        }

        var matches = new List<(DnsServerSelection Selection, string Domain, int Index)>();
        for (var i = 0; i < networkInterface.DnsSelection.Count; i++)
        {
            var selection = networkInterface.DnsSelection[i];
            string? longest = null;
            foreach (var domain in selection.Domains)
            {
                if (DomainNames.IsInZone(host, domain) && (longest is null || Trimmed(domain) > Trimmed(longest)))
                {
                    longest = domain;
                }
            }

            if (longest is not null)
            {
                matches.Add((selection, longest, i));
            }
        }

        if (matches.Count == 0)
        {
            return new DnsServerOrder(networkInterface.DnsServers, null, null);
        }

        matches.Sort(static (a, b) =>
        {
            var byPreference = b.Selection.Preference.CompareTo(a.Selection.Preference);
            if (byPreference != 0)
            {
                return byPreference;
            }

            var byLength = Trimmed(b.Domain).CompareTo(Trimmed(a.Domain));
            return byLength != 0 ? byLength : a.Index.CompareTo(b.Index);
        });

        var servers = new List<IPAddress>(matches.Count + networkInterface.DnsServers.Count);
        foreach (var server in matches.Select(m => m.Selection.Server).Concat(networkInterface.DnsServers))
        {
            if (!servers.Contains(server))
            {
                servers.Add(server);
            }
        }

        return new DnsServerOrder(servers, matches[0].Selection, matches[0].Domain);
    }

    private static int Trimmed(string domain) => domain.AsSpan().Trim('.').Length;
}
