using HeMif.TestKit.PublicApi;

namespace HeMif.Actors.Tests;

/// <summary>
/// Every change to the public surface of HeMif.Actors must show in the diff of PublicApi/HeMif.Actors.txt.
/// To accept an intended change: HEMIF_ACCEPT_PUBLIC_API=1 dotnet test tests/HeMif.Actors.Tests, then commit the file.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_the_checked_in_snapshot()
    {
        var difference = PublicApiSnapshot.CompareWithCheckedIn(typeof(HeMif.Engine.HeMifEngine).Assembly);
        Assert.True(difference is null, difference);
    }
}
