using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HeMif.Discovery;

namespace HeMif.Transports.Discovery;

/// <summary>
/// Router Advertisements from a raw ICMPv6 socket per interface (Linux): <c>ICMP6_FILTER</c> passes type 134 only,
/// <c>SO_BINDTODEVICE</c> keeps the interface's own, <c>IPV6_RECVHOPLIMIT</c> brings the hop limit RFC 4861 §6.1.2
/// checks (read with <c>recvmsg</c>, which .NET's <see cref="Socket"/> does not expose for it). RAs go to the all-nodes
/// group ff02::1, which every IPv6 interface has joined. A raw socket needs root or CAP_NET_RAW: without them
/// <see cref="TryListen"/> says so and HeMif goes on without RA learning. The kernel has checked each packet's
/// checksum.
/// </summary>
internal sealed partial class RawIcmpv6Source : IRouterAdvertisementSource
{
    private const int IpProtoIcmpv6 = 58, Icmp6Filter = 1, SolSocket = 1, SoBindToDevice = 25;
    private const int IpProtoIpv6 = 41, Ipv6RecvHopLimit = 51, Ipv6HopLimit = 52;

    /// <summary>How often the receive loop looks whether it was stopped.</summary>
    private static readonly TimeSpan PollStep = TimeSpan.FromMilliseconds(200);

    public bool TryListen(string interfaceName, Action<ReceivedIcmpv6> received, out IDisposable? handle, out string? unavailable)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        ArgumentNullException.ThrowIfNull(received);
        handle = null;
        unavailable = null;
        if (!OperatingSystem.IsLinux())
        {
            unavailable = "Router Advertisements are read with a Linux raw ICMPv6 socket; this is not Linux";
            return false;
        }

        Socket socket;
        try
        {
            socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
        }
        catch (SocketException e)
        {
            unavailable = $"a raw ICMPv6 socket was refused ({e.SocketErrorCode}: {e.Message}); it needs root or CAP_NET_RAW, so Router Advertisements are not read and HeMif goes on without RA learning";
            return false;
        }

        try
        {
            // struct icmp6_filter: 256 bits, a set bit blocks the type (linux/icmpv6.h); all blocked but 134.
            var filter = new byte[32];
            Array.Fill(filter, (byte)0xFF);
            filter[RouterAdvertisementReader.Icmpv6RouterAdvertisement / 8] &= unchecked((byte)~(1 << (RouterAdvertisementReader.Icmpv6RouterAdvertisement % 8)));
            socket.SetRawSocketOption(IpProtoIcmpv6, Icmp6Filter, filter);
            socket.SetRawSocketOption(SolSocket, SoBindToDevice, [.. System.Text.Encoding.UTF8.GetBytes(interfaceName), 0]);
            socket.SetRawSocketOption(IpProtoIpv6, Ipv6RecvHopLimit, BitConverter.GetBytes(1));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            unavailable = $"the raw ICMPv6 socket for {interfaceName} could not be set up ({e.SocketErrorCode}: {e.Message})";
            return false;
        }

        var listener = new Listener(socket, received);
        handle = listener;
        return true;
    }

    private sealed class Listener : IDisposable
    {
        private readonly Socket _socket;
        private readonly Action<ReceivedIcmpv6> _received;
        private readonly Thread _thread;
        private volatile bool _stopped;

        public Listener(Socket socket, Action<ReceivedIcmpv6> received)
        {
            _socket = socket;
            _received = received;
            _thread = new Thread(Run) { IsBackground = true, Name = "HeMif RA listener" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stopped = true;
            if (Thread.CurrentThread != _thread)
            {
                _thread.Join(PollStep * 5);
            }

            _socket.Dispose();
        }

        private void Run()
        {
            var buffer = new byte[65_536];
            while (!_stopped)
            {
                try
                {
                    if (!_socket.Poll(PollStep, SelectMode.SelectRead) || _stopped)
                    {
                        continue;
                    }

                    if (Receive(_socket, buffer) is { } packet)
                    {
                        _received(packet);
                    }
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException)
                {
                    // A transient receive error: the next packet may be fine; a closed socket ends the loop above.
                }
            }
        }
    }

    /// <summary>One <c>recvmsg</c>: the packet with its source and the hop limit from the IPV6_HOPLIMIT control message.</summary>
    private static unsafe ReceivedIcmpv6? Receive(Socket socket, byte[] buffer)
    {
        var name = stackalloc byte[28]; // struct sockaddr_in6
        var control = stackalloc byte[64];
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new MsgHdr { Name = name, NameLength = 28, Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            var n = recvmsg((int)socket.Handle, &msg, 0x40 /* MSG_DONTWAIT */);
            if (n < 0)
            {
                return null;
            }

            var address = new IPAddress(new ReadOnlySpan<byte>(name + 8, 16), BitConverter.ToUInt32(new ReadOnlySpan<byte>(name + 24, 4)));
            var hopLimit = -1;
            for (var at = 0; at + 16 <= (int)msg.ControlLength;)
            {
                var length = (int)*(nuint*)(control + at);
                var level = *(int*)(control + at + 8);
                var type = *(int*)(control + at + 12);
                if (length < 16)
                {
                    break;
                }

                if (level == IpProtoIpv6 && type == Ipv6HopLimit)
                {
                    hopLimit = *(int*)(control + at + 16);
                }

                at += (length + 7) & ~7;
            }

            return new ReceivedIcmpv6(address, hopLimit, buffer.AsSpan(0, (int)n).ToArray());
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recvmsg(int socket, MsgHdr* message, int flags);
}
