// Why this exchange is our own. The DNS libraries that restore here were tried for sending a query from a socket pinned
// to one interface (its source address and SO_BINDTODEVICE):
// - Makaretu.Dns 2.0.1 has no exchange (IResolver is an interface; nothing in it sends).
// - DnsClient 1.8.0's LookupClient creates its sockets inside DnsUdpMessageHandler and DnsTcpMessageHandler
//   (new Socket(...), new TcpClient(...)) and never binds them; LookupClientOptions has no local endpoint, device
//   or socket factory. A query through it cannot be pinned to an interface.
// - ARSoft.Tools.Net 3.6.1's DnsClient(servers, IClientTransport[], disposeTransports, queryTimeout) takes transports of
//   ours, and a spike did send its query from a socket we bound (127.0.0.1 with SO_BINDTODEVICE lo). But then the UDP
//   and the TCP transport, with their timeouts, are ours anyway, and what ARSoft would add does not fit: its parser
//   (see DnsMessage.cs); DnsClientBase swallows every failure (traced, next server), so a result could not say timeout,
//   ICMP refused, malformed or mismatched answer, which the notes and these tests need; its transports enforce
//   QueryTimeout (int milliseconds) with Task.WaitAsync on the wall clock, not the injected TimeProvider; it leaves out
//   IPv6 servers when the host has no global IPv6 address on another interface than loopback (a static check), where a
//   per-interface resolver must ask that interface's servers; on a truncated answer it does not ask the same server
//   over TCP but goes on down its list of connections (UDP to every other server first); and it parses a received
//   datagram from the whole receive buffer (DnsRawPackage.ToArraySegment ignores the received length), so a short
//   answer is read on into the buffer's zeros.
// So the exchange below stays ours: a new socket per query pinned by Pin, the RFC 5452 checks, UDP and then TCP to the
// same server on TC, every timeout on the injected TimeProvider.
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HeMif.Interfaces;
using HeMif.Resolve;

namespace HeMif.Transports.Resolve;

/// <summary>What one lookup through an interface's servers gave: the records of the asked type (after CNAMEs), or an error.</summary>
/// <param name="Records">The records; empty with no error is NODATA (RFC 2308 §2.2).</param>
/// <param name="Error">NXDOMAIN, SERVFAIL, REFUSED, timeout, ... in words; null on success.</param>
/// <param name="Note">Servers that failed first, ignored packets, pinning fallbacks, a cache hit; null when unremarkable.</param>
internal sealed record DnsLookup(IReadOnlyList<DnsRecord> Records, string? Error, string? Note);

/// <summary>
/// A small, strict DNS stub that asks one interface's own DNS servers from sockets pinned to that interface, so the
/// answer belongs to that interface's provisioning domain (draft §5.2.2: "Name resolution is executed on the validated
/// interfaces"; §7.3: "A DNS answer may be only valid for a specific provisioning domain"). Servers are tried in order (a server an RFC 6731
/// selection option names for the name's namespace first, <see cref="DnsServerChoice"/>):
/// UDP first, TCP when the answer is truncated, one timeout per query; NXDOMAIN ends the lookup, any other failure
/// moves on to the next server, and when every server failed the last failure is the result. When the interface's
/// servers are unknown the system resolver answers and the result's <see cref="ResolveResult.Note"/> says so. Answers
/// are cached per interface (<see cref="DnsCache"/>): positive ones for their TTL, negative ones per RFC 2308, and all of
/// an interface's are dropped when its network, addresses or PvD change (<see cref="OnInterfaceChanged"/>).
/// </summary>
internal sealed class DnsInterfaceResolver : InterfaceResolver
{
    /// <summary>The note on a result the system resolver gave because the interface's DNS servers are unknown.</summary>
    public const string SystemFallbackNote = "system resolver (interface DNS servers unknown)";

    private const int SolSocket = 1;
    private const int SoBindToDevice = 25;

    /// <summary>RFC 1035 §2.3.4 caps UDP messages at 512 octets without EDNS; with it, a UDP datagram can be 65,507.</summary>
    private const int ReceiveBufferSize = 65_535;

    private readonly InterfaceResolverOptions _options;
    private readonly TimeProvider _time;
    private readonly DnsCache _cache;
    private readonly ConcurrentDictionary<string, string> _deviceBindingRefused = new(StringComparer.Ordinal);

