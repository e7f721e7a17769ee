using Akka.Actor;
using HeMif.Interfaces;

namespace HeMif.Discovery;

/// <summary>
/// The RA listener's part for RFC 8801 §4, PvD Additional Information: for each explicit PvD whose H-flag is set, fetches
/// <c>https://&lt;PvD-ID&gt;/.well-known/pvd</c> through an <see cref="IPvdInformationFetcher"/> (over the PvD's own
/// interface and DNS servers), and keeps what it says while it is valid:
/// <list type="bullet">
/// <item>The first fetch waits a random time between 0 and the PvD's <see cref="ProvisioningDomain.MaxFetchDelay"/>
/// (RFC 8801 §4.1: 2^(Delay × 2) milliseconds, so that the hosts of a link do not all ask at once), on the actor's
/// timers, which follow HeMif's clock.</item>
/// <item>A document is used only when it parses (<see cref="PvdAdditionalInformation.TryParse"/>: its "identifier" is
/// the PvD ID) and passes RFC 8801 §4.3's checks against the RA (<see cref="PvdAdditionalInformation.CheckAgainst"/>:
/// not expired, every advertised prefix covered).</item>
/// <item>It is fetched again before it expires (at half its remaining time, at least once a day) and dropped when its
/// "expires" comes without a newer one.</item>
/// <item>A failed fetch or a refused document is kept as the PvD's <see cref="ProvisioningDomain.AdditionalInformationError"/>
/// (the PvD stays usable with the RA's facts; a still valid earlier document stays in use) and tried again after 30 s,
/// doubling up to an hour.</item>
/// <item>A new sequence number (RFC 8801 §3.1: the PvD's configuration changed), or the H-flag cleared, forgets what was
/// fetched; a new sequence number fetches anew.</item>
/// </list>
/// Touched only by its listener actor.
/// </summary>
internal sealed class PvdInformationKeeper(string interfaceName, IPvdInformationFetcher fetcher, Random random) : IDisposable
{
    /// <summary>The first wait after a failed fetch; doubled after each further failure up to <see cref="LongestRetry"/>.</summary>
    internal static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between two failed fetches.</summary>
    internal static readonly TimeSpan LongestRetry = TimeSpan.FromHours(1);

    /// <summary>The longest single timer (a document may say it expires in years): longer waits are taken in steps.</summary>
    internal static readonly TimeSpan LongestTimer = TimeSpan.FromDays(1);

    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _generation;

    /// <summary>The URL of a PvD's document (RFC 8801 §4.1).</summary>
    public static string Url(string pvdId) => $"https://{pvdId}/.well-known/pvd";

    /// <summary>Follows the listener's PvDs: starts the delayed first fetch of each new one with the H-flag, forgets the others.</summary>
    public void Track(IReadOnlyList<ProvisioningDomain> pvds, ITimerScheduler timers)
    {
        var wanted = pvds.Where(p => p.Id is not null && p.HasAdditionalInformation).ToDictionary(p => p.Id!, StringComparer.Ordinal);
        foreach (var gone in _states.Keys.Where(k => !wanted.ContainsKey(k)).ToList())
        {
            _states.Remove(gone);
            Cancel(timers, gone);
        }

        foreach (var (id, pvd) in wanted)
        {
            if (_states.TryGetValue(id, out var known) && known.Sequence == pvd.SequenceNumber)
            {
                continue;
            }

            Cancel(timers, id);
            var state = new State(pvd.SequenceNumber, ++_generation);
            _states[id] = state;
            timers.StartSingleTimer(FetchKey(id), new DiscoveryMessages.FetchInformation(id, state.Generation), RandomDelay(pvd.MaxFetchDelay));
        }
    }

