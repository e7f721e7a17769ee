using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tcp;
using HeMif.Validate;

namespace HeMif.Transports.Quic;

/// <summary>How the QUIC path probe asks.</summary>
internal sealed record QuicPathProbeOptions
{
    /// <summary>
    /// How long the probe waits for a valid Version Negotiation; silence until then means blocked. 1.5 s covers the
    /// 1 s first retransmission timeout a QUIC client itself would use (RFC 9002 §6.2.2: the first PTO is 3 × the 333 ms
    /// initial RTT) with room for one more round trip.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>How many copies of the Initial are sent, spread evenly over <see cref="Timeout"/> (one lost datagram is no verdict).</summary>
    public int Initials { get; init; } = 3;

    /// <summary>Where the reserved version and the connection IDs come from (seeded in tests). Default: <see cref="Random.Shared"/>.</summary>
    public Random? Random { get; init; }

    /// <summary>Throws naming the first setting that makes no sense.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The QUIC probe timeout must be positive and at most one minute.");
        }

        if (Initials is < 1 or > 10)
        {
            throw new ArgumentOutOfRangeException(nameof(Initials), Initials, "The QUIC probe sends 1 to 10 Initials.");
        }
    }
}

/// <summary>
/// Whether UDP/QUIC gets through on one interface, without TLS (docs/architecture.md §6): a client Initial of 1200 bytes
/// with a reserved version (RFC 9000 §6.3: "a client … could … send a packet with a reserved version … to force
/// version negotiation", and §15) from a UDP socket pinned to the interface (its RFC 6724 source address, and
/// <c>SO_BINDTODEVICE</c> where the kernel allows), to the destination's UDP port. A server that speaks QUIC must
/// answer with Version Negotiation (§6.1: "a server … MUST send a Version Negotiation packet"); a valid one from that
/// server = reachable. Silence until the timeout (on the injected clock) = blocked; an ICMP unreachable = blocked,
/// naming it. Anything else that arrives — malformed, another version, connection IDs that do not echo ours — is
/// ignored and the probe keeps listening (an on-path attacker or a confused middlebox must not decide the verdict).
/// <para>
/// Which addresses: an IP literal as it is; a name is resolved through the interface's own DNS (draft §7.3), one
/// query per family the interface has an address of, and the first answer of each family is probed, both at once.
/// One family getting through makes the path reachable (the race then uses it); blocked needs every family blocked.
/// </para>
/// <para>
/// The socket is connected to the server, so the kernel delivers only that server's datagrams and reports ICMP
/// errors (Linux reports them on connected UDP sockets only, on the next send or receive).
/// </para>
/// </summary>
internal sealed class QuicVersionProbe : QuicPathProbe
{
    private const int SolIp = 0;
    private const int IpRecvErr = 11;
    private const int SolIpv6 = 41;
    private const int Ipv6RecvErr = 25;
    private static int s_deviceBindingRefused;
    private readonly InterfaceResolver _resolver;
    private readonly QuicPathProbeOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _randomLock = new();

    public QuicVersionProbe(InterfaceResolver resolver, QuicPathProbeOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
        _options = options ?? new QuicPathProbeOptions();
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _random = _options.Random ?? Random.Shared;
    }

    public TimeSpan Timeout => _options.Timeout;

