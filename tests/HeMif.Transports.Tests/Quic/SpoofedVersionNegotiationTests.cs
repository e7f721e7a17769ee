using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Transports.Quic;
using HeMif.Transports.Resolve;
using HeMif.Validate;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Quic;

/// <summary>
/// Issue 17, "a hostile network": spoofed QUIC Version Negotiation packets must not decide the QUIC path probe's
/// verdict. RFC 9000 §17.2.1: the server "MUST include the value from the Source Connection ID field of the packet it
/// receives in the Destination Connection ID field"; one that echoes other IDs, or comes from another address, is not
/// the answer (the mismatches one by one are in <see cref="QuicPathProbeTests"/>; here, a flood and another source).
/// </summary>
public sealed class SpoofedVersionNegotiationTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private readonly FakeTimeProvider _clock = new();

    private QuicPathProbe Probe() =>
        new(new NoResolver(), new QuicPathProbeOptions { Timeout = TimeSpan.FromMilliseconds(1500), Random = new Random(17) }, _clock);

    /// <summary>
    /// A hundred Version Negotiation packets with connection IDs that echo nothing of ours (each different), then the
    /// server's own: reachable, and the verdict counts every spoofed packet but names at most
    /// <see cref="IgnoredReplies.MaxReasons"/> reasons (before, it named all hundred).
    /// </summary>
    [Fact]
    public async Task A_flood_of_Version_Negotiation_with_wrong_connection_IDs_is_ignored_counted_and_bounded()
    {
        var random = new Random(7);
        await using var server = new FakeQuicServer(IPAddress.Loopback, datagram =>
        {
            var (dcid, scid) = FakeQuicServer.ConnectionIds(datagram);
            var spoofed = Enumerable.Range(0, 100).Select(_ =>
            {
                var wrong = new byte[8];
                random.NextBytes(wrong);
                return FakeQuicServer.VersionNegotiation(wrong, dcid, [0xbadbad01]);
            });
            return [.. spoofed, FakeQuicServer.ValidAnswer(datagram)];
        });

        var verdict = await Probe().ProbeAsync(Loopback, "127.0.0.1", server.EndPoint.Port, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(QuicPathState.Reachable, verdict.State);
        Assert.Contains("offering 0x00000001, 0x6b3343cf", verdict.Detail, StringComparison.Ordinal);
        Assert.Contains("; ignored 100 other replies: ", verdict.Detail, StringComparison.Ordinal);
        Assert.Equal(IgnoredReplies.MaxReasons, verdict.Detail.Split("does not echo our source connection ID").Length - 1);
        Assert.EndsWith("; …", verdict.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// A Version Negotiation that echoes both connection IDs correctly (an on-path observer saw the Initial) but comes
    /// from another port: the probe's socket is connected to the server, so it never even sees it; the server's own
    /// answer, behind it, decides.
    /// </summary>
    [Fact]
    public async Task A_well_formed_Version_Negotiation_from_another_source_is_never_taken()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var probing = Probe().ProbeAsync(Loopback, "127.0.0.1", ((IPEndPoint)server.LocalEndPoint!).Port, CancellationToken.None);

        var buffer = new byte[2048];
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var got = await server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token);
        var initial = buffer[..got.ReceivedBytes];
        var (dcid, scid) = FakeQuicServer.ConnectionIds(initial);
        await stranger.SendToAsync(FakeQuicServer.VersionNegotiation(scid, dcid, [0xbadbad01]), SocketFlags.None, got.RemoteEndPoint);
        await server.SendToAsync(FakeQuicServer.ValidAnswer(initial), SocketFlags.None, got.RemoteEndPoint);

        var verdict = await probing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(QuicPathState.Reachable, verdict.State);
        Assert.Contains("offering 0x00000001, 0x6b3343cf", verdict.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("0xbadbad01", verdict.Detail, StringComparison.Ordinal);
    }

    /// <summary>Only spoofed answers, from the server's own address, until the timeout: blocked, not reachable.</summary>
    [Fact]
    public async Task Only_spoofed_answers_until_the_timeout_mean_blocked()
    {
        await using var server = new FakeQuicServer(IPAddress.Loopback, datagram =>
        {
            var (dcid, scid) = FakeQuicServer.ConnectionIds(datagram);
            return [FakeQuicServer.VersionNegotiation(dcid, scid, [1]), FakeQuicServer.VersionNegotiation(scid, scid, [1])];
        });
        var probing = Probe().ProbeAsync(Loopback, "127.0.0.1", server.EndPoint.Port, CancellationToken.None);
        await server.NextAsync();

        _clock.Advance(TimeSpan.FromMilliseconds(1500));
        var verdict = await probing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(QuicPathState.Blocked, verdict.State);
    }

    private sealed class NoResolver : HeMif.Resolve.IInterfaceResolver
    {
        public Task<HeMif.Resolve.ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("these tests probe address literals");
    }
}
