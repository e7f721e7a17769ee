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
    /// is cancelled, and with the cause of a <see cref="Status.Failure"/> reply.
    /// </summary>
    public static async Task<T> AskOnClock<T>(this ICanTell target, object message, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(clock);
        cancellationToken.ThrowIfCancellationRequested();
        using var timer = new CancellationTokenSource(timeout, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            return await target.Ask<T>(message, Timeout.InfiniteTimeSpan, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new AskTimeoutException($"No answer to {message.GetType().Name} within {timeout.TotalMilliseconds:0} ms.");
        }
    }
}
