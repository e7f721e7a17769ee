using Xunit;

namespace HeMif.TestKit.Contracts;

/// <summary>
/// The contract suites' leak check: the process's open descriptors (Linux /proc/self/fd) are back where they were
/// after many attempts, with a small slack for what the runtime opens for itself meanwhile (thread-pool, epoll). The
/// count is the whole process's: a suite that uses it belongs in a test collection with <c>DisableParallelization</c>.
/// </summary>
internal static class Descriptors
{
    /// <summary>Descriptors the runtime may open meanwhile.</summary>
    private const int Slack = 6;

    /// <summary>The process's open descriptors now.</summary>
    public static int Open()
    {
        Assert.True(Directory.Exists("/proc/self/fd"), "the contract's leak checks need Linux /proc/self/fd to count descriptors");
        return Directory.GetFiles("/proc/self/fd").Length;
    }

    /// <summary>The descriptors are back to <paramref name="before"/> (with slack), waiting a little for closes in flight.</summary>
    public static Task NoneLeftOpenAsync(int before) =>
        EventuallyAsync(() => Open() <= before + Slack, $"no descriptor left open ({before} before, slack {Slack})", () => $"{Open()} open now");

    /// <summary>Waits (at most 10 s, a guard) for <paramref name="condition"/>, then asserts it.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what, Func<string>? detail = null)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        Assert.True(condition(), detail is null ? what : $"{what}: {detail()}");
    }
}
