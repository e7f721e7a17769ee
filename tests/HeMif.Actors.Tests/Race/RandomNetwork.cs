using System.Net;
using System.Net.Sockets;
using HeMif.Race;

namespace HeMif.Actors.Tests.Race;

/// <summary>What the random networks of the planner's property tests answer; one place, so both tests draw alike.</summary>
internal static class RandomNetwork
{
    /// <summary>
    /// The answer to <paramref name="resolution"/> and how long after it comes: within 200 ms, one in five a SERVFAIL,
    /// else zero to two documentation addresses of the asked family.
    /// </summary>
    public static (TimeSpan After, RaceInput Input) Answer(RaceCommand.StartResolution resolution, Random random)
    {
        var after = TimeSpan.FromMilliseconds(random.Next(0, 200));
        if (random.Next(5) == 0)
        {
            return (after, new RaceInput.ResolutionFailed(resolution.Interface, resolution.Family, "SERVFAIL"));
        }

        var prefix = resolution.Family == AddressFamily.InterNetworkV6 ? "2001:db8::" : "192.0.2.";
        var addresses = Enumerable.Range(1, random.Next(0, 3)).Select(i => IPAddress.Parse(prefix + i)).ToArray();
        return (after, new RaceInput.ResolutionAnswered(resolution.Interface, resolution.Family, addresses));
    }
}
