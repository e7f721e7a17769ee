using System.Collections.Concurrent;
using System.Net;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Mptcp;

/// <summary>The latest facts of each interface the connector knows (the watcher updates them), readable from any thread.</summary>
internal sealed class InterfaceBook(IEnumerable<InterfaceFacts> initial)
{
    private readonly ConcurrentDictionary<string, InterfaceFacts> _facts = new(initial.Select(f => KeyValuePair.Create(f.Name, f)), StringComparer.Ordinal);

    public void Set(InterfaceFacts facts) => _facts[facts.Name] = facts;

    public InterfaceFacts? Get(string name) => _facts.GetValueOrDefault(name);

    /// <summary>The interface holding <paramref name="address"/>: the known facts first, then the host's interfaces now.</summary>
    public string? InterfaceOf(IPAddress address)
    {
        var known = _facts.Values.FirstOrDefault(f => f.Addresses.Any(a => a.Address.Equals(address)));
        if (known is not null)
        {
            return known.Name;
        }

        try
        {
            return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .FirstOrDefault(i => i.GetIPProperties().UnicastAddresses.Any(u => u.Address.Equals(address)))?.Name;
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            return null;
        }
    }
}

/// <summary>
/// The multipath side of one connection the connector opened with <c>ConnectOptions.Multipath</c>: when the socket is
/// MPTCP, a <see cref="LinuxPathManager"/> applies the destination's subflow plan, then follows the suggestions (Wi-Fi
/// lost: its endpoint goes, cellular is promoted; Wi-Fi back: it returns); when the connection ends, everything the
/// path manager added is removed. Path manager failures never fail the connection: they are written to
/// <see cref="MultipathInfo.PathManagerLog"/>.
/// </summary>
internal sealed class MultipathSession : IAsyncDisposable
{
    private readonly LinuxPathManager? _manager;
    private readonly MultipathInfo _info;

    private MultipathSession(MultipathInfo info, LinuxPathManager? manager)
    {
        _info = info;
        _manager = manager;
    }

    public MultipathInfo Info => _info;

    /// <summary>
    /// Describes <paramref name="path"/> and, when it is MPTCP on Linux, applies the first plan from
    /// <paramref name="suggestions"/> before returning (so the caller sees it) and keeps following the rest.
    /// </summary>
    public static async Task<MultipathSession> StartAsync(MptcpConnectedPath path, MultipathMode mode, IObservable<SubflowPlan> suggestions,
        Func<CancellationToken, Task<SubflowPlan>> firstPlan, InterfaceBook interfaces, ICommandRunner runner, CancellationToken cancellationToken)
    {
        var info = new MultipathInfo(mode, path, interfaces.InterfaceOf);
        if (path.Status != MptcpStatus.Mptcp || path.LocalEndPoint is not { } local || !OperatingSystem.IsLinux())
        {
            info.Note($"no subflows to plan: the connection is {path.Description}");
            return new MultipathSession(info, null);
        }

        var remote = path.RemoteEndPoint.Address;
        var manager = new LinuxPathManager(runner, local,
            name => interfaces.Get(name) is { } facts ? TcpTransport.SourceAddress(facts, remote) : null);
        try
        {
            var plan = await firstPlan(cancellationToken).ConfigureAwait(false);
            info.Applied(plan, await manager.ApplyAsync(plan, cancellationToken).ConfigureAwait(false));
        }
        catch (PathManagerException e)
        {
            info.Note("path manager: " + e.Message);
        }
        catch
        {
            await manager.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        manager.Follow(suggestions,
            applied: (plan, actions) =>
            {
                if (actions.Count > 0 || info.Plan is not { } last || !last.SameAssignmentsAs(plan))
                {
                    info.Applied(plan, [$"plan ({plan.Trigger}): {Describe(plan)}", .. actions]);
                }
            },
            failed: (plan, e) => info.Note($"path manager ({plan.Trigger}): {e.Message}"));
        return new MultipathSession(info, manager);
    }

    /// <summary>A plan as one line: <c>wlan0=Primary, rmnet0=Backup</c>.</summary>
    public static string Describe(SubflowPlan plan) =>
        plan.Subflows.Count == 0 ? "no interface qualifies" : string.Join(", ", plan.Subflows.Select(s => $"{s.Interface}={s.Role}"));

    public async ValueTask DisposeAsync()
    {
        if (_manager is null)
        {
            return;
        }

        try
        {
            await _manager.DisposeAsync().ConfigureAwait(false);
        }
        catch (PathManagerException e)
        {
            // Closing the connection must not throw for the path manager's sake; the log keeps what was left behind.
            _info.Note("path manager: " + e.Message);
        }
    }
}
