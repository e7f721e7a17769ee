using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace HeMif.Race;

/// <summary>
/// The race for one connection request as a deterministic state machine (sans-IO, after Mozilla's
/// <c>happy-eyeballs</c>): fed <see cref="Handle"/>(input, now), drained with <see cref="Poll"/>(now) until it
/// returns <see cref="RaceCommand.WaitUntil"/> or null. It owns no clock, socket, task or logger; times are race
/// time (zero at the start).
/// <para>
/// Interface stages, draft §5.2.3: "The interface identified by the source address should be treated to initiate the
/// connection prior to others. This could avoid thrashing the network, by not making simultaneous connection attempts
/// on multiple interfaces. After making a connection attempt on the preferred pairs and failing to establish a
/// connection within a certain time period (see Section 7.2), a HE-MIF implementation will decide to initiate
/// connection attempt using rest of interfaces in parallel." Candidates of the best rank start together ("If there is
/// no specific Soft Set provided, all selected interfaces should be treated equally"); the rest join after the
/// fallback delay, at once on a hard error (§7.2), or as soon as the preferred stage has nothing left to try.
/// Inside each interface an <see cref="InterfaceRace"/> runs RFC 8305 / HEv3.
/// </para>
/// <para>
/// The fallback timer (§7.2, decided by <see cref="FallbackDelays"/>) starts at the first attempt on a preferred
/// interface, or at the start of the request while its resolution is silent: a slow but working DNS server does not eat
/// the preferred interface's time. Metered or roaming interfaces may wait longer than the others
/// (<see cref="FallbackDecision.CostlyDelay"/>: not before the preferred interface's first SYN was retransmitted), except
/// after a hard error or when the preferred interfaces are lost or have nothing left to try.
/// </para>
/// <para>
/// Invariants: never an attempt on an interface that is not a candidate (the filter and validation decide who is);
/// never more than <see cref="RaceSettings.MaxConcurrentAttempts"/> in flight; once there is a winner, every other
/// attempt is cancelled before <see cref="RaceCommand.Won"/>; results for cancelled or finished attempts are ignored.
/// </para>
/// </summary>
internal sealed class RacePlanner
{
    /// <summary>
    /// From this many candidates on, the planner keeps an index (by name; the races that changed; the ready ones by
    /// rank; a queue of deadlines) so that each step costs what changed rather than every interface: a race over
    /// thousands of interfaces otherwise spends O(n) per input, O(n²) in all. Below it, a scan of every interface is
    /// cheaper than the index and allocates nothing (the planner benchmark's races have two).
    /// </summary>
    internal const int IndexedFrom = 16;

    private readonly RaceSettings _settings;
    private readonly List<InterfaceRace> _interfaces;

    // The index (null below IndexedFrom candidates). Between steps: a started race that changed since it was last
    // looked at (an input, a deadline that came) is in _pending, one not started yet in _waiting (it joins _pending at
    // the fallback); a race that is ready for an attempt is in _ready (by rank position); a race with a deadline
    // (NextDeadline) has an entry in _deadlines at that time. Entries that no longer hold are skipped when they come up.
    private readonly Dictionary<string, InterfaceRace>? _byName;
    private readonly List<InterfaceRace>? _pending;
    private readonly List<InterfaceRace>? _waiting;
    private readonly PriorityQueue<InterfaceRace, int>? _ready;
    private readonly PriorityQueue<InterfaceRace, (TimeSpan At, int Position)>? _deadlines;
    private int _exhaustedPreferred;
    // In flight: at most MaxConcurrentAttempts (6 by default), so a list beats a dictionary on a race's hot path.
    private readonly List<(AttemptRecord Record, InterfaceRace Owner)> _active = new(6);
    private readonly List<AttemptRecord> _attempts = [];
    private readonly Queue<RaceCommand> _out = new();
    private readonly List<InterfaceRace> _preferred;
    private readonly List<InterfaceRace> _joined;
    private readonly List<InterfaceRace> _freeRest = [];
    private readonly List<InterfaceRace> _costlyRest = [];
    private TimeSpan _fallbackAt;
    private TimeSpan _costlyAt;
    private readonly bool _hasRest;
    private ulong _nextAttempt;
    private bool _started;
    private bool _fallbackTaken;
    private bool _freeJoined;
    private bool _costlyJoined;
    private bool _timerStarted;
    private int _exhaustedJoined;
    private bool _finished;
    private List<TransportName>? _saidUnsupported;

