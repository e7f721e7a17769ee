using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace HeMif.Lab;

/// <summary>One delayed link: a TAP device in one namespace joined to a TAP device in another.</summary>
/// <param name="NamespaceA">The namespace (under /run/netns) of the first end.</param>
/// <param name="DeviceA">The TAP device in <paramref name="NamespaceA"/>.</param>
/// <param name="NamespaceB">The namespace of the second end.</param>
/// <param name="DeviceB">The TAP device in <paramref name="NamespaceB"/>.</param>
/// <param name="OneWayDelay">How long each frame is held, in each direction.</param>
internal sealed record LinkSpec(string NamespaceA, string DeviceA, string NamespaceB, string DeviceB, TimeSpan OneWayDelay)
{
    /// <summary>Parses <c>NSA:DEVA:NSB:DEVB:DELAYMS</c>.</summary>
    public static LinkSpec Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 5 || parts.Take(4).Any(string.IsNullOrEmpty)
            || !double.TryParse(parts[4], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || ms < 0)
        {
            throw new UsageException($"--link wants NSA:DEVA:NSB:DEVB:DELAYMS, got '{text}'");
        }

        return new LinkSpec(parts[0], parts[1], parts[2], parts[3], TimeSpan.FromMilliseconds(ms));
    }
}

/// <summary>
/// Delays frames in user space (this kernel has no sch_netem): each link is two TAP devices; a reader
/// thread per end stamps every frame with its due time, a writer thread per direction holds it until
/// then and writes it to the other end. One-way delay is constant, so each direction stays FIFO.
/// </summary>
internal static class TapRelay
{
    private const int MaxFrame = 65536;

    /// <summary>Frames waiting in one direction beyond this are dropped, as a full queue would.</summary>
    private const int MaxQueued = 4096;

    private sealed record Frame(byte[] Buffer, int Length, long Due);

    public static int Run(IReadOnlyList<LinkSpec> links, string? pidFile)
    {
        if (links.Count == 0)
        {
            throw new UsageException("relay needs at least one --link");
        }

        var threads = new List<Thread>();
        foreach (var link in links)
        {
            var a = Native.OpenTap(link.NamespaceA, link.DeviceA);
            var b = Native.OpenTap(link.NamespaceB, link.DeviceB);
            var delayTicks = (long)(link.OneWayDelay.TotalSeconds * Stopwatch.Frequency);
            threads.AddRange(Direction(a, b, delayTicks, $"{link.DeviceA}>{link.DeviceB}"));
            threads.AddRange(Direction(b, a, delayTicks, $"{link.DeviceB}>{link.DeviceA}"));
            Console.WriteLine($"relay {link.NamespaceA}/{link.DeviceA} <-> {link.NamespaceB}/{link.DeviceB}: {link.OneWayDelay.TotalMilliseconds} ms each way");
        }

        foreach (var thread in threads)
        {
            thread.Start();
        }

        if (pidFile is not null)
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }

        // The relay runs until it is killed (lab.sh down); its threads never end on their own.
        foreach (var thread in threads)
        {
            thread.Join();
        }

        return 0;
    }

    private static Thread[] Direction(int from, int to, long delayTicks, string name)
    {
        var queue = new BlockingCollection<Frame>(new ConcurrentQueue<Frame>());
        var reader = new Thread(() => ReadLoop(from, queue, delayTicks, name)) { IsBackground = true, Name = "read " + name };
        var writer = new Thread(() => WriteLoop(to, queue, name)) { IsBackground = true, Name = "write " + name, Priority = ThreadPriority.AboveNormal };
        return [reader, writer];
    }

    private static unsafe void ReadLoop(int fd, BlockingCollection<Frame> queue, long delayTicks, string name)
    {
        var buffer = new byte[MaxFrame];
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Native.Read(fd, p, buffer.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is 4 or 11)
                    {
                        continue; // EINTR, EAGAIN
                    }

                    Console.Error.WriteLine($"relay {name}: read failed, errno {errno}; link stops");
                    Environment.Exit(1);
                }

                var due = Stopwatch.GetTimestamp() + delayTicks;
                if (queue.Count >= MaxQueued)
                {
                    continue;
                }

                var copy = new byte[n];
                buffer.AsSpan(0, (int)n).CopyTo(copy);
                queue.Add(new Frame(copy, (int)n, due));
            }
        }
    }

    private static unsafe void WriteLoop(int fd, BlockingCollection<Frame> queue, string name)
    {
        foreach (var frame in queue.GetConsumingEnumerable())
        {
            WaitUntil(frame.Due);
            fixed (byte* p = frame.Buffer)
            {
                var n = Native.Write(fd, p, frame.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    // EIO: the peer device is down; the frame is lost as on a real link.
                    if (errno != 5)
                    {
                        Console.Error.WriteLine($"relay {name}: write failed, errno {errno}");
                    }
                }
            }
        }
    }

    /// <summary>Sleeps most of the way, then spins the last millisecond: Thread.Sleep alone overshoots by up to a tick.</summary>
    private static void WaitUntil(long due)
    {
        while (true)
        {
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return;
            }

            var ms = remaining * 1000 / Stopwatch.Frequency;
            if (ms > 1)
            {
                Thread.Sleep((int)(ms - 1));
            }
            else
            {
                Thread.SpinWait(50);
            }
        }
    }
}
