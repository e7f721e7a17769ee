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
}
