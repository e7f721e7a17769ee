using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Multipath;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Mptcp;

/// <summary>The latest facts of each interface the connector knows (the watcher updates them), readable from any thread.</summary>
internal sealed class InterfaceBook(IEnumerable<InterfaceFacts> initial)
{
    private readonly ConcurrentDictionary<string, InterfaceFacts> _facts = new(initial.Select(f => KeyValuePair.Create(f.Name, f)), StringComparer.Ordinal);

    public void Set(InterfaceFacts facts) => _facts[facts.Name] = facts;

    public void Remove(string name) => _facts.TryRemove(name, out _);

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
/// The multipath side of one connection the connector opens with <c>ConnectOptions.Multipath</c>. Before the race,
/// a <see cref="LinuxPathManager"/> applies the destination's subflow plan (the kernel only opens subflows from
/// endpoints that exist when a connection is created); once the winner is known and is MPTCP, the plan is applied
/// again for the winner's address and family, and the suggestions are followed (Wi-Fi lost: its endpoint goes,
/// cellular is promoted; Wi-Fi back: it returns). When the connection ends, or when it is not MPTCP after all,
/// everything the path manager added is removed. Path manager failures never fail the connection: they are written
/// to <see cref="MultipathInfo.PathManagerLog"/>.
/// </summary>
internal sealed class MultipathSession : IAsyncDisposable
{
    /// <summary>Destinations for RFC 6724 source selection before the destination's address is known (only the scope matters).</summary>
    private static readonly IPAddress AnyGlobal6 = IPAddress.Parse("2000::1");
    private static readonly IPAddress AnyGlobal4 = IPAddress.Parse("192.0.2.1");

    private readonly MultipathMode _mode;
    private readonly InterfaceBook _interfaces;
    private readonly LinuxPathManager? _manager;
    private readonly List<string> _preparation = [];
    private SubflowPlan? _plan;
    private IPAddress? _remote;
    private MultipathInfo? _info;

    private MultipathSession(MultipathMode mode, InterfaceBook interfaces, ICommandRunner? runner, IReadOnlyList<IPAddress> destinations)
    {
        _mode = mode;
        _interfaces = interfaces;
        if (runner is not null)
        {
            _manager = new LinuxPathManager(runner, (name, family) => _interfaces.Get(name) is { } facts
                ? TcpTransport.SourceAddress(facts, _remote ?? destinations.FirstOrDefault(d => d.AddressFamily == family) ?? (family == AddressFamily.InterNetworkV6 ? AnyGlobal6 : AnyGlobal4))
                : null, KernelInterfaces.Host);
        }
    }

    /// <summary>The connection's multipath side, once <see cref="ConnectedAsync"/> has run.</summary>
    public MultipathInfo? Info => _info;

    /// <summary>
    /// Before the race: the plan, applied on Linux (elsewhere there is no path manager to apply it to).
    /// <paramref name="destinations"/> are the destination's addresses when already known (an IP literal).
    /// </summary>
    public static async Task<MultipathSession> PrepareAsync(MultipathMode mode, Func<CancellationToken, Task<SubflowPlan>> plan, InterfaceBook interfaces,
        ICommandRunner runner, IReadOnlyList<IPAddress> destinations, CancellationToken cancellationToken)
    {
        var session = new MultipathSession(mode, interfaces, OperatingSystem.IsLinux() ? runner : null, destinations);
        try
        {
            session._plan = await plan(cancellationToken).ConfigureAwait(false);
            if (session._manager is not null)
            {
                session._preparation.Add($"plan ({session._plan.Trigger}): {Describe(session._plan)}");
                session._preparation.AddRange(await session._manager.ApplyAsync(session._plan, cancellationToken).ConfigureAwait(false));
            }
        }
        catch (PathManagerException e)
        {
            session._preparation.Add("path manager: " + e.Message);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return session;
    }

    /// <summary>
    /// The race's winner: described; when it is MPTCP, the plan applied again for its address and family and the
    /// suggestions followed; otherwise everything prepared is removed.
    /// </summary>
    public async Task<MultipathInfo> ConnectedAsync(MptcpConnectedPath path, IObservable<SubflowPlan> suggestions, CancellationToken cancellationToken)
    {
        var info = _info = new MultipathInfo(_mode, path, _interfaces.InterfaceOf);
        if (_plan is not null)
        {
            info.Applied(_plan, _preparation);
        }

        if (_manager is null || path.Status != MptcpStatus.Mptcp || path.LocalEndPoint is not { } local || _plan is null)
        {
            info.Note($"no subflows to plan: the connection is {path.Description}");
            await DisposeAsync().ConfigureAwait(false);
            return info;
        }

        _remote = path.RemoteEndPoint.Address;
        _manager.Connected(local);
        try
        {
            info.Applied(_plan, await _manager.ApplyAsync(_plan, cancellationToken).ConfigureAwait(false));
        }
        catch (PathManagerException e)
        {
            info.Note("path manager: " + e.Message);
        }

        _manager.Follow(suggestions,
            applied: (plan, actions) =>
            {
                if (info.Plan is not { } last || !last.SameAssignmentsAs(plan) || actions.Any(a => a.StartsWith("ip ", StringComparison.Ordinal)))
                {
                    info.Applied(plan, [$"plan ({plan.Trigger}): {Describe(plan)}", .. actions]);
                }
            },
            failed: (plan, e) => info.Note($"path manager ({plan.Trigger}): {e.Message}"));
        return info;
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
            _info?.Note("path manager: " + e.Message);
        }
    }
}
