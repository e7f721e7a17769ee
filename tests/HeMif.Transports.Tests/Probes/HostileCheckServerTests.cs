using System.Net;
using System.Net.Sockets;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Race;
using HeMif.Resolve;
using HeMif.Transports.Probes;
using HeMif.Transports.Tcp;
using HeMif.Transports.Tests.Support;
using HeMif.Validate;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Probes;

/// <summary>
/// Draft §5.2.1's HTTP check against a hostile check server of ours on loopback (issue 17, "a hostile network"):
/// endless headers, a body that never ends, a slow drip, a redirect loop, a status line that is not HTTP, a huge
/// Content-Length. Each ends with a clear verdict within the probe timeout, which runs on a <see cref="FakeTimeProvider"/>:
/// a verdict that needs no waiting comes with the clock never moved, and the drip's comes exactly when the test moves
/// the clock to the timeout. What the check reads is counted at its stream (never more than its 16 KiB head buffer),
/// and what it allocates is bounded while the server offers megabytes. No assertion on wall-clock time.
/// </summary>
[Collection(HostileCheckServerTests.Alone)]
public sealed class HostileCheckServerTests
{
    /// <summary>Run apart from other tests, so the process's allocation counter sees this check and little else.</summary>
    public const string Alone = "allocation-measured";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Endless_headers_end_at_the_head_limit_having_read_no_more_than_it()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Endless("HTTP/1.1 200 OK\r\n", "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"));
        var (result, read, allocated) = await ProbeAsync(server);

        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Equal($"the check's answer head is longer than {HttpConnectivityProbe.MaxHead} bytes", result.Detail);
        Assert.Equal(HttpConnectivityProbe.MaxHead, read);
        AssertBounded(allocated, server);
    }

    /// <summary>RFC 9112 §6.3: the verdict needs the head only, so a body that never ends is never read.</summary>
    [Fact]
    public async Task A_body_that_never_ends_is_not_read_the_head_decides()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Endless("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", "<p>log in</p>"));
        var (result, read, allocated) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.StartsWith("the check answered 200 with a ", result.Detail, StringComparison.Ordinal);
        Assert.InRange(read, 1, HttpConnectivityProbe.MaxHead);
        AssertBounded(allocated, server);
    }

    /// <summary>A deployment whose own endpoint answers 200 (expected) validates at its head, though the body goes on.</summary>
    [Fact]
    public async Task The_expected_status_validates_at_its_head_while_the_body_goes_on()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Endless("HTTP/1.1 200 OK\r\n\r\n", "ok"));
        var (result, read, _) = await ProbeAsync(server, expectedStatus: 200);

        Assert.Equal(ValidationState.Validated, result.State);
        Assert.InRange(read, 1, HttpConnectivityProbe.MaxHead);
    }

    /// <summary>
    /// RFC 9112 §6.3: a 204 "is always terminated by the first empty line after the header fields". A check server that
    /// answers 204 without a Content-Length and leaves the connection open is validated at once (before, the check
    /// waited for a body until its timeout and called the interface unconnected).
    /// </summary>
    [Fact]
    public async Task A_204_without_Content_Length_on_a_connection_left_open_validates_at_once()
    {
        await using var server = new HostileHttpServer(async (s, socket, ct) =>
        {
            await HostileHttpServer.Send("HTTP/1.1 204 No Content\r\n\r\n")(s, socket, ct);
            await Task.Delay(System.Threading.Timeout.Infinite, ct);
        });
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.Validated, result.State);
    }

    /// <summary>A page whose body stops after a few bytes with the connection left open is judged at its head, not at the timeout.</summary>
    [Fact]
    public async Task A_page_whose_body_stalls_is_judged_at_its_head()
    {
        await using var server = new HostileHttpServer(async (s, socket, ct) =>
        {
            await HostileHttpServer.Send("HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n<html>")(s, socket, ct);
            await Task.Delay(System.Threading.Timeout.Infinite, ct);
        });
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Equal("the check answered 200 with a 26-byte page instead of 204", result.Detail);
    }

    /// <summary>RFC 9110 §8.6: a recipient "MUST anticipate potentially large decimal numerals and prevent parsing errors due to integer conversion overflows".</summary>
    [Theory]
    [InlineData("9223372036854775806", "a 9223372036854775806-byte page")]
    [InlineData("99999999999999999999999999999999", "a page of more than 2^63 bytes")]
    public async Task A_huge_Content_Length_is_judged_without_reading_the_body(string length, string page)
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Endless($"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n", "x"));
        var (result, read, allocated) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Equal($"the check answered 200 with {page} instead of 204", result.Detail);
        Assert.InRange(read, 1, HttpConnectivityProbe.MaxHead);
        AssertBounded(allocated, server);
    }

    /// <summary>A 204 that declares a huge body is not the empty 204 the check expects (RFC 9110 §8.6: a server "MUST NOT send a Content-Length header field in any response with a status code of ... 204").</summary>
    [Fact]
    public async Task A_204_declaring_a_huge_body_is_not_validated_and_costs_no_wait()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Endless("HTTP/1.1 204 No Content\r\nContent-Length: 1000000000000\r\n\r\n", "x"));
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Contains("1000000000000-byte page instead of 204", result.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// A server that drips its head a byte at a time, one byte per second of the (fake) clock: no verdict before the
    /// timeout, and at the timeout one that says the answer was incomplete (not "no answer").
    /// </summary>
    [Fact]
    public async Task A_slow_drip_ends_exactly_at_the_timeout_saying_how_much_came()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Dripped());
        var transport = new CountingTransport(new TcpTransport());
        var probing = Probe(server, transport).ProbeAsync(Loopback, CancellationToken.None);

        var dripped = "HTTP/1.1 2";
        for (var i = 0; i < dripped.Length; i++)
        {
            server.Drip(dripped[i].ToString());
            await transport.WaitForReadAsync(i + 1);
            Assert.False(probing.IsCompleted);
            _clock.Advance(Timeout / dripped.Length - TimeSpan.FromTicks(1));
        }

        Assert.False(probing.IsCompleted);
        _clock.Advance(TimeSpan.FromTicks(dripped.Length));
        var result = await probing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.Equal($"the check http://check.test:{server.Port}/generate_204 sent only 10 bytes of its answer head within 5000 ms", result.Detail);
    }

    [Fact]
    public async Task A_server_that_accepts_and_says_nothing_is_no_answer_at_the_timeout()
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Dripped());
        var transport = new CountingTransport(new TcpTransport());
        var probing = Probe(server, transport).ProbeAsync(Loopback, CancellationToken.None);
        await transport.WaitForConnectionAsync();

        _clock.Advance(Timeout);
        var result = await probing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal($"the check http://check.test:{server.Port}/generate_204 got no answer within 5000 ms", result.Detail);
    }

    /// <summary>A redirect is never followed: a loop back to the check URL costs one request, and the verdict names the loop.</summary>
    [Theory]
    [InlineData("/generate_204")]
    [InlineData("http://check.test:{port}/generate_204")]
    public async Task A_redirect_loop_costs_one_request_and_is_named(string location)
    {
        await using var server = new HostileHttpServer((s, socket, ct) =>
            HostileHttpServer.Send($"HTTP/1.1 302 Found\r\nLocation: {location.Replace("{port}", s.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}\r\n\r\n")(s, socket, ct));
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.StartsWith("the check was redirected to itself (", result.Detail, StringComparison.Ordinal);
        Assert.EndsWith("): a redirect loop, not followed", result.Detail, StringComparison.Ordinal);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task A_huge_Location_is_cut_short_in_the_verdict()
    {
        var far = "http://portal.example.net/" + new string('a', 8000);
        await using var server = new HostileHttpServer(HostileHttpServer.Send($"HTTP/1.1 302 Found\r\nLocation: {far}\r\n\r\n"));
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.CaptivePortal, result.State);
        Assert.Equal(new Uri(far), result.PortalUrl);
        Assert.True(result.Detail.Length < 200, result.Detail);
    }

    /// <summary>
    /// An answer that is not HTTP is told by its first bytes, while the connection stays open: no waiting for an empty
    /// line that never comes (before, an SSH banner without one cost the whole timeout).
    /// </summary>
    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "the check's answer is not HTTP: 'SSH-2.0-OpenSSH_9.2p1 Debian-2'")]
    [InlineData("\u0015\u0003\u0003\u0000\u0002\u0002\u0028", "the check's answer is not HTTP: '")]
    [InlineData("HTTP/2 204\r\n", "the check's answer is not HTTP: 'HTTP/2 204'")]
    [InlineData("http/1.1 204 No Content\r\n", "the check's answer is not HTTP: 'http/1.1 204 No Content'")]
    public async Task A_status_line_that_is_not_HTTP_is_told_at_once(string answer, string expected)
    {
        await using var server = new HostileHttpServer(async (s, socket, ct) =>
        {
            await HostileHttpServer.Send(answer)(s, socket, ct);
            await Task.Delay(System.Threading.Timeout.Infinite, ct); // keeps the connection open
        });
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.StartsWith(expected, result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.1 2040 No\r\n\r\n")]
    [InlineData("HTTP/1.1 -04 No\r\n\r\n")]
    [InlineData("HTTP/1.1 099 No\r\n\r\n")]
    [InlineData("HTTP/1.1 600 No\r\n\r\n")]
    [InlineData("HTTP/1.1\r\n\r\n")]
    [InlineData("HTTP/1.1 20\r\n\r\n")]
    public async Task A_status_code_that_is_not_three_digits_in_range_is_not_HTTP(string answer)
    {
        await using var server = new HostileHttpServer(HostileHttpServer.Send(answer));
        var (result, _, _) = await ProbeAsync(server);

        Assert.Equal(ValidationState.NoConnectivity, result.State);
        Assert.StartsWith("the check's answer is not HTTP: 'HTTP/1.1", result.Detail, StringComparison.Ordinal);
    }

    private async Task<(ValidationResult Result, long Read, long Allocated)> ProbeAsync(HostileHttpServer server, int expectedStatus = 204)
    {
        var transport = new CountingTransport(new TcpTransport());
        var probe = Probe(server, transport, expectedStatus);
        var before = GC.GetTotalAllocatedBytes(precise: true);

        // The clock never moves: each of these verdicts must come without waiting for the timeout (a hang guard only).
        var result = await probe.ProbeAsync(Loopback, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        return (result, transport.Read, allocated);
    }

    /// <summary>
    /// The check holds one 16 KiB buffer: while the server goes on writing (up to 64 MiB, until the check hangs up), the
    /// process allocates far less than a check that kept what it read would (the server's own sends allocate a little
    /// too; the bound leaves room for that).
    /// </summary>
    private static void AssertBounded(long allocated, HostileHttpServer server) =>
        Assert.True(allocated < 1024 * 1024, $"the check allocated {allocated} bytes while the server offered {server.Offered}");

    private HttpConnectivityProbe Probe(HostileHttpServer server, IAttemptTransport transport, int expectedStatus = 204) =>
        new(new LoopbackResolver(), transport,
            new HttpProbeOptions { Url = new Uri($"http://check.test:{server.Port}/generate_204"), ExpectedStatus = expectedStatus, Timeout = Timeout },
            _clock);

    private sealed class LoopbackResolver : IInterfaceResolver
    {
        public Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken) =>
            Task.FromResult(new ResolveResult(family == AddressFamily.InterNetwork ? [IPAddress.Loopback] : []));
    }

    /// <summary>A transport whose connections count what their reader takes out of them.</summary>
    private sealed class CountingTransport(IAttemptTransport inner) : IAttemptTransport
    {
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _read;
        private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Read => Interlocked.Read(ref _read);

        public TransportProtocol Protocol => inner.Protocol;

        public string? UnsupportedReason => inner.UnsupportedReason;

        public async Task<IConnectedPath> ConnectAsync(InterfaceFacts networkInterface, IPEndPoint remote, CancellationToken cancellationToken)
        {
            var path = await inner.ConnectAsync(networkInterface, remote, cancellationToken);
            _connected.TrySetResult();
            return new CountedPath(path, this);
        }

        public Task WaitForConnectionAsync() => _connected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        /// <summary>Waits (a hang guard only) until the reader has taken <paramref name="bytes"/> bytes.</summary>
        public async Task WaitForReadAsync(long bytes)
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (Read < bytes)
            {
                await Volatile.Read(ref _progress).Task.WaitAsync(guard.Token);
            }
        }

        private void Count(int n)
        {
            Interlocked.Add(ref _read, n);
            Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        private sealed class CountedPath(IConnectedPath inner, CountingTransport owner) : IConnectedPath
        {
            private readonly CountingStream _stream = new(inner.Stream!, owner);

            public IPEndPoint? LocalEndPoint => inner.LocalEndPoint;

            public IPEndPoint RemoteEndPoint => inner.RemoteEndPoint;

            public Stream? Stream => _stream;

            public Socket? Socket => inner.Socket;

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }

        private sealed class CountingStream(Stream inner, CountingTransport owner) : Stream
        {
            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var n = await inner.ReadAsync(buffer, cancellationToken);
                owner.Count(n);
                return n;
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the check reads asynchronously");

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

            public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

            public override void Flush() => inner.Flush();

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}

/// <summary>Tests that measure the process's allocations run alone.</summary>
[CollectionDefinition(HostileCheckServerTests.Alone, DisableParallelization = true)]
public sealed class AllocationMeasuredTests;
