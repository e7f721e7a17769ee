using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace HeMif.Host.Tests.Repository;

/// <summary>
/// Every C# sample in README.md and docs/*.md compiles against the repository's projects, so a sample cannot drift
/// from the API. A sample says what it needs in its first lines (docs/code-samples.md): <c>// Projects:</c> and
/// <c>// Packages:</c> (the references a newcomer adds), its <c>using</c> lines, and for a fragment
/// <c>// In scope:</c> (what it assumes declared around it). All samples build in one project, with the SDK's
/// implicit usings of a new console or library project and nothing else.
/// </summary>
public sealed partial class DocSampleTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(8);

    [Fact]
    public void Every_sample_names_what_it_needs()
    {
        var samples = Samples();
        Assert.NotEmpty(samples);
        var problems = samples.Where(s => s.Projects.Count == 0 && s.Packages.Count == 0)
            .Select(s => $"{s.Where}: no '// Projects:' or '// Packages:' line").ToList();
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public async Task Every_sample_compiles_against_the_repository()
    {
        var samples = Samples();
        var temp = Path.Combine(Path.GetTempPath(), "hemif-doc-samples-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            File.Copy(Path.Combine(Repo.Root, "global.json"), Path.Combine(temp, "global.json"));
            File.WriteAllText(Path.Combine(temp, "DocSamples.csproj"), Project(samples));
            for (var i = 0; i < samples.Count; i++)
            {
                File.WriteAllText(Path.Combine(temp, $"Sample{i}.cs"), Source(samples[i], i));
            }

            // The repository's projects are built already (this test project references them): use those outputs.
            var (exit, output) = await Repo.DotnetAsync(temp, HangGuard, "build", "DocSamples.csproj", "-c", Repo.Configuration,
                "-p:BuildProjectReferences=false", "-nologo", "-nodeReuse:false", "-clp:ErrorsOnly");
            Assert.True(exit == 0, $"the samples do not compile (errors name the markdown file and line):\n{output}");
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The project: the union of what the samples name; package versions from Directory.Packages.props unless a sample gives one.</summary>
    private static string Project(IReadOnlyList<Sample> samples)
    {
        var central = XDocument.Load(Path.Combine(Repo.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);
        var packages = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, version) in samples.SelectMany(s => s.Packages))
        {
            packages[name] = version ?? (central.TryGetValue(name, out var v) ? v
                : throw new InvalidOperationException($"package {name} has no version in Directory.Packages.props: give one in the sample ('// Packages: {name} 1.2.3')"));
        }

        var projects = samples.SelectMany(s => s.Projects).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var xml = new StringBuilder();
        xml.AppendLine("""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                <!-- Samples are compiled, never run; their warnings (an unused variable) are not errors. -->
                <NoWarn>$(NoWarn);CS0168;CS0219;CS8321;NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
            """);
        foreach (var project in projects)
        {
            var path = Directory.EnumerateFiles(Path.Combine(Repo.Root, project), "*.csproj").Single();
            xml.AppendLine(CultureInfo.InvariantCulture, $"""    <ProjectReference Include="{path}" />""");
        }

        foreach (var (name, version) in packages)
        {
            xml.AppendLine(CultureInfo.InvariantCulture, $"""    <PackageReference Include="{name}" Version="{version}" />""");
        }

        xml.AppendLine("  </ItemGroup>").AppendLine("</Project>");
        return xml.ToString();
    }

    /// <summary>
    /// One sample as a file: its usings, then its code as the body of an async method whose parameters (and type
    /// parameters) are what it has in scope; <c>#line</c> makes every error name the markdown file and line.
    /// </summary>
    private static string Source(Sample sample, int index)
    {
        var parameters = string.Join(", ", sample.InScope.Where(x => !x.IsType).Select(x => x.Text));
        var types = sample.InScope.Where(x => x.IsType).ToList();
        var typeParameters = types.Count == 0 ? "" : "<" + string.Join(", ", types.Select(t => t.Name)) + ">";
        var constraints = string.Concat(types.Where(t => t.Text.Length > 0).Select(t => $" where {t.Name} : {t.Text}"));
        var source = new StringBuilder();
        source.AppendLine(CultureInfo.InvariantCulture, $"#line {sample.UsingsLine} \"{sample.File}\"");
        foreach (var u in sample.Usings)
        {
            source.AppendLine(u);
        }

        source.AppendLine("#line default");
        source.AppendLine(CultureInfo.InvariantCulture, $"namespace DocSamples.Sample{index};");
        source.AppendLine("#pragma warning disable CA1812, CA2007, CA1849, CA2000, IDE0005");
        source.AppendLine("internal static class Sample");
        source.AppendLine("{");
        source.AppendLine(CultureInfo.InvariantCulture, $"    internal static async Task RunAsync{typeParameters}({parameters}){constraints}");
        source.AppendLine("    {");
        source.AppendLine(CultureInfo.InvariantCulture, $"#line {sample.BodyLine} \"{sample.File}\"");
        foreach (var line in sample.Body)
        {
            source.AppendLine(line);
        }

        source.AppendLine("#line default");
        source.AppendLine("        await Task.CompletedTask;");
        source.AppendLine("    }");
        source.AppendLine("}");
        return source.ToString();
    }

    /// <summary>Every ```csharp block of README.md and docs/*.md, parsed by the convention of docs/code-samples.md.</summary>
    private static List<Sample> Samples()
    {
        var files = new[] { Path.Combine(Repo.Root, "README.md") }.Concat(Directory.EnumerateFiles(Path.Combine(Repo.Root, "docs"), "*.md").Order(StringComparer.Ordinal));
        var samples = new List<Sample>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            var relative = Path.GetRelativePath(Repo.Root, file).Replace('\\', '/');
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Trim() != "```csharp")
                {
                    continue;
                }

                var start = i + 1;
                var end = start;
                while (end < lines.Length && lines[end].Trim() != "```")
                {
                    end++;
                }

                samples.Add(Parse(relative, start, lines[start..end]));
                i = end;
            }
        }

        return samples;
    }

    /// <summary>Parses one sample; <paramref name="first"/> is the 0-based index of its first line in the file.</summary>
    private static Sample Parse(string relative, int first, string[] lines)
    {
        var sample = new Sample($"{relative}:{first + 1}", Path.Combine(Repo.Root, relative));
        var i = 0;
        for (; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (Header().Match(line) is { Success: true } m)
            {
                var items = m.Groups["items"].Value.Split(m.Groups["key"].Value == "In scope" ? ';' : ',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                switch (m.Groups["key"].Value)
                {
                    case "Projects":
                        sample.Projects.AddRange(items);
                        break;
                    case "Packages":
                        sample.Packages.AddRange(items.Select(p => p.Split(' ', 2, StringSplitOptions.TrimEntries)).Select(p => (p[0], p.Length > 1 ? p[1] : null)));
                        break;
                    default:
                        sample.InScope.AddRange(items.Select(InScopeItem));
                        break;
                }
            }
            else if (!line.StartsWith("//", StringComparison.Ordinal) && line.Length > 0)
            {
                break;
            }
        }

        sample.UsingsLine = first + i + 1;
        for (; i < lines.Length && (UsingDirective().IsMatch(lines[i]) || lines[i].Trim().Length == 0); i++)
        {
            if (lines[i].Trim().Length > 0)
            {
                sample.Usings.Add(lines[i]);
            }
        }

        sample.BodyLine = first + i + 1;
        sample.Body.AddRange(lines[i..]);
        return sample;
    }

    /// <summary><c>type Name : constraints</c> is a type parameter; anything else (<c>IHeMifConnector connector</c>) a parameter.</summary>
    private static (bool IsType, string Name, string Text) InScopeItem(string item)
    {
        if (item.StartsWith("type ", StringComparison.Ordinal))
        {
            var parts = item["type ".Length..].Split(':', 2, StringSplitOptions.TrimEntries);
            return (true, parts[0], parts.Length > 1 ? parts[1] : "");
        }

        return (false, "", item);
    }

    [GeneratedRegex(@"^// (?<key>Projects|Packages|In scope): (?<items>.+)$")]
    private static partial Regex Header();

    [GeneratedRegex(@"^using (static )?[A-Za-z_][\w.]*( = [\w.<>]+)?;\s*(//.*)?$")]
    private static partial Regex UsingDirective();

    private sealed class Sample(string where, string file)
    {
        public string Where { get; } = where;

        public string File { get; } = file;

        public List<string> Projects { get; } = [];

        public List<(string Name, string? Version)> Packages { get; } = [];

        public List<(bool IsType, string Name, string Text)> InScope { get; } = [];

        public List<string> Usings { get; } = [];

        public List<string> Body { get; } = [];

        public int UsingsLine { get; set; }

        public int BodyLine { get; set; }
    }
}
