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
/// With a control file (<c>lab.sh link</c> writes it), a link's delay and loss change while the relay runs: the chaos lab
/// (lab/chaos.sh) slows or thins Wi-Fi in the middle of a race. A shorter delay never reorders a direction: a frame
/// read later still waits behind the ones read before it.
/// </summary>
internal static class TapRelay
{
    private const int MaxFrame = 65536;

    /// <summary>Frames waiting in one direction beyond this are dropped, as a full queue would.</summary>
    private const int MaxQueued = 4096;

    private static readonly TimeSpan StatsInterval = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan ControlInterval = TimeSpan.FromMilliseconds(20);

    private sealed record Frame(byte[] Buffer, int Length, long ReadAt, long Due);

    /// <summary>One link's current delay and loss, shared by its two directions; set by the control thread only.</summary>
    private sealed class LinkControl(string device, long delayTicks)
    {
        private long _delayTicks = delayTicks;
        private int _lossPercent;

        public string Device => device;

        public long DelayTicks => Volatile.Read(ref _delayTicks);

        public int LossPercent => Volatile.Read(ref _lossPercent);

        public void Set(long delayTicks, int lossPercent)
        {
            Volatile.Write(ref _delayTicks, delayTicks);
            Volatile.Write(ref _lossPercent, lossPercent);
        }
    }

    /// <summary>
    /// What one direction did since the relay started. Written by that direction's writer thread only, read by the
    /// stats thread (a torn read between two fields costs nothing: the file is rewritten 100 ms later).
    /// </summary>
    private sealed class DirectionStats(string name, LinkControl control)
    {
        private long _frames;
        private long _minHeld = long.MaxValue;
        private long _maxHeld;
        private long _early;

        public string Name => name;

        public LinkControl Control => control;

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
            var delayTicks = control.DelayTicks;
            return string.Create(CultureInfo.InvariantCulture,
                $"{name} delay_ms={Ms(delayTicks)} loss_pct={control.LossPercent} frames={frames} min_held_ms={(frames == 0 ? "none" : Ms(min))} max_held_ms={(frames == 0 ? "none" : Ms(max))} early={Volatile.Read(ref _early)}");
        }
    }

    public static int Run(IReadOnlyList<LinkSpec> links, string? pidFile, string? statsFile = null, string? controlFile = null)
    {
        if (links.Count == 0)
        {
            throw new UsageException("relay needs at least one --link");
        }

        var threads = new List<Thread>();
        var stats = new List<DirectionStats>();
        var controls = new List<LinkControl>();
        foreach (var link in links)
        {
            var a = Native.OpenTap(link.NamespaceA, link.DeviceA);
            var b = Native.OpenTap(link.NamespaceB, link.DeviceB);
            var control = new LinkControl(link.DeviceA, Ticks(link.OneWayDelay.TotalMilliseconds));
            controls.Add(control);
            threads.AddRange(Direction(a, b, new DirectionStats($"{link.DeviceA}>{link.DeviceB}@{link.NamespaceB}", control), stats));
            threads.AddRange(Direction(b, a, new DirectionStats($"{link.DeviceB}@{link.NamespaceB}>{link.DeviceA}", control), stats));
            Console.WriteLine($"relay {link.NamespaceA}/{link.DeviceA} <-> {link.NamespaceB}/{link.DeviceB}: {link.OneWayDelay.TotalMilliseconds} ms each way");
        }

        if (statsFile is not null)
        {
            threads.Add(new Thread(() => StatsLoop(statsFile, stats)) { IsBackground = true, Name = "stats" });
        }

        if (controlFile is not null)
        {
            threads.Add(new Thread(() => ControlLoop(controlFile, controls)) { IsBackground = true, Name = "control" });
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
        var reader = new Thread(() => ReadLoop(from, queue, stats.Control, stats.Name)) { IsBackground = true, Name = "read " + stats.Name };
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

    private static long Ticks(double ms) => (long)(ms / 1000 * Stopwatch.Frequency);

    /// <summary>
    /// Reads <paramref name="path"/> every <see cref="ControlInterval"/> while it exists: one line per link,
    /// <c>DEVICE delay_ms=D loss_pct=P</c> (DEVICE: the link's first device, as in <c>--link</c>). A link the file does not
    /// name keeps what it has; a line that does not parse is reported once and ignored, so a bad write never stops a link.
    /// </summary>
    private static void ControlLoop(string path, List<LinkControl> controls)
    {
        string? last = null;
        while (true)
        {
            string? text = null;
            try
            {
                text = File.Exists(path) ? File.ReadAllText(path) : null;
            }
            catch (IOException)
            {
                // Being replaced (lab.sh writes a temporary file and renames it); read again next round.
            }

            if (text is not null && text != last)
            {
                last = text;
                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!TryParseControl(line, out var device, out var delayMs, out var loss))
                    {
                        Console.Error.WriteLine($"relay: control line '{line}' ignored: expected 'DEVICE delay_ms=D loss_pct=P' (D >= 0, P 0-100)");
                        continue;
                    }

                    foreach (var control in controls.Where(c => c.Device == device))
                    {
                        control.Set(Ticks(delayMs), loss);
                        Console.WriteLine($"relay {device}: now {delayMs} ms each way, {loss} % loss");
                    }
                }
            }

            Thread.Sleep(ControlInterval);
        }
    }

    private static bool TryParseControl(string line, out string device, out double delayMs, out int lossPercent)
    {
        device = "";
        delayMs = -1;
        lossPercent = -1;
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || !parts[1].StartsWith("delay_ms=", StringComparison.Ordinal) || !parts[2].StartsWith("loss_pct=", StringComparison.Ordinal))
        {
            return false;
        }

        device = parts[0];
        return double.TryParse(parts[1]["delay_ms=".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out delayMs) && delayMs >= 0
            && int.TryParse(parts[2]["loss_pct=".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out lossPercent) && lossPercent <= 100;
    }

    private static unsafe void ReadLoop(int fd, BlockingCollection<Frame> queue, LinkControl control, string name)
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

                var loss = control.LossPercent;
                if (loss > 0 && Random.Shared.Next(100) < loss)
                {
                    continue; // lost on the way, as on a lossy radio link
                }

                var copy = new byte[n];
                buffer.AsSpan(0, (int)n).CopyTo(copy);
                queue.Add(new Frame(copy, (int)n, readAt, readAt + control.DelayTicks));
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
