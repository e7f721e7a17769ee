using HeMif.Interfaces;
using HeMif.Validate;
using Xunit;

namespace HeMif.TestKit.Contracts;

/// <summary>What a check server on loopback does, for <see cref="ConnectivityProbeContract"/>.</summary>
public enum ContractCheck
{
    /// <summary>Answers as a working network's check server does: the probe validates the interface.</summary>
    Passes,

    /// <summary>Answers wrongly (an error status): the probe's verdict is that the interface is not validated.</summary>
    Fails,

    /// <summary>Never answers.</summary>
    Silent,
}

/// <summary>The probe under test, the interface it examines, and what holds its check server.</summary>
/// <param name="Probe">The probe.</param>
/// <param name="Interface">The interface to examine.</param>
/// <param name="Owner">What holds the server.</param>
public sealed record ProbeSubject(ConnectivityProbe Probe, InterfaceFacts Interface, IAsyncDisposable Owner);

/// <summary>
/// What the engine expects of every <see cref="ConnectivityProbe"/> (its doc and docs/architecture.md, "Ports"), as one
/// suite an implementation runs against itself: a working check is <see cref="ValidationState.Validated"/>; a failed or
/// silent one is a verdict that is not (with a detail in words), never an exception; cancellation before and during the
/// check ends it with <see cref="OperationCanceledException"/> and leaves nothing open. Give the subject a short timeout
/// (the silent case waits for it). Descriptors are counted: a derived class belongs in a test collection with
/// <c>DisableParallelization = true</c>.
/// </summary>
public abstract class ConnectivityProbeContract
{
    private const int Repetitions = 12;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Starts a check server that does <paramref name="check"/>, and the probe that asks it.</summary>
    protected abstract Task<ProbeSubject> StartAsync(ContractCheck check);

    [Fact]
    public async Task A_working_check_validates_the_interface()
    {
        var subject = await StartAsync(ContractCheck.Passes);
        await using (subject.Owner)
        {
            var result = await subject.Probe.ProbeAsync(subject.Interface, CancellationToken.None).WaitAsync(Bound);
            Assert.Equal(ValidationState.Validated, result.State);
        }
    }

    [Theory]
    [InlineData(ContractCheck.Fails)]
    [InlineData(ContractCheck.Silent)]
    public async Task A_failed_or_silent_check_is_a_verdict_that_does_not_validate(ContractCheck check)
    {
        var subject = await StartAsync(check);
        await using (subject.Owner)
        {
            var result = await subject.Probe.ProbeAsync(subject.Interface, CancellationToken.None).WaitAsync(Bound);
            Assert.NotEqual(ValidationState.Validated, result.State);
            Assert.True(Enum.IsDefined(result.State), $"a defined verdict; got {result.State}");
            Assert.False(string.IsNullOrWhiteSpace(result.Detail), "the verdict says why in words");
        }
    }

    [Fact]
    public async Task A_token_cancelled_before_the_check_fails_at_once()
    {
        var subject = await StartAsync(ContractCheck.Passes);
        await using (subject.Owner)
        {
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => subject.Probe.ProbeAsync(subject.Interface, cancelled.Token).WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task Cancellation_during_the_check_ends_it_and_leaves_nothing_open()
    {
        var subject = await StartAsync(ContractCheck.Silent);
        await using (subject.Owner)
        {
            var before = Descriptors.Open();
            for (var i = 0; i < Repetitions; i++)
            {
                using var cts = new CancellationTokenSource();
                var probing = subject.Probe.ProbeAsync(subject.Interface, cts.Token);
                cts.CancelAfter(TimeSpan.FromMilliseconds(20)); // while it waits for an answer that never comes
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probing.WaitAsync(Bound));
            }

            await Descriptors.NoneLeftOpenAsync(before);
        }
    }
}
