using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Report;

namespace HeMif.Cli.Tests;

/// <summary>Race reports built by hand or from a seed, for the view's tests (the view reads nothing but the report).</summary>
internal static class RaceReports
{
    private static readonly string[] Names = ["wlan0", "rmnet0", "eth0", "a-very-long-interface-name0"];

    /// <summary>
    /// A report drawn from <paramref name="seed"/>: 0 to 30 attempts on up to four interfaces, starts and ends anywhere
    /// in a 30 s race (or all at zero), every result, hard and soft failures, plan events and exclusions. Not every
    /// generated report is one the engine could make (that is the point: the view must not depend on it).
    /// </summary>
    public static RaceReport Generate(int seed)
    {
        var random = new Random(seed);
        var raceLength = random.Next(4) switch
        {
            0 => TimeSpan.Zero,
            1 => TimeSpan.FromMilliseconds(random.NextDouble()),
            2 => TimeSpan.FromMilliseconds(random.Next(1, 3000)),
            _ => TimeSpan.FromSeconds(30),
        };
        var interfaces = Names.Take(random.Next(1, Names.Length + 1)).ToList();
        var events = new List<RaceEvent>();
        for (var rank = 0; rank < interfaces.Count; rank++)
        {
            if (random.Next(4) > 0)
            {
                events.Add(new RaceEvent(TimeSpan.Zero, "plan", $"rank {rank + 1}, score {30 - rank}: +{30 - rank} §4.2.5 common practice: Wifi", interfaces[rank]));
            }
        }

        var attempts = new List<AttemptReport>();
        var count = random.Next(4) == 0 ? 30 : random.Next(0, 8);
        var winner = random.Next(2) == 0 && count > 0 ? random.Next(count) : -1;
        for (var i = 0; i < count; i++)
        {
            var start = Fraction(random, raceLength);
            var end = random.Next(8) == 0 && i != winner ? (TimeSpan?)null : start + Fraction(random, raceLength - start);
            var result = i == winner ? "won" : end is null ? "running" : random.Next(3) switch { 0 => "failed", 1 => "cancelled", _ => "cancelled" };
            var error = result switch
            {
                "failed" => "connection refused",
                "cancelled" => random.Next(3) switch { 0 => "lost to #0", 1 => "no connection within the race timeout of 30000 ms", _ => "cancelled: by the caller" },
                _ => null,
            };
            var iface = interfaces[random.Next(interfaces.Count)];
            var v6 = random.Next(2) == 0;
            attempts.Add(new AttemptReport((ulong)i, iface, random.Next(4) == 0 ? "quic" : "tcp", v6 ? "ipv6" : "ipv4",
                v6 ? "[2001:db8:ffff::80]:443" : "192.0.2.80:443", start, end, result, error));
            events.Add(new RaceEvent(start, "attempt", $"#{i}: TCP on {iface}", iface));
            if (result == "failed")
            {
                events.Add(new RaceEvent(end!.Value, "attempt-failed", $"#{i}: connection refused ({(random.Next(2) == 0 ? "hard" : "soft")} error)", iface));
            }

            if (random.Next(3) == 0)
            {
                events.Add(new RaceEvent(start, "note", "QUIC unsupported on this host: TCP only", iface));
            }
        }

        var excluded = interfaces.Skip(1).Where(_ => random.Next(3) == 0)
            .Select(i => new ExcludedInterface(i, [new ExclusionReason(new RuleReference("builtin:validation", RuleSource.BuiltIn, PreferenceLevel.Prohibit), "not validated: CaptivePortal")]))
            .ToList();
        var won = winner >= 0 ? attempts[winner] : null;
        events.Add(new RaceEvent(raceLength, won is null ? "failed" : "won", "done"));
        return new RaceReport("www.example.com", 443, won is null ? RaceOutcome.Failed : RaceOutcome.Connected,
            won is null ? null : new WinnerReport(won.Interface, InterfaceKind.Wifi, won.Transport, won.Family, won.Remote),
            won?.End, Timings, attempts, excluded, events, won is null ? "every interface failed" : null);
    }

    /// <summary>A report with the given attempts and no events.</summary>
    public static RaceReport With(params AttemptReport[] attempts)
    {
        var won = attempts.FirstOrDefault(a => a.Result == "won");
        return new RaceReport("www.example.com", 443, won is null ? RaceOutcome.Failed : RaceOutcome.Connected,
            won is null ? null : new WinnerReport(won.Interface, InterfaceKind.Wifi, won.Transport, won.Family, won.Remote),
            won?.End, Timings, attempts, [], [], won is null ? "every interface failed" : null);
    }

    /// <summary>An attempt from <paramref name="startMs"/> to <paramref name="endMs"/>.</summary>
    public static AttemptReport Attempt(ulong id, string iface, double startMs, double? endMs, string result, string? error = null) =>
        new(id, iface, "tcp", "ipv6", "[2001:db8:ffff::80]:443", TimeSpan.FromMilliseconds(startMs),
            endMs is { } e ? TimeSpan.FromMilliseconds(e) : null, result, error);

    /// <summary>The default timings (RFC 8305 and draft §7.2 values the engine uses).</summary>
    public static RaceTimings Timings { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(50));

    private static TimeSpan Fraction(Random random, TimeSpan of) =>
        random.Next(5) == 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)(of.Ticks * random.NextDouble()));
}
