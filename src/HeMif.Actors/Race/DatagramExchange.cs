using System.Net;

namespace HeMif;

/// <summary>
/// Says whether a datagram that came back is the response to this request. UDP has no connection, so only the
/// application can tell its response from anything else arriving on the socket (a stale answer to an earlier request,
/// a spoofed one): it checks what its protocol puts there, a request identifier for instance (DNS's ID, a nonce).
/// Called for every datagram that arrives from the remote endpoint the request was sent to; it must be fast, must not
/// keep <paramref name="response"/>, and should not throw (a throw counts as "not a match").
/// </summary>
/// <param name="response">The datagram that arrived.</param>
/// <returns>True when it is the response to this request.</returns>
public delegate bool ResponseMatcher(ReadOnlySpan<byte> response);

/// <summary>
/// A request/response exchange over UDP (draft §7.1: "For connectionless transport protocols (e.g., UDP), a similar
/// mechanism can be used if the application has request/response semantics"): the request datagram and how to
/// recognise its response. The race hands it to the attempts of the <c>udp</c> transport in
/// <see cref="AttemptContext.Exchange"/>; each attempt sends the request from its interface to its one remote endpoint,
/// resends it on the backoff below, and succeeds with the first matching response.
/// <para>
/// The retransmission backoff on one path (docs/exchange.md): the request goes out at once, then again after
/// <see cref="InitialRetransmissionTimeout"/>, and after each further wait twice as long as the last, at most
/// <see cref="MaxSends"/> times in all (at 0, 1, 3 and 7 s); an attempt with no answer
/// <see cref="FinalWait"/> after its last send fails softly. As RFC 6298 §2.1 says for a path with no measurement
/// ("the sender SHOULD set RTO &lt;- 1 second") and §5.5 for each loss ("The host MUST set RTO &lt;- RTO * 2 ("back off
/// the timer")"), the schedule HeMif's TCP SYNs and QUIC Initials follow in the simulator too.
/// </para>
/// </summary>
public sealed class DatagramExchange
{
    /// <summary>The largest request: the largest UDP payload IPv4 carries (65,535 less a 20-byte IPv4 header and the 8-byte UDP header).</summary>
    public const int MaxRequestBytes = 65_507;

    /// <summary>How many times one attempt sends the request at most (the first send and three retransmissions).</summary>
    public const int MaxSends = 4;

    /// <summary>The wait before the first retransmission: RFC 6298 §2.1's initial RTO, 1 s.</summary>
    public static readonly TimeSpan InitialRetransmissionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long an attempt waits after its last send before it fails softly: the next doubling, 8 s.</summary>
    public static readonly TimeSpan FinalWait = RetransmissionWait(MaxSends);

    /// <summary>Creates an exchange.</summary>
    /// <param name="request">The request datagram: 1 to <see cref="MaxRequestBytes"/> bytes.</param>
    /// <param name="matcher">Recognises the response.</param>
    /// <exception cref="ArgumentException">The request is empty or longer than <see cref="MaxRequestBytes"/>.</exception>
    public DatagramExchange(ReadOnlyMemory<byte> request, ResponseMatcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        if (request.Length is 0 or > MaxRequestBytes)
        {
            throw new ArgumentException($"The request datagram must be 1 to {MaxRequestBytes} bytes; got {request.Length}.", nameof(request));
        }

        Request = request;
        Matcher = matcher;
    }

    /// <summary>The request datagram.</summary>
    public ReadOnlyMemory<byte> Request { get; }

    /// <summary>Recognises the response.</summary>
    public ResponseMatcher Matcher { get; }

    /// <summary>
    /// The wait after send number <paramref name="sent"/> (1-based) before the next one: 1 s after the first, then
    /// doubling (2 s, 4 s; after the last, <see cref="FinalWait"/>, 8 s).
    /// </summary>
    public static TimeSpan RetransmissionWait(int sent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sent, MaxSends);
        return InitialRetransmissionTimeout * (1L << (sent - 1));
    }

    /// <summary>Whether <paramref name="response"/> matches; a matcher that throws does not match.</summary>
    internal bool Matches(ReadOnlySpan<byte> response)
    {
        try
        {
            return Matcher(response);
        }
#pragma warning disable CA1031 // The application's matcher: whatever it throws means "not this one", never a failed attempt.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}

/// <summary>
/// What a <c>udp</c> attempt hands back when its response came: the response and where and how it came. Nothing is left
/// open (the attempt's socket is closed once the response is in): disposing it does nothing. Its
/// <see cref="ConnectedPath.Stream"/> reads the response.
/// </summary>
internal sealed class DatagramAnswer : ConnectedPath
{
    private readonly MemoryStream _stream;

    /// <summary>Creates the answer.</summary>
    /// <param name="response">The matching response.</param>
    /// <param name="local">The local endpoint the request left from.</param>
    /// <param name="remote">The remote endpoint the request went to and the response came from.</param>
    /// <param name="sends">How many times this attempt sent the request.</param>
    /// <param name="ignored">How many datagrams it ignored because they did not match.</param>
    /// <param name="ignoredReasons">Why, in words (at most a few reasons), or empty.</param>
    public DatagramAnswer(byte[] response, IPEndPoint? local, IPEndPoint remote, int sends, int ignored, string ignoredReasons)
    {
        Response = response;
        _stream = new MemoryStream(response, writable: false);
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        Sends = sends;
        Ignored = ignored;
        IgnoredReasons = ignoredReasons;
    }

    /// <summary>The matching response.</summary>
    public byte[] Response { get; }

    /// <summary>How many times the attempt sent the request (1 when the first send was answered).</summary>
    public int Sends { get; }

    /// <summary>Datagrams the attempt ignored because the matcher did not take them.</summary>
    public int Ignored { get; }

    /// <summary>Why they were ignored, in words, or empty.</summary>
    public string IgnoredReasons { get; }

    public override IPEndPoint? LocalEndPoint { get; }

    public override IPEndPoint RemoteEndPoint { get; }

    public override Stream Stream => _stream;

    public override ValueTask DisposeAsync()
    {
        _stream.Dispose();
        return ValueTask.CompletedTask;
    }
}
