using System.Diagnostics;

namespace HeMif.Cli.Tests;

/// <summary>Runs <c>hemif</c> in-process and checks what a user must never see on bad input.</summary>
internal static class Cli
{
    /// <summary>
    /// A hang guard, not a timing assertion: a command given bad input must end, and this is far beyond any run here
    /// (a FIFO without a writer used to block forever; /dev/zero used to take 7-11 s to run out of memory).
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(15);

    /// <summary>Runs the command line on a thread of its own and gives up (failing the test) after <see cref="HangGuard"/>.</summary>
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var run = Task.Factory.StartNew(() => Program.Run(args, output, error), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!run.Wait(HangGuard))
        {
            Assert.Fail($"hemif {string.Join(' ', args.Select(Show))} did not end within {HangGuard.TotalSeconds:0} s (hang guard)");
        }

        return (run.Result, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Exit 2, a message on stderr naming <paramref name="naming"/> (the option, the file or the value), no stack trace,
    /// no .NET type or exception name, and no raw control character (the message is escaped for the terminal).
    /// </summary>
    public static void AssertBadInput((int Exit, string Out, string Err) result, string naming, params string[] args)
    {
        var (exit, output, error) = result;
        var what = $"hemif {string.Join(' ', args.Select(Show))}\nexit {exit}\nstdout: {Show(output)}\nstderr: {Show(error)}";
        Assert.True(exit == 2, what);
        Assert.True(error.Contains(naming, StringComparison.Ordinal), $"stderr does not name '{Show(naming)}'\n{what}");
        AssertNoInternals(output + error, what);
        Assert.True(!HasControl(error), $"stderr has a raw control character\n{what}");
    }

    /// <summary>No stack trace, no exception type, no .NET type name.</summary>
    public static void AssertNoInternals(string text, string? context = null)
    {
        foreach (var line in text.Split('\n'))
        {
            Assert.False(line.StartsWith("   at ", StringComparison.Ordinal), $"a stack trace line: {line}\n{context}");
        }

        foreach (var leak in new[] { "Exception", "System.", "(Parameter '", "LineNumber:", "BytePositionInLine" })
        {
            Assert.False(text.Contains(leak, StringComparison.Ordinal), $"'{leak}' in the output\n{context ?? text}");
        }
    }

    /// <summary>Whether <paramref name="text"/> has a C0 or C1 control character other than a line break, or a bidi control.</summary>
    public static bool HasControl(string text) => text.Any(c =>
        (c < 0x20 && c is not '\n' and not '\r') || c is >= '\u007f' and <= '\u009f' || c is '\u202a' or '\u202b' or '\u202c' or '\u202d' or '\u202e' or '\u2066' or '\u2067' or '\u2068' or '\u2069' or '\u200e' or '\u200f');

    /// <summary>A string with its control characters visible, for assertion messages.</summary>
    public static string Show(string s) => string.Concat(s.Select(c => c < 0x20 || c is >= '\u007f' and <= '\u009f' || c is >= '\u2000' and <= '\u206f'
        ? $"\\u{(int)c:x4}"
        : c.ToString()));

    /// <summary>The repository's root (it holds HeMif.Actors.sln), found upwards from the test's directory.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HeMif.Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No HeMif.Actors.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a program (mkfifo) and waits for it.</summary>
    public static void Exec(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(10_000), $"{file} did not end");
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {stderr}");
    }
}

/// <summary>A temporary directory, deleted with everything in it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hemif-test-{Guid.NewGuid():N}");

    public string File(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public string Name(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
