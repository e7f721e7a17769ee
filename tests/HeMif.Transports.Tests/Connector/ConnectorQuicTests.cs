using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Report;
using HeMif.TestKit;
using HeMif.Transports.Quic;
using HeMif.Validate;

namespace HeMif.Transports.Tests.Connector;

/// <summary>
/// The connector's transports (issue 6): tcp, any (QUIC first, TCP behind) and quic only, through the real engine on
/// loopback, with a QUIC transport that says the host has no QUIC (as these machines do, and forced so everywhere);
/// and the on-demand QUIC path probe.
/// </summary>
public sealed class ConnectorQuicTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private static IHeMifConnector WithoutQuic() => HeMifConnector.Create(
        new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true }, new QuicTransport(supported: false));

    /// <summary>
    /// Issue 6: "where QUIC is unsupported … the planner skips QUIC candidates, the race proceeds on TCP, and the
    /// timeline says 'QUIC unsupported on this host' once — never an exception, never a hang."
    /// </summary>
    [Fact]
    public async Task Any_on_a_host_without_QUIC_connects_over_TCP_and_says_so_once()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = WithoutQuic();
        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port,
            new ConnectOptions { Transport = TransportPreference.Any }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("tcp", connection.Transport);
        Assert.Null(connection.QuicConnection);
        Assert.All(connection.Report.Attempts, a => Assert.Equal("tcp", a.Transport));
        Assert.Single(connection.Report.Events, e => e.Detail.Contains("QUIC unsupported on this host", StringComparison.Ordinal));
    }

    /// <summary>QUIC only on a host without QUIC: a clear failure at once, naming why, with no attempt.</summary>
    [Fact]
    public async Task Quic_only_on_a_host_without_QUIC_fails_at_once_naming_why()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = WithoutQuic();
        var error = await Assert.ThrowsAsync<HeMifConnectException>(() => connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port,
            new ConnectOptions { Transport = TransportPreference.Quic }).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("QUIC only was asked for, and QUIC unsupported on this host (no libmsquic)", error.Message, StringComparison.Ordinal);
        Assert.Equal(RaceOutcome.Failed, error.Report.Outcome);
        Assert.Empty(error.Report.Attempts);
    }

    /// <summary>
    /// A failure inside HeMif (here a plugged-in QUIC transport that throws when asked whether it works) fails that
    /// request at once with the cause — not a hang, not a vague "stopped" — and is reported on the internal failures
    /// stream (the host logs it as event 30). The connector goes on serving requests that do not touch it.
    /// </summary>
    [Fact]
    public async Task A_failure_inside_HeMif_fails_the_request_with_its_cause_and_is_reported()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var connector = HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], DisableValidation = true }, new BrokenQuic());
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var reported = ((IHeMifConnectorControl)connector).InternalFailures.Subscribe(failures.Enqueue);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => connector.ConnectAsync("127.0.0.1", port,
            new ConnectOptions { Transport = TransportPreference.Any }).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"The race for 127.0.0.1:{port} failed inside HeMif (InvalidOperationException: QUIC transport bug)", error.Message, StringComparison.Ordinal);
        Assert.Equal("QUIC transport bug", error.InnerException!.Message);
        for (var i = 0; i < 300 && failures.IsEmpty; i++)
        {
            await Task.Delay(10);
        }

        Assert.Contains(failures, f => f.Contains("request-", StringComparison.Ordinal) && f.Contains("QUIC transport bug", StringComparison.Ordinal));

        await using var tcp = await connector.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("tcp", tcp.Transport);
    }

    /// <summary>TCP only stays TCP only: not a word about QUIC.</summary>
    [Fact]
    public async Task Tcp_only_never_mentions_QUIC()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var connector = WithoutQuic();
        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        Assert.Equal("tcp", connection.Transport);
        Assert.DoesNotContain(connection.Report.Events, e => e.Detail.Contains("QUIC", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new string[0], "at least one ALPN")]
    [InlineData(new[] { "" }, "1 to 255 ASCII")]
    [InlineData(new[] { "h3", "\u00e9" }, "1 to 255 ASCII")]
    public async Task A_bad_ALPN_list_is_rejected_naming_the_rule(string[] alpn, string expected)
    {
        await using var connector = WithoutQuic();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => connector.ConnectAsync("127.0.0.1", 443, new ConnectOptions { Transport = TransportPreference.Any, ApplicationProtocols = alpn }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_QUIC_probe_timeout_out_of_range_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => HeMifConnector.Create(new HeMifConnectorOptions { Interfaces = [Loopback], QuicProbeTimeout = TimeSpan.Zero }));
        Assert.Contains("QuicProbeTimeout", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The on-demand probe (<c>hemif probe quic</c>): per interface, against a fake QUIC server on loopback.</summary>
    [Fact]
    public async Task The_on_demand_QUIC_probe_says_reachable_per_interface()
    {
        await using var server = new FakeQuicServer(IPAddress.Loopback, d => [FakeQuicServer.ValidAnswer(d)]);
        await using var connector = WithoutQuic();
        var verdicts = await connector.ProbeQuicAsync("127.0.0.1", server.EndPoint.Port).WaitAsync(TimeSpan.FromSeconds(30));

        var verdict = Assert.Single(verdicts);
        Assert.Equal(("lo", QuicPathState.Reachable), (verdict.Interface, verdict.State));
        Assert.Equal(server.EndPoint.ToString(), verdict.Remote);
    }

    [Fact]
    public async Task The_on_demand_QUIC_probe_rejects_an_unknown_interface_and_a_bad_port()
    {
        await using var connector = WithoutQuic();
        var error = await Assert.ThrowsAsync<ArgumentException>(() => connector.ProbeQuicAsync("127.0.0.1", 443, "wlan9"));
        Assert.Contains("wlan9", error.Message, StringComparison.Ordinal);
        Assert.Contains("known: lo", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => connector.ProbeQuicAsync("127.0.0.1", 0));
    }

    /// <summary>A QUIC transport with a bug: asking whether it works throws.</summary>
    private sealed class BrokenQuic : AttemptTransport
    {
        public override TransportName Name => TransportName.Quic;

        public override bool RunsOverUdp => true;

        public override string? UnsupportedReason => throw new InvalidOperationException("QUIC transport bug");

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken) =>
            throw new NotSupportedException("never reached");
    }
}
