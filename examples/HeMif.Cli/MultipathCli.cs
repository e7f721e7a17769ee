using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using HeMif.Multipath;

namespace HeMif.Cli;

/// <summary>What one `hemif connect` connection did beyond the race: its multipath side and the payload it sent.</summary>
public sealed record ConnectionExtras(MultipathSnapshot? Multipath, TransferResult? Transfer)
{
    /// <summary>
    /// The connection's path events while <c>--hold</c> kept it open (draft §7.4: not viable, viable again, better path
    /// available), each with the time since the hold began; null when there was no hold.
    /// </summary>
    public IReadOnlyList<(TimeSpan At, HeMif.Continuity.PathEvent Event)>? PathEvents { get; init; }
}

/// <summary>The multipath side of a connection, read right after connecting and again before closing.</summary>
public sealed record MultipathSnapshot(
    MultipathMode Mode,
    MptcpStatus Status,
    string Description,
    SubflowPlan? Plan,
    IReadOnlyList<string> PathManagerLog,
    IReadOnlyList<MptcpSubflow> SubflowsAtConnect,
    IReadOnlyList<MptcpSubflow> SubflowsAtEnd,
    MptcpCounters? CountersAtEnd);

/// <summary>
/// A payload sent to a sink that answers <c>SHA256HEX BYTES</c> (the lab's <c>mptcp-sink</c>): what was sent, what the
/// server says it received, and whether they match.
/// </summary>
public sealed record TransferResult(long Bytes, string Sha256, string? Reply, string? ServerSha256, long? ServerBytes, string? Error)
{
    /// <summary>Whether the server received exactly the bytes sent.</summary>
    public bool Intact => Error is null && ServerSha256 == Sha256 && ServerBytes == Bytes;
}

/// <summary>
/// The multipath and payload options of `hemif connect`: <c>--mptcp [handover|interactive|aggregate]</c> (bare: handover),
/// <c>--send-bytes N</c>, <c>--send-rate BYTES_PER_S</c>, <c>--hold MS</c>.
/// </summary>
public sealed class MultipathCli
{
    /// <summary>Exit code when the payload did not arrive intact (or the server did not answer).</summary>
    public const int TransferFailed = 4;

    /// <summary>The payload's generator seed: xorshift64* from "HeMif" (0x48654d6966), eight little-endian bytes a step.</summary>
    public const ulong PayloadSeed = 0x48654d6966;

    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(60);

    /// <summary>Creates the options.</summary>
    public MultipathCli()
    {
        Mptcp = new Option<string?>("--mptcp")
        {
            Description = "Multipath TCP in this mode: handover (default when given bare), interactive or aggregate; the subflow plan is applied through the kernel's path manager",
            Arity = ArgumentArity.ZeroOrOne,
            CustomParser = r => r.Tokens.Count == 0 ? "handover" : r.Tokens[0].Value,
        };
        Mptcp.AcceptOnlyFromAmong("handover", "interactive", "aggregate");
        SendBytes = CliInput.Long("--send-bytes", "After connecting, send N bytes of a deterministic pseudo-random payload, then wait for the server's 'SHA256HEX BYTES' answer (lab mptcp-sink)",
            "0 or more", 0, long.MaxValue);
        SendRate = CliInput.Long("--send-rate", "Pace --send-bytes at this many bytes per second (0: as fast as the connection takes them)", "0 or more", 0, long.MaxValue);
        Hold = CliInput.Int("--hold", "Keep the connection open this many milliseconds before closing it (after any --send-bytes)", "between 0 and 3600000 ms", 0, 3_600_000, 0);
    }

    /// <summary><c>--mptcp</c>.</summary>
    public Option<string?> Mptcp { get; }

    /// <summary><c>--send-bytes</c>.</summary>
    public Option<long> SendBytes { get; }

    /// <summary><c>--send-rate</c>.</summary>
    public Option<long> SendRate { get; }

    /// <summary><c>--hold</c>.</summary>
    public Option<int> Hold { get; }

