using System.Runtime.InteropServices;
using System.Text;

namespace HeMif.Lab;

/// <summary>The few libc calls the relay needs: TAP devices and switching a thread's network namespace.</summary>
internal static partial class Native
{
    private const int ORdWr = 0x2;
    private const int ORdOnly = 0x0;
    private const int OCloExec = 0x80000;
    private const int CloneNewNet = 0x40000000;
    private const ulong TunSetIff = 0x400454ca;
    private const short IffTap = 0x0002;
    private const short IffNoPi = 0x1000;
    private const int IfNameSize = 16;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IfReq
    {
        public fixed byte Name[IfNameSize];
        public short Flags;
        private fixed byte padding[22];
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, ulong request, IfReq* request2);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, byte* buffer, nint count);

    /// <summary>
    /// Attaches to the TAP device <paramref name="device"/> of namespace <paramref name="netns"/>
    /// (a name under /run/netns). A TUN/TAP file belongs to the namespace it was opened in, so the calling
    /// thread enters that namespace, opens the device and comes back.
    /// </summary>
    public static unsafe int OpenTap(string netns, string device)
    {
        if (Encoding.UTF8.GetByteCount(device) >= IfNameSize)
        {
            throw new ArgumentException($"interface name '{device}' is longer than 15 bytes", nameof(device));
        }

        var self = Open("/proc/thread-self/ns/net", ORdOnly | OCloExec);
        if (self < 0)
        {
            throw Error("open /proc/thread-self/ns/net");
        }

        var target = Open($"/run/netns/{netns}", ORdOnly | OCloExec);
        if (target < 0)
        {
            var error = Error($"open /run/netns/{netns}");
            Close(self);
            throw error;
        }

        try
        {
            if (SetNs(target, CloneNewNet) != 0)
            {
                throw Error($"setns {netns}");
            }

            try
            {
                var fd = Open("/dev/net/tun", ORdWr | OCloExec);
                if (fd < 0)
                {
                    throw Error("open /dev/net/tun");
                }

                var request = default(IfReq);
                var name = Encoding.UTF8.GetBytes(device);
                for (var i = 0; i < name.Length; i++)
                {
                    request.Name[i] = name[i];
                }

                request.Flags = IffTap | IffNoPi;
                if (Ioctl(fd, TunSetIff, &request) != 0)
                {
                    var error = Error($"TUNSETIFF {device} in {netns}");
                    Close(fd);
                    throw error;
                }

                return fd;
            }
            finally
            {
                if (SetNs(self, CloneNewNet) != 0)
                {
                    // A thread left in another namespace would open the next device in the wrong place.
                    Environment.FailFast($"setns back to the relay's own namespace failed: errno {Marshal.GetLastPInvokeError()}");
                }
            }
        }
        finally
        {
            Close(target);
            Close(self);
        }
    }

    private static IOException Error(string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }
}
