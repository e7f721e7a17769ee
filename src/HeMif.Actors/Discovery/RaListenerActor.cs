using Akka.Actor;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>Messages of the discovery step.</summary>
internal static class DiscoveryMessages
{
    /// <summary>
    /// From a listener to its parent (the engine actor): what <paramref name="Interface"/> knows from its routers now.
    /// Sent when a PvD is added, changed, replaced (new sequence number) or removed, and once at start with the state.
    /// </summary>
    public sealed record Learned(string Interface, IReadOnlyList<ProvisioningDomain> Pvds, RaLearningStatus Status);

    /// <summary>Ask a listener: its <see cref="Learned"/> now.</summary>
    public sealed class GetLearned
    {
        public static readonly GetLearned Instance = new();
    }

    /// <summary>The listener's timer: a lifetime ended.</summary>
    public sealed class Expire
    {
        public static readonly Expire Instance = new();
    }

    /// <summary>The listener's timer: time to fetch (or refresh) a PvD's Additional Information.</summary>
    public sealed record FetchInformation(string PvdId, long Generation);

    /// <summary>A fetch finished.</summary>
    public sealed record InformationFetched(string PvdId, long Generation, PvdFetchResult Result);

    /// <summary>The listener's timer: a PvD's Additional Information reached its "expires".</summary>
    public sealed record InformationExpired(string PvdId, long Generation);
}

/// <summary>How RA learning goes on one interface, with counts a person can check.</summary>
/// <param name="State">Off, listening, or unavailable.</param>
/// <param name="Detail">Why it is unavailable, or what was last ignored and why.</param>
public sealed record RaLearningStatus(RaLearningState State, string? Detail)
{
    /// <summary>RAs used.</summary>
    public long Accepted { get; init; }

    /// <summary>Packets ignored (RFC 4861 §6.1.2 and the reader's other rules).</summary>
    public long Ignored { get; init; }

    /// <summary>PvDs or facts refused because a limit was reached (a flood of RAs).</summary>
    public long Refused { get; init; }
}

/// <summary>
/// One per interface, a child of the engine actor (docs/architecture.md): listens for Router Advertisements through an
/// <see cref="IRouterAdvertisementSource"/>, reads them (<see cref="RouterAdvertisementReader"/>), keeps the interface's
/// provisioning domains (<see cref="PvdTable"/>) with their lifetimes counting down on HeMif's clock (one actor timer
/// for the next expiry), and tells its parent what it knows whenever that changes. Packets reach it as
/// <see cref="ReceivedIcmpv6"/> messages: from the source's thread (a Tell) in an application, injected by the test in
/// virtual time.
/// </summary>
internal sealed class RaListenerActor : ReceiveActor, IWithTimers
{
    /// <summary>
    /// The longest single wait for an expiry: lifetimes go up to 2^32 − 2 seconds (136 years), beyond what a timer can be
    /// armed for; a longer wait is taken in steps.
    /// </summary>
    internal static readonly TimeSpan MaxTimerStep = TimeSpan.FromDays(1);

    private const string ExpireTimer = "expire";

    private readonly string _interface;
    private readonly IRouterAdvertisementSource? _source;
    private readonly TimeProvider _time;
    private readonly PvdTable _table = new();
    private readonly PvdInformationKeeper? _information;
    private IDisposable? _handle;
    private RaLearningStatus _status = new(RaLearningState.Off, "no Router Advertisement source is configured");

    public RaListenerActor(string interfaceName, IRouterAdvertisementSource? source, TimeProvider time, IPvdInformationFetcher? fetcher = null, Random? random = null)
    {
        _interface = interfaceName;
        _source = source;
        _time = time;
        _information = fetcher is null ? null : new PvdInformationKeeper(interfaceName, fetcher, random ?? Random.Shared);
        Receive<ReceivedIcmpv6>(OnPacket);
        Receive<DiscoveryMessages.Expire>(_ => OnExpire());
        Receive<DiscoveryMessages.GetLearned>(_ => Sender.Tell(Current()));
        Receive<DiscoveryMessages.FetchInformation>(m => _information?.Fetch(m, _table.Snapshot(), Self, _time.GetUtcNow()));
        Receive<DiscoveryMessages.InformationFetched>(m =>
        {
            if (_information?.Fetched(m, _table.Snapshot(), Timers, _time.GetUtcNow()) == true)
            {
                Context.Parent.Tell(Current());
            }
        });
        Receive<DiscoveryMessages.InformationExpired>(m =>
        {
            if (_information?.Expired(m, Timers, _time.GetUtcNow()) == true)
            {
                Context.Parent.Tell(Current());
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        if (_source is not null)
        {
            var self = Self;
            _status = _source.TryListen(_interface, packet => self.Tell(packet), out _handle, out var unavailable)
                ? new RaLearningStatus(RaLearningState.Listening, null)
                : new RaLearningStatus(RaLearningState.Unavailable, unavailable ?? "the Router Advertisement source refused to listen");
        }

        Context.Parent.Tell(Current());
    }

    protected override void PostStop()
    {
        _handle?.Dispose();
        _information?.Dispose();
    }

    private DiscoveryMessages.Learned Current()
    {
        var pvds = _table.Snapshot();
        return new(_interface, _information is null ? pvds : _information.Annotate(pvds, _time.GetUtcNow()), _status);
    }

    private void OnPacket(ReceivedIcmpv6 packet)
    {
        var result = RouterAdvertisementReader.Read(packet.Source, packet.HopLimit, packet.Message);
        if (!result.Ok)
        {
            _status = _status with { Ignored = _status.Ignored + 1, Detail = $"last ignored from {packet.Source}: {result.Rejection}: {result.Detail}" };
            return;
        }

        var changes = _table.Learn(result.Advertisement!, _time.GetUtcNow());
        _status = _status with { Accepted = _status.Accepted + 1, Refused = _table.Refused };
        Changed(changes);
    }

    private void OnExpire() => Changed(_table.Expire(_time.GetUtcNow()));

    private void Changed(IReadOnlyList<PvdChange> changes)
    {
        _information?.Track(_table.Snapshot(), Timers);
        if (changes.Count > 0)
        {
            Context.Parent.Tell(Current());
        }

        if (_table.NextExpiry() is { } next)
        {
            var wait = next - _time.GetUtcNow();
            Timers.StartSingleTimer(ExpireTimer, DiscoveryMessages.Expire.Instance,
                wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < MaxTimerStep ? wait : MaxTimerStep);
        }
        else
        {
            Timers.Cancel(ExpireTimer);
        }
    }
}
