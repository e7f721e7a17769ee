using System.Net;
using System.Net.Sockets;
using HeMif.Race;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// Drives a <see cref="RacePlanner"/> the way a sans-IO core is driven: <c>Input(...)</c>, <c>Expect(...)</c>,
/// <c>ExpectWait(...)</c>; time moves by arithmetic. Addresses come from the documentation ranges.
/// </summary>
internal sealed class PlannerDriver
{
    public static readonly IPAddress V6A = IPAddress.Parse("2001:db8::1");
    public static readonly IPAddress V6B = IPAddress.Parse("2001:db8::2");
    public static readonly IPAddress V4A = IPAddress.Parse("192.0.2.1");
    public static readonly IPAddress V4B = IPAddress.Parse("192.0.2.2");
    public const AddressFamily V6 = AddressFamily.InterNetworkV6;
    public const AddressFamily V4 = AddressFamily.InterNetwork;

    public PlannerDriver(RaceSettings? settings = null, params RaceCandidate[] candidates)
    {
        Settings = settings ?? new RaceSettings();
        Planner = new RacePlanner(candidates, 443, Settings);
    }

    public RacePlanner Planner { get; }

    public RaceSettings Settings { get; }

    public TimeSpan Now { get; set; }

    public List<RaceCommand> Log { get; } = [];

    public void Input(RaceInput input) => Planner.Handle(input, Now);

    public void Answer(string iface, AddressFamily family, params IPAddress[] addresses) =>
        Input(new RaceInput.ResolutionAnswered(iface, family, addresses));

    public void Succeed(ulong attempt) => Input(new RaceInput.AttemptSucceeded(new AttemptId(attempt)));

    public void Fail(ulong attempt, AttemptFailureKind kind = AttemptFailureKind.Soft, string reason = "no answer") =>
        Input(new RaceInput.AttemptFailed(new AttemptId(attempt), kind, reason));

    public void Advance(TimeSpan by) => Now += by;

    /// <summary>The next command must be a <typeparamref name="T"/> (matching <paramref name="match"/>); Notes are skipped and logged.</summary>
    public T Expect<T>(Func<T, bool>? match = null, string? because = null)
        where T : RaceCommand
    {
        var next = NextSkippingNotes();
        var typed = Assert.IsType<T>(next);
        Assert.True(match?.Invoke(typed) ?? true, $"{because ?? "unexpected command"}: got {typed}");
        return typed;
    }

    public RaceCommand.StartAttempt ExpectAttempt(ulong id, IPAddress address, string iface, TransportName? transport = null) =>
        Expect<RaceCommand.StartAttempt>(s => s.Id.Value == id && s.Endpoint.Remote.Address.Equals(address) && s.Endpoint.Interface == iface && s.Endpoint.Transport == (transport ?? TransportName.Tcp),
            $"expected attempt #{id} {transport ?? TransportName.Tcp} {address} on {iface}");

    public void ExpectResolutions(string iface, params AddressFamily[] families)
    {
        foreach (var family in families)
        {
            Expect<RaceCommand.StartResolution>(r => r.Interface == iface && r.Family == family, $"expected resolution {family} on {iface}");
        }
    }

    /// <summary>The planner has nothing to do before <paramref name="at"/>.</summary>
    public void ExpectWait(TimeSpan at)
    {
        var next = NextSkippingNotes();
        var wait = Assert.IsType<RaceCommand.WaitUntil>(next);
        Assert.Equal(at, wait.At);
    }

    /// <summary>Every command until the planner waits or finishes.</summary>
    public List<RaceCommand> Drain()
    {
        var list = new List<RaceCommand>();
        while (Planner.Poll(Now) is { } command and not RaceCommand.WaitUntil)
        {
            Log.Add(command);
            list.Add(command);
        }

        return list;
    }

    public IEnumerable<string> Notes => Log.OfType<RaceCommand.Note>().Select(n => n.Text);

    private RaceCommand? NextSkippingNotes()
    {
        while (true)
        {
            var next = Planner.Poll(Now);
            if (next is not null)
            {
                Log.Add(next);
            }

            if (next is not RaceCommand.Note)
            {
                return next;
            }
        }
    }
}
