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
/// With a stats file, the relay keeps its own record of what it did per direction (frames relayed, the
/// shortest and longest time a frame was held, frames released before their due time) and rewrites the
/// file every 100 ms: tests check the configured delays by that record, not by timing handshakes.
/// </summary>
internal static class TapRelay
{
    private const int MaxFrame = 65536;

    /// <summary>Frames waiting in one direction beyond this are dropped, as a full queue would.</summary>
    private const int MaxQueued = 4096;

    private static readonly TimeSpan StatsInterval = TimeSpan.FromMilliseconds(100);

    private sealed record Frame(byte[] Buffer, int Length, long ReadAt, long Due);

    /// <summary>
    /// What one direction did since the relay started. Written by that direction's writer thread only, read by the
    /// stats thread (a torn read between two fields costs nothing: the file is rewritten 100 ms later).
    /// </summary>
    private sealed class DirectionStats(string name, long delayTicks)
    {
        private long _frames;
        private long _minHeld = long.MaxValue;
        private long _maxHeld;
        private long _early;

        public string Name => name;

        public long DelayTicks => delayTicks;

        public void Relayed(long readAt, long due, long writtenAt)
        {
            var held = writtenAt - readAt;
            Volatile.Write(ref _minHeld, Math.Min(_minHeld, held));
            Volatile.Write(ref _maxHeld, Math.Max(_maxHeld, held));
            if (writtenAt < due)
            {
                Volatile.Write(ref _early, _early + 1);
            }

            Volatile.Write(ref _frames, _frames + 1);
        }

        /// <summary>One line: <c>NAME delay_ms=D frames=N min_held_ms=A max_held_ms=B early=E</c> (held: none while no frame).</summary>
        public string Line()
        {
            static string Ms(long ticks) => (ticks * 1000.0 / Stopwatch.Frequency).ToString("0.###", CultureInfo.InvariantCulture);
            var frames = Volatile.Read(ref _frames);
            var min = Volatile.Read(ref _minHeld);
            var max = Volatile.Read(ref _maxHeld);
            return string.Create(CultureInfo.InvariantCulture,
                $"{name} delay_ms={Ms(delayTicks)} frames={frames} min_held_ms={(frames == 0 ? "none" : Ms(min))} max_held_ms={(frames == 0 ? "none" : Ms(max))} early={Volatile.Read(ref _early)}");
        }
    }

    public static int Run(IReadOnlyList<LinkSpec> links, string? pidFile, string? statsFile = null)
    {
        if (links.Count == 0)
        {
            throw new UsageException("relay needs at least one --link");
        }

        var threads = new List<Thread>();
        var stats = new List<DirectionStats>();
        foreach (var link in links)
        {
            var a = Native.OpenTap(link.NamespaceA, link.DeviceA);
            var b = Native.OpenTap(link.NamespaceB, link.DeviceB);
            var delayTicks = (long)(link.OneWayDelay.TotalSeconds * Stopwatch.Frequency);
            threads.AddRange(Direction(a, b, new DirectionStats($"{link.DeviceA}>{link.DeviceB}@{link.NamespaceB}", delayTicks), stats));
            threads.AddRange(Direction(b, a, new DirectionStats($"{link.DeviceB}@{link.NamespaceB}>{link.DeviceA}", delayTicks), stats));
            Console.WriteLine($"relay {link.NamespaceA}/{link.DeviceA} <-> {link.NamespaceB}/{link.DeviceB}: {link.OneWayDelay.TotalMilliseconds} ms each way");
        }

        if (statsFile is not null)
        {
            threads.Add(new Thread(() => StatsLoop(statsFile, stats)) { IsBackground = true, Name = "stats" });
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

    private static Thread[] Direction(int from, int to, DirectionStats stats, List<DirectionStats> all)
    {
        all.Add(stats);
        var queue = new BlockingCollection<Frame>(new ConcurrentQueue<Frame>());
        var reader = new Thread(() => ReadLoop(from, queue, stats.DelayTicks, stats.Name)) { IsBackground = true, Name = "read " + stats.Name };
        var writer = new Thread(() => WriteLoop(to, queue, stats)) { IsBackground = true, Name = "write " + stats.Name, Priority = ThreadPriority.AboveNormal };
        return [reader, writer];
    }

    /// <summary>Rewrites <paramref name="path"/> every <see cref="StatsInterval"/> (write then rename: a reader never sees half a file).</summary>
    private static void StatsLoop(string path, List<DirectionStats> stats)
    {
        var temp = path + ".tmp";
        for (long round = 1; ; round++)
        {
            File.WriteAllLines(temp, [$"round={round}", .. stats.Select(s => s.Line())]);
            File.Move(temp, path, overwrite: true);
            Thread.Sleep(StatsInterval);
        }
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

                var readAt = Stopwatch.GetTimestamp();
                if (queue.Count >= MaxQueued)
                {
                    continue;
                }

                var copy = new byte[n];
                buffer.AsSpan(0, (int)n).CopyTo(copy);
                queue.Add(new Frame(copy, (int)n, readAt, readAt + delayTicks));
            }
        }
    }

    private static unsafe void WriteLoop(int fd, BlockingCollection<Frame> queue, DirectionStats stats)
    {
        foreach (var frame in queue.GetConsumingEnumerable())
        {
            WaitUntil(frame.Due);
            fixed (byte* p = frame.Buffer)
            {
                var releasedAt = Stopwatch.GetTimestamp();
                var n = Native.Write(fd, p, frame.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    // EIO: the peer device is down; the frame is lost as on a real link.
                    if (errno != 5)
                    {
                        Console.Error.WriteLine($"relay {stats.Name}: write failed, errno {errno}");
                    }
                }
                else
                {
                    stats.Relayed(frame.ReadAt, frame.Due, releasedAt);
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
