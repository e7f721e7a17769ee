using HeMif.TestKit;
using HeMif.TestKit.PublicApi;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>
/// The approval of a public API: PublicApiGenerator's text must equal the approved file; a drift fails with the
/// difference, the file to update and how, leaves the approved file as it was and writes what the code now has beside
/// it; nothing can make a drift pass.
/// </summary>
public sealed class PublicApiApprovalTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("hemif-api-");

    private string Approved => Path.Combine(_directory.FullName, "HeMif.TestKit.txt");

    private string Received => Path.Combine(_directory.FullName, "HeMif.TestKit.received.txt");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void The_generated_text_is_PublicApiGenerators_rendering_of_public_types_only()
    {
        var text = PublicApiApproval.Generate(typeof(TestKitException).Assembly);
        Assert.Contains("namespace HeMif.TestKit.PublicApi", text, StringComparison.Ordinal);
        Assert.Contains("public static class PublicApiApproval", text, StringComparison.Ordinal);
        Assert.Contains("public static string Generate(System.Reflection.Assembly assembly) { }", text, StringComparison.Ordinal);
        Assert.Contains("public sealed class TestKitException : System.Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("TestProbe", text, StringComparison.Ordinal); // internal
        Assert.DoesNotContain("ManualTimeProvider", text, StringComparison.Ordinal); // internal
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_equal_approved_file_passes_and_a_stale_received_file_goes()
    {
        var text = PublicApiApproval.Generate(typeof(TestKitException).Assembly);
        File.WriteAllText(Approved, text.Replace("\n", "\r\n", StringComparison.Ordinal)); // line ends do not matter
        File.WriteAllText(Received, "left over from an earlier drift");

        Assert.Null(PublicApiApproval.Compare("HeMif.TestKit", text, Approved));
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void A_drift_fails_with_the_difference_and_the_file_to_update_and_leaves_the_approved_file_alone()
    {
        var text = PublicApiApproval.Generate(typeof(TestKitException).Assembly);
        var approved = text.Replace("public static class PublicApiApproval", "public static class OldName", StringComparison.Ordinal) +
                       "namespace Gone\n{\n    public class Type { }\n}\n";
        File.WriteAllText(Approved, approved);

        var difference = PublicApiApproval.Compare("HeMif.TestKit", text, Approved);

        Assert.NotNull(difference);
        Assert.Contains("The public API of HeMif.TestKit differs from the approved " + Approved, difference, StringComparison.Ordinal);
        Assert.Contains("-     public static class OldName\n", difference, StringComparison.Ordinal);
        Assert.Contains("+     public static class PublicApiApproval\n", difference, StringComparison.Ordinal);
        Assert.Contains("- namespace Gone\n", difference, StringComparison.Ordinal);
        Assert.Contains($"mv {Received} {Approved}", difference, StringComparison.Ordinal);
        Assert.Contains("tools/update-public-api.sh", difference, StringComparison.Ordinal);
        Assert.DoesNotContain("public static string Generate", difference, StringComparison.Ordinal); // far from any change
        Assert.Equal(approved, File.ReadAllText(Approved));
        Assert.Equal(text, File.ReadAllText(Received));
    }

    [Fact]
    public void A_missing_approved_file_fails_instead_of_being_created()
    {
        var text = PublicApiApproval.Generate(typeof(TestKitException).Assembly);

        var difference = PublicApiApproval.Compare("HeMif.TestKit", text, Approved);

        Assert.NotNull(difference);
        Assert.Contains("there is no such file", difference, StringComparison.Ordinal);
        Assert.False(File.Exists(Approved));
        Assert.Equal(text, File.ReadAllText(Received));
    }

    /// <summary>The old snapshot test could be told to accept a drift with HEMIF_ACCEPT_PUBLIC_API=1; nothing can now.</summary>
    [Fact]
    public void The_old_accept_variable_no_longer_makes_a_drift_pass()
    {
        File.WriteAllText(Approved, "namespace Other { }\n");
        var before = Environment.GetEnvironmentVariable("HEMIF_ACCEPT_PUBLIC_API");
        Environment.SetEnvironmentVariable("HEMIF_ACCEPT_PUBLIC_API", "1");
        try
        {
            Assert.NotNull(PublicApiApproval.Compare("HeMif.TestKit", PublicApiApproval.Generate(typeof(TestKitException).Assembly), Approved));
            Assert.Equal("namespace Other { }\n", File.ReadAllText(Approved));
        }
        finally
        {
            Environment.SetEnvironmentVariable("HEMIF_ACCEPT_PUBLIC_API", before);
        }
    }
}
