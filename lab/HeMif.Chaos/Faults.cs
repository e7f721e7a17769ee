namespace HeMif.Chaos;

/// <summary>A change of the Wi-Fi link's delay or loss through the relay (<c>lab.sh link</c>).</summary>
/// <param name="DelayMs">One-way delay.</param>
/// <param name="LossPercent">Frames lost, in percent.</param>
internal sealed record LinkChange(int DelayMs, int LossPercent);

/// <summary>
/// One fault of the mix: the lab switch in force when the race starts, and what changes while it runs (another switch,
/// or the Wi-Fi link's delay or loss) after <c>MidRaceDelayMs</c>. Every fault leaves cellular able to reach the
/// server, so every race must connect: a failure is a stranded user.
/// </summary>
/// <param name="Name">The row of the table.</param>
/// <param name="Switch">The lab switch at the start (lab.sh SWITCHES).</param>
/// <param name="MidRaceSwitch">The switch applied during the race, if any.</param>
/// <param name="MidRaceLink">The Wi-Fi link change applied during the race, if any.</param>
/// <param name="WifiWorks">Whether the Wi-Fi path reaches the server for the whole race (the time oracle's fastest path).</param>
/// <param name="WifiCaptive">Whether Wi-Fi is behind a captive portal from the start (no winner may be there).</param>
internal sealed record Fault(string Name, string Switch, string? MidRaceSwitch, LinkChange? MidRaceLink, bool WifiWorks, bool WifiCaptive)
{
    /// <summary>Whether the network changes while the race runs (the time oracle does not apply).</summary>
    public bool ChangesMidRace => MidRaceSwitch is not null || MidRaceLink is not null;

    /// <summary>The mix: steady faults, and faults that change while the race runs.</summary>
    public static IReadOnlyList<Fault> All { get; } =
    [
        new("healthy", "healthy", null, null, WifiWorks: true, WifiCaptive: false),
        new("wifi-blackholed", "wifi-broken", null, null, WifiWorks: false, WifiCaptive: false),
        new("wifi-rst", "wifi-reset", null, null, WifiWorks: false, WifiCaptive: false),
        new("wifi-icmp-unreachable", "wifi-hard-error", null, null, WifiWorks: false, WifiCaptive: false),
        new("wifi-dns-silent", "dns-broken-wifi", null, null, WifiWorks: false, WifiCaptive: false),
        new("wifi-captive-portal", "wifi-captive", null, null, WifiWorks: false, WifiCaptive: true),
        new("ipv6-broken", "v6-broken", null, null, WifiWorks: true, WifiCaptive: false),
        new("wifi-pulled", "wifi-down", null, null, WifiWorks: false, WifiCaptive: false),
        new("wifi-pulled-mid-race", "healthy", "wifi-down", null, WifiWorks: false, WifiCaptive: false),
        new("wifi-restored-mid-race", "wifi-down", "healthy", null, WifiWorks: false, WifiCaptive: false),
        new("wifi-blackholed-mid-race", "healthy", "wifi-broken", null, WifiWorks: false, WifiCaptive: false),
        new("wifi-portal-mid-race", "healthy", "wifi-captive", null, WifiWorks: false, WifiCaptive: false),
        new("wifi-slowed-mid-race", "healthy", null, new LinkChange(400, 0), WifiWorks: false, WifiCaptive: false),
        new("wifi-lossy-mid-race", "healthy", null, new LinkChange(10, 60), WifiWorks: false, WifiCaptive: false),
    ];
}

/// <summary>One race's draw from the seeded mix: the fault, when its mid-race change comes, and the mode.</summary>
/// <param name="Index">The race's number in the run, from 0.</param>
/// <param name="Fault">The fault.</param>
/// <param name="MidRaceDelayMs">Milliseconds after the race starts that the mid-race change is applied.</param>
/// <param name="FreshProcess">Whether this race runs in a fresh <c>hemif connect</c> process instead of the long-lived connector.</param>
internal sealed record Draw(int Index, Fault Fault, int MidRaceDelayMs, bool FreshProcess)
{
    /// <summary>
    /// The whole run's draws from <paramref name="seed"/>: the same seed gives the same faults in the same order (the
    /// races themselves depend on timing, so a violation is reproduced by its fault, not by its exact packets).
    /// </summary>
    public static IReadOnlyList<Draw> Plan(int seed, int races, int processRaces)
    {
        var random = new Random(seed);
        var draws = new List<Draw>(races + processRaces);
        // Fresh processes are spread through the run, so faults left behind by the long-lived connector's races meet them too.
        var every = processRaces == 0 ? int.MaxValue : Math.Max(1, (races + processRaces) / processRaces);
        var processesLeft = processRaces;
        for (var i = 0; i < races + processRaces; i++)
        {
            var fault = Fault.All[random.Next(Fault.All.Count)];
            var midRace = random.Next(0, 120);
            var fresh = processesLeft > 0 && (i % every == every - 1 || races + processRaces - i <= processesLeft);
            if (fresh)
            {
                processesLeft--;
            }

            draws.Add(new Draw(i, fault, midRace, fresh));
        }

        return draws;
    }
}
