using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>PipeTo turns a task's outcome into a message, so handlers never await.</summary>
public sealed class PipeToTests : IAsyncLifetime
{
    private readonly ActorSystem _system = TestSystems.Create(new ManualTimeProvider());

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _system.ShutdownAsync();

    [Fact]
    public async Task A_completed_task_is_piped_as_its_value_and_a_faulted_one_as_Status_Failure()
    {
        var probe = new TestProbe(_system);
        await Task.FromResult<object>("value").PipeTo(probe);
        await probe.ExpectMsgAsync("value");

        await Task.FromException<string>(new TimeoutException("slow")).PipeTo(probe);
        var failure = await probe.ExpectMsgAsync<Status.Failure>();
        Assert.IsType<TimeoutException>(failure.Cause);
    }

    [Fact]
    public async Task Projections_shape_the_piped_message_and_an_outstanding_pipe_keeps_the_system_busy()
    {
        var probe = new TestProbe(_system);
        var source = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipe = source.Task.PipeTo(probe, success: n => $"got {n}", failure: e => $"failed {e.Message}");

        var idle = _system.WhenIdleAsync();
        await Task.Delay(50);
        Assert.False(idle.IsCompleted, "an outstanding piped task is work in flight");

        source.SetResult(7);
        await pipe;
        await idle;
        await probe.ExpectMsgAsync("got 7");
    }
}
