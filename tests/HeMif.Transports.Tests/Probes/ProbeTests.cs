using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Transports.Probes;
using HeMif.Transports.Tcp;
using HeMif.Transports.Tests.Support;
using HeMif.Validate;

namespace HeMif.Transports.Tests.Probes;

/// <summary>Draft §5.2.1 and §7.3: the HTTP check and the DNS interception check, against servers of ours on loopback.</summary>
public sealed class ProbeTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    [Fact]
    public async Task A_204_with_no_body_validates()
    {
        await using var server = new ScriptedHttpServer("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        var result = await Probe(server).ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.Validated, result.State);
        Assert.StartsWith("GET /generate_204 HTTP/1.1\r\nHost: check.test:", server.LastRequest, StringComparison.Ordinal);
    }

    /// <summary>§5.2.1: "an HTTP proxy that forces a login or a click-through": a redirect is a captive portal, its URL kept.</summary>
    [Fact]
    public async Task A_redirect_is_a_captive_portal_and_its_URL_is_recorded()
    {
        await using var server = new ScriptedHttpServer("HTTP/1.1 302 Found\r\nLocation: http://portal.example.net/login?x=1\r\nContent-Length: 0\r\n\r\n");
        var result = await Probe(server).ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Equal(new Uri("http://portal.example.net/login?x=1"), result.PortalUrl);
    }

    [Fact]
    public async Task An_unexpected_200_page_is_a_captive_portal()
    {
        await using var server = new ScriptedHttpServer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 26\r\n\r\n<html>Please log in</html>");
        var result = await Probe(server).ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Contains("26-byte page instead of 204", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", "answered 503")]
    [InlineData("SSH-2.0-OpenSSH\r\n\r\n", "not HTTP")]
    [InlineData("", "closed without answering")]
    public async Task Other_answers_mean_no_connectivity_saying_why(string answer, string expected)
    {
        await using var server = new ScriptedHttpServer(answer);
        var result = await Probe(server).ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Contains(expected, result.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// RFC 8305 §5 inside the check: a first address whose SYN is dropped must not spend the whole timeout; the next one
    /// starts after the attempt delay and validates.
    /// </summary>
    [Fact]
    public async Task A_check_server_address_that_drops_the_handshake_does_not_strand_the_check()
    {
        await using var server = new ScriptedHttpServer("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        using var full = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        full.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), server.Port));
        full.Listen(0);
        var fillers = new List<Socket>();
        try
        {
            // Fill 127.0.0.2's accept queue so that further SYNs to it are dropped, as on a blackholed path.
            for (var i = 0; i < 4; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(full.LocalEndPoint!);
            }

            await Task.Delay(200);
            var probe = new HttpConnectivityProbe(new FixedResolver(IPAddress.Parse("127.0.0.2"), IPAddress.Loopback), new TcpTransport(),
                new HttpProbeOptions { Url = new Uri($"http://check.test:{server.Port}/generate_204"), Timeout = TimeSpan.FromSeconds(3) }, TimeProvider.System);
            var result = await probe.ProbeAsync(Loopback, CancellationToken.None);
            Assert.Equal(ValidationState.Validated, result.State);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task A_server_that_never_answers_is_no_connectivity_after_the_timeout()
    {
        await using var server = new ScriptedHttpServer(answer: null);
        var probe = Probe(server, TimeSpan.FromMilliseconds(300));
        var result = await probe.ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Contains("no answer within 300 ms", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_check_server_or_an_unresolvable_host_is_no_connectivity()
    {
        using var refusing = new RefusingPort();
        var closed = refusing.Port;

        var refused = new HttpConnectivityProbe(new FixedResolver(IPAddress.Loopback), new TcpTransport(),
            new HttpProbeOptions { Url = new Uri($"http://check.test:{closed}/generate_204") }, TimeProvider.System);
        var result = await refused.ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Contains("connection refused", result.Detail, StringComparison.Ordinal);

        var unresolvable = new HttpConnectivityProbe(new FixedResolver(), new TcpTransport(), new HttpProbeOptions(), TimeProvider.System);
        var none = await unresolvable.ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.NoConnectivity, none.State);
        Assert.Contains("did not resolve on lo: NXDOMAIN", none.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_a_verdict()
    {
        await using var server = new ScriptedHttpServer(answer: null);
        using var cts = new CancellationTokenSource();
        var probing = Probe(server, TimeSpan.FromSeconds(30)).ProbeAsync(Loopback, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probing);
    }

    /// <summary>§7.3: a resolver that answers a name that must not exist is intercepting DNS.</summary>
    [Fact]
    public async Task A_resolver_that_answers_a_nonexistent_name_is_intercepting()
    {
        var lying = new DnsInterceptionProbe(new FixedResolver(IPAddress.Parse("192.0.2.99")), new DnsInterceptionOptions { NonexistentName = "nonexistent.check.test" });
        var result = await lying.ProbeAsync(Loopback, CancellationToken.None);
        Assert.Equal(ValidationState.DnsIntercepted, result.State);
        Assert.Contains("must not exist, resolved to 192.0.2.99", result.Detail, StringComparison.Ordinal);

        var honest = new DnsInterceptionProbe(new FixedResolver(), new DnsInterceptionOptions { NonexistentName = "nonexistent.check.test" });
        Assert.Equal(ValidationState.Validated, (await honest.ProbeAsync(Loopback, CancellationToken.None)).State);
    }

    [Fact]
    public async Task A_known_name_answered_with_other_addresses_is_intercepted_and_the_first_failing_check_decides()
    {
        var options = new DnsInterceptionOptions { KnownName = "check.test", ExpectedAddresses = [IPAddress.Parse("192.0.2.1")] };
        var wrong = new DnsInterceptionProbe(new FixedResolver(IPAddress.Parse("198.51.100.7")), options);
        Assert.Equal(ValidationState.DnsIntercepted, (await wrong.ProbeAsync(Loopback, CancellationToken.None)).State);

        var right = new DnsInterceptionProbe(new FixedResolver(IPAddress.Parse("192.0.2.1")), options);
        var composite = new CompositeConnectivityProbe(right, wrong);
        Assert.Equal(ValidationState.DnsIntercepted, (await composite.ProbeAsync(Loopback, CancellationToken.None)).State);
    }

    internal static HttpConnectivityProbe Probe(ScriptedHttpServer server, TimeSpan? timeout = null) =>
        new(new FixedResolver(IPAddress.Loopback), new TcpTransport(),
            new HttpProbeOptions { Url = new Uri($"http://check.test:{server.Port}/generate_204"), Timeout = timeout ?? TimeSpan.FromSeconds(5) },
            TimeProvider.System);

    /// <summary>Answers every name with the given addresses (none: NXDOMAIN).</summary>
    private sealed class FixedResolver(params IPAddress[] addresses) : InterfaceResolver
    {
        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            Task.FromResult(addresses.Length == 0 ? ResolveResult.Failure("NXDOMAIN") : new ResolveResult(addresses.Where(a => a.AddressFamily == family).ToList()));
    }
}
