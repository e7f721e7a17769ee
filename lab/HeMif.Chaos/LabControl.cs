using System.Diagnostics;
using System.Globalization;

namespace HeMif.Chaos;

/// <summary>
/// The lab as the driver changes and reads it: switches and link changes through <c>lab.sh</c> (the same code the
/// integration tests use), the quickest mid-race changes with one <c>ip</c> command each (a bash script takes longer
/// than a healthy race), and the prohibited interface's transmit counter from the kernel.
/// </summary>
/// <param name="LabScript">Path of lab/lab.sh.</param>
/// <param name="Env">The lab's KEY=VALUE lines (lab.sh up).</param>
/// <param name="ProhibitedDevice">The interface the policy prohibits (chaos.sh adds it to the client namespace).</param>
internal sealed record LabControl(string LabScript, IReadOnlyDictionary<string, string> Env, string ProhibitedDevice)
{
    public string this[string key] => Env.TryGetValue(key, out var v) ? v : throw new InvalidOperationException($"the lab's environment has no {key}");

    public string RunId => this["RUN_ID"];

    public int WifiDelayMs => int.Parse(this["WIFI_DELAY_MS"], CultureInfo.InvariantCulture);

    public int CellDelayMs => int.Parse(this["CELL_DELAY_MS"], CultureInfo.InvariantCulture);

    /// <summary>Reads the KEY=VALUE file <c>lab.sh up</c> printed.</summary>
    public static IReadOnlyDictionary<string, string> ReadEnv(string path)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                env[line[..eq]] = line[(eq + 1)..];
            }
        }

        return env;
    }

    /// <summary>Puts the lab into <paramref name="name"/> (every earlier switch undone first) and Wi-Fi's link back to its delay, no loss.</summary>
    public async Task SwitchAsync(string name, CancellationToken cancellationToken)
    {
        await RunAsync("bash", [LabScript, "link", RunId, "wlan0", this["WIFI_DELAY_MS"], "0"], cancellationToken);
        await RunAsync("bash", [LabScript, "switch", RunId, name], cancellationToken);
    }

    /// <summary>Applies a change in the middle of a race, as fast as the lab allows.</summary>
    public Task MidRaceAsync(Fault fault, CancellationToken cancellationToken)
    {
        if (fault.MidRaceLink is { } link)
        {
            return RunAsync("bash", [LabScript, "link", RunId, "wlan0", link.DelayMs.ToString(CultureInfo.InvariantCulture), link.LossPercent.ToString(CultureInfo.InvariantCulture)], cancellationToken);
        }

        return fault.MidRaceSwitch switch
        {
            // One command each: the link pulled (as lab.sh's wifi-down), or the Wi-Fi router blackholing the server.
            "wifi-down" => RunAsync("ip", ["-n", this["NS_CLIENT"], "link", "set", "wlan0", "down"], cancellationToken),
            "wifi-broken" => Task.WhenAll(
                RunAsync("ip", ["-n", this["NS_WIFI_ROUTER"], "route", "add", "blackhole", this["SERVER_NET4"], "table", "100"], cancellationToken),
                RunAsync("ip", ["-n", this["NS_WIFI_ROUTER"], "-6", "route", "add", "blackhole", this["SERVER_NET6"], "table", "100"], cancellationToken)),
            { } other => RunAsync("bash", [LabScript, "switch", RunId, other], cancellationToken),
            null => Task.CompletedTask,
        };
    }

    /// <summary>Frames the kernel sent on the prohibited interface so far (any kind: ARP, ND, TCP, UDP, ...).</summary>
    public long ProhibitedTxPackets() =>
        long.Parse(File.ReadAllText($"/sys/class/net/{ProhibitedDevice}/statistics/tx_packets").Trim(), CultureInfo.InvariantCulture);

    private static async Task RunAsync(string file, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        // Read to the end, then close our ends of the pipes: Process.Dispose leaves streams read this way open, and the
        // driver's own descriptors are part of what it reports.
        using var stdoutReader = process.StandardOutput;
        using var stderrReader = process.StandardError;
        var stdout = stdoutReader.ReadToEndAsync(cancellationToken);
        var stderr = stderrReader.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var (output, errors) = (await stdout, await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (exit {process.ExitCode}): {errors}{output}");
        }
    }
}
