namespace HeMif;

/// <summary>
/// Opens one attempt: one handshake from one interface to one remote endpoint, handing back a <see cref="ConnectedPath"/>
/// (RFC 8305 §5: "a connection attempt" per address; HEv3 gives QUIC one resolved endpoint per attempt too, never a host
/// name). The race decides when and where; a transport only connects.
/// <para>
/// What the engine expects of every implementation (the contract suite in the repository's test kit checks it,
/// <c>HeMif.TestKit.Contracts.AttemptTransportContract</c>; docs/testing.md):
/// </para>
/// <list type="bullet">
/// <item>A failure is an <see cref="AttemptFailedException"/> whose <see cref="AttemptFailedException.Kind"/> says hard
/// (draft §7.2: "a hard error [RFC1122] in replied ICMP could serve as a trigger for the fallback process": RST, ICMP
/// unreachable, administratively prohibited) or soft (no answer, a timeout: the path may just be slow).</item>
/// <item>Cancellation ends the attempt with <see cref="OperationCanceledException"/> and releases everything it held;
/// a token already cancelled fails at once.</item>
/// <item>Nothing is left open: every failure and cancellation releases the socket; a connection handed back belongs
/// to the caller, who disposes it (the engine closes every loser).</item>
/// </list>
/// A transport is registered by its <see cref="Name"/> (<c>HeMifConnectorBuilder.AddTransport</c>); requests and policy
/// rules name the transports they may use.
/// </summary>
public abstract class AttemptTransport
{
    /// <summary>The name the registry, policy rules and reports use: <c>tcp</c>, <c>quic</c>, <c>mptcp</c>, <c>socks5</c>…</summary>
    public abstract TransportName Name { get; }

    /// <summary>
    /// Whether attempts run over UDP (as QUIC does). Two rules follow from it: HEv3 tries UDP-family transports before
    /// TCP-family ones where a request allows both ("the preference policy favors QUIC over TCP"), and what is learned
    /// of UDP/QUIC on a path (a QUIC path probe's verdict, a completed QUIC handshake) applies to them: where UDP/QUIC is
    /// known blocked on an interface, they are not tried there. Default: false.
    /// </summary>
    public virtual bool RunsOverUdp => false;

    /// <summary>
    /// Null when this host can open such connections; otherwise why not, in words (for the timeline, said once per
    /// race). A transport that is unsupported is never asked to connect. Default: null.
    /// </summary>
    public virtual string? UnsupportedReason => null;

    /// <summary>
    /// Opens one connection from <see cref="AttemptContext.Interface"/> to <see cref="AttemptContext.Remote"/>. Fails with
    /// <see cref="AttemptFailedException"/> (hard or soft); cancellation ends it with
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public abstract Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken);

    /// <summary>The transport's name.</summary>
    public override string ToString() => Name.ToString();
}
