using System.CommandLine;

namespace HeMif.Cli;

/// <summary>The <c>hemif</c> entry point. Exit codes: 0 success, 2 bad input, 3 no interface qualifies or the race failed.</summary>
public static class Program
{
    /// <summary>Exit code when the command line or an input file is invalid.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code when no interface qualifies for the request.</summary>
    public const int NoCandidate = 3;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with the given writers (tests call this in-process).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var root = new RootCommand("hemif: Happy Eyeballs for multiple interfaces (draft-ietf-mif-happy-eyeballs-extension).")
        {
            PlanCommand.Create(output, error),
            SimulateCommand.Create(output, error),
            ConnectCommand.Create(output, error),
            ProbeCommand.Create(output, error),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            foreach (var e in parse.Errors)
            {
                error.WriteLine($"hemif: {e.Message}");
            }

            error.WriteLine("Run 'hemif --help' for usage.");
            return BadInput;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
