using System.Xml.Linq;

namespace HeMif.Actors.Tests;

/// <summary>
/// docs/architecture.md §2: "The core (HeMif.Actors) must not reference HeMif.Transports; transports implement interfaces the
/// core declares." Checked both in the compiled assembly and in the project file (an unused project reference is
/// dropped from metadata by the compiler, so the assembly alone would not show it).
/// </summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void The_core_assembly_does_not_reference_the_transports_or_the_host()
    {
        var references = typeof(HeMif.Engine.HeMifEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("HeMif.Transports", references);
        Assert.DoesNotContain("HeMif.Host", references);
    }

    [Fact]
    public void The_core_project_file_has_no_reference_to_the_transports_or_the_host()
    {
        var project = XDocument.Load(Path.Combine(RepositoryRoot(), "src", "HeMif.Actors", "HeMif.Actors.csproj"));
        var references = project.Descendants().Where(e => e.Name.LocalName is "ProjectReference" or "Reference" or "PackageReference")
            .Select(e => (string?)e.Attribute("Include") ?? "").ToList();
        Assert.DoesNotContain(references, r => r.Contains("HeMif.Transports", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(references, r => r.Contains("HeMif.Host", StringComparison.OrdinalIgnoreCase));
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
}
