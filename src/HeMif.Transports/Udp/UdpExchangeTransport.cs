using System.Net;
using System.Net.Sockets;
using HeMif.Transports.Quic;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tcp;

namespace HeMif.Transports.Udp;

/// <summary>
/// The <c>udp</c> transport: one attempt of a request/response exchange (draft §7.1: "For connectionless transport
/// protocols (e.g., UDP), a similar mechanism can be used if the application has request/response semantics"). One
/// UDP socket pinned to the attempt's interface as TCP attempts are (the interface's source address for the remote,
/// RFC 6724 §5, and on Linux <c>SO_BINDTODEVICE</c> where the kernel allows it), connected to the one remote endpoint:
/// <list type="bullet">
/// <item>the kernel then delivers only datagrams from that address and port: a response from any other source never
/// reaches the matcher;</item>
/// <item>an ICMP error comes back on the socket (with <c>IP_RECVERR</c>, all of them: port, host and network
/// unreachable, administratively prohibited): a hard error (draft §7.2), so the race falls back at once;</item>
/// <item>datagrams the application's matcher does not take are counted and ignored, and the attempt listens on;</item>
/// <item>the request is resent on <see cref="DatagramExchange"/>'s backoff (at 0, 1, 3 and 7 s); with no answer 8 s
/// after the last send the attempt fails softly.</item>
/// </list>
/// The socket is closed on every path, success included (the response is in the answer), so nothing is left open and a
/// response that comes after the race is decided is never read.
/// </summary>
internal sealed class UdpExchangeTransport(TimeProvider time) : AttemptTransport
{
    private int _deviceBindingRefused;

    public override TransportName Name => TransportName.Udp;

    /// <summary>
    /// True: what is known of UDP on a path applies (a QUIC path probe that got an answer there says UDP gets through;
    /// where UDP/QUIC is known blocked on an interface for this destination the exchange is not tried there).
    /// </summary>
    public override bool RunsOverUdp => true;

    /// <summary>Whether the kernel refused SO_BINDTODEVICE at least once (attempts then used address binding only).</summary>
    public bool DeviceBindingRefused => Volatile.Read(ref _deviceBindingRefused) != 0;

    public override async Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        var exchange = context.Exchange ?? throw new AttemptFailedException(AttemptFailureKind.Hard,
            $"the udp transport carries request/response exchanges only (IHeMifConnector.ExchangeAsync); this attempt has no request datagram ({context})");
        var networkInterface = context.Interface;
        var remote = context.Remote;
        var source = context.SourceAddress;
        if (source is null && networkInterface.Addresses.Count > 0)
        {
            throw new AttemptFailedException(AttemptFailureKind.Hard,
                $"{networkInterface.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address to send to {remote} from");
        }

        var ignored = new IgnoredReplies();
        var sent = 0;
        using var socket = new Socket(remote.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sendFailed = new TaskCompletionSource<SocketException>(TaskCreationOptions.RunContinuationsAsynchronously);
        var timers = new List<ITimer>();
        Task<int>? receive = null;
        try
        {
            if (!TcpTransport.BindToDevice(socket, networkInterface.Name))
            {
                Interlocked.Exchange(ref _deviceBindingRefused, 1); // address binding alone, as TCP does then
            }

            QuicVersionProbe.ReportAllIcmpErrors(socket);
            socket.Bind(new IPEndPoint(source ?? (remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), 0));
            socket.Connect(remote);
            var request = exchange.Request.ToArray();
            // The retransmissions and the final deadline go on the clock, armed before the first send so that a virtual
            // clock sees every timer by the time anyone can have seen the request.
            var at = TimeSpan.Zero;
            for (var n = 1; n <= DatagramExchange.MaxSends; n++)
            {
                at += DatagramExchange.RetransmissionWait(n);
                timers.Add(n < DatagramExchange.MaxSends
                    ? time.CreateTimer(_ => Send(socket, request, ref sent, sendFailed), null, at, Timeout.InfiniteTimeSpan)
                    : time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), stop, at, Timeout.InfiniteTimeSpan));
            }

            socket.Send(request);
            Interlocked.Increment(ref sent);
            var buffer = new byte[65536];
            while (true)
            {
                receive = socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token).AsTask();
                if (await Task.WhenAny(receive, sendFailed.Task).ConfigureAwait(false) != receive)
                {
                    throw Icmp((await sendFailed.Task.ConfigureAwait(false)).SocketErrorCode, context);
                }

                var length = await receive.ConfigureAwait(false);
                receive = null;
                if (!exchange.Matches(buffer.AsSpan(0, length)))
                {
                    ignored.Add($"a {length}-byte datagram the matcher did not take");
                    continue; // not the response: keep listening until the deadline
                }

                return new DatagramAnswer(buffer.AsSpan(0, length).ToArray(), socket.LocalEndPoint as IPEndPoint, remote, Volatile.Read(ref sent),
                    ignored.Count, ignored.Describe("; "));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AttemptFailedException(AttemptFailureKind.Soft,
                $"no answer from {remote} on {networkInterface.Name} ({Volatile.Read(ref sent)} sends at 0, 1, 3 and 7 s, then {DatagramExchange.FinalWait.TotalSeconds:0} s){Ignored(ignored)}");
        }
        catch (SocketException e) when (Volatile.Read(ref sent) == 0)
        {
            // Before anything left: the interface itself cannot send there (no route, no such source address).
            throw new AttemptFailedException(TcpTransport.Classify(e.SocketErrorCode),
                $"cannot send to {remote} from {networkInterface.Name}: {TcpTransport.Describe(e.SocketErrorCode)}", e);
        }
        catch (SocketException e)
        {
            throw Icmp(e.SocketErrorCode, context, ignored, e);
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

    /// <summary>One retransmission from a timer; Linux reports an ICMP error on whichever call comes next, so a send may see it.</summary>
    private static void Send(Socket socket, byte[] request, ref int sent, TaskCompletionSource<SocketException> sendFailed)
    {
        try
        {
            socket.Send(request);
            Interlocked.Increment(ref sent);
        }
        catch (SocketException e)
        {
            sendFailed.TrySetResult(e);
        }
        catch (ObjectDisposedException)
        {
            // the attempt ended between the timer firing and the send
        }
    }

    /// <summary>An ICMP error on the connected socket: hard when it is unreachable or prohibited (draft §7.2), in words.</summary>
    private static AttemptFailedException Icmp(SocketError error, AttemptContext context, IgnoredReplies? ignored = null, Exception? inner = null) =>
        new(TcpTransport.Classify(error), $"{QuicVersionProbe.DescribeIcmp(error)} ({context.Remote} on {context.Interface.Name}){(ignored is null ? "" : Ignored(ignored))}", inner);

    private static string Ignored(IgnoredReplies ignored) =>
        ignored.Count == 0 ? "" : $"; ignored {ignored.Count} {(ignored.Count == 1 ? "datagram" : "datagrams")} that did not match: {ignored.Describe("; ")}";
}
