using System.Net;
using HeMif.Interfaces;
using HeMif.Simulation;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Simulation;

/// <summary>Two dual-stack interfaces, one dual-stack destination (documentation ranges), and a network over them.</summary>
internal static class Sim
{
    public static readonly InterfaceFacts Wlan = new("wlan0", InterfaceKind.Wifi)
    {
        Addresses = [new(IPAddress.Parse("2001:db8:a::10"), 64), new(IPAddress.Parse("198.51.100.10"), 24)],
    };

    public static readonly InterfaceFacts Rmnet = new("rmnet0", InterfaceKind.Cellular)
    {
        Addresses = [new(IPAddress.Parse("2001:db8:c::10"), 64), new(IPAddress.Parse("203.0.113.10"), 24)],
    };

    public static readonly IPAddress V6Address = IPAddress.Parse("2001:db8:ffff::80");

    public static readonly IPAddress V4Address = IPAddress.Parse("192.0.2.80");

    public static readonly IPEndPoint V6 = new(V6Address, 443);

    public static readonly IPEndPoint V4 = new(V4Address, 443);

    public const string Host = "www.example.com";

    public static SimulatedNetwork Network(ManualTimeProvider clock, SimulatedPath? wlan = null, SimulatedPath? rmnet = null, int seed = 1, bool quicSupported = true) =>
        new(
            new Dictionary<string, SimulatedPath> { ["wlan0"] = wlan ?? SimulatedPath.Default, ["rmnet0"] = rmnet ?? SimulatedPath.Default },
            new Dictionary<string, IReadOnlyList<IPAddress>> { [Host] = [V6Address, V4Address], ["v6only.example.com"] = [V6Address] },
            quicSupported,
            clock,
            seed);

    public static TimeSpan Ms(double milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    /// <summary>The result of a task that must already have completed successfully (the clock's Advance ran it).</summary>
    public static T Done<T>(Task<T> task)
    {
        Assert.True(task.IsCompletedSuccessfully, "the task has not completed successfully: " + task.Status);
        return task.Result;
    }

    /// <summary>One tick: the smallest step of the clock.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromTicks(1);
}
