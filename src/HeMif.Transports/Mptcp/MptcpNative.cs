using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HeMif.Transports.Mptcp;

/// <summary>
/// The libc calls and kernel constants an MPTCP socket needs. .NET's <see cref="Socket"/> constructor rejects protocol
/// 262, so the socket is made with libc <c>socket()</c> and wrapped with <see cref="SafeSocketHandle"/>; everything
/// after that (bind, connect, getsockopt) goes through the ordinary <see cref="Socket"/>.
/// </summary>
internal static partial class MptcpNative
{
    /// <summary><c>IPPROTO_MPTCP</c> (linux/in.h).</summary>
    public const int IpProtoMptcp = 262;

    /// <summary><c>SOL_MPTCP</c> (linux/socket.h).</summary>
    public const int SolMptcp = 284;

    /// <summary><c>MPTCP_INFO</c>: <c>struct mptcp_info</c> (linux/mptcp.h).</summary>
    public const int MptcpInfo = 1;

    /// <summary><c>MPTCP_SUBFLOW_ADDRS</c> (Linux 5.16+): <c>struct mptcp_subflow_data</c>, then one <c>struct mptcp_subflow_addrs</c> per subflow.</summary>
    public const int MptcpSubflowAddrs = 3;

    /// <summary><c>MPTCP_FULL_INFO</c> (Linux 6.5+): <c>struct mptcp_full_info</c> with pointers to per-subflow arrays.</summary>
    public const int MptcpFullInfo = 4;

    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;

    // errno values (asm-generic/errno-base.h, asm-generic/errno.h).
    private const int Eperm = 1;
    private const int Eacces = 13;
    private const int Einval = 22;
    private const int Enoprotoopt = 92;
    private const int Eprotonosupport = 93;

    /// <summary>
    /// An MPTCP stream socket of <paramref name="family"/>, or null with why the kernel refused it: EPROTONOSUPPORT (no
    /// MPTCP in this kernel), ENOPROTOOPT (<c>net.mptcp.enabled=0</c> in this network namespace), EINVAL, or EPERM/EACCES
    /// (a security policy). Any other error (EMFILE…) is thrown: a plain TCP socket would fail the same way.
    /// </summary>
    public static Socket? TryCreate(AddressFamily family, out string? refusal)
    {
        refusal = null;
        if (!OperatingSystem.IsLinux())
        {
            refusal = "MPTCP sockets are Linux only here";
            return null;
        }

        var domain = family switch
        {
            AddressFamily.InterNetwork => AfInet,
            AddressFamily.InterNetworkV6 => AfInet6,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "MPTCP needs an IPv4 or IPv6 destination."),
        };
        var fd = socket(domain, SockStream | SockCloexec, IpProtoMptcp);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Eprotonosupport or Enoprotoopt or Einval or Eperm or Eacces)
            {
                refusal = Describe(errno);
                return null;
            }

            throw new SocketException(errno == 24 ? (int)SocketError.TooManyOpenSockets : (int)SocketError.SocketError);
        }

        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    /// <summary>An errno as the kernel's name, the C library's text, and what it usually means for MPTCP.</summary>
    internal static string Describe(int errno) => errno switch
    {
        Eprotonosupport => $"EPROTONOSUPPORT: {Marshal.GetPInvokeErrorMessage(errno)}; this kernel has no MPTCP (CONFIG_MPTCP)",
        Enoprotoopt => $"ENOPROTOOPT: {Marshal.GetPInvokeErrorMessage(errno)}; net.mptcp.enabled is 0 in this network namespace",
        Einval => $"EINVAL: {Marshal.GetPInvokeErrorMessage(errno)}",
        Eperm => $"EPERM: {Marshal.GetPInvokeErrorMessage(errno)}; a security policy forbids MPTCP sockets",
        Eacces => $"EACCES: {Marshal.GetPInvokeErrorMessage(errno)}; a security policy forbids MPTCP sockets",
        _ => $"errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}",
    };

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);
}
