using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace HeMif.Host.Tests.Repository;

/// <summary>The repository these tests were built from, and the <c>dotnet</c> command line run on copies of it.</summary>
internal static class Repo
{
    /// <summary>The repository root (the folder of Directory.Build.props).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration this test assembly was built in (the samples build against the same outputs).</summary>
    public static string Configuration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>
    /// Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="directory"/> and returns its exit code and
    /// everything it printed. <paramref name="hangGuard"/> only keeps a stuck process from hanging the test run: it is
    /// generous on purpose and says nothing about speed; the process is killed when it passes.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> DotnetAsync(string directory, TimeSpan hangGuard, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1"; // no MSBuild node outlives the test
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var guard = new CancellationTokenSource(hangGuard);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} was still running after {hangGuard} (hang guard)");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    private static string FindRoot([CallerFilePath] string path = "")
    {
        for (var dir = Path.GetDirectoryName(path); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Directory.Build.props")) && File.Exists(Path.Combine(dir, "HeMif.Actors.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"no repository root above {path}");
    }
}
