using System.CommandLine;
using System.CommandLine.Parsing;

namespace HeMif.Cli;

/// <summary>The <c>hemif</c> entry point. Exit codes: 0 success, 2 bad input, 3 no interface qualifies or the race failed.</summary>
public static class Program
{
    /// <summary>Exit code when the command line or an input file is invalid.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code when no interface qualifies for the request.</summary>
    public const int NoCandidate = 3;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the command line with the given writers (tests call this in-process). Human output and every error go
    /// through <see cref="TerminalWriter"/>: text from files and the network is written escaped, never raw.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var safeError = TerminalWriter.Over(error);
        var root = CreateRoot(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h"))
        {
            foreach (var e in parse.Errors)
            {
                CliInput.Fail(safeError, Describe(e));
            }

            safeError.WriteLine("Run 'hemif --help' for usage.");
            return BadInput;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>The command tree: every command with its options (tests walk it to find every option).</summary>
    internal static RootCommand CreateRoot(TextWriter output, TextWriter error)
    {
        var safeOutput = TerminalWriter.Over(output);
        var safeError = TerminalWriter.Over(error);
        return new RootCommand("hemif: Happy Eyeballs for multiple interfaces (draft-ietf-mif-happy-eyeballs-extension).")
        {
            PlanCommand.Create(safeOutput, safeError),
            SimulateCommand.Create(safeOutput, safeError),
            ConnectCommand.Create(safeOutput, safeError),
            ExchangeCommand.Create(safeOutput, safeError),
            ProbeCommand.Create(safeOutput, safeError),
            InterfacesCommand.Create(safeOutput, safeError),
        };
    }

    /// <summary>
    /// A parse error on one line, naming the option or argument it concerns ("--transport: Argument 'udp' not recognized.
    /// Must be one of: 'tcp', 'quic'.").
    /// </summary>
    private static string Describe(ParseError e)
    {
        var lines = e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var message = lines.Length <= 1 ? e.Message.Trim() : lines[0] + " " + string.Join(", ", lines.Skip(1));
        var name = e.SymbolResult switch
        {
            OptionResult o => o.Option.Name,
            ArgumentResult { Parent: OptionResult o } => o.Option.Name,
            ArgumentResult a => a.Argument.Name.ToUpperInvariant(),
            _ => null,
        };
        return name is null || message.StartsWith(name, StringComparison.Ordinal) ? message : $"{name}: {message}";
    }
}
