using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using PublicApiGenerator;

namespace HeMif.TestKit.PublicApi;

/// <summary>
/// Approval of an assembly's public surface: PublicApiGenerator renders it as C# declarations, and the text must equal
/// the checked-in <c>PublicApi/NAME.txt</c> beside the calling test file. A difference fails, always: nothing here
/// reads an environment variable or a setting, and nothing rewrites the approved file. What the code now has is
/// written to <c>PublicApi/NAME.received.txt</c> (ignored by git) so that a contributor who meant the change moves it
/// over the approved file, or runs <c>tools/update-public-api.sh</c>, and commits it with the change.
/// </summary>
public static class PublicApiApproval
{
    /// <summary>Lines of context shown around each changed line.</summary>
    private const int Context = 2;

    /// <summary>The public API of <paramref name="assembly"/> as PublicApiGenerator writes it, with '\n' line ends.</summary>
    public static string Generate(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        // PublicApiGenerator leaves out Microsoft.* namespaces by default; HeMif.Host puts its DI entry points
        // (AddHeMif, HeMifBuilder) in Microsoft.Extensions.DependencyInjection, as the .NET convention asks, and they
        // are public API like the rest.
        return Normalize(ApiGenerator.GeneratePublicApi(assembly, new ApiGeneratorOptions { AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection"] }));
    }

    /// <summary>
    /// Throws <see cref="TestKitException"/> when <paramref name="assembly"/>'s public API differs from
    /// <c>PublicApi/NAME.txt</c> in the folder of the calling test file. The message shows the difference, the file to
    /// update and how.
    /// </summary>
    public static void Verify(Assembly assembly, [CallerFilePath] string callerFile = "")
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var name = assembly.GetName().Name ?? "the assembly";
        var approved = Path.Combine(Path.GetDirectoryName(callerFile) ?? "", "PublicApi", name + ".txt");
        if (Compare(name, Generate(assembly), approved) is { } difference)
        {
            throw new TestKitException(difference);
        }
    }

    /// <summary>
    /// Compares <paramref name="actual"/> with the approved file. Returns null when they agree (and removes a stale
    /// received file); otherwise writes <paramref name="actual"/> beside it as NAME.received.txt and returns the
    /// message. The approved file is only ever read.
    /// </summary>
    public static string? Compare(string assemblyName, string actual, string approvedPath)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(approvedPath);
        actual = Normalize(actual);
        var receivedPath = Path.ChangeExtension(approvedPath, ".received.txt");
        var exists = File.Exists(approvedPath);
        var approved = exists ? Normalize(File.ReadAllText(approvedPath)) : "";
        if (exists && approved == actual)
        {
            File.Delete(receivedPath);
            return null;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(receivedPath))!);
        File.WriteAllText(receivedPath, actual);
        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"The public API of {assemblyName} differs from the approved {approvedPath}");
        message.Append(exists ? ".\n" : " (there is no such file).\n");
        message.Append("--- approved\n+++ now\n");
        AppendDiff(message, approved, actual);
        message.Append(CultureInfo.InvariantCulture, $"If the change is intended, approve it: mv {receivedPath} {approvedPath}\n");
        message.Append("(or run tools/update-public-api.sh for every assembly), and commit the approved file with the change.");
        return message.ToString();
    }

    /// <summary>The changed lines ('-' approved, '+' now) with <see cref="Context"/> unchanged lines around each run.</summary>
    private static void AppendDiff(StringBuilder message, string approved, string actual)
    {
        var lines = InlineDiffBuilder.Diff(approved, actual, ignoreWhiteSpace: false).Lines;
        var shown = new bool[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Type is ChangeType.Inserted or ChangeType.Deleted)
            {
                for (var j = Math.Max(0, i - Context); j <= Math.Min(lines.Count - 1, i + Context); j++)
                {
                    shown[j] = true;
                }
            }
        }

        for (var i = 0; i < lines.Count; i++)
        {
            if (!shown[i])
            {
                continue;
            }

            if (i == 0 || !shown[i - 1])
            {
                message.Append(CultureInfo.InvariantCulture, $"@@ near line {i + 1} @@\n");
            }

            var prefix = lines[i].Type switch
            {
                ChangeType.Inserted => "+ ",
                ChangeType.Deleted => "- ",
                _ => "  ",
            };
            message.Append(prefix).Append(lines[i].Text).Append('\n');
        }
    }

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
}
