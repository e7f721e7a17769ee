using System.Diagnostics;

namespace HeMif.Integration.Tests;

/// <summary>What a finished command printed and returned.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs a command with an argument list (no shell), captures its output, and kills it on timeout.</summary>
public static class LabProcess
{
    /// <summary>The <c>hemif</c> CLI, in a folder of its own beside the tests (see the project file).</summary>
    public static string Hemif => Path.Combine(AppContext.BaseDirectory, "hemif-cli", "hemif.dll");

    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in {timeout.TotalSeconds} s\n"
                + $"stdout: {await stdout}\nstderr: {await stderr}");
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
