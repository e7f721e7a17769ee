using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using Xunit;

namespace HeMif.TestKit.Contracts;

/// <summary>What <see cref="InterfaceResolverContract"/> resolves with, and what to dispose after the case.</summary>
/// <param name="Resolver">The resolver under test.</param>
/// <param name="Interface">The interface to resolve through (its DNS servers are the subject's loopback servers).</param>
/// <param name="AnsweredName">A name whose A query is answered with <paramref name="Address"/> (and no AAAA).</param>
/// <param name="Address">The IPv4 address <paramref name="AnsweredName"/> has.</param>
/// <param name="SilentName">A name whose queries are never answered.</param>
/// <param name="Owner">What holds the servers.</param>
public sealed record ResolverSubject(InterfaceResolver Resolver, InterfaceFacts Interface, string AnsweredName, IPAddress Address, string SilentName, IAsyncDisposable Owner);

/// <summary>
/// What the engine expects of every <see cref="InterfaceResolver"/> (its doc and docs/architecture.md, "Ports"), as one
/// suite an implementation runs against itself: only addresses of the family asked for; cancellation before and during
/// a resolution ends it with <see cref="OperationCanceledException"/> and leaves nothing open; a server that never
/// answers is a <see cref="ResolveResult"/> with an error once the resolver's own timeout passes, never an exception.
/// Give the subject a short timeout (the timeout case waits for it). Descriptors are counted: a derived class belongs in
/// a test collection with <c>DisableParallelization = true</c>.
/// </summary>
public abstract class InterfaceResolverContract
{
    private const int Repetitions = 12;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Starts servers on loopback and the resolver that asks them.</summary>
    protected abstract Task<ResolverSubject> StartAsync();

    [Fact]
    public async Task An_answer_holds_only_addresses_of_the_family_asked_for()
    {
        var subject = await StartAsync();
        await using (subject.Owner)
        {
            var v4 = await subject.Resolver.ResolveAsync(subject.Interface, subject.AnsweredName, AddressFamily.InterNetwork, CancellationToken.None).WaitAsync(Bound);
            var v6 = await subject.Resolver.ResolveAsync(subject.Interface, subject.AnsweredName, AddressFamily.InterNetworkV6, CancellationToken.None).WaitAsync(Bound);

            Assert.Null(v4.Error);
            Assert.Contains(subject.Address, v4.Addresses);
            Assert.All(v4.Addresses, a => Assert.Equal(AddressFamily.InterNetwork, a.AddressFamily));
            Assert.All(v6.Addresses, a => Assert.Equal(AddressFamily.InterNetworkV6, a.AddressFamily));
        }
    }

    [Fact]
    public async Task A_token_cancelled_before_the_resolution_fails_at_once()
    {
        var subject = await StartAsync();
        await using (subject.Owner)
        {
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                subject.Resolver.ResolveAsync(subject.Interface, subject.AnsweredName, AddressFamily.InterNetwork, cancelled.Token).WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task Cancellation_during_the_resolution_ends_it_and_leaves_nothing_open()
    {
        var subject = await StartAsync();
        await using (subject.Owner)
        {
            var before = Descriptors.Open();
            for (var i = 0; i < Repetitions; i++)
            {
                using var cts = new CancellationTokenSource();
                var resolving = subject.Resolver.ResolveAsync(subject.Interface, subject.SilentName, AddressFamily.InterNetwork, cts.Token);
                cts.CancelAfter(TimeSpan.FromMilliseconds(20)); // while it waits for an answer that never comes
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resolving.WaitAsync(Bound));
            }

            await Descriptors.NoneLeftOpenAsync(before);
        }
    }

    [Fact]
    public async Task A_server_that_never_answers_is_a_typed_failure_not_an_exception()
    {
        var subject = await StartAsync();
        await using (subject.Owner)
        {
            var result = await subject.Resolver.ResolveAsync(subject.Interface, subject.SilentName, AddressFamily.InterNetwork, CancellationToken.None).WaitAsync(Bound);

            Assert.Empty(result.Addresses);
            Assert.False(string.IsNullOrWhiteSpace(result.Error), "a resolution that timed out says why in ResolveResult.Error");
        }
    }
}
