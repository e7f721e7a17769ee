using System.Net;
using System.Net.Sockets;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// Whether this kernel gives MPTCP sockets (Linux 5.6+ with net.mptcp.enabled=1). Where it does not, the MPTCP loopback
/// tests are reported as skipped with the kernel's answer, except under CI=true, where they run and fail with it.
/// </summary>
public static class MptcpSupport
{
    private static readonly Lazy<string?> MissingOnce = new(() =>
    {
        using var socket = MptcpNative.TryCreate(AddressFamily.InterNetwork, out var refusal);
        return socket is null ? "could not run: this host gives no MPTCP socket (" + refusal + ")" : null;
    });

    /// <summary>Why MPTCP loopback tests cannot run here, or null.</summary>
    public static string? Missing => MissingOnce.Value;

    /// <summary>An MPTCP listening socket on <paramref name="address"/>, port 0.</summary>
    internal static Socket Listen(IPAddress address)
    {
        var socket = MptcpNative.TryCreate(address.AddressFamily, out var refusal) ?? throw new InvalidOperationException("no MPTCP socket: " + refusal);
        socket.Bind(new IPEndPoint(address, 0));
        socket.Listen(16);
        return socket;
    }
}

/// <summary>A test that needs MPTCP sockets from this kernel: skipped with the kernel's answer where there are none (never under CI).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class MptcpFactAttribute : FactAttribute
{
    public MptcpFactAttribute()
    {
        if (MptcpSupport.Missing is { } why && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = why;
        }
    }
}
