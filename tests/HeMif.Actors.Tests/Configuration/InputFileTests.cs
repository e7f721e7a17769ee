using System.Diagnostics;
using HeMif.Configuration;

namespace HeMif.Actors.Tests.Configuration;

/// <summary>
/// Issue 11: "No input size limit: --scenario /dev/zero, --policy /dev/zero or a 3 GB file end in OutOfMemoryException
/// … a FIFO with no writer as --scenario hangs forever; a directory is reported as 'Access … denied'. Files are read
/// with a documented size limit (a few MiB is plenty), only regular files, and a clear message for each case." Every
/// loader reads through <see cref="HeMifConfiguration.ReadFile"/>, so these hold for policy, interfaces, scenario and
/// override files alike (the CLI tests run each command against each case).
/// </summary>
public sealed class InputFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"hemif-input-{Guid.NewGuid():N}");

    public InputFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_missing_file_says_it_does_not_exist()
    {
        var path = Path.Combine(_dir, "missing.json");
        Assert.Equal($"{path}: expected a readable JSON file; found nothing: the file does not exist", Refused(path).Message);
        Assert.Equal("", Refused(path).Path);
    }

    [Fact]
    public void A_directory_is_called_a_directory_not_access_denied() =>
        Assert.Equal("a directory", Refused(_dir).Found);

    [Fact]
    public void A_character_device_is_refused_before_it_is_read() =>
        Assert.Equal("not a regular file (a character device)", Refused("/dev/zero").Found);

    /// <summary>A FIFO without a writer would block open(2) forever: its kind is checked without opening it.</summary>
    [Fact]
    public async Task A_FIFO_is_refused_without_being_opened()
    {
        var fifo = Path.Combine(_dir, "fifo.json");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            Assert.True(mkfifo.WaitForExit(10_000) && mkfifo.ExitCode == 0, "mkfifo");
        }

        // A hang guard, not a timing assertion: a blocked open(2) would never end.
        var refused = await Task.Run(() => Refused(fifo)).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("not a regular file (a FIFO)", refused.Found);
    }

    [Fact]
    public void A_symbolic_link_is_judged_by_what_it_points_to()
    {
        var toDevice = Path.Combine(_dir, "zero.json");
        File.CreateSymbolicLink(toDevice, "/dev/zero");
        Assert.Equal("not a regular file (a character device)", Refused(toDevice).Found);

        var toFile = Path.Combine(_dir, "policy-link.json");
        File.WriteAllText(Path.Combine(_dir, "policy.json"), "{}");
        File.CreateSymbolicLink(toFile, Path.Combine(_dir, "policy.json"));
        Assert.Equal("{}", HeMifConfiguration.ReadFile(toFile));

        var loop = Path.Combine(_dir, "loop.json");
        File.CreateSymbolicLink(loop, loop);
        Assert.Equal("a loop of symbolic links", Refused(loop).Found);
    }

    /// <summary>A sparse 3 GB file: refused by its size before a byte is read.</summary>
    [Fact]
    public void A_file_over_the_limit_is_refused_by_its_size()
    {
        var huge = Path.Combine(_dir, "huge.json");
        using (var stream = new FileStream(huge, FileMode.CreateNew))
        {
            stream.SetLength(3L << 30);
        }

        var e = Refused(huge);
        Assert.Equal("a file of at most 4 MiB (4,194,304 bytes)", e.Expected);
        Assert.Equal("3,221,225,472 bytes", e.Found);
    }

    [Fact]
    public void The_limit_is_exact()
    {
        var at = Path.Combine(_dir, "at.json");
        File.WriteAllText(at, "{}" + new string(' ', HeMifConfiguration.MaxFileBytes - 2));
        Assert.Equal(HeMifConfiguration.MaxFileBytes, HeMifConfiguration.ReadFile(at).Length);

        var over = Path.Combine(_dir, "over.json");
        File.WriteAllText(over, "{}" + new string(' ', HeMifConfiguration.MaxFileBytes - 1));
        Assert.Equal("4,194,305 bytes", Refused(over).Found);
    }

    [Fact]
    public void Text_that_is_not_UTF8_is_refused_naming_the_byte()
    {
        var latin1 = Path.Combine(_dir, "latin1.json");
        File.WriteAllBytes(latin1, [(byte)'{', (byte)'"', 0xE9, (byte)'"', (byte)':', (byte)'1', (byte)'}']);
        var e = Refused(latin1);
        Assert.Equal("UTF-8 text", e.Expected);
        Assert.Equal("the byte 0xE9 at offset 2, which is not UTF-8", e.Found);
    }

    [Fact]
    public void A_byte_order_mark_is_skipped()
    {
        var bom = Path.Combine(_dir, "bom.json");
        File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}']);
        Assert.Equal("{}", HeMifConfiguration.ReadFile(bom));
        Assert.Empty(HeMifConfiguration.LoadPolicyFile(bom).UserRules);
    }

    [Fact]
    public void An_empty_file_says_so()
    {
        var empty = Path.Combine(_dir, "empty.json");
        File.WriteAllText(empty, "");
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.LoadPolicyFile(empty));
        Assert.Equal($"{empty}: $: expected a JSON object; found nothing (the input is empty)", e.Message);
    }

    /// <summary>
    /// "System.Text.Json's duplicated 0-based line numbers say it in the user's words instead": one place, counted from
    /// 1, the column in characters.
    /// </summary>
    [Fact]
    public void A_JSON_error_gives_line_and_column_once_counted_from_one()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy("{\n  \"userRules\": [ x ]\n}", "p.json"));
        Assert.Equal("p.json: $ (line 2, column 18): expected valid JSON; found 'x' is an invalid start of a value.", e.Message);

        var accented = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy("{ \"é\": ü }", "p.json"));
        Assert.Contains("(line 1, column 8)", accented.Message, StringComparison.Ordinal); // characters, not bytes
        Assert.DoesNotContain("LineNumber", accented.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", accented.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_refused_in_words()
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ParsePolicy(new string('[', 10_000) + new string(']', 10_000), "deep.json"));
        Assert.Equal("objects or arrays nested deeper than 32 levels", e.Found);
    }

    private static HeMifConfigurationException Refused(string path)
    {
        var e = Assert.Throws<HeMifConfigurationException>(() => HeMifConfiguration.ReadFile(path));
        Assert.Equal(path, e.Origin);
        return e;
    }
}
