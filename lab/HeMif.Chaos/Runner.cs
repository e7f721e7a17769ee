using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HeMif.Report;

namespace HeMif.Chaos;

/// <summary>Runs one race in either mode and records it with what the kernel showed.</summary>
internal sealed class Runner(LabControl lab, IHeMifConnector connector, string hemifDll, string overridesFile, string policyFile)
{
    private static readonly TimeSpan RaceLimit = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(1);

    private readonly string _host = lab["SERVICE_NAME"];

    private readonly int _port = int.Parse(lab["SERVER_TCP_PORT"], CultureInfo.InvariantCulture);

    public async Task<RaceRecord> RunAsync(Draw draw, CancellationToken cancellationToken)
    {
        await lab.SwitchAsync(draw.Fault.Switch, cancellationToken);
        var before = lab.ProhibitedTxPackets();
        var record = draw.FreshProcess ? await InProcessAsync(draw, cancellationToken) : await InConnectorAsync(draw, cancellationToken);
        return record with { ProhibitedPackets = lab.ProhibitedTxPackets() - before };
    }

    /// <summary>The long-lived connector: the race, then the kernel's view of this process's sockets to the server.</summary>
    private async Task<RaceRecord> InConnectorAsync(Draw draw, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RaceLimit);
        var change = MidRace(draw, limit.Token);
        RaceRecord record;
        try
        {
            var connection = await connector.ConnectAsync(_host, _port, cancellationToken: limit.Token);
            await using (connection)
            {
                record = FromReport(draw, connection.Report);
                // RFC 8305 §6: the other attempts are cancelled once one connects. Give the cancellations a moment to
                // reach the kernel, then exactly one socket to the server may be left: the winner.
                var left = await SettleAsync(expected: 1);
                if (left.Count != 1)
                {
                    record = record with { Leak = $"{left.Count} sockets to the server while only the winner should be open: {Describe(left)}" };
                }
            }

            var afterClose = await SettleAsync(expected: 0);
            if (afterClose.Count != 0 && record.Leak is null)
            {
                record = record with { Leak = $"{afterClose.Count} sockets to the server after the winner was closed: {Describe(afterClose)}" };
            }
        }
        catch (HeMifConnectException e)
        {
            record = FromReport(draw, e.Report);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            record = new RaceRecord { Draw = draw, Connected = false, Error = $"no answer within {RaceLimit.TotalSeconds} s: the race hung" };
        }

