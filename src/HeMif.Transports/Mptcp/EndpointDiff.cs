using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HeMif.Multipath;

namespace HeMif.Transports.Mptcp;

/// <summary>What one interface should have for one address family (see <see cref="LinuxPathManager"/>'s rules).</summary>
/// <param name="Address">The endpoint's local address.</param>
/// <param name="Subflow">Whether the kernel is to open a subflow from it.</param>
/// <param name="Backup">Whether it is flagged backup (RFC 8684 §3.3.8).</param>
/// <param name="Role">The plan's role for the interface (for the log).</param>
internal sealed record WantedEndpoint(IPAddress Address, bool Subflow, bool Backup, SubflowRole Role);

/// <summary>An endpoint of ours the plan no longer wants, and why.</summary>
/// <param name="Key">Its interface and family.</param>
/// <param name="Owned">The endpoint.</param>
/// <param name="Why">For the log.</param>
internal sealed record EndpointRemoval((string Interface, AddressFamily Family) Key, OwnedEndpoint Owned, string Why);

/// <summary>
/// The pure half of <see cref="LinuxPathManager"/>: from a plan, the connection's own address and the endpoints this
/// manager owns, which endpoints are wanted, which of ours go, how many subflows the limit must allow, and the arguments of
/// an <c>ip mptcp endpoint add</c>. No I/O: tested without a fake <c>ip</c> (EndpointDiffTests); the manager runs the commands.
/// </summary>
internal static class EndpointDiff
{
    private static readonly AddressFamily[] BothFamilies = [AddressFamily.InterNetworkV6, AddressFamily.InterNetwork];

    /// <summary>
    /// What each interface of the plan should have, by interface and family (interfaces without a usable address of a
    /// family are left out, and logged once the connection is made). Before the connection (<paramref name="connection"/>
    /// null) both families are planned and the plan's Primary stands for the connection's own interface; after, only the
    /// connection's family, and its own address is the initial subflow's.
    /// </summary>
    public static Dictionary<(string Interface, AddressFamily Family), WantedEndpoint> Desired(SubflowPlan plan, IPAddress? connection,
        IReadOnlyDictionary<(string Interface, AddressFamily Family), OwnedEndpoint> owned, Func<string, AddressFamily, IPAddress?> addressOf, List<string> log)
    {
        var desired = new Dictionary<(string, AddressFamily), WantedEndpoint>();
        var families = connection is { } c ? [c.AddressFamily] : BothFamilies;
        foreach (var assignment in plan.Subflows)
        {
            foreach (var family in families)
            {
                var key = (assignment.Interface, family);
                var address = addressOf(assignment.Interface, family);
                if (address is null)
                {
                    if (connection is not null)
                    {
                        log.Add($"{assignment.Interface}: no {(family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address; no subflow from it");
                    }

                    continue;
                }

                var backup = assignment.Role == SubflowRole.Backup;
                var initial = connection is { } own ? address.Equals(own) : assignment.Role == SubflowRole.Primary;
                if (initial)
                {
                    // The initial subflow's address: an endpoint only to mark it backup; one of ours already there is
                    // kept (its subflow flag too: deleting it would close the initial subflow) and only re-flagged.
                    if (owned.TryGetValue(key, out var ours) && ours.Address.Equals(address))
                    {
                        desired[key] = new WantedEndpoint(address, ours.Subflow, backup, assignment.Role);
                    }
                    else if (backup)
                    {
                        desired[key] = new WantedEndpoint(address, Subflow: false, Backup: true, assignment.Role);
                    }

                    continue;
                }

                desired[key] = new WantedEndpoint(address, Subflow: true, backup, assignment.Role);
            }
        }

        return desired;
    }

    /// <summary>
    /// The endpoints of ours to delete first (so their ids are free again): an interface the plan dropped, a family not
    /// used, an address that changed, or a subflow flag that must change (the kernel cannot change that flag in place).
    /// </summary>
    public static List<EndpointRemoval> Removals(SubflowPlan plan, IReadOnlyDictionary<(string Interface, AddressFamily Family), OwnedEndpoint> owned,
        IReadOnlyDictionary<(string Interface, AddressFamily Family), WantedEndpoint> desired)
    {
        var removals = new List<EndpointRemoval>();
        foreach (var (key, ours) in owned)
        {
            if (!desired.TryGetValue(key, out var want) || !want.Address.Equals(ours.Address) || want.Subflow != ours.Subflow)
            {
                var why = desired.ContainsKey(key) ? "address changed"
                    : plan.Subflows.Any(s => s.Interface == key.Interface) ? "family not used"
                    : "no longer in the plan";
                removals.Add(new EndpointRemoval(key, ours, $"{key.Interface}: {why}"));
            }
        }

        return removals;
    }

    /// <summary>How many subflows of one family the plan opens at most: what the <c>subflows</c> limit must allow.</summary>
    public static int SubflowsNeeded(IReadOnlyDictionary<(string Interface, AddressFamily Family), WantedEndpoint> desired) =>
        desired.Values.Where(d => d.Subflow).GroupBy(d => d.Address.AddressFamily).Select(g => g.Count()).DefaultIfEmpty(0).Max();

    /// <summary>The lowest endpoint id (1-255) neither the kernel nor this manager uses, or null when all are taken.</summary>
    public static int? FreeId(IEnumerable<int> kernelIds, IEnumerable<int> ownedIds)
    {
        var used = kernelIds.Concat(ownedIds).ToHashSet();
        for (var id = 1; id <= 255; id++)
        {
            if (!used.Contains(id))
            {
                return id;
            }
        }

        return null;
    }

    /// <summary>The arguments of <c>ip mptcp endpoint add</c> for <paramref name="want"/> on <paramref name="device"/> with <paramref name="id"/>.</summary>
    public static string[] AddArguments(WantedEndpoint want, string device, int id)
    {
        List<string> args = ["mptcp", "endpoint", "add", want.Address.ToString(), "dev", device, "id", id.ToString(CultureInfo.InvariantCulture)];
        if (want.Subflow)
        {
            args.Add("subflow");
            if (want.Backup)
            {
                args.Add("backup");
            }
        }

        return [.. args];
    }
}
