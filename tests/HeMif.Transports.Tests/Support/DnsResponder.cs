using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace HeMif.Transports.Tests.Support;

/// <summary>A query as the responder saw it (decoded by the responder's own minimal reader, not the codec under test).</summary>
internal sealed record ReceivedQuery(string Transport, IPEndPoint From, ushort Id, ushort Flags, string Name, ushort Type, ushort Class, int? EdnsPayloadSize);

/// <summary>What the responder does with a query for one (name, type).</summary>
internal abstract record DnsScript
{
    public static DnsScript Addresses(params string[] addresses) => new Answer(0, [.. addresses.Select(a => TestRecord.Address(a))]);

    public static DnsScript WithRecords(params TestRecord[] records) => new Answer(0, records);

    public static readonly DnsScript NoData = new Answer(0, []);
    public static readonly DnsScript NxDomain = new Answer(3, []);
    public static readonly DnsScript ServFail = new Answer(2, []);
    public static readonly DnsScript Refused = new Answer(5, []);
    public static readonly DnsScript Silence = new Silent();

    /// <summary>A negative answer (RCODE 3 NXDOMAIN, or 0 for NODATA) with these records in its authority section (RFC 2308 §2).</summary>
    public static DnsScript Negative(int rcode, params TestRecord[] authority) => new Answer(rcode, []) { Authority = authority };

    /// <summary>An answer with this RCODE and these records.</summary>
    public sealed record Answer(int Rcode, IReadOnlyList<TestRecord> Records) : DnsScript
    {
        /// <summary>The authority section's records (an SOA for a negative answer).</summary>
        public IReadOnlyList<TestRecord> Authority { get; init; } = [];
    }

    /// <summary>Over UDP: TC set and no records (RFC 2181 §9). Over TCP: <paramref name="OverTcp"/>.</summary>
    public sealed record Truncated(DnsScript OverTcp) : DnsScript;

    /// <summary>Waits <paramref name="Delay"/> on the responder's clock, then does <paramref name="Then"/>.</summary>
    public sealed record Delayed(TimeSpan Delay, DnsScript Then) : DnsScript;

    /// <summary>Never answers.</summary>
    public sealed record Silent : DnsScript;

    /// <summary>Over UDP, first sends a decoy that a careful stub must ignore, then does <paramref name="Then"/>.</summary>
    public sealed record DecoyFirst(Decoy Decoy, DnsScript Then) : DnsScript;

    /// <summary>Over UDP, first sends <paramref name="Count"/> datagrams, the i-th as <paramref name="Build"/> makes it, then does <paramref name="Then"/>.</summary>
    public sealed record Flood(int Count, Func<ReceivedQuery, int, byte[]> Build, DnsScript Then) : DnsScript;

    /// <summary>Sends whatever <paramref name="Build"/> makes of the query (garbage, odd cases, HTTPS records, ...).</summary>
    public sealed record Raw(Func<ReceivedQuery, byte[]> Build) : DnsScript;
}

/// <summary>Decoys sent before the right answer; each carries 192.0.2.66 or 2001:db8::bad, which no right answer has.</summary>
public enum Decoy
{
    /// <summary>An answer to the question with the ID plus one.</summary>
    WrongId,

    /// <summary>An answer to another name.</summary>
    WrongQuestion,

    /// <summary>An answer with the right ID and question, sent from another socket (another source port).</summary>
    WrongSource,

    /// <summary>Random bytes.</summary>
    Garbage,

    /// <summary>An answer with the right ID and question but QR clear.</summary>
    NotAResponse,
}

