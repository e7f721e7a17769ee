using System.Globalization;
using System.Threading.Channels;
using HeMif.Kernel;

namespace HeMif.TestKit;

/// <summary>
/// An <see cref="IActorRef"/> backed by a channel that a test reads with expectations (Akka's TestProbe).
/// Timeouts here are wall-clock guards against a hang (actor loops run on the thread pool), never semantic time:
/// semantic time is the system's <see cref="ManualTimeProvider"/>. For a deterministic "nothing arrives", use
/// <see cref="ExpectNoMsgAsync(string)"/>, which first waits until the system is idle.
/// </summary>
internal sealed class TestProbe : IActorRef
{
    /// <summary>The default wall-clock guard of an expectation.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private static int s_counter;
    private readonly Channel<Envelope> _queue = Channel.CreateUnbounded<Envelope>();

    /// <summary>Creates a probe in <paramref name="system"/>.</summary>
    public TestProbe(ActorSystem system, string? name = null)
    {
        System = system;
        Path = "/probe/" + (name ?? "probe-" + Interlocked.Increment(ref s_counter).ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc/>
    public string Path { get; }

    /// <inheritdoc/>
    public ActorSystem System { get; }

    /// <summary>The sender of the last message taken by an expectation.</summary>
    public IActorRef? LastSender { get; private set; }

    /// <inheritdoc/>
    public void Tell(object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        _queue.Writer.TryWrite(new Envelope(message, sender));
    }

    /// <summary>Sends <paramref name="message"/> to <paramref name="target"/> with this probe as the sender.</summary>
    public void Send(IActorRef target, object message) => target.Tell(message, this);

    /// <summary>Replies to the sender of the last message taken.</summary>
    public void Reply(object message) =>
        (LastSender ?? throw new TestKitException("Reply: the probe has not taken a message with a sender yet.")).Tell(message, this);

    /// <summary>Starts watching <paramref name="actor"/>: the probe gets <see cref="Terminated"/> when it stops.</summary>
    public void Watch(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is not ActorCell cell)
        {
            throw new TestKitException($"Watch: {actor.Path} is not an actor and cannot be watched.");
        }

        cell.AddWatcher(this);
    }

    /// <summary>
    /// Takes the next message and checks that it is a <typeparamref name="T"/> matching <paramref name="predicate"/>;
    /// fails (saying what was expected, what arrived and the hint) if another message comes first or none comes
    /// within <paramref name="timeout"/> (wall clock, default <see cref="DefaultTimeout"/>).
    /// </summary>
    public async Task<T> ExpectMsgAsync<T>(Func<T, bool>? predicate = null, TimeSpan? timeout = null, string? hint = null)
    {
        var wait = timeout ?? DefaultTimeout;
        var envelope = await NextAsync(wait).ConfigureAwait(false);
        var expected = $"a {typeof(T).Name}{(predicate is null ? "" : " matching the predicate")}";
        if (envelope is null)
        {
            throw new TestKitException($"ExpectMsg failed{Hint(hint)}: expected {expected} within {Seconds(wait)}, but no message arrived.");
        }

        LastSender = envelope.Value.Sender;
        if (envelope.Value.Message is not T typed)
        {
            throw new TestKitException($"ExpectMsg failed{Hint(hint)}: expected {expected}, but got {Show(envelope.Value.Message)}.");
        }

        if (predicate is not null && !predicate(typed))
        {
            throw new TestKitException($"ExpectMsg failed{Hint(hint)}: expected {expected}, but got {Show(typed)}, which does not match.");
        }

        return typed;
    }

    /// <summary>Takes the next message, which must equal <paramref name="expected"/>.</summary>
    public Task<T> ExpectMsgAsync<T>(T expected, TimeSpan? timeout = null, string? hint = null)
        where T : notnull =>
        ExpectMsgAsync<T>(m => EqualityComparer<T>.Default.Equals(m, expected), timeout, hint ?? $"expected the value {Show(expected)}");

    /// <summary>Fails if any message arrives within <paramref name="window"/> (wall clock).</summary>
    public async Task ExpectNoMsgAsync(TimeSpan window, string? hint = null)
    {
        var envelope = await NextAsync(window).ConfigureAwait(false);
        if (envelope is not null)
        {
            throw new TestKitException($"ExpectNoMsg failed{Hint(hint)}: expected no message for {Seconds(window)}, but got {Show(envelope.Value.Message)}.");
        }
    }

    /// <summary>
    /// Waits until the system is idle (<see cref="ActorSystem.WhenIdleAsync"/>: nothing queued, nothing running),
    /// then fails if a message is waiting. Deterministic: needs a system created with quiescence tracking.
    /// </summary>
    public async Task ExpectNoMsgAsync(string? hint = null)
    {
        using var guard = new CancellationTokenSource(DefaultTimeout);
        try
        {
            await System.WhenIdleAsync(guard.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TestKitException($"ExpectNoMsg failed{Hint(hint)}: the actor system did not become idle within {Seconds(DefaultTimeout)}.");
        }

        if (_queue.Reader.TryRead(out var envelope))
        {
            throw new TestKitException($"ExpectNoMsg failed{Hint(hint)}: expected no message once the system was idle, but got {Show(envelope.Message)}.");
        }
    }

    /// <summary>Watches <paramref name="actor"/> (if not yet) and expects its <see cref="Terminated"/>.</summary>
    public Task<Terminated> ExpectTerminatedAsync(IActorRef actor, TimeSpan? timeout = null, string? hint = null)
    {
        Watch(actor);
        return ExpectMsgAsync<Terminated>(t => ReferenceEquals(t.Actor, actor), timeout, hint ?? $"termination of {actor.Path}");
    }

    /// <summary>Takes every message already waiting, without waiting for more.</summary>
    public IReadOnlyList<object> ReceiveWaiting()
    {
        var list = new List<object>();
        while (_queue.Reader.TryRead(out var envelope))
        {
            list.Add(envelope.Message);
        }

        return list;
    }

    private static string Hint(string? hint) => hint is null ? "" : $" ({hint})";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    private static string Show(object? message) => message is null ? "null" : $"{message.GetType().Name} {{ {message} }}";

    private async Task<Envelope?> NextAsync(TimeSpan wait)
    {
        if (_queue.Reader.TryRead(out var ready))
        {
            return ready;
        }

        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _queue.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