    /// <summary>Every option, to add to the command.</summary>
    public IEnumerable<Option> All => [Mptcp, SendBytes, SendRate, Hold];

    /// <summary>The mode, or null without <c>--mptcp</c>.</summary>
    public MultipathMode? Mode(ParseResult parse) => parse.GetValue(Mptcp) switch
    {
        null => null,
        "interactive" => MultipathMode.Interactive,
        "aggregate" => MultipathMode.Aggregate,
        _ => MultipathMode.Handover,
    };

    /// <summary>Why the options cannot be used as given, or null.</summary>
    public string? Validate(ParseResult parse, int count)
    {
        var bytes = parse.GetValue(SendBytes);
        var rate = parse.GetValue(SendRate);
        var hold = parse.GetValue(Hold);
        return bytes < 0 ? $"--send-bytes must be 0 or more; got {bytes}."
            : rate < 0 ? $"--send-rate must be 0 or more; got {rate}."
            : hold is < 0 or > 3_600_000 ? $"--hold must be between 0 and 3600000 ms; got {hold}."
            : count > 1 && (bytes > 0 || hold > 0) ? "--send-bytes and --hold work on one connection: leave out --count."
            : null;
    }

    /// <summary>What the options ask of one open connection: the payload, the hold, and the multipath reads around them.</summary>
    public ConnectionExtras Run(HeMifConnection connection, ParseResult parse, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parse);
        var multipath = connection.Multipath;
        var atConnect = multipath?.GetSubflows() ?? [];
        var bytes = parse.GetValue(SendBytes);
        var transfer = bytes > 0 ? SendAsync(connection, bytes, parse.GetValue(SendRate), progress).GetAwaiter().GetResult() : null;
        var hold = parse.GetValue(Hold);
        List<(TimeSpan, HeMif.Continuity.PathEvent)>? pathEvents = null;
        if (hold > 0)
        {
            // What an application holding the connection would be told meanwhile (docs/continuity.md).
            pathEvents = [];
            var started = System.Diagnostics.Stopwatch.StartNew();
            using (connection.PathEvents.Subscribe(e =>
            {
                lock (pathEvents)
                {
                    pathEvents.Add((started.Elapsed, e));
                }
            }))
            {
                Thread.Sleep(hold);
            }
        }

        var snapshot = multipath is null ? null : new MultipathSnapshot(multipath.Mode, multipath.Status, multipath.Description, multipath.Plan,
            multipath.PathManagerLog, atConnect, multipath.GetSubflows(), multipath.GetCounters());
        List<(TimeSpan, HeMif.Continuity.PathEvent)>? seen = null;
        if (pathEvents is not null)
        {
            lock (pathEvents)
            {
                seen = [.. pathEvents];
            }
        }

