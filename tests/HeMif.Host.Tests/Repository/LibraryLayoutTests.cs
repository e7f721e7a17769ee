using System.Text.Json;

namespace HeMif.Host.Tests.Repository;

/// <summary>
/// What is a library (packable, every public member documented: CS1591 is an error there) is decided by where a
/// project sits in the repository, src/ or not, and not by where the repository sits on the disk: a clone in
/// ~/src/hemif must build the examples and tests as it builds them anywhere else.
/// </summary>
public sealed class LibraryLayoutTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A copy of the build files (Directory.Build.props, Directory.Packages.props, global.json and every project file)
    /// under a folder whose path contains /src/, each project evaluated by MSBuild (no build): only src/'s projects are
    /// libraries.
    /// </summary>
    [Fact]
    public async Task A_clone_under_a_src_folder_makes_only_the_projects_in_its_own_src_libraries()
    {
        var temp = Path.Combine(Path.GetTempPath(), "hemif-layout-" + Guid.NewGuid().ToString("N"));
        var clone = Path.Combine(temp, "home", "src", "hemif");
        try
        {
            var projects = CopyBuildFiles(clone);
            Assert.Contains(projects, p => p.StartsWith("src/", StringComparison.Ordinal));
            Assert.Contains(projects, p => p.StartsWith("examples/", StringComparison.Ordinal));
            Assert.Contains(projects, p => p.StartsWith("tests/", StringComparison.Ordinal));

            var results = await Task.WhenAll(projects.Select(async p => (Project: p, Properties: await EvaluateAsync(clone, p))));
            foreach (var (project, properties) in results)
            {
                var library = project.StartsWith("src/", StringComparison.Ordinal);
                var documentationOptional = properties.NoWarn.Split(';').Contains("CS1591");
                // The libraries are packages by this rule; the CLI is one too, by its own project file (a .NET tool).
                var packable = library || project == "examples/HeMif.Cli/HeMif.Cli.csproj";
                Assert.True(packable == properties.IsPackable, $"{project}: IsPackable is {properties.IsPackable} in {clone}");
                Assert.True(library != documentationOptional, $"{project}: NoWarn is '{properties.NoWarn}' in {clone} (CS1591 must be enforced in src/ only)");
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Copies the build files and every project file; returns the projects' paths, relative, with '/'.</summary>
    private static List<string> CopyBuildFiles(string clone)
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
        {
            Directory.CreateDirectory(clone);
            File.Copy(Path.Combine(Repo.Root, file), Path.Combine(clone, file));
        }

        var projects = new List<string>();
        foreach (var top in new[] { "src", "examples", "tests", "lab" })
        {
            foreach (var project in Directory.EnumerateFiles(Path.Combine(Repo.Root, top), "*.csproj", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Repo.Root, project).Replace('\\', '/');
                if (relative.Split('/').Any(part => part is "bin" or "obj"))
                {
                    continue;
                }

                var target = Path.Combine(clone, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(project, target);
                projects.Add(relative);
            }
        }

        return projects;
    }

    private static async Task<(bool IsPackable, string NoWarn)> EvaluateAsync(string clone, string project)
    {
        var (exit, output) = await Repo.DotnetAsync(clone, HangGuard, "msbuild", project, "-nologo", "-nodeReuse:false",
            "-getProperty:IsPackable", "-getProperty:NoWarn");
        Assert.True(exit == 0, $"dotnet msbuild {project} -getProperty failed ({exit}):\n{output}");
        var json = output[output.IndexOf('{', StringComparison.Ordinal)..];
        var properties = JsonDocument.Parse(json).RootElement.GetProperty("Properties");
        return (bool.Parse(properties.GetProperty("IsPackable").GetString()!), properties.GetProperty("NoWarn").GetString() ?? "");
    }
}
