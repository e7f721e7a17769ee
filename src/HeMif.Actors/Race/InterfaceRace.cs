using System.Net;
using System.Net.Sockets;

namespace HeMif.Race;

/// <summary>
/// The dual-stack child race on one interface (draft §7.5: "HE is executed on an interface which is selected to make
/// connection establishment"), after RFC 8305 and HEv3: both families resolved in parallel, the Resolution Delay,
/// sorted and interleaved endpoints, one new attempt per Connection Attempt Delay (or at once when the previous
/// attempt fails), earlier attempts kept running. Pure: it owns no clock, socket or task; the parent
/// <see cref="RacePlanner"/> asks it for endpoints and grants attempts under the race's concurrency cap.
/// </summary>
internal sealed class InterfaceRace
{
    private readonly RaceCandidate _candidate;
    private readonly RaceSettings _settings;
    private readonly IDestinationSorter _sorter;
    private readonly int _port;
    private readonly IReadOnlyList<TransportName> _transports;
    private readonly TimeSpan _attemptDelay;
    private readonly List<(IPAddress Address, TransportName Transport)> _tried = [];
    private readonly List<IPAddress> _ordered = new(4);
    private readonly List<IPAddress> _addresses = new(4);
    private readonly List<Endpoint> _remaining = new(8);
    private FamilyState _v6;
    private FamilyState _v4;
    private List<string>? _resolutionErrors;
    private TimeSpan? _resolutionDelayEnds;
    private TimeSpan _nextAttemptAt;
    private bool _connecting;

    public InterfaceRace(RaceCandidate candidate, RaceSettings settings, IDestinationSorter sorter, int port)
    {
        _candidate = candidate;
        _settings = settings;
        _sorter = sorter;
        _port = port;
        _transports = candidate.Transports;
        _attemptDelay = settings.AttemptDelayFor(candidate.SmoothedRtt);
        _v6 = candidate.IPv6 ? FamilyState.Pending : FamilyState.NotAsked;
        _v4 = candidate.IPv4 ? FamilyState.Pending : FamilyState.NotAsked;
    }

    private enum FamilyState
    {
        NotAsked,
        Pending,
        Answered,
        Failed,
    }

    public string Interface => _candidate.Interface;

    // The parent planner's bookkeeping (it owns these; the child race never reads them): where this race stands in the
    // planner's rank order, whether it is one of the preferred, whether its exhaustion has been counted, whether it is
    // on the planner's list of races that changed, and whether it is in the planner's queue of ready races.
    internal int Position { get; set; }

    internal bool IsPreferred { get; set; }

    internal bool CountedExhausted { get; set; }

    internal bool Pending { get; set; }

    internal bool Queued { get; set; }

    /// <summary>It takes part in the race (the preferred from the start, the others once the fallback lets them in).</summary>
    internal bool Joined { get; set; }

    public RaceCandidate Candidate => _candidate;

    /// <summary>The delay between this interface's attempts (adapted from its RTT history).</summary>
    public TimeSpan AttemptDelay => _attemptDelay;

    /// <summary>How many attempts of this interface are in flight.</summary>
    public int Active { get; private set; }

    /// <summary>Why resolution failed, per family, for the failure report.</summary>
    public IReadOnlyList<string> ResolutionErrors => (IReadOnlyList<string>?)_resolutionErrors ?? [];

    /// <summary>Lost mid-race: no more attempts.</summary>
    public bool Lost { get; private set; }

    /// <summary>Whether the AAAA query is asked first (RFC 8305 §3: "send AAAA … then A").</summary>
    public bool ResolvesIPv6 => _v6 != FamilyState.NotAsked;

    /// <summary>Whether the A query is asked.</summary>
    public bool ResolvesIPv4 => _v4 != FamilyState.NotAsked;

    /// <summary>Nothing left to try and nothing in flight: this interface has failed.</summary>
    public bool Exhausted =>
        Lost ? Active == 0 : _v6 != FamilyState.Pending && _v4 != FamilyState.Pending && _remaining.Count == 0 && Active == 0;

    /// <summary>The next moment this child needs the clock (resolution delay or attempt delay), if any.</summary>
    public TimeSpan? NextDeadline(TimeSpan now)
    {
        if (Lost)
        {
            return null;
        }

        if (!_connecting)
        {
            return _resolutionDelayEnds;
        }

        return _remaining.Count > 0 && _nextAttemptAt > now ? _nextAttemptAt : null;
    }

    public void OnResolved(AddressFamily family, IReadOnlyList<IPAddress> addresses, TimeSpan now)
    {
        if (State(family) != FamilyState.Pending)
        {
            return; // a family we did not ask for, or a second answer: ignore
        }

        SetState(family, addresses.Count > 0 ? FamilyState.Answered : FamilyState.Failed);
        if (addresses.Count == 0)
        {
            (_resolutionErrors ??= []).Add($"{AddressOrdering.Name(family)}: no addresses");
        }

        foreach (var address in addresses)
        {
            if (address.AddressFamily == family)
            {
                _addresses.Add(address);
            }
        }

        Reorder();
        DecideWhenToConnect(now);
    }

    public void OnResolutionFailed(AddressFamily family, string reason, TimeSpan now)
    {
        if (State(family) != FamilyState.Pending)
        {
            return;
        }

        SetState(family, FamilyState.Failed);
        (_resolutionErrors ??= []).Add($"{AddressOrdering.Name(family)}: {reason}");
        DecideWhenToConnect(now);
    }

