using System.Diagnostics;
using System.Security.Cryptography;

namespace HeMif.Fuzz;

/// <summary>
/// Fuzzing without AFL++: the target runs in this process over its seeds, then over <see cref="Mutator"/>'s inputs
/// until the time is up. Blind (no coverage feedback), so far weaker than <c>afl-fuzz</c>, but it needs nothing beyond
/// .NET. Every input that escapes as an undocumented error is written to <c>FINDINGS/crashes/</c> (named by its hash);
/// an input still running after <see cref="HangLimit"/> is written to <c>FINDINGS/hangs/</c> and ends the process.
/// </summary>
public static class InProcessFuzzing
{
    /// <summary>How long one input may run before it counts as a hang (generous: a shared, loaded machine).</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    /// <summary>What one run did.</summary>
    /// <param name="Inputs">Inputs run (seeds included).</param>
    /// <param name="Crashes">Distinct inputs that escaped as an undocumented error.</param>
    public sealed record Summary(long Inputs, int Crashes);

    /// <summary>
    /// Runs <paramref name="target"/> over <paramref name="seeds"/> and then mutations of them for
    /// <paramref name="duration"/> (wall-clock time: this is a tool, not a test), or for exactly
    /// <paramref name="maxInputs"/> mutations when given (the corpus test's deterministic round).
    /// </summary>
    public static Summary Run(FuzzTarget target, IReadOnlyList<byte[]> seeds, TimeSpan duration, int seed, string? findings, long? maxInputs = null)
    {
        var clock = Stopwatch.StartNew();
        long inputs = 0;
        var crashes = new HashSet<string>(StringComparer.Ordinal);
        var current = Array.Empty<byte>();
        long started = 0; // ticks of clock when the current input began (read by the watchdog thread)
        using var done = new CancellationTokenSource();
        var watchdog = new Thread(() =>
        {
            while (!done.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)))
            {
                var input = Volatile.Read(ref current);
                if (clock.Elapsed.Ticks - Volatile.Read(ref started) > HangLimit.Ticks)
                {
                    var path = Save(findings, "hangs", input);
                    Console.Error.WriteLine($"{target.Name}: an input ran longer than {HangLimit.TotalSeconds:0} s{(path is null ? "" : $": {path}")} (base64 {Convert.ToBase64String(input)})");
                    Environment.Exit(1);
                }
            }
        }) { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();

        void One(byte[] input)
        {
            Volatile.Write(ref current, input);
            Volatile.Write(ref started, clock.Elapsed.Ticks);
            inputs++;
            try
            {
                target.Run(input);
            }
#pragma warning disable CA1031 // every escaping exception is a finding, whatever its type
            catch (Exception e)
#pragma warning restore CA1031
            {
                var name = Name(input);
                if (crashes.Add(name))
                {
                    var path = Save(findings, "crashes", input);
                    Console.Error.WriteLine($"{target.Name}: {e.GetType().Name}: {e.Message}{(path is null ? "" : $" ({path})")}");
                    Console.Error.WriteLine(e.StackTrace);
                }
            }
        }

        foreach (var s in seeds)
        {
            One(s);
        }

        var mutator = new Mutator(seeds, seed);
        while (maxInputs is { } max ? inputs - seeds.Count < max : clock.Elapsed < duration)
        {
            One(mutator.Next());
        }

        // The watchdog reads the token until it sees the cancellation: wait for it to end before the source is disposed
        // (it crashed the test host with ObjectDisposedException when the run ended between two of its looks).
        done.Cancel();
        watchdog.Join();
        return new Summary(inputs, crashes.Count);
    }

    /// <summary>Every file of <paramref name="folder"/> (and below it), in a fixed order; none when it does not exist.</summary>
    public static IReadOnlyList<byte[]> ReadSeeds(string folder) =>
        Directory.Exists(folder)
            ? [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]
            : [];

    private static string Name(byte[] input) => Convert.ToHexStringLower(SHA256.HashData(input))[..16];

    private static string? Save(string? findings, string kind, byte[] input)
    {
        if (findings is null)
        {
            return null;
        }

        var folder = Path.Combine(findings, kind);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, Name(input));
        File.WriteAllBytes(path, input);
        return path;
    }
}
