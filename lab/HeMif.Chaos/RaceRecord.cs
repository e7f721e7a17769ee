namespace HeMif.Chaos;

/// <summary>
/// One race as the chaos lab saw it, from either mode (the connector's <c>RaceReport</c>, or the JSON a fresh
/// <c>hemif connect</c> printed), plus what the kernel said around it.
/// </summary>
internal sealed record RaceRecord
{
    public required Draw Draw { get; init; }

    /// <summary>Whether the race connected.</summary>
    public required bool Connected { get; init; }

    public string? WinnerInterface { get; init; }

    public string? WinnerRemote { get; init; }

    /// <summary>Attempts the report marks won.</summary>
    public int WonAttempts { get; init; }

    /// <summary>Interfaces the report names: in attempts, exclusions, or timeline events.</summary>
    public IReadOnlySet<string> NamedInterfaces { get; init; } = new HashSet<string>();

    /// <summary>Interfaces with at least one attempt.</summary>
    public IReadOnlySet<string> AttemptInterfaces { get; init; } = new HashSet<string>();

    public string? Failure { get; init; }

    /// <summary>The race's own time to connect.</summary>
    public double? TimeToConnectMs { get; init; }

    public double FallbackDelayMs { get; init; }

    public double AttemptDelayMs { get; init; }

    /// <summary>Frames sent on the prohibited interface during the race.</summary>
    public long ProhibitedPackets { get; init; }

    /// <summary>What the kernel showed of leftover sockets, when something was left (null: nothing).</summary>
    public string? Leak { get; init; }

    /// <summary>Why the race could not be run or read (a driver problem, reported as a violation).</summary>
    public string? Error { get; init; }

    /// <summary>The outcome column of the table: the winner's interface, or failed.</summary>
    public string Outcome => Error is not null ? "error" : Connected ? $"won {WinnerInterface}" : "failed";
}

/// <summary>One broken invariant.</summary>
/// <param name="Race">The race's number.</param>
/// <param name="Fault">Its fault.</param>
/// <param name="Invariant">Which invariant (the names docs/chaos.md lists).</param>
/// <param name="Detail">What was seen.</param>
internal sealed record Violation(int Race, string Fault, string Invariant, string Detail);

/// <summary>The invariants every race is checked against (docs/chaos.md).</summary>
internal static class Invariants
{
    /// <summary>
    /// Every invariant this race broke. A winner toward any address but the server's (the portal's) is behind a captive
    /// portal; the time oracle applies only to faults that do not change during the race.
    /// </summary>
    public static IReadOnlyList<Violation> Check(RaceRecord race, LabControl lab, IReadOnlyList<string> interfaces, double slackMs)
    {
        var found = new List<Violation>();
        void Add(string invariant, string detail) => found.Add(new Violation(race.Draw.Index, race.Draw.Fault.Name, invariant, detail));
        if (race.Error is not null)
        {
            Add("ran", race.Error);
            return found;
        }

        // Every fault of the mix leaves cellular working, so a failure strands the user.
        if (!race.Connected)
        {
            Add("one-winner", $"the race failed although cellular worked: {race.Failure}");
            var missing = interfaces.Where(i => !race.NamedInterfaces.Contains(i)).ToList();
            if (string.IsNullOrWhiteSpace(race.Failure) || missing.Count > 0)
            {
                Add("failure-lists-everything", $"the failure does not account for {string.Join(", ", missing)} (failure: '{race.Failure}')");
            }
        }
        else if (race.WonAttempts != 1 || race.WinnerInterface is null)
        {
            Add("one-winner", $"{race.WonAttempts} attempts marked won, winner {race.WinnerInterface ?? "none"}");
        }

        if (race.ProhibitedPackets != 0 || race.AttemptInterfaces.Contains(lab.ProhibitedDevice) || race.WinnerInterface == lab.ProhibitedDevice)
        {
            Add("prohibited-silent", $"{race.ProhibitedPackets} frames on {lab.ProhibitedDevice}; attempts there: {race.AttemptInterfaces.Contains(lab.ProhibitedDevice)}");
        }

        if (race.Connected && race.WinnerRemote is { } remote
            && !remote.Contains(lab["SERVER_ADDR4"], StringComparison.Ordinal) && !remote.Contains(lab["SERVER_ADDR6"], StringComparison.OrdinalIgnoreCase))
        {
            Add("no-captive-winner", $"won toward {remote}, which is not the server (the portal answers there)");
        }

        if (race.Connected && race.Draw.Fault.WifiCaptive && race.WinnerInterface == lab["WIFI_IF"])
        {
            Add("no-captive-winner", "won over Wi-Fi while Wi-Fi was behind a captive portal");
        }

        if (race.Leak is not null)
        {
            Add("no-leak", race.Leak);
        }

        if (race.Connected && !race.Draw.Fault.ChangesMidRace && race.TimeToConnectMs is { } took)
        {
            var bound = TimeBoundMs(race, lab, slackMs);
            if (took > bound)
            {
                Add("in-time", $"connected in {took:F0} ms; the oracle allows {bound:F0} ms");
            }
        }

        return found;
    }

    /// <summary>
    /// The time oracle for a steady fault: one DNS round trip on the slower link, the fallback delay, one handshake on the
    /// fastest working path (Wi-Fi when it works, else cellular), and one Connection Attempt Delay (RFC 8305 §5: the
    /// next family's attempt), plus a slack for a shared machine.
    /// </summary>
    public static double TimeBoundMs(RaceRecord race, LabControl lab, double slackMs)
    {
        var dns = 2 * Math.Max(lab.WifiDelayMs, lab.CellDelayMs);
        var handshake = 2 * (race.Draw.Fault.WifiWorks ? lab.WifiDelayMs : lab.CellDelayMs);
        return dns + race.FallbackDelayMs + handshake + race.AttemptDelayMs + slackMs;
    }
}