    public override async Task<QuicPathVerdict> ProbeAsync(InterfaceFacts networkInterface, string host, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        cancellationToken.ThrowIfCancellationRequested();
        var name = networkInterface.Name;
        if (!networkInterface.IsUp)
        {
            return new QuicPathVerdict(name, QuicPathState.Unknown, "link down: nothing to probe");
        }

        var (targets, problems) = await TargetsAsync(networkInterface, host.Trim('[', ']'), cancellationToken).ConfigureAwait(false);
        if (targets.Count == 0)
        {
            return new QuicPathVerdict(name, QuicPathState.Unknown, $"nothing to probe for {host}: {string.Join("; ", problems)}");
        }

        return await ProbeEndpointsAsync(networkInterface, [.. targets.Select(a => new IPEndPoint(a, port))], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Probes these server endpoints from the interface, all at once; the first valid answer decides.</summary>
    private async Task<QuicPathVerdict> ProbeEndpointsAsync(InterfaceFacts networkInterface, IReadOnlyList<IPEndPoint> remotes, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        List<ProbeInitial> initials;
        lock (_randomLock)
        {
            // One probe serves every interface's supervisor at once, and a seeded Random is not thread-safe.
            initials = [.. remotes.Select(_ => QuicPackets.CreateInitial(_random))];
        }

        var running = remotes.Select((r, i) => ProbeOneAsync(networkInterface, r, initials[i], linked.Token, cancellationToken)).ToList();
        var outcomes = new List<Outcome>(running.Count);
        try
        {
            while (running.Count > 0)
            {
                var done = await Task.WhenAny(running).ConfigureAwait(false);
                running.Remove(done);
                var outcome = await done.ConfigureAwait(false);
                if (outcome.Reachable)
                {
                    await linked.CancelAsync().ConfigureAwait(false); // the others have nothing left to say
                    return new QuicPathVerdict(networkInterface.Name, QuicPathState.Reachable, outcome.Detail, outcome.Rtt, outcome.Remote.ToString());
                }

                outcomes.Add(outcome);
            }
        }
        finally
        {
            // Every probe ends (an answer, its deadline, or this cancellation), and each releases its socket itself.
            await linked.CancelAsync().ConfigureAwait(false);
            foreach (var left in running)
            {
                await left.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var state = outcomes.Exists(o => o.Blocked) ? QuicPathState.Blocked : QuicPathState.Unknown;
        return new QuicPathVerdict(networkInterface.Name, state, string.Join("; ", outcomes.Select(o => o.Detail)));
    }

    /// <summary>What an ICMP error on a connected UDP socket means, in words.</summary>
    internal static string DescribeIcmp(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "ICMP port unreachable",
        SocketError.HostUnreachable => "ICMP host unreachable",
        SocketError.NetworkUnreachable => "ICMP network unreachable",
        SocketError.AccessDenied => "ICMP administratively prohibited",
        _ => TcpTransport.Describe(error),
    };

    private async Task<(List<IPAddress> Targets, List<string> Problems)> TargetsAsync(InterfaceFacts facts, string host, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (IPAddress.TryParse(host, out var literal))
        {
            return ([literal], problems);
        }

        var families = new List<AddressFamily>(2);
        foreach (var family in new[] { AddressFamily.InterNetworkV6, AddressFamily.InterNetwork })
        {
            // An interface whose addresses are unknown (facts from an override file) may try both.
            if (facts.Addresses.Count == 0 || facts.Addresses.Any(a => a.Address.AddressFamily == family && !a.Address.IsIPv6LinkLocal))
            {
                families.Add(family);
            }
        }

        var answers = await Task.WhenAll(families.Select(f => _resolver.ResolveAsync(facts, host, f, cancellationToken))).ConfigureAwait(false);
        var targets = new List<IPAddress>(2);
        for (var i = 0; i < families.Count; i++)
        {
            var family = families[i] == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
            if (answers[i].Error is { } error)
            {
                problems.Add($"{family}: {error}");
            }
            else if (answers[i].Addresses.FirstOrDefault(a => a.AddressFamily == families[i]) is { } first)
            {
                targets.Add(first);
            }
            else
            {
                problems.Add($"{family}: no addresses");
            }
        }

        if (families.Count == 0)
        {
            problems.Add($"{facts.Name} has no usable address");
        }

        return (targets, problems);
    }

    private async Task<Outcome> ProbeOneAsync(InterfaceFacts facts, IPEndPoint remote, ProbeInitial initial, CancellationToken token, CancellationToken callerToken)
    {
        if (facts.Kind == InterfaceKind.Loopback && !IPAddress.IsLoopback(remote.Address))
        {
            return Outcome.Unknown(remote, $"{remote}: {facts.Name} is a loopback interface and the destination is not this host");
        }

        // The mirror, as the race's filter has it: packets to this host never leave it, so no other interface applies.
        if (facts.Kind != InterfaceKind.Loopback && IPAddress.IsLoopback(remote.Address))
        {
            return Outcome.Unknown(remote, $"{remote}: not applicable: the destination is this host, which only the loopback interface reaches, and {facts.Name} is not it");
        }

        var source = SourceAddressSelection.For(facts, remote.Address);
        if (source is null && facts.Addresses.Count > 0)
        {
            return Outcome.Unknown(remote, $"{remote}: {facts.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address to send from");
        }

        var ignored = new IgnoredReplies();
        var sent = 0;
        using var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var sendFailed = new TaskCompletionSource<SocketException>(TaskCreationOptions.RunContinuationsAsynchronously);
        var timers = new List<ITimer>();
        Task<int>? receive = null;
        try
        {
            PinToDevice(socket, facts.Name);
            ReportAllIcmpErrors(socket);
            socket.Bind(new IPEndPoint(source ?? (remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), 0));
            socket.Connect(remote);
            // The copies go out on the clock, armed before the first send so that a virtual clock sees every timer
            // by the time anyone can have seen the first Initial.
            // Linux reports an ICMP error on whichever call comes next, so a copy's send may be the one that sees it.
            for (var i = 1; i < _options.Initials; i++)
            {
                timers.Add(_time.CreateTimer(_ =>
                {
                    try
                    {
                        socket.Send(initial.Datagram);
                        Interlocked.Increment(ref sent);
                    }
                    catch (SocketException e)
                    {
                        sendFailed.TrySetResult(e);
                    }
                    catch (ObjectDisposedException)
                    {
                        // the probe ended between the timer firing and the send
                    }
                }, null, _options.Timeout * i / _options.Initials, System.Threading.Timeout.InfiniteTimeSpan));
            }

            var start = _time.GetTimestamp();
            socket.Send(initial.Datagram);
            Interlocked.Increment(ref sent);

            var buffer = new byte[65536];
            while (true)
            {
                receive = socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token).AsTask();
                if (await Task.WhenAny(receive, sendFailed.Task).ConfigureAwait(false) != receive)
                {
                    return Outcome.Icmp(remote, (await sendFailed.Task.ConfigureAwait(false)).SocketErrorCode);
                }

                var length = await receive.ConfigureAwait(false);
                receive = null;
                var versions = QuicPackets.ReadVersionNegotiation(buffer.AsSpan(0, length), initial, out var rejection);
                if (versions is null)
                {
                    ignored.Add(rejection!);
                    continue; // not the answer: keep listening until the deadline
                }

                var rtt = _time.GetElapsedTime(start);
                var offered = string.Join(", ", versions.Select(QuicPackets.Hex));
                return new Outcome(remote, true, false,
                    $"Version Negotiation from {remote} offering {offered} (asked with {QuicPackets.Hex(initial.Version)}){Ignored(ignored)}",
                    rtt);
            }
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            return new Outcome(remote, false, true,
                $"no Version Negotiation from {remote} within {_options.Timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms ({Volatile.Read(ref sent)} Initials of {QuicPackets.MinInitialDatagramSize} bytes sent){Ignored(ignored)}",
                null);
        }
        catch (SocketException e) when (Volatile.Read(ref sent) == 0)
        {
            // Before anything left: the interface itself cannot send there (no route, no such source address).
            return new Outcome(remote, false, true, $"{remote}: cannot send from {facts.Name}: {TcpTransport.Describe(e.SocketErrorCode)}", null);
        }
        catch (SocketException e)
        {
            return Outcome.Icmp(remote, e.SocketErrorCode);
        }
        finally
        {
            foreach (var timer in timers)
            {
                await timer.DisposeAsync().ConfigureAwait(false);
            }

            await stop.CancelAsync().ConfigureAwait(false);
            if (receive is not null)
            {
                // A receive still pending ends with the cancellation; observe it before the socket goes.
                await receive.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Linux reports only "fatal" ICMP errors (port or protocol unreachable) to a connected UDP socket unless it asks
    /// for all of them (ip(7): "IP_RECVERR … all errors are queued"; for IPv6, IPV6_RECVERR): without it a router's
    /// network or host unreachable — the hard errors that matter here — would look like silence.
    /// </summary>
    internal static void ReportAllIcmpErrors(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var v6 = socket.AddressFamily == AddressFamily.InterNetworkV6;
        try
        {
            socket.SetRawSocketOption(v6 ? SolIpv6 : SolIp, v6 ? Ipv6RecvErr : IpRecvErr, BitConverter.GetBytes(1));
        }
        catch (SocketException)
        {
            // Not fatal: only port unreachable is reported then, and the rest is silence until the timeout.
        }
    }

    /// <summary>What was ignored, for the verdict: every reply counted, at most <see cref="IgnoredReplies.MaxReasons"/> distinct reasons named.</summary>
    private static string Ignored(IgnoredReplies ignored) =>
        ignored.Count == 0 ? "" : $"; ignored {ignored.Count} other {(ignored.Count == 1 ? "reply" : "replies")}: {ignored.Describe("; ")}";

    /// <summary>As <see cref="TcpTransport"/> pins its sockets: <c>SO_BINDTODEVICE</c> where the kernel allows, else the source address alone.</summary>
    private static void PinToDevice(Socket socket, string device)
    {
        if (Volatile.Read(ref s_deviceBindingRefused) == 0 && !TcpTransport.BindToDevice(socket, device))
        {
            Interlocked.Exchange(ref s_deviceBindingRefused, 1); // no root or CAP_NET_RAW: address binding alone from now on
        }
    }

    /// <summary>How the probe of one server endpoint ended.</summary>
    private sealed record Outcome(IPEndPoint Remote, bool Reachable, bool Blocked, string Detail, TimeSpan? Rtt)
    {
        public static Outcome Icmp(IPEndPoint remote, SocketError error) => new(remote, false, true, $"{remote}: {DescribeIcmp(error)}", null);

        public static Outcome Unknown(IPEndPoint remote, string detail) => new(remote, false, false, detail, null);
    }
}
