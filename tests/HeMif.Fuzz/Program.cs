using HeMif.Fuzz;
using SharpFuzz;

// hemif fuzz harness (docs/testing.md, "Fuzzing"):
//   HeMif.Fuzz list                       the targets
//   HeMif.Fuzz run TARGET                 under afl-fuzz (tools/fuzz.sh): SharpFuzz's persistent mode, input on stdin
//   HeMif.Fuzz replay TARGET PATH...      runs files (or every file of folders) through TARGET in this process;
//                                          exit 1 naming each input that escaped as anything but the documented error
//   HeMif.Fuzz mutate TARGET SECONDS SEED FINDINGS PATH...
//                                          without AFL++: the files of PATHs, then seeded random mutations of them, in
//                                          this process for SECONDS (InProcessFuzzing); findings under FINDINGS; exit 1
//                                          when any input escaped as an undocumented error (a hang exits 1 at once)
const int MaxInput = 1024 * 1024;

if (args is ["list"])
{
    foreach (var t in FuzzTargets.All.Values)
    {
        Console.WriteLine($"{t.Name,-11} {t.Parser}; documented error: {t.DocumentedError}");
    }

    return 0;
}

if (args is ["run", var name] && FuzzTargets.All.TryGetValue(name, out var target))
{
    Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while (copy.Length < MaxInput && (n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            copy.Write(buffer, 0, n);
        }

        target.Run(copy.ToArray());
    });
    return 0;
}

if (args is ["replay", var replayName, .. var paths] && paths.Length > 0 && FuzzTargets.All.TryGetValue(replayName, out var replayTarget))
{
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]).Order(StringComparer.Ordinal).ToList();
    var failed = 0;
    foreach (var file in files)
    {
        try
        {
            replayTarget.Run(File.ReadAllBytes(file));
        }
#pragma warning disable CA1031 // a replay reports every escaping exception, whatever its type
        catch (Exception e)
#pragma warning restore CA1031
        {
            failed++;
            Console.Error.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
        }
    }

    Console.WriteLine($"{replayName}: {files.Count} inputs, {failed} escaped as an undocumented error");
    return failed == 0 ? 0 : 1;
}

if (args is ["mutate", var mutateName, var secondsText, var seedText, var findings, .. var corpora] && corpora.Length > 0
    && FuzzTargets.All.TryGetValue(mutateName, out var mutateTarget)
    && int.TryParse(secondsText, out var seconds) && seconds > 0 && int.TryParse(seedText, out var seed))
{
    var seeds = corpora.SelectMany(InProcessFuzzing.ReadSeeds).ToList();
    var summary = InProcessFuzzing.Run(mutateTarget, seeds, TimeSpan.FromSeconds(seconds), seed, findings);
    Console.WriteLine($"{mutateName}: {summary.Inputs} inputs run ({seeds.Count} seeds, random mutations with seed {seed}), {summary.Crashes} escaped as an undocumented error");
    return summary.Crashes == 0 ? 0 : 1;
}

Console.Error.WriteLine($"usage: HeMif.Fuzz list | run TARGET | replay TARGET PATH... | mutate TARGET SECONDS SEED FINDINGS PATH...   (targets: {string.Join(", ", FuzzTargets.All.Keys)})");
return 2;
