using Akka.Dispatch;

namespace HeMif.Runtime;

/// <summary>
/// The one executor of a virtual-time actor system: every dispatcher's work goes into one FIFO queue that the driver
/// (<see cref="Simulation.VirtualTimeDriver"/>) runs on its own thread, so the same inputs always run in the same order
/// and "nothing left to do but wait for the clock" is simply an empty queue.
/// <para>
/// Strict: work that arrives from outside the driver (a continuation that left the pump for the thread pool, a real
/// socket completing) would make a run depend on the machine's timing; it is recorded and the driver fails on it
/// instead of hoping it settles. Outside means: from any thread but the driver's. The driver is the thread that last
/// ran the pump or <see cref="Claim">claimed</see> it between two runs (a test that resumes on another thread and then
/// starts a request there is the driver moving, not foreign work).
/// </para>
/// </summary>
internal sealed class VirtualTimePump
{
    private readonly Queue<IRunnable> _queue = new();
    private readonly Lock _lock = new();
    private readonly List<string> _foreign = [];
    private Thread? _driver;
    private bool _running;

    /// <summary>Creates a pump whose driver, until <see cref="RunUntilIdle"/> says otherwise, is the creating thread.</summary>
    public VirtualTimePump()
    {
        _driver = Thread.CurrentThread;
        TaskScheduler = new PumpTaskScheduler(this);
    }

    /// <summary>Runs tasks on the pump (continuations that must stay in the virtual-time run, such as an ask's answer).</summary>
    public TaskScheduler TaskScheduler { get; }

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
        using var noContext = WithoutContext();
        lock (_lock)
        {
            _driver = Thread.CurrentThread;
            _running = true;
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
            lock (_lock)
            {
                _running = false;
            }
        }
    }

    /// <summary>
    /// Clears the calling thread's <see cref="SynchronizationContext"/> until disposed. The driver holds this while it
    /// fires timers too: a task that a timer completes runs its continuations inline, and with a context in place (xunit
    /// installs one) they would be posted away from the driver instead.
    /// </summary>
    public static ContextScope WithoutContext() => new(SynchronizationContext.Current);

    /// <summary>Restores the <see cref="SynchronizationContext"/> that <see cref="WithoutContext"/> cleared.</summary>
    public readonly struct ContextScope : IDisposable
    {
        private readonly SynchronizationContext? _saved;

        internal ContextScope(SynchronizationContext? saved)
        {
            _saved = saved;
            SynchronizationContext.SetSynchronizationContext(null);
        }

        /// <inheritdoc/>
        public void Dispose() => SynchronizationContext.SetSynchronizationContext(_saved);
    }

    /// <summary>
    /// The calling thread drives from now on (the engine's entry points call this before they send work in): unless the
    /// pump is running on another thread, which makes the call itself foreign work.
    /// </summary>
    public void Claim()
    {
        lock (_lock)
        {
            if (!_running)
            {
                _driver = Thread.CurrentThread;
            }
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

/// <summary>A task scheduler whose tasks run on a <see cref="VirtualTimePump"/>, in its one order.</summary>
internal sealed class PumpTaskScheduler(VirtualTimePump pump) : TaskScheduler
{
    /// <inheritdoc/>
    protected override void QueueTask(Task task) => pump.Enqueue(new TaskRunnable(this, task));

    /// <inheritdoc/>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    /// <inheritdoc/>
    protected override IEnumerable<Task> GetScheduledTasks() => [];

    private sealed class TaskRunnable(PumpTaskScheduler scheduler, Task task) : IRunnable
    {
        public void Run() => scheduler.TryExecuteTask(task);

        public void Execute() => Run();
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
