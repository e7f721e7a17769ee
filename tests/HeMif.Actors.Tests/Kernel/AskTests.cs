using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>Ask: a reply slot with a timeout on the system's clock, cancellation, and clear errors.</summary>
public sealed class AskTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly ManualTimeProvider _time = new();
    private readonly ActorSystem _system;

    public AskTests() => _system = TestSystems.Create(_time);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.ShutdownAsync();

    [Fact]
    public async Task Ask_returns_the_reply()
    {
        var echo = _system.ActorOf(LambdaActor.Props((a, m) => a.Reply($"echo {m}")), "echo");
        Assert.Equal("echo hi", await echo.Ask<string>("hi", Timeout));
    }

    [Fact]
    public async Task Ask_fails_with_a_timeout_naming_the_target_exactly_when_its_timeout_passes_on_the_system_clock()
    {
        var silent = _system.ActorOf(LambdaActor.Props((_, _) => { }), "silent");
        var ask = silent.Ask<string>("anyone?", Timeout);
        await _system.WhenIdleAsync();

        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        await _system.WhenIdleAsync();
        Assert.False(ask.IsCompleted, "one tick before the timeout the Ask must still be waiting");

        _time.Advance(TimeSpan.FromTicks(1));
        var error = await Assert.ThrowsAsync<AskTimeoutException>(() => ask);
        Assert.Contains("/user/silent", error.Message, StringComparison.Ordinal);
        Assert.Contains("2000 ms", error.Message, StringComparison.Ordinal);
        Assert.Contains("String", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_to_an_actor_that_has_stopped_fails_at_once_without_waiting_for_the_timeout()
    {
        var probe = new TestProbe(_system);
        var actor = _system.ActorOf(LambdaActor.Props((_, _) => { }), "gone");
        _system.Stop(actor);
        await probe.ExpectTerminatedAsync(actor);

        var error = await Assert.ThrowsAsync<ActorStoppedException>(() => actor.Ask<string>("hello?", Timeout));
        Assert.Contains("/user/gone", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.Zero, _time.Elapsed);
    }

    [Fact]
    public async Task Ask_fails_when_the_target_stops_after_receiving_the_question_but_before_replying()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, m) => a.Context.Stop(a.Self)), "quitter");
        var error = await Assert.ThrowsAsync<ActorStoppedException>(() => actor.Ask<string>("will you answer?", Timeout));
        Assert.Contains("stopped before replying", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ask_is_cancelled_by_the_callers_token()
    {
        var silent = _system.ActorOf(LambdaActor.Props((_, _) => { }));
        using var cts = new CancellationTokenSource();
        var ask = silent.Ask<string>("wait", Timeout, cts.Token);
        await cts.CancelAsync();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ask);
        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public async Task A_reply_of_the_wrong_type_fails_the_Ask_with_both_types_named()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, _) => a.Reply(42)), "numbers");
        var error = await Assert.ThrowsAsync<AskReplyTypeException>(() => actor.Ask<string>("text please", Timeout));
        Assert.Contains("String", error.Message, StringComparison.Ordinal);
        Assert.Contains("Int32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Status_Failure_reply_fails_the_Ask_with_its_cause()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, _) => a.Reply(new Status.Failure(new InvalidDataException("bad input")))));
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => actor.Ask<string>("x", Timeout));
        Assert.Equal("bad input", error.Message);
    }

    [Fact]
    public async Task A_second_reply_is_ignored_the_Ask_completes_once_with_the_first()
    {
        var actor = _system.ActorOf(LambdaActor.Props((a, _) =>
        {
            a.Reply("first");
            a.Reply("second");
        }));
        Assert.Equal("first", await actor.Ask<string>("q", Timeout));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void An_Ask_timeout_must_be_positive(int milliseconds)
    {
        var actor = _system.ActorOf(LambdaActor.Props((_, _) => { }));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = actor.Ask<string>("q", TimeSpan.FromMilliseconds(milliseconds)); });
        Assert.Contains("positive and finite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Asks_with_different_timeouts_expire_in_deadline_order()
    {
        var silent = _system.ActorOf(LambdaActor.Props((_, _) => { }));
        var late = silent.Ask<string>("late", TimeSpan.FromSeconds(3));
        var early = silent.Ask<string>("early", TimeSpan.FromSeconds(1));
        await _system.WhenIdleAsync();

        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<AskTimeoutException>(() => early);
        Assert.False(late.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<AskTimeoutException>(() => late);
    }
}
