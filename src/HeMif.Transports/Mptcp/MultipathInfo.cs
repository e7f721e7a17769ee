using System.Net;
using HeMif.Transports.Mptcp;

namespace HeMif.Multipath;

/// <summary>What a connection asked to be MPTCP turned out to be.</summary>
public enum MptcpStatus
{
    /// <summary>An MPTCP connection: the peer answered MP_CAPABLE (RFC 8684 §3.1).</summary>
    Mptcp,

    /// <summary>
    /// A plain TCP connection because this host's kernel refused an MPTCP socket (no MPTCP in the kernel,
    /// <c>net.mptcp.enabled=0</c> in this network namespace, a security policy).
    /// </summary>
    KernelRefused,

    /// <summary>
    /// A plain TCP connection on an MPTCP socket: the peer (or a middlebox) did not do MPTCP, and the kernel fell back
    /// to TCP (RFC 8684 §3.7).
    /// </summary>
    TcpFallback,
}

/// <summary>
/// The counters of an MPTCP connection (Linux <c>MPTCP_INFO</c>, <c>struct mptcp_info</c>). Counters the running
/// kernel does not report are null.
/// </summary>
/// <param name="Subflows">Subflows attached to the connection, the initial one included.</param>
/// <param name="AdditionalSubflowsMax">How many additional subflows the path manager may open (its <c>subflows</c> limit).</param>
/// <param name="AddAddrSignalled">ADD_ADDR this side has announced.</param>
/// <param name="AddAddrAccepted">ADD_ADDR from the peer this side has accepted.</param>
/// <param name="LocalAddressesUsed">Local addresses the path manager has used for subflows.</param>
/// <param name="FellBack">Whether the connection fell back to TCP after it was established.</param>
/// <param name="Token">The connection's local token (RFC 8684 §3.2), as <c>ss -M</c> and <c>ip mptcp monitor</c> show it.</param>
public sealed record MptcpCounters(int Subflows, int AdditionalSubflowsMax, int AddAddrSignalled, int AddAddrAccepted, int LocalAddressesUsed, bool FellBack, uint Token)
{
    /// <summary>Bytes sent at the MPTCP level (Linux 6.5+).</summary>
    public long? BytesSent { get; init; }

    /// <summary>Bytes received at the MPTCP level (Linux 6.5+).</summary>
    public long? BytesReceived { get; init; }

    /// <summary>Bytes the peer acknowledged at the MPTCP level (Linux 6.5+).</summary>
    public long? BytesAcked { get; init; }

    /// <summary>Bytes sent again (retransmitted or reinjected on another subflow; Linux 6.5+).</summary>
    public long? BytesRetransmitted { get; init; }
}

/// <summary>One subflow of an MPTCP connection: its addresses and the interface its local address belongs to.</summary>
/// <param name="Local">The subflow's local endpoint.</param>
/// <param name="Remote">The subflow's remote endpoint.</param>
/// <param name="Interface">The interface that holds <paramref name="Local"/>'s address, or null when none does (any more).</param>
public sealed record MptcpSubflow(IPEndPoint Local, IPEndPoint Remote, string? Interface)
{
    /// <summary>The kernel's id of the subflow within its connection (Linux 6.5+).</summary>
    public uint? Id { get; init; }

    /// <summary>The subflow's smoothed round-trip time (its <c>tcpi_rtt</c>; Linux 6.5+).</summary>
    public TimeSpan? SmoothedRtt { get; init; }

    /// <summary>Bytes the peer acknowledged on this subflow (its <c>tcpi_bytes_acked</c>; Linux 6.5+).</summary>
    public long? BytesAcked { get; init; }

    /// <summary>Bytes received on this subflow (its <c>tcpi_bytes_received</c>; Linux 6.5+).</summary>
    public long? BytesReceived { get; init; }
}

/// <summary>
/// The multipath side of a connection opened with <see cref="ConnectOptions.Multipath"/> set: whether it is MPTCP (and
/// if not, why), the subflow plan applied to the kernel's path manager, and live reads of its subflows.
/// </summary>
public sealed class MultipathInfo
{
    private readonly MptcpConnectedPath _path;
    private readonly Func<IPAddress, string?> _interfaceOf;
    private readonly Lock _lock = new();
    private readonly List<string> _log = [];
    private SubflowPlan? _plan;

    internal MultipathInfo(MultipathMode mode, MptcpConnectedPath path, Func<IPAddress, string?> interfaceOf)
    {
        Mode = mode;
        _path = path;
        _interfaceOf = interfaceOf;
    }

    /// <summary>The mode the connection was asked for.</summary>
    public MultipathMode Mode { get; }

    /// <summary>Whether the connection is MPTCP, or which fallback happened.</summary>
    public MptcpStatus Status => _path.Status;

    /// <summary>
    /// The status as a person reads it: <c>MPTCP</c>, <c>TCP (kernel refused MPTCP: …)</c>, or <c>TCP (peer does not
    /// support MPTCP)</c>.
    /// </summary>
    public string Description => _path.Description;

    /// <summary>The subflow plan last applied to the kernel's path manager, or null when none was (yet).</summary>
    public SubflowPlan? Plan
    {
        get
        {
            lock (_lock)
            {
                return _plan;
            }
        }
    }

    /// <summary>What the path manager did for this connection, in order (commands run, endpoints left alone, errors).</summary>
    public IReadOnlyList<string> PathManagerLog
    {
        get
        {
            lock (_lock)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The connection's MPTCP counters now, or null when it is not (or no longer) MPTCP or is closed.</summary>
    public MptcpCounters? GetCounters() => _path.ReadCounters();

    /// <summary>
    /// The connection's subflows now, with the interface of each local address; empty when it is not (or no longer)
    /// MPTCP or is closed. A plain TCP connection's one path is its <see cref="HeMifConnection.LocalEndPoint"/>.
    /// </summary>
    public IReadOnlyList<MptcpSubflow> GetSubflows() =>
        _path.ReadSubflows().Select(s => new MptcpSubflow(s.Local, s.Remote, _interfaceOf(s.Local.Address))
        {
            Id = s.Id,
            SmoothedRtt = s.RttMicroseconds is { } rtt ? TimeSpan.FromMicroseconds(rtt) : null,
            BytesAcked = s.BytesAcked,
            BytesReceived = s.BytesReceived,
        }).ToList();

    internal void Applied(SubflowPlan plan, IEnumerable<string> actions)
    {
        lock (_lock)
        {
            _plan = plan;
            _log.AddRange(actions);
        }
    }

    internal void Note(string line)
    {
        lock (_lock)
        {
            _log.Add(line);
        }
    }
}