/// <summary>
/// A tiny in-process DNS server for tests: UDP and TCP (RFC 7766 length-prefixed) on a loopback address, scripted
/// per (name, type); anything unscripted gets REFUSED. It records every query it gets. Dispose it: every socket it
/// opened is closed and its loops end.
/// </summary>
internal sealed class DnsResponder : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<(string Name, ushort Type), DnsScript> _scripts = new();
    private readonly Channel<ReceivedQuery> _queries = Channel.CreateUnbounded<ReceivedQuery>();
    private readonly ConcurrentDictionary<Task, byte> _work = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private int _queryCount;

    private DnsResponder(IPAddress address, int port, TimeProvider time)
    {
        _time = time;
        _udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _udp.Bind(new IPEndPoint(address, port));
            var bound = (IPEndPoint)_udp.LocalEndPoint!;
            _tcp.Bind(bound);
            _tcp.Listen(16);
            EndPoint = bound;
        }
        catch
        {
            _udp.Dispose();
            _tcp.Dispose();
            throw;
        }

        _udpLoop = Task.Run(UdpLoopAsync);
        _tcpLoop = Task.Run(TcpLoopAsync);
    }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    public int QueryCount => Volatile.Read(ref _queryCount);

    /// <summary>Starts a responder on <paramref name="address"/> (loopback only) and <paramref name="port"/> (0: any).</summary>
    public static DnsResponder Start(IPAddress address, int port = 0, TimeProvider? time = null)
    {
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException("tests only ever use loopback addresses", nameof(address));
        }

        return new DnsResponder(address, port, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Responders on several loopback addresses sharing one port, as a resolver with one server port expects. The
    /// port comes from the first; if another address has it taken, all are closed and tried again.
    /// </summary>
    public static async Task<IReadOnlyList<DnsResponder>> StartManyAsync(TimeProvider? time, params string[] addresses)
    {
        for (var attempt = 0; ; attempt++)
        {
            var started = new List<DnsResponder>();
            try
            {
                foreach (var a in addresses)
                {
                    started.Add(Start(IPAddress.Parse(a), started.Count == 0 ? 0 : started[0].Port, time));
                }

                return started;
            }
            catch (SocketException) when (attempt < 20)
            {
                foreach (var r in started)
                {
                    await r.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Scripts the answer for (name, type); names match without regard to case.</summary>
    public DnsResponder On(string name, ushort type, DnsScript script)
    {
        _scripts[(name.ToLowerInvariant(), type)] = script;
        return this;
    }

    /// <summary>The next query received; fails the test (TimeoutException) if none comes within 10 s of real time.</summary>
    public async Task<ReceivedQuery> NextQueryAsync()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await _queries.Reader.ReadAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no query reached the responder on {EndPoint} within 10 s");
        }
    }

    /// <summary>Queries received but not yet taken by <see cref="NextQueryAsync"/>.</summary>
    public bool TryTakeQuery(out ReceivedQuery? query) => _queries.Reader.TryRead(out query);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        foreach (var c in _connections.Keys)
        {
            c.Dispose();
        }

        try
        {
            await Task.WhenAll([_udpLoop, _tcpLoop, .. _work.Keys]);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The loops end by having their sockets closed under them.
        }

        _stop.Dispose();
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65_535];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var from = (IPEndPoint)r.RemoteEndPoint;
            if (Decode(buffer.AsSpan(0, r.ReceivedBytes), "UDP", from) is not { } query)
            {
                continue;
            }

            // Count the query before answering it (a client that has its answer must see it counted), but start the
            // response (a delay arms its timer synchronously) before the test hears of the query, so a test that
            // advances a manual clock on hearing it never advances before the responder's timer exists.
            Interlocked.Increment(ref _queryCount);
            Track(RespondUdpAsync(query, ScriptFor(query)));
            Publish(query);
        }
    }

    private async Task TcpLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _tcp.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections[connection] = 0;
            Track(ServeTcpAsync(connection));
        }
    }

    private async Task ServeTcpAsync(Socket connection)
    {
        try
        {
            var prefix = new byte[2];
            while (await ReadExactlyAsync(connection, prefix))
            {
                var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                if (!await ReadExactlyAsync(connection, body))
                {
                    return;
                }

                if (Decode(body, "TCP", (IPEndPoint)connection.RemoteEndPoint!) is not { } query)
                {
                    return;
                }

                var script = ScriptFor(query);
                Interlocked.Increment(ref _queryCount);
                Publish(query);
                while (true)
                {
                    switch (script)
                    {
                        case DnsScript.Truncated t:
                            script = t.OverTcp;
                            continue;
                        case DnsScript.DecoyFirst d:
                            script = d.Then;
                            continue;
                        case DnsScript.Flood f:
                            script = f.Then;
                            continue;
                        case DnsScript.Delayed d:
                            await Task.Delay(d.Delay, _time, _stop.Token);
                            script = d.Then;
                            continue;
                    }

                    break;
                }

                if (Render(query, script, truncated: false) is { } answer)
                {
                    var framed = new byte[2 + answer.Length];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)answer.Length);
                    answer.CopyTo(framed, 2);
                    await connection.SendAsync(framed, SocketFlags.None, _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The client hung up or the responder is stopping.
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Dispose();
        }
    }

    private async Task RespondUdpAsync(ReceivedQuery query, DnsScript script)
    {
        try
        {
            while (true)
            {
                switch (script)
                {
                    case DnsScript.Delayed d:
                        await Task.Delay(d.Delay, _time, _stop.Token);
                        script = d.Then;
                        continue;
                    case DnsScript.DecoyFirst d:
                        await SendDecoyAsync(query, d);
                        script = d.Then;
                        continue;
                    case DnsScript.Flood f:
                        for (var i = 0; i < f.Count; i++)
                        {
                            await _udp.SendToAsync(f.Build(query, i), SocketFlags.None, query.From, _stop.Token);
                        }

                        script = f.Then;
                        continue;
                }

                break;
            }

            if (Render(query, script, truncated: script is DnsScript.Truncated) is { } answer)
            {
                await _udp.SendToAsync(answer, SocketFlags.None, query.From, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping.
        }
    }

    private async Task SendDecoyAsync(ReceivedQuery query, DnsScript.DecoyFirst d)
    {
        // Every decoy carries an address the right answer never has, so a stub that took one is caught.
        var bad = TestRecord.Address(query.Type == 28 ? "2001:db8::bad" : "192.0.2.66");
        var decoy = DnsResponses.Build(query.Id, query.Name, query.Type, 0, [bad]);
        switch (d.Decoy)
        {
            case Decoy.WrongId:
                var wrongId = (byte[])decoy.Clone();
                BinaryPrimitives.WriteUInt16BigEndian(wrongId, (ushort)(query.Id + 1));
                await _udp.SendToAsync(wrongId, SocketFlags.None, query.From, _stop.Token);
                break;
            case Decoy.WrongQuestion:
                var other = DnsResponses.Build(query.Id, "other." + query.Name, query.Type, 0, [bad]);
                await _udp.SendToAsync(other, SocketFlags.None, query.From, _stop.Token);
                break;
            case Decoy.WrongSource:
                using (var stranger = new Socket(EndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp))
                {
                    stranger.Bind(new IPEndPoint(EndPoint.Address, 0));
                    await stranger.SendToAsync(decoy, SocketFlags.None, query.From, _stop.Token);
                }

                break;
            case Decoy.Garbage:
                var garbage = new byte[37];
                Random.Shared.NextBytes(garbage);
                await _udp.SendToAsync(garbage, SocketFlags.None, query.From, _stop.Token);
                break;
            case Decoy.NotAResponse:
                var query0 = (byte[])decoy.Clone();
                query0[2] &= 0x7F;
                await _udp.SendToAsync(query0, SocketFlags.None, query.From, _stop.Token);
                break;
        }
    }

    private static byte[]? Render(ReceivedQuery query, DnsScript script, bool truncated) => script switch
    {
        DnsScript.Answer a => DnsResponses.Build(query.Id, query.Name, query.Type, a.Rcode, a.Records, authority: a.Authority),
        DnsScript.Truncated => DnsResponses.Build(query.Id, query.Name, query.Type, 0, [], truncated),
        DnsScript.Raw raw => raw.Build(query),
        _ => null, // silence
    };

    private DnsScript ScriptFor(ReceivedQuery query) =>
        _scripts.TryGetValue((query.Name.ToLowerInvariant(), query.Type), out var s) ? s : DnsScript.Refused;

    private static ReceivedQuery? Decode(ReadOnlySpan<byte> m, string transport, IPEndPoint from)
    {
        // Only what a stub sends: a 12-octet header, one uncompressed question, optionally one OPT record.
        if (m.Length < 17)
        {
            return null;
        }

        var id = BinaryPrimitives.ReadUInt16BigEndian(m);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(m[2..]);
        var arCount = BinaryPrimitives.ReadUInt16BigEndian(m[10..]);
        var name = new StringBuilder();
        var p = 12;
        while (p < m.Length && m[p] != 0)
        {
            var len = m[p];
            if (len > 63 || p + 1 + len >= m.Length)
            {
                return null;
            }

            if (name.Length > 0)
            {
                name.Append('.');
            }

            name.Append(Encoding.ASCII.GetString(m.Slice(p + 1, len)));
            p += 1 + len;
        }

        if (p + 5 > m.Length)
        {
            return null;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(m[(p + 1)..]);
        var cls = BinaryPrimitives.ReadUInt16BigEndian(m[(p + 3)..]);
        p += 5;
        int? edns = null;
        if (arCount == 1 && p + 11 <= m.Length && m[p] == 0 && BinaryPrimitives.ReadUInt16BigEndian(m[(p + 1)..]) == 41)
        {
            edns = BinaryPrimitives.ReadUInt16BigEndian(m[(p + 3)..]);
        }

        return new ReceivedQuery(transport, from, id, flags, name.ToString(), type, cls, edns);
    }

    private void Publish(ReceivedQuery query) => _queries.Writer.TryWrite(query);

    private void Track(Task task)
    {
        _work[task] = 0;
        _ = task.ContinueWith(t => _work.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
