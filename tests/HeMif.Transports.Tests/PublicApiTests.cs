using HeMif.TestKit.PublicApi;

namespace HeMif.Transports.Tests;

/// <summary>
/// Every change to the public surface of HeMif.Transports must show in the diff of PublicApi/HeMif.Transports.txt, which
/// PublicApiGenerator's rendering must equal. A drift fails and writes PublicApi/HeMif.Transports.received.txt; to approve
/// an intended change, move that file over the approved one (or run tools/update-public-api.sh) and commit it.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void The_public_API_matches_the_approved_file() => PublicApiApproval.Verify(System.Reflection.Assembly.Load("HeMif.Transports"));
}
