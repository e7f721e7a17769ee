using System.Net;
using HeMif.Engine;
using HeMif.Planning;
using HeMif.Race;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Engine;

/// <summary>
/// A transport of the application's own, registered by name beside TCP, is raced like TCP (issue 13: "a third kind of
/// transport" must be expressible): the request names it, the registry orders it, and the report names it.
/// </summary>
public sealed class NamedTransportEngineTests : IAsyncLifetime
{
    private static readonly TransportName Uds = new("uds");

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeNetwork _network;
    private readonly Sidecar _sidecar;
    private HeMifEngine? _engine;
    private EngineDriver _driver = null!;

    public NamedTransportEngineTests()
    {
        _network = FakeNetwork.WifiAndCellular(_clock);
        _sidecar = new Sidecar(_clock);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    /// <summary>TCP gets no answer on Wi-Fi; the named transport, tried one attempt delay behind it, wins; TCP is cancelled.</summary>
    [Fact]
    public async Task A_transport_registered_by_name_races_behind_TCP_and_wins_where_TCP_gets_no_answer()
    {
        _network.Paths["wlan0"] = _network.Paths["wlan0"] with { IPv6 = "blackhole", IPv4 = "blackhole" };
        await StartAsync();

        var race = await RaceAsync(new ConnectionRequest("www.example.com", 443) { Transports = [TransportName.Tcp, Uds] });

        Assert.Equal(("wlan0", "uds"), (race.Report.Winner!.Interface, race.Report.Winner.Transport));
        Assert.Equal(["tcp", "uds"], race.Report.Attempts.Take(2).Select(a => a.Transport));
        Assert.Equal(new RaceSettings().ConnectionAttemptDelay, race.Report.Attempts[1].Start - race.Report.Attempts[0].Start);
        Assert.Equal(0, _network.OpenConnections);
        await race.Connection!.DisposeAsync();
        Assert.Equal(0, _sidecar.Open);
    }

    /// <summary>A request for TCP alone never touches the named transport.</summary>
    [Fact]
    public async Task A_request_that_does_not_name_it_never_uses_it()
    {
        await StartAsync();

        var race = await RaceAsync(new ConnectionRequest("www.example.com", 443));

        Assert.Equal("tcp", race.Report.Winner!.Transport);
        Assert.Equal(0, _sidecar.Attempts);
        await race.Connection!.DisposeAsync();
    }

    private async Task StartAsync()
    {
        _engine = new HeMifEngine(_network.Options(_clock) with
        {
            Transports = new TransportRegistry([new FakeNetwork.TcpPort(_network), _sidecar], [TransportName.Tcp]),
        });
        _driver = new EngineDriver(_engine, _clock);
        Assert.True(_driver.RunUntil(() => _engine.AllExamined));
        await Task.CompletedTask;
    }

    private async Task<RaceResult> RaceAsync(ConnectionRequest request)
    {
        var (completion, _) = _engine!.Start(request);
        Assert.True(_driver.RunUntil(() => completion.IsCompleted), "virtual time ran out before the race ended");
        return await completion;
    }

    /// <summary>A sidecar reached through a local socket: connects in 5 ms on the virtual clock.</summary>
    private sealed class Sidecar(TimeProvider clock) : AttemptTransport
    {
        private int _open;
        private int _attempts;

        public int Open => Volatile.Read(ref _open);

        public int Attempts => Volatile.Read(ref _attempts);

        public override TransportName Name => Uds;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            return FakeTimers.After<ConnectedPath>(clock, TimeSpan.FromMilliseconds(5), () =>
            {
                Interlocked.Increment(ref _open);
                return new Connection(this, context.Remote);
            }, cancellationToken);
        }

        private sealed class Connection(Sidecar owner, IPEndPoint remote) : ConnectedPath
        {
            private int _closed;

            public override IPEndPoint? LocalEndPoint => null;

            public override IPEndPoint RemoteEndPoint => remote;

            public override Stream Stream => Stream.Null;

            public override ValueTask DisposeAsync()
            {
                if (Interlocked.Exchange(ref _closed, 1) == 0)
                {
                    Interlocked.Decrement(ref owner._open);
                }

                return ValueTask.CompletedTask;
            }
        }
    }
}
