using System.Reactive.Linq;
using HeMif.Hosting;
using HeMif.Multipath;
using HeMif.Report;

namespace HeMif.Host.Tests.Http;

/// <summary>The plain callback on a hand-built SocketsHttpHandler, with a connector that does what the test says.</summary>
public sealed class ConnectCallbackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_handlers_cancellation_reaches_the_race_and_ends_the_request()
    {
        var connector = new WaitingConnector();
        using var handler = new SocketsHttpHandler { ConnectCallback = new HeMifConnectCallback(connector).ConnectAsync };
        using var client = new HttpClient(handler);
        using var cts = new CancellationTokenSource();

        var request = client.GetAsync(new Uri("http://service.example:8080/"), cts.Token);
        var (host, port, options) = await connector.Called.Task.WaitAsync(Bound);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(Bound));
        await connector.Cancelled.Task.WaitAsync(Bound);
        Assert.Equal(("service.example", 8080), (host, port));
        Assert.Equal(TransportPreference.Tcp, options!.Transport);
    }

    /// <summary>HTTP/1.1 and HTTP/2 need a TCP stream: a QUIC hint is overridden, the other hints are kept.</summary>
    [Fact]
    public async Task The_callback_always_asks_for_TCP_and_keeps_the_other_hints()
    {
        var connector = new WaitingConnector();
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = new HeMifConnectCallback(connector, new ConnectOptions { Transport = TransportPreference.Quic, TrafficClass = "background" }).ConnectAsync,
        };
        using var client = new HttpClient(handler);
        using var cts = new CancellationTokenSource();
        var request = client.GetAsync(new Uri("http://service.example/"), cts.Token);
        var (_, port, options) = await connector.Called.Task.WaitAsync(Bound);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(Bound));
        Assert.Equal(80, port);
        Assert.Equal((TransportPreference.Tcp, "background"), (options!.Transport, options.TrafficClass));
    }

    /// <summary>
    /// Issue 15: a request's choice "through HttpRequestMessage.Options for UseHeMif() requests": the connection the
    /// request opens is raced with it, in place of the client's own choice (the client's other hints stay).
    /// </summary>
    [Fact]
    public async Task A_choice_set_on_the_request_reaches_the_race_of_the_connection_it_opens()
    {
        var connector = new WaitingConnector();
        var clientChoice = new Filter.InterfaceChoice { ProhibitKinds = [Interfaces.InterfaceKind.Cellular] };
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = new HeMifConnectCallback(connector, new ConnectOptions { TrafficClass = "bulk", Choice = clientChoice }).ConnectAsync,
        };
        using var client = new HttpClient(handler);
        using var cts = new CancellationTokenSource();
        using var message = new HttpRequestMessage(HttpMethod.Get, new Uri("http://service.example/"));
        var choice = new Filter.InterfaceChoice { Interface = "wlan0" };
        message.Options.Set(HeMifConnectCallback.ChoiceKey, choice);

        var request = client.SendAsync(message, cts.Token);
        var (_, _, options) = await connector.Called.Task.WaitAsync(Bound);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(Bound));
        Assert.Same(choice, options!.Choice);
        Assert.Equal("bulk", options.TrafficClass);
    }

    /// <summary>A connector that waits until the caller cancels, and says what it was asked.</summary>
    private sealed class WaitingConnector : IHeMifConnector
    {
        public TaskCompletionSource<(string Host, int Port, ConnectOptions? Options)> Called { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IObservable<InterfaceStateChanged> InterfaceStates => Observable.Never<InterfaceStateChanged>();

        public IObservable<RaceEvent> RaceEvents => Observable.Never<RaceEvent>();

        public IObservable<SubflowPlan> SubflowSuggestions => Observable.Never<SubflowPlan>();

        public async Task<HeMifConnection> ConnectAsync(string host, int port, ConnectOptions? options = null, CancellationToken cancellationToken = default)
        {
            Called.TrySetResult((host, port, options));
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Cancelled.TrySetResult();
            }

            throw new InvalidOperationException("unreachable");
        }

        public Task<SubflowPlan> PlanSubflowsAsync(string host, int port, MultipathMode mode, ConnectOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<Validate.QuicPathVerdict>> ProbeQuicAsync(string host, int port, string? interfaceName = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IObservable<SubflowPlan> WatchSubflows(string host, int port, MultipathMode mode, ConnectOptions? options = null) => Observable.Never<SubflowPlan>();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
