using System.Diagnostics;

namespace HeMif.Transports.Mptcp;

/// <summary>What a finished command printed and returned.</summary>
internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs a program with an argument list (no shell). Injectable, so tests check the exact argv without root.</summary>
internal interface ICommandRunner
{
    Task<CommandResult> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken);
}

/// <summary>A command the path manager ran failed; the message names the command line, its exit code and its stderr.</summary>
internal sealed class PathManagerException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>Runs commands as child processes, each bounded by <paramref name="timeout"/> (a hung <c>ip</c> is killed).</summary>
internal sealed class ProcessCommandRunner(TimeSpan timeout) : ICommandRunner
{
    public async Task<CommandResult> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new PathManagerException($"could not start '{file}'");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PathManagerException($"could not run '{file}': {e.Message} (the path manager needs iproute2's ip: apt-get install iproute2)", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                throw new PathManagerException($"'{file} {string.Join(' ', arguments)}' did not finish within {timeout.TotalSeconds:0.#} s and was killed");
            }

            return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }
}