        return new ConnectionExtras(snapshot, transfer) { PathEvents = seen };
    }

    /// <summary>Whether any extra failed (the exit code is then <see cref="TransferFailed"/>).</summary>
    public static bool Failed(ConnectionExtras extras) => extras?.Transfer is { Intact: false };

    /// <summary>The extras as text, after the race's timeline.</summary>
    public static void WriteText(TextWriter o, ConnectionExtras extras)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(extras);
        if (extras.Multipath is { } m)
        {
            o.WriteLine($"  multipath ({m.Mode.ToString().ToLowerInvariant()}): {m.Description}");
            if (m.Plan is { } plan)
            {
                o.WriteLine($"  subflow plan ({plan.Trigger}):");
                foreach (var s in plan.Subflows)
                {
                    o.WriteLine($"    {s.Interface,-8} {s.Role,-8} {s.Reason}");
                }

                foreach (var x in plan.Excluded)
                {
                    o.WriteLine($"    {x.Interface,-8} {"none",-8} {x.Reason}");
                }
            }

            foreach (var line in m.PathManagerLog)
            {
                o.WriteLine($"  path manager: {line}");
            }

            WriteSubflows(o, "subflows after connecting", m.SubflowsAtConnect);
            WriteSubflows(o, "subflows before closing", m.SubflowsAtEnd);
        }

        foreach (var (at, e) in extras.PathEvents ?? [])
        {
            o.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  path event at {at.TotalMilliseconds:0} ms of the hold: {e}"));
        }

        if (extras.Transfer is { } t)
        {
            o.WriteLine($"  sent {t.Bytes} bytes, sha256 {t.Sha256}");
            o.WriteLine(t.Error is not null ? $"  transfer failed: {t.Error}"
                : $"  server received {t.ServerBytes} bytes, sha256 {t.ServerSha256}: {(t.Intact ? "intact" : "NOT the bytes sent")}");
        }
    }

    /// <summary>The extras as JSON keys added to the race's object: <c>multipath</c> and <c>transfer</c> (only when asked for).</summary>
    public static void AddJson(Dictionary<string, object?> json, ConnectionExtras extras)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(extras);
        if (extras.Multipath is { } m)
        {
            json["multipath"] = new Dictionary<string, object?>
            {
                ["mode"] = m.Mode.ToString().ToLowerInvariant(),
                ["status"] = m.Status.ToString(),
                ["description"] = m.Description,
                ["plan"] = m.Plan is not { } plan ? null : new Dictionary<string, object?>
                {
                    ["trigger"] = plan.Trigger,
                    ["subflows"] = plan.Subflows.Select(s => new Dictionary<string, object?> { ["interface"] = s.Interface, ["role"] = s.Role.ToString(), ["reason"] = s.Reason }).ToList(),
                    ["excluded"] = plan.Excluded.Select(x => new Dictionary<string, object?> { ["interface"] = x.Interface, ["reason"] = x.Reason }).ToList(),
                },
                ["pathManager"] = m.PathManagerLog,
                ["subflowsAtConnect"] = m.SubflowsAtConnect.Select(Json).ToList(),
                ["subflowsAtEnd"] = m.SubflowsAtEnd.Select(Json).ToList(),
                ["counters"] = m.CountersAtEnd is not { } c ? null : new Dictionary<string, object?>
                {
                    ["subflows"] = c.Subflows,
                    ["additionalSubflowsMax"] = c.AdditionalSubflowsMax,
                    ["localAddressesUsed"] = c.LocalAddressesUsed,
                    ["fellBack"] = c.FellBack,
                    ["token"] = c.Token,
                    ["bytesSent"] = c.BytesSent,
                    ["bytesReceived"] = c.BytesReceived,
                    ["bytesRetransmitted"] = c.BytesRetransmitted,
                },
            };
        }

        if (extras.Transfer is { } t)
        {
            json["transfer"] = new Dictionary<string, object?>
            {
                ["bytes"] = t.Bytes,
                ["sha256"] = t.Sha256,
                ["reply"] = t.Reply,
                ["serverBytes"] = t.ServerBytes,
                ["serverSha256"] = t.ServerSha256,
                ["intact"] = t.Intact,
                ["error"] = t.Error,
            };
        }

        if (extras.PathEvents is { } events)
        {
            json["pathEvents"] = events.Select(x => new Dictionary<string, object?>
            {
                ["atMs"] = Math.Round(x.At.TotalMilliseconds, 1),
                ["kind"] = x.Event.Kind.ToString(),
                ["reason"] = x.Event.Reason.ToString(),
                ["interface"] = x.Event.Interface,
                ["betterInterface"] = x.Event.BetterInterface,
                ["detail"] = x.Event.Detail,
            }).ToList();
        }
    }

    /// <summary>The payload's first <paramref name="length"/> bytes (xorshift64* from <see cref="PayloadSeed"/>).</summary>
    public static byte[] Payload(int length)
    {
        var bytes = new byte[length];
        var generator = new PayloadGenerator();
        generator.Fill(bytes);
        return bytes;
    }

    /// <summary>
    /// Sends the payload (paced when <paramref name="rate"/> &gt; 0, progress on stderr every MiB), closes the sending
    /// side, and reads the server's one-line answer. Each write and the read give up after a minute without progress.
    /// </summary>
    private static async Task<TransferResult> SendAsync(HeMifConnection connection, long total, long rate, TextWriter progress)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var generator = new PayloadGenerator();
        var chunk = new byte[64 * 1024];
        var clock = Stopwatch.StartNew();
        long sent = 0;
        var nextReport = 1L << 20;
        try
        {
            while (sent < total)
            {
                var n = (int)Math.Min(chunk.Length, total - sent);
                generator.Fill(chunk.AsSpan(0, n));
                hash.AppendData(chunk, 0, n);
                using (var stall = new CancellationTokenSource(Stall))
                {
                    await connection.Stream.WriteAsync(chunk.AsMemory(0, n), stall.Token).ConfigureAwait(false);
                }

                sent += n;
                if (sent >= nextReport || sent == total)
                {
                    progress.WriteLine($"hemif: sent {sent} of {total} bytes");
                    progress.Flush();
                    nextReport = sent + (1L << 20);
                }

                if (rate > 0 && TimeSpan.FromSeconds((double)sent / rate) - clock.Elapsed is { } ahead && ahead > TimeSpan.Zero)
                {
                    await Task.Delay(ahead).ConfigureAwait(false);
                }
            }

            var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            connection.Socket?.Shutdown(SocketShutdown.Send);
            var reply = await ReadReplyAsync(connection.Stream).ConfigureAwait(false);
            var words = reply.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return words.Length == 2 && long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                ? new TransferResult(total, digest, reply, words[0], count, null)
                : new TransferResult(total, digest, reply, null, null, $"the server's answer '{reply}' is not 'SHA256HEX BYTES' (is it a sink such as the lab's mptcp-sink?)");
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            return new TransferResult(sent, Convert.ToHexStringLower(hash.GetHashAndReset()), null, null, null,
                $"{(e is OperationCanceledException ? $"no progress for {Stall.TotalSeconds:0} s" : e.Message)} after {sent} of {total} bytes");
        }
    }

    private static async Task<string> ReadReplyAsync(Stream stream)
    {
        var buffer = new byte[4096];
        var read = 0;
        using var stall = new CancellationTokenSource(Stall);
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), stall.Token).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, read).Trim();
    }

    private static void WriteSubflows(TextWriter o, string title, IReadOnlyList<MptcpSubflow> subflows)
    {
        o.WriteLine($"  {title}: {subflows.Count}");
        foreach (var s in subflows)
        {
            var rtt = s.SmoothedRtt is { } r ? $"  rtt {r.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture)} ms" : "";
            var acked = s.BytesAcked is { } a ? $"  acked {a} B" : "";
            o.WriteLine($"    {s.Interface ?? "?",-8} {s.Local} -> {s.Remote}{rtt}{acked}");
        }
    }

    private static Dictionary<string, object?> Json(MptcpSubflow s) => new()
    {
        ["interface"] = s.Interface,
        ["local"] = s.Local.ToString(),
        ["remote"] = s.Remote.ToString(),
        ["id"] = s.Id,
        ["rttMs"] = s.SmoothedRtt?.TotalMilliseconds,
        ["bytesAcked"] = s.BytesAcked,
        ["bytesReceived"] = s.BytesReceived,
    };

    /// <summary>xorshift64* (Vigna 2016): the same bytes on every machine and .NET version.</summary>
    private sealed class PayloadGenerator
    {
        private ulong _state = PayloadSeed;

        public void Fill(Span<byte> buffer)
        {
            Span<byte> word = stackalloc byte[8];
            for (var i = 0; i < buffer.Length; i += 8)
            {
                _state ^= _state >> 12;
                _state ^= _state << 25;
                _state ^= _state >> 27;
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(word, _state * 0x2545F4914F6CDD1DUL);
                word[..Math.Min(8, buffer.Length - i)].CopyTo(buffer[i..]);
            }
        }
    }
}