    /// <summary>The clock reached <paramref name="now"/>: the resolution delay may be over.</summary>
    public void OnTime(TimeSpan now)
    {
        if (!_connecting && _resolutionDelayEnds is { } end && now >= end && _addresses.Count > 0)
        {
            StartConnecting(now);
        }
    }

    /// <summary>Whether <see cref="TakeReady"/> would give an endpoint at <paramref name="now"/> (it changes nothing).</summary>
    public bool IsReady(TimeSpan now) => !Lost && _connecting && _remaining.Count > 0 && now >= _nextAttemptAt;

    /// <summary>The endpoint to try now, if the attempt delay has passed and one is left; marks it tried.</summary>
    public Endpoint? TakeReady(TimeSpan now)
    {
        if (!IsReady(now))
        {
            return null;
        }

        var next = _remaining[0];
        _remaining.RemoveAt(0);
        _tried.Add((next.Remote.Address, next.Transport));
        Active++;
        // RFC 8305 §5: "Starting a new connection attempt does not affect previous attempts"; the next one waits.
        _nextAttemptAt = now + _attemptDelay;
        return next;
    }

    /// <summary>An attempt of this interface ended; a failure lets the next one start at once (RFC 8305 §5).</summary>
    public void OnAttemptEnded(bool failed, TimeSpan now)
    {
        Active--;
        if (failed)
        {
            _nextAttemptAt = now;
        }
    }

    /// <summary>Whether any transport may be tried here (not so when none of the request's transports can be used here).</summary>
    public bool HasTransport => _transports.Count > 0;

    /// <summary>Nothing can be tried on this interface: no resolution, no attempt; <paramref name="reason"/> goes into the failure report.</summary>
    public void NothingToTry(string reason)
    {
        _v6 = FamilyState.NotAsked;
        _v4 = FamilyState.NotAsked;
        _remaining.Clear();
        (_resolutionErrors ??= []).Add(reason);
    }

    public void Lose()
    {
        Lost = true;
        _remaining.Clear();
    }

    private void DecideWhenToConnect(TimeSpan now)
    {
        if (_connecting || _addresses.Count == 0)
        {
            return;
        }

        // RFC 8305 §3: connect at once on a positive AAAA answer, or when the AAAA query has ended otherwise;
        // a positive A answer first waits the Resolution Delay for the AAAA. With history that prefers a family here (the
        // other stayed silent: RFC 8305 §4, draft §7.5), that family plays IPv6's part.
        var preferred = _candidate.PreferredFamily ?? AddressFamily.InterNetworkV6;
        if (State(preferred) != FamilyState.Pending || _addresses.Exists(a => a.AddressFamily == preferred))
        {
            StartConnecting(now);
        }
        else
        {
            _resolutionDelayEnds ??= now + _settings.ResolutionDelay;
        }
    }

    private void StartConnecting(TimeSpan now)
    {
        _connecting = true;
        _resolutionDelayEnds = null;
        _nextAttemptAt = now;
    }

    /// <summary>
    /// HEv3: newly received addresses are "re-sorted into the whole list (keeping interleaving)"; endpoints already
    /// tried stay out. One endpoint per address and transport, in the candidate's transport order for the same address
    /// (the registry puts transports over UDP first: HEv3 "the preference policy favors QUIC over TCP"), so the family
    /// interleaving is kept and TCP follows its QUIC twin one attempt delay later.
    /// </summary>
    private void Reorder()
    {
        var sorted = _sorter.Sort(Interface, _addresses);
        if (_candidate.PreferredFamily is { } family && sorted.Count > 0 && sorted[0].AddressFamily != family && sorted.Any(a => a.AddressFamily == family))
        {
            // RFC 8305 §4: "If the client keeps track of which addresses it used in the past, it SHOULD add another
            // Destination Address Selection rule ... which prefers used addresses over unused ones": the family that worked
            // here last time goes first (a stable partition keeps RFC 6724's order within each family).
            sorted = [.. sorted.Where(a => a.AddressFamily == family), .. sorted.Where(a => a.AddressFamily != family)];
        }

        AddressOrdering.Interleave(sorted, _settings.FirstAddressFamilyCount, _ordered);
        _remaining.Clear();
        var preferred = _candidate.PreferredTransport is { } p && _transports.Contains(p) ? p : (TransportName?)null;
        foreach (var address in _ordered)
        {
            // The transport that won here last time while another did not goes first (null: the registry's order).
            if (preferred is { } first)
            {
                Keep(address, first);
            }

            for (var i = 0; i < _transports.Count; i++)
            {
                if (_transports[i] != preferred)
                {
                    Keep(address, _transports[i]);
                }
            }
        }
    }

    private void Keep(IPAddress address, TransportName transport)
    {
        if (!_tried.Contains((address, transport)))
        {
            _remaining.Add(new Endpoint(Interface, new IPEndPoint(address, _port), transport));
        }
    }

    private FamilyState State(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? _v6 : family == AddressFamily.InterNetwork ? _v4 : FamilyState.NotAsked;

    private void SetState(AddressFamily family, FamilyState state)
    {
        if (family == AddressFamily.InterNetworkV6)
        {
            _v6 = state;
        }
        else
        {
            _v4 = state;
        }
    }
}
