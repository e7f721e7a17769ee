using HeMif.Kernel;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Kernel;

/// <summary>A fresh system on a manual clock, with a probe, shut down after each test.</summary>
public abstract class KernelTest : IAsyncLifetime
{
    private protected KernelTest()
    {
        Time = new ManualTimeProvider();
        System = TestSystems.Create(Time);
        Probe = new TestProbe(System);
    }

    private protected ManualTimeProvider Time { get; }

    private protected ActorSystem System { get; }

    private protected TestProbe Probe { get; }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => System.ShutdownAsync();
}
