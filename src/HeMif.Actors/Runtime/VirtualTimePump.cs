using Akka.Dispatch;

namespace HeMif.Runtime;

/// <summary>
/// The one executor of a virtual-time actor system: every dispatcher's work goes into one FIFO queue that the driver
/// (<see cref="Simulation.VirtualTimeDriver"/>) runs on its own thread, so the same inputs always run in the same order
/// and "nothing left to do but wait for the clock" is simply an empty queue.
/// <para>
/// Strict: work that arrives from another thread than the driver's (a continuation that left the pump for the thread
/// pool, a real socket completing) would make a run depend on the machine's timing; it is counted and the driver
/// fails on it instead of hoping it settles.
/// </para>
/// </summary>
internal sealed class VirtualTimePump
{
    private readonly Queue<IRunnable> _queue = new();
    private readonly Lock _lock = new();
    private readonly List<string> _foreign = [];
    private Thread? _driver;

    /// <summary>Creates a pump whose driver, until <see cref="RunUntilIdle"/> says otherwise, is the creating thread.</summary>
    public VirtualTimePump() => _driver = Thread.CurrentThread;

    /// <summary>When true (the default), work from a thread other than the driver's is an error the driver reports.</summary>
    public bool Strict { get; init; } = true;

    /// <summary>How many runnables have run so far.</summary>
    public long Executed { get; private set; }

    /// <summary>Queues <paramref name="work"/> (any dispatcher of the system calls this).</summary>
    public void Enqueue(IRunnable work)
    {
        ArgumentNullException.ThrowIfNull(work);
        lock (_lock)
        {
            _queue.Enqueue(work);
            if (!ReferenceEquals(Thread.CurrentThread, _driver) && _foreign.Count < 10)
            {
                _foreign.Add($"{work.GetType().FullName} queued from thread {Environment.CurrentManagedThreadId} ('{Thread.CurrentThread.Name}'), not the driver's");
            }
        }
    }

    /// <summary>
    /// Runs queued work on the calling thread (which becomes the driver) until the queue is empty; returns how many
    /// runnables ran. No <see cref="SynchronizationContext"/> is in place meanwhile: with one (xunit installs one), an
    /// <c>await</c> inside an actor would resume outside the pump.
    /// </summary>
    public int RunUntilIdle()
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        lock (_lock)
        {
            _driver = Thread.CurrentThread;
        }

        var ran = 0;
        try
        {
            while (true)
            {
                IRunnable? next;
                lock (_lock)
                {
                    if (!_queue.TryDequeue(out next))
                    {
                        return ran;
                    }
                }

                next.Run();
                ran++;
                Executed++;
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>Whether work is waiting.</summary>
    public bool HasWork
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count > 0;
            }
        }
    }

    /// <summary>Throws when <see cref="Strict"/> and work arrived from outside the driver's thread.</summary>
    public void ThrowIfForeignWork()
    {
        if (!Strict)
        {
            return;
        }

        lock (_lock)
        {
            if (_foreign.Count > 0)
            {
                throw new InvalidOperationException(
                    "Work reached the virtual-time actor system from outside its driver's thread, so the run no longer depends on "
                    + "the virtual clock alone: " + string.Join("; ", _foreign));
            }
        }
    }
}

/// <summary>
/// The executor every dispatcher of a virtual-time system uses (HOCON <c>executor = "…PumpedExecutorConfigurator…"</c>
/// on the default, internal and blocking-io dispatchers): it finds the system's <see cref="VirtualTimePump"/> through
/// the scheduler, which Akka builds before the dispatchers.
/// </summary>
internal sealed class PumpedExecutorConfigurator(Akka.Configuration.Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    /// <inheritdoc/>
    public override ExecutorService Produce(string id) =>
        new PumpedExecutor(id, (Prerequisites.Scheduler as TimeProviderScheduler)?.Pump
                               ?? throw new Akka.Configuration.ConfigurationException(
                                   "HeMif: the pumped executor needs HeMif's TimeProviderScheduler with a virtual-time pump (akka.scheduler.implementation and hemif.clock-id)."));

    private sealed class PumpedExecutor(string id, VirtualTimePump pump) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => pump.Enqueue(run);

        public override void Shutdown()
        {
        }
    }
}
