using System.Globalization;
using System.Net;
using System.Text.Json;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// iproute2's <c>ip mptcp</c> as a fake: records every argv and keeps the endpoints and limits a kernel would, so a
/// test checks both the exact commands and the state they leave. <see cref="Fail"/> makes a command fail like ip does.
/// </summary>
internal sealed class FakeIp : ICommandRunner
{
    private readonly Lock _lock = new();

    public List<string> Commands { get; } = [];

    /// <summary>Every argv exactly as given (what a name with spaces in it became is seen only here).</summary>
    public List<string[]> Argvs { get; } = [];

    public List<(int Id, string Address, string? Dev, bool Subflow, bool Backup)> Endpoints { get; } = [];

    public (int AddAddrAccepted, int Subflows) Limits { get; set; } = (0, 2);

    /// <summary>A command line (as joined with spaces) that fails with this stderr.</summary>
    public Func<string, string?> Fail { get; set; } = _ => null;

    /// <summary>The commands that changed something (no show).</summary>
    public IEnumerable<string> Changes => Commands.Where(c => !c.EndsWith(" show", StringComparison.Ordinal));

    public Task<CommandResult> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var line = string.Join(' ', arguments);
            Commands.Add(line);
            Argvs.Add([.. arguments]);
            if (Fail(line) is { } stderr)
            {
                return Task.FromResult(new CommandResult(2, "", stderr + "\n"));
            }

            return Task.FromResult(Execute(arguments.ToArray()));
        }
    }

    private CommandResult Execute(string[] a)
    {
        switch (string.Join(' ', a.Take(3)))
        {
            case "mptcp limits show":
                return Ok($"add_addr_accepted {Limits.AddAddrAccepted} subflows {Limits.Subflows} \n");
            case "mptcp limits set":
                Limits = (int.Parse(a[6], CultureInfo.InvariantCulture), int.Parse(a[4], CultureInfo.InvariantCulture));
                return Ok("");
            case "-j mptcp endpoint":
                return Ok(JsonSerializer.Serialize(Endpoints.Select(e => new Dictionary<string, object?>
                {
                    ["address"] = e.Address,
                    ["id"] = e.Id,
                    ["subflow"] = e.Subflow ? true : null,
                    ["backup"] = e.Backup ? true : null,
                    ["dev"] = e.Dev,
                }.Where(p => p.Value is not null).ToDictionary())));
            case "mptcp endpoint add":
                var id = int.Parse(a[Array.IndexOf(a, "id") + 1], CultureInfo.InvariantCulture);
                if (Endpoints.Any(e => e.Id == id || e.Address == a[3]))
                {
                    return new CommandResult(2, "", "Error: too many addresses or duplicate one: -17.\n");
                }

                Endpoints.Add((id, IPAddress.Parse(a[3]).ToString(), a[5], a.Contains("subflow"), a.Contains("backup")));
                return Ok("");
            case "mptcp endpoint delete":
                return Endpoints.RemoveAll(e => e.Id == int.Parse(a[4], CultureInfo.InvariantCulture)) > 0 ? Ok("") : new CommandResult(2, "", "Error: address not found.\n");
            case "mptcp endpoint change":
                var i = Endpoints.FindIndex(e => e.Id == int.Parse(a[4], CultureInfo.InvariantCulture));
                if (i < 0)
                {
                    return new CommandResult(2, "", "Error: address not found.\n");
                }

                Endpoints[i] = Endpoints[i] with { Backup = a[5] == "backup" };
                return Ok("");
            default:
                return new CommandResult(255, "", $"Command \"{a[0]}\" is unknown, try \"ip help\".\n");
        }
    }

    private static CommandResult Ok(string stdout) => new(0, stdout, "");
}
