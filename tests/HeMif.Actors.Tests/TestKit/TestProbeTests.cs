using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.TestKit;

/// <summary>The probe's failures say what was expected, what arrived, and the hint.</summary>
public sealed class TestProbeTests : IAsyncLifetime
{
    private readonly ActorSystem _system = TestSystems.Create(new ManualTimeProvider());

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.ShutdownAsync();

    [Fact]
    public async Task ExpectMsg_of_the_wrong_type_names_the_expected_type_what_arrived_and_the_hint()
    {
        var probe = new TestProbe(_system);
        probe.Tell(42);
        var error = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectMsgAsync<string>(hint: "the greeting"));
        Assert.Contains("expected a String", error.Message, StringComparison.Ordinal);
        Assert.Contains("got Int32 { 42 }", error.Message, StringComparison.Ordinal);
        Assert.Contains("(the greeting)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectMsg_that_does_not_match_the_predicate_says_so()
    {
        var probe = new TestProbe(_system);
        probe.Tell("hello");
        var error = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectMsgAsync<string>(s => s == "bye"));
        Assert.Contains("matching the predicate", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectMsg_with_nothing_arriving_says_none_arrived_within_the_timeout()
    {
        var probe = new TestProbe(_system);
        var error = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectMsgAsync<string>(timeout: TimeSpan.FromMilliseconds(50)));
        Assert.Contains("within 0.05 s, but no message arrived", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectNoMsg_fails_naming_the_message_that_arrived()
    {
        var probe = new TestProbe(_system);
        probe.Tell("surprise");
        var error = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50), "quiet please"));
        Assert.Contains("got String { surprise }", error.Message, StringComparison.Ordinal);
        Assert.Contains("(quiet please)", error.Message, StringComparison.Ordinal);
        probe.Tell("late");
        var idle = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectNoMsgAsync());
        Assert.Contains("once the system was idle", idle.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpectTerminated_fails_clearly_when_the_actor_lives_on()
    {
        var probe = new TestProbe(_system);
        var actor = _system.ActorOf(Props.Create(() => new Kernel.LambdaActor((_, _) => { })), "alive");
        var error = await Assert.ThrowsAsync<TestKitException>(() => probe.ExpectTerminatedAsync(actor, TimeSpan.FromMilliseconds(50)));
        Assert.Contains("termination of /user/alive", error.Message, StringComparison.Ordinal);
    }
}