        await change;
        return record;
    }

    /// <summary>A fresh <c>hemif connect</c>: its JSON, and its own descriptors sampled while it holds the winner.</summary>
    private async Task<RaceRecord> InProcessAsync(Draw draw, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { hemifDll, "connect", _host, _port.ToString(CultureInfo.InvariantCulture), "--interfaces", overridesFile, "--policy", policyFile, "--json", "--hold", "400" })
        {
            info.ArgumentList.Add(a);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(RaceLimit + TimeSpan.FromSeconds(10));
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        // Disposed with the method: Process.Dispose leaves streams read this way open (LabControl.RunAsync says why it matters).
        using var stdoutReader = process.StandardOutput;
        using var stderrReader = process.StandardError;
        var stdout = stdoutReader.ReadToEndAsync(limit.Token);
        var stderr = stderrReader.ReadToEndAsync(limit.Token);
        var started = Stopwatch.GetTimestamp();
        // The race's mid-race change is timed from the process start here (its race starts after the runtime's start-up).
        var change = MidRace(draw, limit.Token);
        // While it runs: did it ever hold exactly its winner (one established socket, nothing half-open)?
        var heldWinnerOnly = false;
        var sawAny = false;
        while (!process.HasExited && !limit.IsCancellationRequested)
        {
            var owned = SocketTable.Owned(process.Id, _port);
            sawAny |= owned.Count > 0;
            heldWinnerOnly |= owned.Count == 1 && owned[0].State == "ESTABLISHED";
            await Task.Delay(10, CancellationToken.None);
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            await change;
            return new RaceRecord { Draw = draw, Connected = false, Error = $"hemif connect did not finish in {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s" };
        }

        await change;
        var text = await stdout;
        if (process.ExitCode is not (0 or 3) || text.Length == 0)
        {
            return new RaceRecord { Draw = draw, Connected = false, Error = $"hemif connect exit {process.ExitCode}: {(await stderr).Trim()}" };
        }

        using var json = JsonDocument.Parse(text);
        var record = FromJson(draw, json.RootElement);
        if (record.Connected && sawAny && !heldWinnerOnly)
        {
            record = record with { Leak = "while hemif held its connection, it never had its winner alone (a losing attempt still open beside it)" };
        }

        return record;
    }

    private async Task MidRace(Draw draw, CancellationToken cancellationToken)
    {
        if (!draw.Fault.ChangesMidRace)
        {
            return;
        }

        await Task.Delay(draw.MidRaceDelayMs, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await lab.MidRaceAsync(draw.Fault, CancellationToken.None);
    }

    private async Task<IReadOnlyList<KernelSocket>> SettleAsync(int expected)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var owned = SocketTable.Owned(Environment.ProcessId, _port).Where(s => s.State is not ("TIME_WAIT" or "CLOSE")).ToList();
            if (owned.Count == expected || Stopwatch.GetElapsedTime(started) > SettleLimit)
            {
                return owned;
            }

            await Task.Delay(10);
        }
    }

    private static string Describe(IReadOnlyList<KernelSocket> sockets) => string.Join(", ", sockets.Select(s => $"inode {s.Inode} {s.State}"));

    private static RaceRecord FromReport(Draw draw, RaceReport r) => new()
    {
        Draw = draw,
        Connected = r.Outcome == RaceOutcome.Connected,
        WinnerInterface = r.Winner?.Interface,
        WinnerRemote = r.Winner?.Remote,
        WonAttempts = r.Attempts.Count(a => a.Result == "won"),
        AttemptInterfaces = r.Attempts.Select(a => a.Interface).ToHashSet(),
        NamedInterfaces = r.Attempts.Select(a => a.Interface).Concat(r.Excluded.Select(x => x.Interface))
            .Concat(r.Events.Select(e => e.Interface).OfType<string>()).ToHashSet(),
        Failure = r.Failure,
        TimeToConnectMs = r.TimeToConnect?.TotalMilliseconds,
        FallbackDelayMs = r.Timings.FallbackDelay.TotalMilliseconds,
        AttemptDelayMs = r.Timings.ConnectionAttemptDelay.TotalMilliseconds,
    };

    private static RaceRecord FromJson(Draw draw, JsonElement r)
    {
        var attempts = r.GetProperty("attempts").EnumerateArray().ToList();
        var winner = r.GetProperty("winner");
        var settings = r.GetProperty("settings");
        return new RaceRecord
        {
            Draw = draw,
            Connected = r.GetProperty("outcome").GetString() == "connected",
            WinnerInterface = winner.ValueKind == JsonValueKind.Object ? winner.GetProperty("interface").GetString() : null,
            WinnerRemote = winner.ValueKind == JsonValueKind.Object ? winner.GetProperty("remote").GetString() : null,
            WonAttempts = attempts.Count(a => a.GetProperty("result").GetString() == "won"),
            AttemptInterfaces = attempts.Select(a => a.GetProperty("interface").GetString()!).ToHashSet(),
            NamedInterfaces = attempts.Select(a => a.GetProperty("interface").GetString())
                .Concat(r.GetProperty("excluded").EnumerateArray().Select(x => x.GetProperty("interface").GetString()))
                .Concat(r.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("interface").GetString()))
                .OfType<string>().ToHashSet(),
            Failure = r.GetProperty("failure").GetString(),
            TimeToConnectMs = r.GetProperty("timeToConnectMs").ValueKind == JsonValueKind.Number ? r.GetProperty("timeToConnectMs").GetDouble() : null,
            FallbackDelayMs = settings.GetProperty("fallbackDelayMs").GetDouble(),
            AttemptDelayMs = settings.GetProperty("connectionAttemptDelayMs").GetDouble(),
        };
    }
}
