using Akka.Actor;

namespace HeMif.Runtime;

/// <summary>
/// Asks whose timeout follows HeMif's clock. Akka's own Ask timeout runs on a wall-clock token source, which a
/// virtual-time run never reaches and which a test clock cannot move; this one asks with no timeout of Akka's and
/// cancels through a token source on <see cref="TimeProvider"/>.
/// </summary>
internal static class AskExtensions
{
    /// <summary>
    /// Asks <paramref name="target"/>; fails with <see cref="AskTimeoutException"/> after <paramref name="timeout"/> on
    /// <paramref name="clock"/>, with <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/>
    /// is cancelled, and with the cause of a <see cref="Status.Failure"/> reply. With a <paramref name="pump"/> (virtual
    /// time) the answer completes the returned task on the pump: Akka completes its promises on the thread pool, where
    /// the driver could not see them.
    /// </summary>
    public static Task<T> AskOnClock<T>(this ICanTell target, object message, TimeSpan timeout, TimeProvider clock, VirtualTimePump? pump = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(clock);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var timer = new CancellationTokenSource(timeout, clock);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        var asked = target.Ask<T>(message, Timeout.InfiniteTimeSpan, linked.Token);
        return asked.ContinueWith(
            t =>
            {
                linked.Dispose();
                var timedOut = timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
                timer.Dispose();
                if (t.IsCanceled && timedOut)
                {
                    throw new AskTimeoutException($"No answer to {message.GetType().Name} within {timeout.TotalMilliseconds:0} ms.");
                }

                if (t.IsCanceled)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                return t.GetAwaiter().GetResult();
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            pump?.TaskScheduler ?? TaskScheduler.Default);
    }

    /// <summary>
    /// <paramref name="task"/>'s result through <paramref name="map"/>, computed where the task completes (an ask's
    /// answer on a virtual-time pump stays there; an <c>await</c> there would move to the thread pool instead).
    /// </summary>
    public static Task<TResult> Then<T, TResult>(this Task<T> task, Func<T, TResult> map) =>
        task.ContinueWith(t => map(t.GetAwaiter().GetResult()), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
