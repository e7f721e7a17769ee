using HeMif.TestKit;
using HeMif.TestKit.PublicApi;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>The snapshot renderer sees every public type and member, and a difference names each changed line.</summary>
public sealed class PublicApiSnapshotTests
{
    [Fact]
    public void Render_lists_public_types_with_their_bases_and_members()
    {
        var text = PublicApiSnapshot.Render(typeof(TestKitException).Assembly);
        Assert.Contains("sealed class HeMif.TestKit.TestKitException : System.Exception, System.Runtime.Serialization.ISerializable\n", text, StringComparison.Ordinal);
        Assert.Contains("HeMif.TestKit.TestKitException::public .ctor(System.String message)\n", text, StringComparison.Ordinal);
        Assert.Contains("HeMif.TestKit.PublicApi.PublicApiSnapshot::public static System.String Render(System.Reflection.Assembly assembly)\n", text, StringComparison.Ordinal);
        Assert.Contains("HeMif.TestKit.PublicApi.PublicApiSnapshot::public const System.String AcceptVariable\n", text, StringComparison.Ordinal);
        Assert.Contains("static class HeMif.TestKit.PublicApi.PublicApiSnapshot\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("TestProbe", text, StringComparison.Ordinal); // internal
        Assert.DoesNotContain("ManualTimeProvider", text, StringComparison.Ordinal); // internal
    }

    [Fact]
    public void A_difference_lists_added_and_removed_lines_and_how_to_accept_it()
    {
        var directory = Directory.CreateTempSubdirectory("hemif-api-");
        try
        {
            var file = Path.Combine(directory.FullName, "api.txt");
            File.WriteAllText(file, "class Gone.Type\n" + PublicApiSnapshot.Render(typeof(TestKitException).Assembly).Replace("static class HeMif.TestKit.PropertyCheck", "static class HeMif.TestKit.Renamed", StringComparison.Ordinal));
            var difference = PublicApiSnapshot.Compare(typeof(TestKitException).Assembly, file, file);
            Assert.NotNull(difference);
            Assert.Contains("- class Gone.Type", difference, StringComparison.Ordinal);
            Assert.Contains("+ static class HeMif.TestKit.PropertyCheck", difference, StringComparison.Ordinal);
            Assert.Contains(PublicApiSnapshot.AcceptVariable + "=1", difference, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