    public RacePlanner(IReadOnlyList<RaceCandidate> candidates, int port, RaceSettings settings, IDestinationSorter? sorter = null)
        : this(candidates, port, settings, sorter, indexed: candidates is { Count: >= IndexedFrom })
    {
    }

    /// <summary>A planner that keeps the index or scans, whatever the count (tests compare the two).</summary>
    internal RacePlanner(IReadOnlyList<RaceCandidate> candidates, int port, RaceSettings settings, IDestinationSorter? sorter, bool indexed)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _settings = settings;
        if (indexed)
        {
            _byName = new Dictionary<string, InterfaceRace>(candidates.Count, StringComparer.Ordinal);
            _pending = [];
            _waiting = [];
            _ready = new PriorityQueue<InterfaceRace, int>();
            _deadlines = new PriorityQueue<InterfaceRace, (TimeSpan At, int Position)>();
            _interfaces = SortByRank(candidates, settings, sorter ?? AddressOrdering.PreferIPv6, port);
            foreach (var race in _interfaces)
            {
                if (!_byName.TryAdd(race.Interface, race))
                {
                    throw new ArgumentException($"Interface '{race.Interface}' is listed twice among the race's candidates.", nameof(candidates));
                }
            }
        }
        else
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (string.Equals(candidates[i].Interface, candidates[j].Interface, StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"Interface '{candidates[i].Interface}' is listed twice among the race's candidates.", nameof(candidates));
                    }
                }
            }

            // Best rank first, listing order kept among equal ranks (an insertion sort: these candidate lists are short,
            // and a race is hot enough that LINQ's allocations showed in the planner benchmark).
            _interfaces = new List<InterfaceRace>(candidates.Count);
            foreach (var candidate in candidates)
            {
                var at = _interfaces.Count;
                while (at > 0 && _interfaces[at - 1].Candidate.Rank > candidate.Rank)
                {
                    at--;
                }

                _interfaces.Insert(at, new InterfaceRace(candidate, settings, sorter ?? AddressOrdering.PreferIPv6, port));
            }
        }

        BestRank = _interfaces.Count == 0 ? 0 : _interfaces[0].Candidate.Rank;
        _preferred = new List<InterfaceRace>(_interfaces.Count);
        _joined = new List<InterfaceRace>(_interfaces.Count);
        for (var i = 0; i < _interfaces.Count; i++)
        {
            var race = _interfaces[i];
            race.Position = i;
            if (race.Candidate.Rank == BestRank)
            {
                race.IsPreferred = true;
                _preferred.Add(race);
            }
            else
            {
                (race.Candidate.Costly ? _costlyRest : _freeRest).Add(race);
            }

            CountIfExhausted(race); // an interface with no family to resolve has nothing to try from the start
        }

        Decision = FallbackDelays.Decide(_preferred.ConvertAll(r => r.Candidate), [.. _freeRest.Concat(_costlyRest).Select(r => r.Candidate)], settings);
        FallbackDelay = Decision.Delay;
        _fallbackAt = FallbackDelay;
        _costlyAt = Decision.CostlyDelay;
        _hasRest = _interfaces.Count > _preferred.Count;
        _freeJoined = _freeRest.Count == 0;
        _costlyJoined = _costlyRest.Count == 0;
    }

    /// <summary>The interfaces that start first (the best rank; several when the sort ranks them equal).</summary>
    public IReadOnlyList<InterfaceRace> Preferred => _preferred;

    /// <summary>The fallback delay this race uses (stated, or adapted from the preferred interfaces' history, draft §7.2).</summary>
    public TimeSpan FallbackDelay { get; }

    /// <summary>The whole fallback decision: the delay, where it came from and why, and the delay for metered or roaming interfaces.</summary>
    public FallbackDecision Decision { get; }

    /// <summary>When the fallback timer started (race time): the first attempt on a preferred interface, else zero.</summary>
    public TimeSpan TimerStart { get; private set; }

    /// <summary>Whether metered or roaming interfaces waited longer than the others (they had a later deadline in this race).</summary>
    public bool CostlyWaited => Decision.CostlyDelay > Decision.Delay && _costlyRest.Count > 0;

    /// <summary>Every attempt so far, in start order.</summary>
    public IReadOnlyList<AttemptRecord> Attempts => _attempts;

    /// <summary>Whether the race has ended (won or failed).</summary>
    public bool IsFinished => _finished;

    /// <summary>How many attempts are in flight.</summary>
    public int ActiveAttempts => _active.Count;

    private int BestRank { get; }

    /// <summary>Feeds one fact.</summary>
    public void Handle(RaceInput input, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_finished)
        {
            return; // late results after the race ended are ignored
        }

        switch (input)
        {
            case RaceInput.ResolutionAnswered answered when Find(answered.Interface) is { } race:
                race.OnResolved(answered.Family, answered.Addresses, now);
                Touched(race);
                break;
            case RaceInput.ResolutionFailed failed when Find(failed.Interface) is { } race:
                race.OnResolutionFailed(failed.Family, failed.Reason, now);
                Touched(race);
                break;
            case RaceInput.AttemptSucceeded succeeded:
                if (TakeActive(succeeded.Id, out var winner))
                {
                    Win(winner.Record, winner.Owner, now);
                }
                else
                {
                    Debug.Assert(IsKnown(succeeded.Id), $"a result for unknown attempt {succeeded.Id}");
                }

                return;
            case RaceInput.AttemptFailed failed:
                if (TakeActive(failed.Id, out var loser))
                {
                    End(loser.Record, AttemptOutcome.Failed, now, failed.Reason, failed.Kind);
                    loser.Owner.OnAttemptEnded(failed: true, now);
                    Touched(loser.Owner);
                    if (failed.Kind == AttemptFailureKind.Hard && !_fallbackTaken && loser.Owner.IsPreferred)
                    {
                        TakeFallback(now, $"hard error on {loser.Owner.Interface} ({failed.Reason}): the other interfaces start now (draft §7.2)", everyone: true);
                    }
                }
                else
                {
                    Debug.Assert(IsKnown(failed.Id), $"a result for unknown attempt {failed.Id}");
                }

                break;
            case RaceInput.InterfaceLost lost when Find(lost.Interface) is { } race:
                race.Lose();
                foreach (var entry in _active.FindAll(a => a.Owner == race))
                {
                    _active.Remove(entry);
                    End(entry.Record, AttemptOutcome.Cancelled, now, $"interface lost: {lost.Reason}", null);
                    race.OnAttemptEnded(failed: false, now);
                    _out.Enqueue(new RaceCommand.CancelAttempt(entry.Record.Id, $"{race.Interface} lost: {lost.Reason}"));
                }

                Touched(race);
                _out.Enqueue(new RaceCommand.Note(race.Interface, $"interface lost: {lost.Reason}"));
                if (!_fallbackTaken && race.IsPreferred)
                {
                    TakeFallback(now, $"{race.Interface} was lost: the other interfaces start now", everyone: true);
                }

                break;
            case RaceInput.Cancelled cancelled:
                Fail(now, $"cancelled: {cancelled.Reason}", AttemptOutcome.Cancelled);
                return;
        }
    }

    /// <summary>
    /// The next command, or null once the race has finished and everything has been said. Returns
    /// <see cref="RaceCommand.WaitUntil"/> when nothing can happen before that time (or before the next input).
    /// </summary>
    public RaceCommand? Poll(TimeSpan now)
    {
        if (_out.Count > 0)
        {
            return _out.Dequeue();
        }

        if (_finished)
        {
            return null;
        }

        Step(now);
        if (_out.Count > 0)
        {
            return _out.Dequeue();
        }

        if (_finished)
        {
            return null;
        }

        return new RaceCommand.WaitUntil(NextDeadline(now));
    }

    private void Step(TimeSpan now)
    {
        if (!_started)
        {
            _started = true;
            if (_interfaces.Count == 0)
            {
                Fail(now, "no interface is a candidate for this request (all excluded by policy or not validated)", AttemptOutcome.Failed);
                return;
            }

            var names = _preferred.Count == 1 ? _preferred[0].Interface : string.Join(", ", _preferred.ConvertAll(p => p.Interface));
            _out.Enqueue(new RaceCommand.Note(null,
                _hasRest ? $"{names} first; the others join after {Ms(FallbackDelay)} (draft §7.2) or on a hard error"
                : _preferred.Count > 1 ? $"{names} ranked equal: all start together (draft §5.2.3)"
                : $"{names} is the only candidate"));
            if (_hasRest)
            {
                _out.Enqueue(new RaceCommand.Note(null, $"fallback delay {Ms(FallbackDelay)}: {Decision.Reason}; the timer starts at the first attempt on " +
                                                        $"{names}, or now if its resolution stays silent"));
                if (CostlyWaited)
                {
                    _out.Enqueue(new RaceCommand.Note(null, Decision.CostlyReason!));
                }
            }

            foreach (var race in _preferred)
            {
                Join(race);
            }
        }

        if (now >= _settings.RaceTimeout)
        {
            Fail(now, $"no {_settings.Awaits} within the race timeout of {Ms(_settings.RaceTimeout)}", AttemptOutcome.Cancelled);
            return;
        }

        // The races that may have something to do now: all started ones, or (indexed) those that changed or fell due.
        var visit = ToVisit(now);
        foreach (var race in visit)
        {
            race.OnTime(now);
        }

        if (_hasRest && !(_freeJoined && _costlyJoined))
        {
            var joinedBefore = _joined.Count;
            if (_exhaustedPreferred == _preferred.Count)
            {
                TakeFallback(now, "the preferred interfaces have nothing left to try: the other interfaces start now", everyone: true);
            }
            else if (_fallbackTaken && _exhaustedJoined == _joined.Count)
            {
                TakeFallback(now, "the interfaces that joined have nothing left to try: the metered or roaming ones start now", everyone: true);
            }
            else if (now >= _fallbackAt || now >= _costlyAt)
            {
                TakeFallback(now, null, everyone: false);
            }

            if (_joined.Count > joinedBefore && _pending is null)
            {
                visit = Started(); // the interfaces that joined are started now
            }
        }

        if (_pending is null)
        {
            GrantAttempts(now, visit);
        }
        else
        {
            Sift(now);
            GrantReady(now);
        }

        if (_joined.Count == _interfaces.Count && _exhaustedJoined == _joined.Count)
        {
            var why = string.Join("; ", Explanations());
            Fail(now, $"every interface failed: {why}", AttemptOutcome.Failed);
        }
    }

    /// <summary>Gives ready interfaces their next attempt, best rank first, under the concurrency cap.</summary>
    private void GrantAttempts(TimeSpan now, List<InterfaceRace> races)
    {
        var progress = true;
        while (progress && _active.Count < _settings.MaxConcurrentAttempts)
        {
            progress = false;
            foreach (var race in races)
            {
                if (_active.Count >= _settings.MaxConcurrentAttempts)
                {
                    break;
                }

                if (race.TakeReady(now) is { } endpoint)
                {
                    StartAttempt(race, endpoint, now);
                    progress = true;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="GrantAttempts"/> with the index: the ready races, best rank first, under the concurrency cap. A race
    /// that took an attempt is not ready again before its attempt delay (at least 10 ms, RFC 8305 §5), so one pass in
    /// rank order gives what the scan's rounds give.
    /// </summary>
    private void GrantReady(TimeSpan now)
    {
        while (_active.Count < _settings.MaxConcurrentAttempts && _ready!.TryDequeue(out var race, out _))
        {
            race.Queued = false;
            if (race.TakeReady(now) is { } endpoint)
            {
                StartAttempt(race, endpoint, now);
                Debug.Assert(!race.IsReady(now), "an interface is never ready twice at one instant (attempt delay ≥ 10 ms)");
            }

            if (race.NextDeadline(now) is { } at)
            {
                _deadlines!.Enqueue(race, (at, race.Position));
            }
        }
    }

    private void StartAttempt(InterfaceRace race, Endpoint endpoint, TimeSpan now)
    {
        if (race.IsPreferred && !_timerStarted && !_fallbackTaken)
        {
            // The fallback timer starts at the first attempt on a preferred interface: until then it ran from the request's
            // start, so a resolution that stays silent for the whole delay still lets the others in on time.
            _timerStarted = true;
            TimerStart = now;
            _fallbackAt = now + Decision.Delay;
            _costlyAt = now + Decision.CostlyDelay;
        }

        var record = new AttemptRecord(new AttemptId(_nextAttempt++), endpoint, now);
        _attempts.Add(record);
        _active.Add((record, race));
        _out.Enqueue(new RaceCommand.StartAttempt(record.Id, endpoint));
    }

    /// <summary>
    /// Lets the other interfaces in: all of them (<paramref name="everyone"/>: a hard error, a lost or exhausted preferred
    /// stage), or those whose deadline has come (the others at the fallback delay, the metered or roaming ones at theirs).
    /// <paramref name="why"/> is the note for an <paramref name="everyone"/> fallback; time-based notes are written here.
    /// </summary>
    private void TakeFallback(TimeSpan now, string? why, bool everyone)
    {
        var free = !_freeJoined && (everyone || now >= _fallbackAt);
        var costly = !_costlyJoined && (everyone || now >= _costlyAt);
        if (!_hasRest || !(free || costly))
        {
            return;
        }

        var first = !_fallbackTaken;
        if (why is null)
        {
            var costlyNames = string.Join(", ", _costlyRest.ConvertAll(r => r.Interface));
            if (costly && !free && CostlyWaited)
            {
                why = $"{costlyNames} (metered or roaming) start now, {Ms(Decision.CostlyDelay)} after the fallback timer started: the first SYN on " +
                      $"{string.Join(", ", _preferred.ConvertAll(p => p.Interface))} could be retransmitted without a connection (draft §7.2)";
            }
            else if (free && !costly && !_costlyJoined)
            {
                why = $"fallback delay of {Ms(FallbackDelay)} passed without a connection: {string.Join(", ", _freeRest.ConvertAll(r => r.Interface))} " +
                      $"start now (draft §5.2.3); {costlyNames} (metered or roaming) wait until {Ms(_costlyAt)}";
            }
            else
            {
                // Everyone who was waiting joins now (the metered or roaming ones had no longer delay of their own).
                why = $"fallback delay of {Ms(FallbackDelay)} passed without a connection: the other interfaces start now (draft §5.2.3)";
            }
        }

        _fallbackTaken = true;
        _out.Enqueue(new RaceCommand.Note(null, why, IsFallback: first));
        if (free)
        {
            _freeJoined = true;
            foreach (var race in _freeRest)
            {
                Join(race);
            }
        }

        if (costly)
        {
            _costlyJoined = true;
            foreach (var race in _costlyRest)
            {
                Join(race);
            }
        }

        if (_pending is not null && _waiting is not null)
        {
            // (Indexed) the races that changed before they joined are looked at now.
            _waiting.RemoveAll(r =>
            {
                if (!r.Joined)
                {
                    return false;
                }

                _pending.Add(r);
                return true;
            });
        }
    }

    /// <summary>One interface takes part from now on: it is resolved (and counted among the joined).</summary>
    private void Join(InterfaceRace race)
    {
        race.Joined = true;
        _joined.Add(race);
        if (race.CountedExhausted)
        {
            _exhaustedJoined++;
        }

        if (race.Candidate.HistoryNote is { } history)
        {
            _out.Enqueue(new RaceCommand.Note(race.Interface, history));
        }

        StartResolving(race);
    }

    private void StartResolving(InterfaceRace race)
    {
        var skipped = race.Candidate.Skipped;
        if (!race.HasTransport)
        {
            // Only transports that cannot be used here were asked for (QUIC only, where QUIC is unsupported or known
            // blocked): nothing to resolve or try (the interface is exhausted).
            var asked = Names(skipped.Select(static s => s.Name));
            var why = skipped.Count == 0 ? "no transport is left to try" : Why(skipped[0]);
            race.NothingToTry($"{asked} only was asked for: {why}");
            CountIfExhausted(race);
            _out.Enqueue(new RaceCommand.Note(race.Interface, $"{asked} only was asked for, and {why}: nothing to try here"));
            return;
        }

        foreach (var skip in skipped)
        {
            if (skip.Why == TransportSkip.UnsupportedOnHost)
            {
                // A fact about the host, not the interface: said once per race.
                if ((_saidUnsupported ??= []).Contains(skip.Name))
                {
                    continue;
                }

                _saidUnsupported.Add(skip.Name);
                _out.Enqueue(new RaceCommand.Note(null, $"{Why(skip)}: {Names(race.Candidate.Transports)} only"));
            }
            else
            {
                _out.Enqueue(new RaceCommand.Note(race.Interface, $"{Why(skip)}: {Names(race.Candidate.Transports)} only"));
            }
        }

        if (race.ResolvesIPv6)
        {
            _out.Enqueue(new RaceCommand.StartResolution(race.Interface, AddressFamily.InterNetworkV6));
        }

        if (race.ResolvesIPv4)
        {
            _out.Enqueue(new RaceCommand.StartResolution(race.Interface, AddressFamily.InterNetwork));
        }
    }

    /// <summary>Transport names as the timeline says them: "QUIC", "QUIC and TCP".</summary>
    private static string Names(IEnumerable<TransportName> names) => string.Join(" and ", names.Select(static n => n.Value.ToUpperInvariant()));

    private static string Why(SkippedTransport skip) => skip.Why == TransportSkip.KnownBlocked
        ? $"{skip.Name.Value.ToUpperInvariant()} known blocked on this interface"
        : $"{skip.Name.Value.ToUpperInvariant()} unsupported on this host";

    private void Win(AttemptRecord winner, InterfaceRace owner, TimeSpan now)
    {
        End(winner, AttemptOutcome.Won, now, null, null);
        owner.OnAttemptEnded(failed: false, now);
        var lostTo = $"lost to {winner.Id}";
        // Attempts join _active in start order and leave it without reordering, so it is in start order already.
        foreach (var (record, _) in _active)
        {
            End(record, AttemptOutcome.Cancelled, now, lostTo, null);
            _out.Enqueue(new RaceCommand.CancelAttempt(record.Id, lostTo));
        }

        _active.Clear();
        _finished = true;
        _out.Enqueue(new RaceCommand.Won(winner.Id, winner.Endpoint));
    }

    private void Fail(TimeSpan now, string reason, AttemptOutcome outcomeOfRunning)
    {
        foreach (var (record, _) in _active)
        {
            End(record, outcomeOfRunning == AttemptOutcome.Failed ? AttemptOutcome.Cancelled : outcomeOfRunning, now, reason, null);
            _out.Enqueue(new RaceCommand.CancelAttempt(record.Id, reason));
        }

        _active.Clear();
        _finished = true;
        _out.Enqueue(new RaceCommand.Failed(reason));
    }

    private static void End(AttemptRecord record, AttemptOutcome outcome, TimeSpan now, string? error, AttemptFailureKind? kind)
    {
        record.Outcome = outcome;
        record.Ended = now;
        record.Error = error;
        record.FailureKind = kind;
    }

    private TimeSpan NextDeadline(TimeSpan now)
    {
        var next = _settings.RaceTimeout;
        if (!_freeJoined && _freeRest.Count > 0 && _fallbackAt < next)
        {
            next = _fallbackAt;
        }

        if (!_costlyJoined && _costlyRest.Count > 0 && _costlyAt < next)
        {
            next = _costlyAt;
        }

        if (_deadlines is null)
        {
            foreach (var race in Started())
            {
                if (race.NextDeadline(now) is { } d && d < next)
                {
                    next = d;
                }
            }
        }
        else if (EarliestDeadline(now) is { } d && d < next)
        {
            next = d;
        }

        return next < now ? now : next;
    }

    private List<InterfaceRace> Started() => _joined;

    /// <summary>
    /// The races whose clock may have come in this step: every started one, or (indexed) those that changed since they
    /// were last looked at or whose deadline has come. Other races cannot act now.
    /// </summary>
    private List<InterfaceRace> ToVisit(TimeSpan now)
    {
        if (_pending is null || _deadlines is null)
        {
            return Started();
        }

        while (_deadlines.TryPeek(out var race, out var key) && key.At <= now)
        {
            _deadlines.Dequeue();
            Touched(race);
        }

        return _pending;
    }

    /// <summary>
    /// (Indexed) each race that changed goes where it belongs now: among the ready ones, or under its next deadline.
    /// </summary>
    private void Sift(TimeSpan now)
    {
        foreach (var race in _pending!)
        {
            race.Pending = false;
            if (race.IsReady(now))
            {
                if (!race.Queued)
                {
                    race.Queued = true;
                    _ready!.Enqueue(race, race.Position);
                }
            }
            else if (race.NextDeadline(now) is { } at)
            {
                _deadlines!.Enqueue(race, (at, race.Position));
            }
        }

        _pending.Clear();
    }

    /// <summary>The earliest deadline of any race (indexed), skipping queue entries that no longer hold.</summary>
    private TimeSpan? EarliestDeadline(TimeSpan now)
    {
        while (_deadlines!.TryPeek(out var race, out var key))
        {
            if (race.Joined && race.NextDeadline(now) == key.At)
            {
                return key.At;
            }

            _deadlines.Dequeue();
        }

        return null;
    }

    /// <summary>A race changed (an input, a deadline): count it if it is now exhausted, and (indexed) look at it in the next step.</summary>
    private void Touched(InterfaceRace race)
    {
        CountIfExhausted(race);
        if (_pending is not null && _waiting is not null && !race.Pending)
        {
            race.Pending = true;
            (race.Joined ? _pending : _waiting).Add(race);
        }
    }

    /// <summary>Exhaustion is for good (nothing left to resolve or try, nothing in flight): each race is counted once.</summary>
    private void CountIfExhausted(InterfaceRace race)
    {
        if (!race.CountedExhausted && race.Exhausted)
        {
            race.CountedExhausted = true;
            if (race.IsPreferred)
            {
                _exhaustedPreferred++;
            }

            if (race.Joined)
            {
                _exhaustedJoined++;
            }
        }
    }

    /// <summary>Best rank first, listing order kept among equal ranks, in O(n log n) (for long candidate lists).</summary>
    private static List<InterfaceRace> SortByRank(IReadOnlyList<RaceCandidate> candidates, RaceSettings settings, IDestinationSorter sorter, int port)
    {
        var keys = new long[candidates.Count];
        var races = new InterfaceRace[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            keys[i] = ((long)candidates[i].Rank << 32) | (uint)i; // unique keys: the listing order breaks ties
            races[i] = new InterfaceRace(candidates[i], settings, sorter, port);
        }

        Array.Sort(keys, races);
        return [.. races];
    }

    private bool IsKnown(AttemptId id) => id.Value < (ulong)_attempts.Count;

    private bool TakeActive(AttemptId id, out (AttemptRecord Record, InterfaceRace Owner) entry)
    {
        for (var i = 0; i < _active.Count; i++)
        {
            if (_active[i].Record.Id == id)
            {
                entry = _active[i];
                _active.RemoveAt(i);
                return true;
            }
        }

        entry = default;
        return false;
    }

    private InterfaceRace? Find(string name)
    {
        if (_byName is not null)
        {
            return _byName.GetValueOrDefault(name);
        }

        foreach (var race in _interfaces)
        {
            if (string.Equals(race.Interface, name, StringComparison.Ordinal))
            {
                return race;
            }
        }

        return null;
    }

    /// <summary>Each interface's resolution errors and attempts, for the failure report (one pass over the attempts).</summary>
    private IEnumerable<string> Explanations()
    {
        var attempts = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var a in _attempts)
        {
            if (!attempts.TryGetValue(a.Endpoint.Interface, out var list))
            {
                attempts[a.Endpoint.Interface] = list = [];
            }

            list.Add($"{a.Endpoint} {a.Outcome.ToString().ToLowerInvariant()}: {a.Error}");
        }

        foreach (var race in _interfaces)
        {
            var parts = new List<string>(race.ResolutionErrors);
            if (attempts.TryGetValue(race.Interface, out var own))
            {
                parts.AddRange(own);
            }

            if (race.Lost)
            {
                parts.Add("interface lost");
            }

            yield return $"{race.Interface} [{(parts.Count == 0 ? "no attempt" : string.Join(", ", parts))}]";
        }
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}
