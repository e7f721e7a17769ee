using System.Diagnostics;
using System.Globalization;
using HeMif.Kernel;

// A small tour of the actor kernel HeMif's engine runs on: a supervisor whose worker crashes and is restarted with
// exponential backoff, a ticking timer, an Ask, a watch, and an orderly shutdown. Real time, about one second.
var clock = Stopwatch.StartNew();
void Log(string text) => Console.WriteLine($"{clock.Elapsed.TotalMilliseconds,7:0.0} ms  {text}");

await using var system = ActorSystem.Create("demo");
using var failures = system.Failures.Subscribe(f => Log($"supervisor: {f.Actor.Path} threw '{f.Exception.Message}' -> {f.Directive} ({f.Detail})"));
using var deadLetters = system.DeadLetterStream.Subscribe(d => Log($"dead letter: {d.Message} to {d.Recipient.Path} ({d.Reason})"));

var supervisor = system.ActorOf(Props.Create(() => new Supervisor(Log)), "supervisor");
var worker = await supervisor.Ask<IActorRef>("worker?", TimeSpan.FromSeconds(1));
Log($"asked the supervisor for its worker: {worker.Path}");

for (var job = 1; job <= 4; job++)
{
    try
    {
        Log($"job {job}: {await worker.Ask<string>(job, TimeSpan.FromSeconds(2))}");
    }
    catch (InvalidOperationException e)
    {
        Log($"job {job} failed: {e.Message}");
    }
}

await Task.Delay(450); // let the heartbeat tick a few times
await system.ShutdownAsync();
Log($"shut down; actor loops still running: {system.LiveActorCount}");

/// <summary>Owns the worker: restarts it on failure, with backoff 50 ms doubling, at most 5 times a minute.</summary>
internal sealed class Supervisor : Actor
{
    private readonly Action<string> _log;
    private readonly IActorRef _worker;

    public Supervisor(Action<string> log)
    {
        _log = log;
        _worker = Context.ActorOf(Props.Create(() => new Worker(log)), "worker");
        Context.Watch(_worker);
        Context.ScheduleRepeatedly("heartbeat", "beat", TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150));
    }

    protected internal override SupervisorStrategy SupervisorStrategy { get; } = new(
        _ => Directive.Restart, maxRestarts: 5, window: TimeSpan.FromMinutes(1),
        new RestartBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1), Factor: 2, Jitter: 0.1));

    protected internal override void OnReceive(object message)
    {
        switch (message)
        {
            case "worker?":
                Reply(_worker);
                break;
            case "beat":
                _log($"supervisor: heartbeat (timer), {Context.Children.Count} child");
                break;
            case Terminated t:
                _log($"supervisor: {t.Actor.Path} terminated");
                break;
        }
    }

    protected internal override void PostStop() => _log("supervisor: stopped");
}

/// <summary>Answers jobs; job 2 makes it crash (a fresh instance answers the rest).</summary>
internal sealed class Worker(Action<string> log) : Actor
{
    private readonly int _instance = Interlocked.Increment(ref s_instances);
    private static int s_instances;

    protected internal override void PreStart() => log($"worker: instance {_instance} started");

    protected internal override void PostStop() => log($"worker: instance {_instance} stopped");

    protected internal override void OnReceive(object message)
    {
        if (message is 2)
        {
            Reply(new Status.Failure(new InvalidOperationException("job 2 is poison")));
            throw new InvalidOperationException("job 2 is poison");
        }

        Reply(string.Create(CultureInfo.InvariantCulture, $"done by instance {_instance}"));
    }
}
