using System.Net.Sockets;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>Counting file descriptors only means something when no other test opens sockets meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FileDescriptorCounting
{
    public const string Name = "file descriptor counting";
}

/// <summary>
/// Connect code disposes the socket on every failure path. 200 failing lookups of every kind —
/// NXDOMAIN, SERVFAIL after a TCP retry, refused port, our timeout, the caller's cancellation, garbage — and the
/// process holds no more descriptors than before (a small slack for the runtime's own, e.g. thread-pool epoll).
/// </summary>
[Collection(FileDescriptorCounting.Name)]
public sealed class ResolverSocketLeakTests
{
    private const int Slack = 8;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    [Fact]
    public async Task Two_hundred_failing_lookups_leave_no_socket_open()
    {
        Assert.True(Directory.Exists("/proc/self/fd"), "this test needs Linux /proc/self/fd to count descriptors");
        var clock = new FakeTimeProvider();
        var servers = await DnsResponder.StartManyAsync(clock, "127.0.0.1");
        await using var server = servers[0];
        server.On("nx.example", DnsType.A, DnsScript.NxDomain)
            .On("tc.example", DnsType.A, new DnsScript.Truncated(DnsScript.ServFail))
            .On("silent.example", DnsType.A, DnsScript.Silence)
            .On("garbage.example", DnsType.A, new DnsScript.Raw(_ => [0xde, 0xad]));
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = server.Port, CacheCapacity = 0 }, clock);
        var facts = InterfaceResolverTests.Loopback("127.0.0.1");
        var refused = InterfaceResolverTests.Loopback("127.0.0.9");

        // Warm up: the runtime opens its own descriptors (epoll, eventfd) on first socket use.
        await resolver.ResolveAsync(facts, "nx.example", AddressFamily.InterNetwork, default).WaitAsync(Bound);
        var before = OpenDescriptors();

        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 200; i++)
        {
            var outcome = (i % 6) switch
            {
                0 => (await resolver.ResolveAsync(facts, "nx.example", AddressFamily.InterNetwork, default).WaitAsync(Bound)).Error,
                1 => (await resolver.ResolveAsync(facts, "tc.example", AddressFamily.InterNetwork, default).WaitAsync(Bound)).Error,
                2 => (await resolver.ResolveAsync(refused, "nx.example", AddressFamily.InterNetwork, default).WaitAsync(Bound)).Error,
                3 => await TimeOutAsync(resolver, facts, server, clock, "silent.example"),
                4 => await TimeOutAsync(resolver, facts, server, clock, "garbage.example"),
                _ => await CancelAsync(resolver, facts, server),
            };
            outcomes[outcome!] = outcomes.GetValueOrDefault(outcome!) + 1;
        }

        var after = OpenDescriptors();
        Assert.True(after <= before + Slack, $"{after - before} more descriptors open after 200 failing lookups ({before} → {after})");

        // Every kind of failure really happened.
        Assert.Equal(["NXDOMAIN", "SERVFAIL", "UDP ConnectionRefused", "cancelled", "timeout"], outcomes.Keys.Order(StringComparer.Ordinal));
    }

    private static async Task<string?> TimeOutAsync(InterfaceResolver resolver, HeMif.Interfaces.InterfaceFacts facts, DnsResponder server, FakeTimeProvider clock, string host)
    {
        var pending = resolver.ResolveAsync(facts, host, AddressFamily.InterNetwork, default);
        await server.NextQueryAsync();
        clock.Advance(TimeSpan.FromSeconds(2));
        return (await pending.WaitAsync(Bound)).Error;
    }

    private static async Task<string?> CancelAsync(InterfaceResolver resolver, HeMif.Interfaces.InterfaceFacts facts, DnsResponder server)
    {
        using var cancel = new CancellationTokenSource();
        var pending = resolver.ResolveAsync(facts, "silent.example", AddressFamily.InterNetwork, cancel.Token);
        await server.NextQueryAsync();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Bound));
        return "cancelled";
    }
}
