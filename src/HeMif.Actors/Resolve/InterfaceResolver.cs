using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif;

/// <summary>
/// Resolves a host through one interface's own DNS servers (draft §7.3: "A DNS answer may be only valid for a specific
/// provisioning domain"), so an answer learned on one interface is only ever used on that interface. The race asks once
/// per interface and family (RFC 8305 §3: AAAA and A in parallel).
/// <para>
/// What the engine expects (the contract suite in the repository's test kit checks it,
/// <c>HeMif.TestKit.Contracts.InterfaceResolverContract</c>): a network
/// failure (NXDOMAIN, SERVFAIL, a timeout, no server) is a <see cref="ResolveResult"/> with an error, never an
/// exception; cancellation ends it with <see cref="OperationCanceledException"/> and leaves no socket open; only
/// addresses of the family asked for are returned.
/// </para>
/// </summary>
public abstract class InterfaceResolver
{
    /// <summary>Resolves <paramref name="host"/> for one <paramref name="family"/> (<c>InterNetworkV6</c>: AAAA, <c>InterNetwork</c>: A) through <paramref name="networkInterface"/>.</summary>
    public abstract Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken);

    /// <summary>
    /// The interface's network, addresses or PvD changed, or it is gone from the host (then <paramref name="networkInterface"/>
    /// is down and has no addresses): answers cached for it came from the old provisioning domain (draft §7.3: "A DNS
    /// answer may be only valid for a specific provisioning domain") and must not be served again; a lookup through it
    /// that is under way must not cache what it gets either. The engine calls it from the interface's supervisor, at the
    /// moment it flushes that interface's outcome cache and before the interface is examined again, so it must return at
    /// once and not throw (an exception is reported as an internal failure and otherwise ignored). The default does
    /// nothing: right for a resolver that caches nothing.
    /// </summary>
    /// <param name="networkInterface">The interface's new facts (its name is the key of what to forget).</param>
    public virtual void OnInterfaceChanged(InterfaceFacts networkInterface)
    {
    }
}
