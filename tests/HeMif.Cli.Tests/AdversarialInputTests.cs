namespace HeMif.Cli.Tests;

/// <summary>
/// Issue 11, "Done when": every command that reads a file or a name, given malformed, truncated, deeply nested, huge,
/// special (FIFO, device, directory), missing or empty files and hostile names, exits 2 with a message naming the
/// input, no stack trace, no raw control character, and ends (a generous hang guard, <see cref="Cli.HangGuard"/>).
/// Commands that would need the network fail these checks before any: the destination is loopback and the port 9
/// (discard), and the file or the name is refused before a connector is made.
/// </summary>
public sealed class AdversarialInputTests : IClassFixture<AdversarialInputTests.Files>
{
    private static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "samples");
    private static readonly string Interfaces = Path.Combine(Samples, "interfaces.json");
    private static readonly string Policy = Path.Combine(Samples, "policy.json");

    private readonly Files _files;

    public AdversarialInputTests(Files files) => _files = files;

    /// <summary>Each command that reads a file, with <c>{}</c> where the file goes.</summary>
    public static TheoryData<string> FileCommands => new()
    {
        "plan --interfaces {} --policy POLICY --host www.example.com --port 443",
        "plan --interfaces INTERFACES --policy {} --host www.example.com --port 443",
        "simulate --scenario {}",
        "connect 127.0.0.1 9 --no-validation --interfaces {}",
        "connect 127.0.0.1 9 --no-validation --policy {}",
        "probe quic 127.0.0.1 9 --interfaces {}",
    };

    /// <summary>Every kind of bad file, with what the message must say about it.</summary>
    public static IEnumerable<string> FileKinds => ["malformed", "truncated", "nested", "huge", "dev-zero", "fifo", "directory", "missing", "empty", "not-utf8", "link-to-dev-zero", "not-an-object"];

    public static TheoryData<string, string> FileCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var command in FileCommands)
        {
            foreach (var kind in FileKinds)
            {
                data.Add(command, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FileCases))]
    public void A_bad_file_exits_2_naming_the_file_and_saying_what_is_wrong(string command, string kind)
    {
        var (path, says) = _files.Get(kind);
        var args = Args(command, path);
        Cli.AssertBadInput(Cli.Run(args), path, args);
        var (_, _, error) = Cli.Run(args);
        Assert.True(error.Contains(says, StringComparison.Ordinal), $"{kind}: stderr does not say '{says}': {Cli.Show(error)}");
    }

    /// <summary>Each command that reads a destination host or a name, with <c>{}</c> where it goes, and the option it is.</summary>
    private static readonly (string Command, string Option)[] NameCommands =
    [
        ("plan --interfaces INTERFACES --policy POLICY --host {} --port 443", "--host"),
        ("connect {} 9 --no-validation", "HOST"),
        ("probe quic {} 9", "HOST"),
    ];

    /// <summary>Hostile or invalid host names, with the rule the message names.</summary>
    private static readonly (string Host, string Rule)[] HostileHosts =
    [
        ("", "empty"),
        ("   ", "U+0020"),
        ("www example com", "U+0020"),
        ("a..b", "empty label"),
        (".example.com", "empty label"),
        (new string('a', 300) + ".com", "at most 63"),
        (string.Join('.', Enumerable.Repeat("abcdefgh", 30)), "at most 253"),
        ("1.2.3.256", "IPv4"),
        ("1.2.3", "IPv4"),
        ("\u001b[31mred\u001b[0m", "U+001B"),
        ("www.example.com\nfake line", "U+000A"),
        ("a/b", "U+002F"),
        ("\u202eevil.example", "internationalized"),
        ("\u0085x.example", "internationalized"),
        ("-start.example", "hyphen"),
        ("end-.example", "hyphen"),
        ("under_score.example", "U+005F"),
        ("[::1]:443", "IP"),
        ("http://www.example.com/", "U+003A"),
    ];

    public static TheoryData<string, string, string, string> NameCases()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var (command, option) in NameCommands)
        {
            foreach (var (host, rule) in HostileHosts)
            {
                data.Add(command, option, host, rule);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NameCases))]
    public void A_bad_host_exits_2_naming_the_option_and_the_rule(string command, string option, string host, string rule)
    {
        var args = Args(command, host);
        var result = Cli.Run(args);
        Cli.AssertBadInput(result, option, args);
        Assert.True(result.Err.Contains(rule, StringComparison.Ordinal), $"stderr does not name the rule '{rule}': {Cli.Show(result.Err)}");
    }

    /// <summary>Hostile interface and scenario names: refused with the name escaped, never written raw.</summary>
    [Theory]
    [InlineData("probe quic 127.0.0.1 9 --interface {}", "--interface")]
    [InlineData("simulate {}", "scenario")]
    public void A_hostile_name_exits_2_and_is_written_escaped(string command, string naming)
    {
        foreach (var name in new[] { "\u001b]0;pwned\u0007", "no-such-if0\nhemif: all good", "\u202egnp.exe", "a/b", "" })
        {
            var args = Args(command, name);
            Cli.AssertBadInput(Cli.Run(args), naming, args);
        }
    }

    private static string[] Args(string command, string value) =>
        command.Split(' ').Select(a => a switch
        {
            "{}" => value,
            "INTERFACES" => Interfaces,
            "POLICY" => Policy,
            _ => a,
        }).ToArray();

    /// <summary>The bad files, made once: the 3 GB file is sparse, the FIFO has no writer.</summary>
    public sealed class Files : IDisposable
    {
        private readonly TempDir _dir = new();
        private readonly Dictionary<string, (string Path, string Says)> _files = [];

        public Files()
        {
            _files["malformed"] = (_dir.File("malformed.json", "{\n  \"interfaces\": [ x ]\n}"), "line 2, column 19");
            _files["truncated"] = (_dir.File("truncated.json", "{ \"interfaces\": [ { \"name\": \"wlan0\", "), "valid JSON");
            _files["nested"] = (_dir.File("nested.json", new string('[', 10_000) + new string(']', 10_000)), "nested");
            var huge = _dir.Name("huge.json");
            using (var stream = new FileStream(huge, FileMode.CreateNew))
            {
                stream.SetLength(3L << 30);
            }

            _files["huge"] = (huge, "at most 4 MiB");
            _files["dev-zero"] = ("/dev/zero", "not a regular file (a character device)");
            var fifo = _dir.Name("fifo.json");
            Cli.Exec("mkfifo", fifo);
            _files["fifo"] = (fifo, "not a regular file (a FIFO)");
            var directory = _dir.Name("dir.json");
            Directory.CreateDirectory(directory);
            _files["directory"] = (directory, "found a directory");
            _files["missing"] = (_dir.Name("missing.json"), "does not exist");
            _files["empty"] = (_dir.File("empty.json", ""), "empty");
            var notUtf8 = _dir.Name("latin1.json");
            File.WriteAllBytes(notUtf8, [(byte)'{', (byte)'"', 0xE9, 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
            _files["not-utf8"] = (notUtf8, "UTF-8");
            var link = _dir.Name("link.json");
            File.CreateSymbolicLink(link, "/dev/zero");
            _files["link-to-dev-zero"] = (link, "not a regular file (a character device)");
            _files["not-an-object"] = (_dir.File("array.json", "[]"), "expected an object");
        }

        public (string Path, string Says) Get(string kind) => _files[kind];

        public void Dispose() => _dir.Dispose();
    }
}
