using HeMif.TestKit.PublicApi;

namespace HeMif.Host.Tests;

/// <summary>
/// Every change to the public surface of HeMif.Host must show in the diff of PublicApi/HeMif.Host.txt.
/// To accept an intended change: HEMIF_ACCEPT_PUBLIC_API=1 dotnet test tests/HeMif.Host.Tests, then commit the file.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_the_checked_in_snapshot()
    {
        var difference = PublicApiSnapshot.CompareWithCheckedIn(System.Reflection.Assembly.Load("HeMif.Host"));
        Assert.True(difference is null, difference);
    }
}