    /// <summary>Creates a resolver; time (for every timeout and the cache) comes from <paramref name="timeProvider"/>.</summary>
    public DnsInterfaceResolver(InterfaceResolverOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? new InterfaceResolverOptions();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.QueryTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.SystemResolverTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.Port, IPEndPoint.MaxPort);
        _time = timeProvider ?? TimeProvider.System;
        _cache = new DnsCache(_options.CacheCapacity, _options.MaxCacheTtl, _options.MaxNegativeCacheTtl, _time);
    }

    /// <summary>
    /// Interfaces whose <c>SO_BINDTODEVICE</c> was refused (usually: not root, no CAP_NET_RAW; or no such device),
    /// with the reason. Each is recorded once, noted on the first result, and from then on pinned by source address only.
    /// </summary>
    public IReadOnlyDictionary<string, string> DeviceBindingRefusals => _deviceBindingRefused;

    /// <summary>Entries in the answer cache.</summary>
    internal int CachedAnswers => _cache.Count;

    /// <inheritdoc/>
    public override async Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        ArgumentNullException.ThrowIfNull(host);
        var type = family switch
        {
            AddressFamily.InterNetwork => DnsType.A,
            AddressFamily.InterNetworkV6 => DnsType.Aaaa,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4 (A) and IPv6 (AAAA) are resolved"),
        };
        cancellationToken.ThrowIfCancellationRequested();

        // An address literal (IPv6 possibly in URI brackets, RFC 3986 §3.2.2) needs no DNS. IPAddress.TryParse also
        // reads "10" as 0.0.0.10, so only dotted quads and colon forms count as literals.
        var bare = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if ((bare.Contains(':', StringComparison.Ordinal) || bare.AsSpan().Count('.') == 3) && IPAddress.TryParse(bare, out var literal))
        {
            return new ResolveResult(literal.AddressFamily == family ? [literal] : []) { Note = "address literal" };
        }

        // RFC 6731: a server selected for the name's namespace counts even when the interface has no servers of its own.
        if (DnsServerChoice.For(networkInterface, host).Servers.Count == 0)
        {
            return await ResolveWithSystemAsync(host, family, cancellationToken).ConfigureAwait(false);
        }

        var lookup = await QueryAsync(networkInterface, host, type, cancellationToken).ConfigureAwait(false);
        if (lookup.Error is { } error)
        {
            return ResolveResult.Failure(error) with { Note = lookup.Note };
        }

        var addresses = new List<IPAddress>(lookup.Records.Count);
        foreach (var record in lookup.Records)
        {
            if (record is DnsAddressRecord a && a.Address.AddressFamily == family)
            {
                addresses.Add(a.Address);
            }
        }

        return new ResolveResult(addresses) { Note = lookup.Note };
    }

    /// <summary>
    /// Asks the interface's DNS servers for <paramref name="type"/> records of <paramref name="host"/> (A, AAAA, or
    /// HTTPS/SVCB for ALPN and address hints). Failures are results; only the caller's cancellation throws.
    /// </summary>
    internal async Task<DnsLookup> QueryAsync(InterfaceFacts networkInterface, string host, ushort type, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        cancellationToken.ThrowIfCancellationRequested();
        if (!DnsMessage.TryNormalizeName(host, out var name, out var invalid))
        {
            return new DnsLookup([], "invalid host name: " + invalid, null);
        }

        // RFC 6731 (draft §4.2.2): a server selected for the name's namespace is asked first; then the interface's own.
        var order = DnsServerChoice.For(networkInterface, name);
        if (order.Servers.Count == 0)
        {
            return new DnsLookup([], $"no DNS servers known for {networkInterface.Name}", null);
        }

        if (_cache.TryGet(networkInterface.Name, name, type, out var cached))
        {
            var left = $"{networkInterface.Name} ({cached.Remaining.TotalSeconds:0} s left)";
            return cached.Kind switch
            {
                CachedKind.Records => new DnsLookup(cached.Records, null, "cached answer from " + left),
                CachedKind.NoData => new DnsLookup([], null, "cached negative answer (NODATA, RFC 2308) from " + left),
                _ => new DnsLookup([], "NXDOMAIN", "cached negative answer (NXDOMAIN, RFC 2308) from " + left),
            };
        }

        // Read before asking: an answer that arrives after the interface changed network is not kept (OnInterfaceChanged).
        var generation = _cache.Generation(networkInterface.Name);

        var question = new DnsQuestion(name, type, DnsClass.In);
        var trail = new List<string>();
        if (order.Note is { } selected)
        {
            trail.Add(selected);
        }

        var lastError = "no DNS server answered";
        foreach (var server in order.Servers)
        {
            var (response, error) = await QueryServerAsync(networkInterface, server, question, trail, cancellationToken).ConfigureAwait(false);
            var where = new IPEndPoint(server, _options.Port).ToString();
            if (response is null)
            {
                lastError = error!;
                trail.Add($"{where}: {error}");
                continue;
            }

            switch (response.ResponseCode)
            {
                case DnsResponseCode.NoError:
                    var records = response.FollowChain(question, out var ttl, out var chainError);
                    if (chainError is not null)
                    {
                        lastError = "bad answer: " + chainError;
                        trail.Add($"{where}: {lastError}");
                        continue;
                    }

                    if (records.Count > 0)
                    {
                        _cache.Add(networkInterface.Name, name, type, records, ttl, generation);
                    }
                    else
                    {
                        // RFC 2308 §2.2 NODATA: cached for the SOA's negative TTL, not at all without an SOA (§5).
                        CacheNegative(networkInterface, name, type, response, question, CachedKind.NoData, generation);
                    }

                    return new DnsLookup(records, null, Join(trail));

                // RFC 1035 §4.1.1: "the domain name referenced in the query does not exist". Another server of the
                // same interface is in the same provisioning domain; asking it would only repeat the answer.
                case DnsResponseCode.NameError:
                    CacheNegative(networkInterface, name, type, response, question, CachedKind.NameError, generation);
                    return new DnsLookup([], "NXDOMAIN", Join(trail));

                // SERVFAIL, REFUSED and the rest are not negative answers (RFC 2308 §7.1: a resolver "MAY cache a server
                // failure response", for at most five minutes): not cached, so the next lookup, the next server and the
                // interface's next examination each ask again.
                default:
                    lastError = Describe(response.ResponseCode);
                    trail.Add($"{where}: {lastError}");
                    continue;
            }
        }

        return new DnsLookup([], lastError, Join(trail));
    }

    /// <inheritdoc/>
    /// <remarks>Drops the answers cached for the interface (positive and negative) and keeps a lookup under way from adding its own.</remarks>
    public override void OnInterfaceChanged(InterfaceFacts networkInterface)
    {
        ArgumentNullException.ThrowIfNull(networkInterface);
        _cache.Forget(networkInterface.Name);
    }

    /// <summary>A negative answer, kept for its RFC 2308 §5 negative TTL when its authority section has the zone's SOA.</summary>
    private void CacheNegative(InterfaceFacts networkInterface, string name, ushort type, DnsMessage response, DnsQuestion question, CachedKind kind, long generation)
    {
        if (response.NegativeTtl(question) is { } ttl)
        {
            _cache.AddNegative(networkInterface.Name, name, type, kind, ttl, generation);
        }
    }

    /// <summary>
    /// RFC 5452 §3: a response is accepted only if "The Question section of the reply packet is equivalent to that of
    /// a question packet currently waiting for a response" and "The ID field of the reply packet matches that of the
    /// question packet" (the address and port are checked by the caller). Returns why not, or null.
    /// </summary>
    internal static string? Mismatch(DnsMessage response, ushort id, DnsQuestion question)
    {
        if (!response.IsResponse)
        {
            return "not a response (QR clear)";
        }

        if (response.Id != id)
        {
            return "wrong ID";
        }

        if (response.Opcode != 0)
        {
            return "wrong opcode " + response.Opcode;
        }

        if (response.Questions.Count != 1)
        {
            return $"{response.Questions.Count} questions instead of 1";
        }

        var q = response.Questions[0];
        return DnsMessage.NamesEqual(q.Name, question.Name) && q.Type == question.Type && q.Class == question.Class
            ? null
            : $"wrong question ({q.Name} {DnsType.Name(q.Type)})";
    }

    /// <summary>
    /// The source address for a query to <paramref name="server"/>: one of the interface's own addresses of the
    /// server's family, preferring (as RFC 6724 §5 Rules 2 and 3 do) a matching scope and a non-deprecated address.
    /// </summary>
    internal static IPAddress? PickSourceAddress(InterfaceFacts networkInterface, IPAddress server)
    {
        IPAddress? best = null;
        var bestScore = -1;
        foreach (var a in networkInterface.Addresses)
        {
            if (a.Address.AddressFamily != server.AddressFamily)
            {
                continue;
            }

            var score = (a.Address.IsIPv6LinkLocal == server.IsIPv6LinkLocal ? 2 : 0) + (a.Deprecated ? 0 : 1);
            if (score > bestScore)
            {
                best = a.Address;
                bestScore = score;
            }
        }

        return best;
    }

    private static string? Join(List<string> trail) => trail.Count == 0 ? null : string.Join("; ", trail);

    private static string Describe(DnsResponseCode code) => code switch
    {
        DnsResponseCode.ServerFailure => "SERVFAIL",
        DnsResponseCode.Refused => "REFUSED",
        DnsResponseCode.FormatError => "FORMERR",
        DnsResponseCode.NotImplemented => "NOTIMP",
        _ => "RCODE " + ((int)code).ToString(CultureInfo.InvariantCulture),
    };

    private async Task<(DnsMessage? Response, string? Error)> QueryServerAsync(
        InterfaceFacts networkInterface, IPAddress server, DnsQuestion question, List<string> trail, CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(server, _options.Port);
        var source = PickSourceAddress(networkInterface, server);
        if (source is null)
        {
            // Without an address of its own in that family the query could only leave through another interface.
            return (null, $"no {(server.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address on {networkInterface.Name}");
        }

        // RFC 5452 §9.1: "Use an unpredictable query ID for outgoing queries, utilizing the full range available".
        var id = DnsMessage.NewId();
        var query = DnsMessage.CreateQuery(id, question.Name, question.Type, _options.UseEdns);
        var ignored = new IgnoredReplies();
        var transport = "UDP";
        try
        {
            var response = await ExchangeUdpAsync(networkInterface, source, endpoint, query, id, question, ignored, trail, cancellationToken).ConfigureAwait(false);
            NoteIgnored(trail, endpoint, ignored);
            if (!response.Truncated)
            {
                return (response, null);
            }

            // RFC 2181 §9: "When a DNS client receives a reply with TC set, it should ignore that response, and query
            // again, using a mechanism, such as a TCP connection, that will permit larger replies."
            transport = "TCP";
            trail.Add($"{endpoint}: truncated over UDP, retried over TCP");
            return await ExchangeTcpAsync(networkInterface, source, endpoint, query, id, question, trail, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Not the caller: our own per-query timeout.
            NoteIgnored(trail, endpoint, ignored);

            return (null, "timeout");
        }
        catch (SocketException e)
        {
            return (null, $"{transport} {e.SocketErrorCode}");
        }
    }

    /// <summary>Spoofed, mismatched or malformed responses are worth a line in the note, answered or not (RFC 5452 §3).</summary>
    private static void NoteIgnored(List<string> trail, IPEndPoint endpoint, IgnoredReplies ignored)
    {
        if (ignored.Count > 0)
        {
            trail.Add($"{endpoint}: ignored {ignored.Count} response(s): {ignored.Describe(", ")}");
        }
    }

    private async Task<DnsMessage> ExchangeUdpAsync(
        InterfaceFacts networkInterface, IPAddress source, IPEndPoint server, byte[] query, ushort id, DnsQuestion question,
        IgnoredReplies ignored, List<string> trail, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.QueryTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);

        // Port 0: the kernel picks an ephemeral port per socket, and a new socket per query gives RFC 5452 §9.1's
        // "unpredictable source port" and "multiple different source ports simultaneously".
        Pin(socket, networkInterface, source, trail);

        // A connected UDP socket also hears ICMP port unreachable, so a server that is not listening fails fast
        // (ConnectionRefused) instead of after the timeout; the kernel then drops datagrams from other peers too.
        await socket.ConnectAsync(server, token).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, token).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferSize);
        try
        {
            EndPoint any = server.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
            while (true)
            {
                var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, token).ConfigureAwait(false);

                // RFC 5452 §3: "The response comes from the same network address to which the question was sent" and
                // "comes in on the same network address, including port number, from which the question was sent".
                // Anything else is ignored, not fatal: a spoofer must not be able to end the query.
                if (!server.Equals(received.RemoteEndPoint))
                {
                    ignored.Add("from " + received.RemoteEndPoint);
                    continue;
                }

                var parsed = DnsMessage.Parse(buffer.AsSpan(0, received.ReceivedBytes));
                if (parsed.Message is not { } message)
                {
                    ignored.Add("malformed: " + parsed.Error);
                    continue;
                }

                if (Mismatch(message, id, question) is { } why)
                {
                    ignored.Add(why);
                    continue;
                }

                return message;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<(DnsMessage? Response, string? Error)> ExchangeTcpAsync(
        InterfaceFacts networkInterface, IPAddress source, IPEndPoint server, byte[] query, ushort id, DnsQuestion question,
        List<string> trail, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.QueryTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        Pin(socket, networkInterface, source, trail);
        await socket.ConnectAsync(server, token).ConfigureAwait(false);

        // RFC 1035 §4.2.2: "The message is prefixed with a two byte length field which gives the message length,
        // excluding the two byte length field." RFC 7766 §8: clients "SHOULD pass the two-octet length field, and the
        // message described by that length field, to the TCP layer at once".
        var framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        for (var sent = 0; sent < framed.Length;)
        {
            sent += await socket.SendAsync(framed.AsMemory(sent), SocketFlags.None, token).ConfigureAwait(false);
        }

        var prefix = new byte[2];
        if (!await ReceiveExactlyAsync(socket, prefix, token).ConfigureAwait(false))
        {
            return (null, "TCP connection closed before an answer");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        var body = new byte[length];
        if (!await ReceiveExactlyAsync(socket, body, token).ConfigureAwait(false))
        {
            return (null, $"TCP connection closed inside a {length}-octet answer");
        }

        var parsed = DnsMessage.Parse(body);
        if (parsed.Message is not { } message)
        {
            return (null, "malformed TCP answer: " + parsed.Error);
        }

        // On a stream there is nothing else to wait for: a mismatch is this server's failure.
        if (Mismatch(message, id, question) is { } why)
        {
            return (null, "TCP answer with " + why);
        }

        return message.Truncated ? (null, "truncated answer over TCP") : (message, null);
    }

    private static async Task<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    /// <summary>
    /// Pins a socket to the interface: <c>SO_BINDTODEVICE</c> on Linux where allowed (it needs root or CAP_NET_RAW),
    /// then the interface's own source address with port 0. A refusal is recorded once per interface, noted on that
    /// lookup, and not retried: address binding alone still selects the source, though routing then picks the link.
    /// </summary>
    private void Pin(Socket socket, InterfaceFacts networkInterface, IPAddress source, List<string> trail)
    {
        if (OperatingSystem.IsLinux() && !_deviceBindingRefused.ContainsKey(networkInterface.Name))
        {
            try
            {
                socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(networkInterface.Name + "\0"));
            }
            catch (SocketException e)
            {
                var reason = $"SO_BINDTODEVICE {networkInterface.Name} refused ({e.SocketErrorCode}): pinned by source address only";
                if (_deviceBindingRefused.TryAdd(networkInterface.Name, reason))
                {
                    trail.Add(reason);
                }
            }
        }

        socket.Bind(new IPEndPoint(source, 0));
    }

    private async Task<ResolveResult> ResolveWithSystemAsync(string host, AddressFamily family, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.SystemResolverTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var addresses = await _options.SystemResolver(host, family, linked.Token).ConfigureAwait(false);
            return new ResolveResult(addresses.Where(a => a.AddressFamily == family).ToList()) { Note = SystemFallbackNote };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ResolveResult.Failure("timeout") with { Note = SystemFallbackNote };
        }
        catch (SocketException e)
        {
            // getaddrinfo's EAI_NONAME / EAI_NODATA / EAI_AGAIN as .NET reports them.
            return e.SocketErrorCode switch
            {
                SocketError.NoData => new ResolveResult([]) { Note = SystemFallbackNote },
                SocketError.HostNotFound => ResolveResult.Failure("NXDOMAIN") with { Note = SystemFallbackNote },
                SocketError.TryAgain => ResolveResult.Failure("SERVFAIL") with { Note = SystemFallbackNote },
                _ => ResolveResult.Failure("system resolver: " + e.Message) with { Note = SystemFallbackNote },
            };
        }
        catch (ArgumentException e)
        {
            return ResolveResult.Failure("invalid host name: " + e.Message) with { Note = SystemFallbackNote };
        }
    }
}