    /// <summary>A fetch timer fired: starts the fetch, whose outcome comes back to <paramref name="self"/>.</summary>
    public void Fetch(DiscoveryMessages.FetchInformation message, IReadOnlyList<ProvisioningDomain> pvds, IActorRef self, DateTimeOffset now)
    {
        if (!_states.TryGetValue(message.PvdId, out var state) || state.Generation != message.Generation || state.Fetching
            || pvds.FirstOrDefault(p => p.Id == message.PvdId) is not { } pvd)
        {
            return;
        }

        state.Fetching = true;
        var servers = pvd.DnsServers.Where(s => s.IsValidAt(now)).Select(s => s.Value).ToList();
        var url = Url(message.PvdId);
        Task<PvdFetchResult> fetching;
        try
        {
            fetching = fetcher.FetchAsync(interfaceName, message.PvdId, servers, _stopping.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            fetching = Task.FromException<PvdFetchResult>(e);
        }

        fetching.PipeTo(self,
            success: r => new DiscoveryMessages.InformationFetched(message.PvdId, message.Generation, r),
            failure: e => new DiscoveryMessages.InformationFetched(message.PvdId, message.Generation,
                PvdFetchResult.Failed(PvdInformationProblem.FetchFailed, url, $"{url}: the fetch failed: {e.GetBaseException().Message}")));
    }

    /// <summary>A fetch finished: validates and keeps the document, or the reason; arms the refresh, expiry or retry. True when what the PvD shows changed.</summary>
    public bool Fetched(DiscoveryMessages.InformationFetched message, IReadOnlyList<ProvisioningDomain> pvds, ITimerScheduler timers, DateTimeOffset now)
    {
        if (!_states.TryGetValue(message.PvdId, out var state) || state.Generation != message.Generation
            || pvds.FirstOrDefault(p => p.Id == message.PvdId) is not { } pvd)
        {
            return false;
        }

        state.Fetching = false;
        var error = message.Result.Error;
        PvdAdditionalInformation? information = null;
        if (error is null)
        {
            information = PvdAdditionalInformation.TryParse(message.Result.Body ?? [], message.PvdId, out error);
            error ??= information!.CheckAgainst([.. pvd.Prefixes.Where(p => p.IsValidAt(now)).Select(p => p.Value)], now);
        }

        var id = message.PvdId;
        if (error is null)
        {
            state.Information = information;
            state.Error = null;
            state.Failures = 0;
            var remaining = information!.Expires - now;
            timers.StartSingleTimer(FetchKey(id), new DiscoveryMessages.FetchInformation(id, state.Generation), Step(remaining / 2));
            timers.StartSingleTimer(DropKey(id), new DiscoveryMessages.InformationExpired(id, state.Generation), Step(remaining));
            return true;
        }

        state.Error = error with { Message = $"{Url(id)}: {error.Message}" };
        state.Failures++;
        var retry = TimeSpan.FromTicks(Math.Min(LongestRetry.Ticks, FirstRetry.Ticks << Math.Min(state.Failures - 1, 16)));
        timers.StartSingleTimer(FetchKey(id), new DiscoveryMessages.FetchInformation(id, state.Generation), retry);
        return true;
    }

    /// <summary>The expiry timer fired: drops the document when its "expires" has come (else waits on). True when it was dropped.</summary>
    public bool Expired(DiscoveryMessages.InformationExpired message, ITimerScheduler timers, DateTimeOffset now)
    {
        if (!_states.TryGetValue(message.PvdId, out var state) || state.Generation != message.Generation || state.Information is not { } information)
        {
            return false;
        }

        if (information.IsValidAt(now))
        {
            timers.StartSingleTimer(DropKey(message.PvdId), message, Step(information.Expires - now));
            return false;
        }

        state.Information = null;
        state.Error ??= new PvdInformationError(PvdInformationProblem.Expired, "$.expires",
            $"{Url(message.PvdId)}: $.expires: the information expired at {information.Expires:O} and no newer one was fetched");
        return true;
    }

    /// <summary>The PvDs with what was fetched for them: the document while it is valid, and the last reason it is not there.</summary>
    public IReadOnlyList<ProvisioningDomain> Annotate(IReadOnlyList<ProvisioningDomain> pvds, DateTimeOffset now) =>
        [.. pvds.Select(p => p.Id is { } id && _states.TryGetValue(id, out var s)
            ? p with { AdditionalInformation = s.Information is { } i && i.IsValidAt(now) ? i : null, AdditionalInformationError = s.Error }
            : p)];

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private TimeSpan RandomDelay(TimeSpan max) => max <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(random.NextDouble() * max.Ticks));

    private static TimeSpan Step(TimeSpan wait) => wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < LongestTimer ? wait : LongestTimer;

    private static void Cancel(ITimerScheduler timers, string id)
    {
        timers.Cancel(FetchKey(id));
        timers.Cancel(DropKey(id));
    }

    private static string FetchKey(string id) => "pvd-fetch:" + id;

    private static string DropKey(string id) => "pvd-drop:" + id;

    private sealed class State(ushort? sequence, long generation)
    {
        public ushort? Sequence { get; } = sequence;

        public long Generation { get; } = generation;

        public PvdAdditionalInformation? Information { get; set; }

        public PvdInformationError? Error { get; set; }

        public bool Fetching { get; set; }

        public int Failures { get; set; }
    }
}
