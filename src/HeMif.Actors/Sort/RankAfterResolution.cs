using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Sort;

/// <summary>
/// Ranking after resolution (draft §5.2.2 with §4.2.3 and §4.2.4). Ranked before any name is resolved, the sort knows no
/// destination address, so RFC 4191 routes ("A HE-MIF node should take the parameters of router preference and route
/// information to identify the next hop"), RFC 6724's rules and the address-family check never run for a host name.
/// So, when the candidates differ in something an address decides, the request first resolves the name on every
/// validated candidate at once ("Name resolution is executed on the validated interfaces", §5.2.2), each through its own
/// servers (§7.3), and the sort runs again with each interface's own answers
/// (<see cref="ConnectionRequest.InterfaceAddresses"/>) and their union as the destination's addresses (the filter's
/// family check, §3.2's IPv6-only destination on an IPv4-only Wi-Fi). The race then uses those answers instead of asking
/// again.
/// <para>
/// The bound: the sort waits for every candidate's answers, but once the first positive answer has come, at most
/// <see cref="Race.RaceSettings.RankingWait"/> more (no larger than RFC 8305's Resolution Delay, 50 ms by default); an
/// interface that has not answered by then is ranked without its answers. If no interface gives a positive answer, the
/// sort goes ahead when every lookup has ended, and at the latest after the interface fallback delay (draft §7.2): a
/// silent resolver never holds a request longer than it would hold the preferred interface.
/// </para>
/// Pure: lookups' results and the time in (request time, zero when the lookups start), the decision out.
/// </summary>
internal sealed class RankAfterResolution
{
    private readonly Dictionary<(string Interface, AddressFamily Family), ResolveResult?> _results = [];
    private readonly List<(string Interface, AddressFamily Family)> _lookups = [];
    private readonly TimeSpan _wait;
    private readonly TimeSpan _giveUpAt;
    private TimeSpan? _firstAnswerAt;
    private string? _firstAnswerBy;

    /// <summary>The lookups to make: each candidate's families (IPv6 first), in the given order.</summary>
    /// <param name="candidates">The validated candidates, each with the families it can carry.</param>
    /// <param name="wait">How long to wait after the first positive answer (<see cref="Race.RaceSettings.RankingWait"/>).</param>
    /// <param name="giveUpAt">When to go ahead without a positive answer (the interface fallback delay).</param>
    public RankAfterResolution(IReadOnlyList<(string Interface, bool IPv6, bool IPv4)> candidates, TimeSpan wait, TimeSpan giveUpAt)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        _wait = wait;
        _giveUpAt = giveUpAt;
        foreach (var (name, v6, v4) in candidates)
        {
            if (v6)
            {
                Add(name, AddressFamily.InterNetworkV6);
            }

            if (v4)
            {
                Add(name, AddressFamily.InterNetwork);
            }
        }
    }

    /// <summary>The lookups to start, in order.</summary>
    public IReadOnlyList<(string Interface, AddressFamily Family)> Lookups => _lookups;

    /// <summary>
    /// Whether ranking after resolution can change anything for this request: the host is a name whose addresses are not
    /// known, at least two validated candidates remain, ranking may wait (<paramref name="wait"/> above zero), and the
    /// candidates differ in something an address decides — one has a live more-specific route (RFC 4191), they do not
    /// carry the same IP versions (§3.2, the family check), or an RFC 6731 selection names networks. Otherwise the answers
    /// could not change the order, and the race starts at once, resolving as it goes.
    /// </summary>
    public static bool Applies(ConnectionRequest request, IReadOnlyList<InterfaceFacts> candidates, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(candidates);
        if (wait <= TimeSpan.Zero || candidates.Count < 2 || request.DestinationAddresses.Count > 0 || request.InterfaceAddresses is not null
            || IPAddress.TryParse(request.Host.AsSpan().TrimStart('[').TrimEnd(']'), out _))
        {
            return false;
        }

        var (v6, v4) = Families(candidates[0]);
        foreach (var f in candidates)
        {
            if (Families(f) != (v6, v4)
                || f.Routes.Any(static r => !r.IsDefault && r.Lifetime > TimeSpan.Zero)
                || f.DnsSelection.Any(static s => s.Networks.Count > 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The IP versions the race resolves and tries on an interface: stated, else IPv6 when it has an IPv6 address other
    /// than link-local, IPv4 when it has an IPv4 address (the race's own rule, so the lookups here are the race's).
    /// </summary>
    public static (bool IPv6, bool IPv4) Families(InterfaceFacts f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var ipv6 = f.Ipv6 ?? f.Addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6 && !a.Address.IsIPv6LinkLocal);
        var ipv4 = f.Ipv4 ?? f.Addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetwork);
        return (ipv6, ipv4);
    }

    /// <summary>One lookup ended (an answer, NODATA or a failure) at <paramref name="now"/>.</summary>
    public void Answered(string networkInterface, AddressFamily family, ResolveResult result, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(result);
        var key = (networkInterface, family);
        if (!_results.TryGetValue(key, out var known) || known is not null)
        {
            return; // not asked, or already answered
        }

        _results[key] = result;
        if (_firstAnswerAt is null && result.Error is null && result.Addresses.Count > 0)
        {
            _firstAnswerAt = now;
            _firstAnswerBy = networkInterface;
        }
    }

    /// <summary>When the sort goes ahead at the latest, as things stand (request time).</summary>
    public TimeSpan Deadline => _firstAnswerAt is { } first && first + _wait < _giveUpAt ? first + _wait : _giveUpAt;

    /// <summary>Whether the sort goes ahead now: every lookup ended, or the wait after the first answer, or the give-up time, has passed.</summary>
    public bool IsDone(TimeSpan now) => _results.Values.All(static r => r is not null) || now >= Deadline;

    /// <summary>Each interface's own answers so far (the families it asked, IPv6 first); interfaces without one are left out.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> Answers()
    {
        var answers = new Dictionary<string, IReadOnlyList<IPAddress>>(StringComparer.Ordinal);
        foreach (var (name, family) in _lookups)
        {
            if (_results[(name, family)] is { Error: null, Addresses.Count: > 0 } r)
            {
                answers[name] = answers.TryGetValue(name, out var earlier) ? [.. earlier, .. r.Addresses] : r.Addresses;
            }
        }

        return answers;
    }

    /// <summary>The union of every interface's answers, each address once (the destination's addresses as this host learned them).</summary>
    public IReadOnlyList<IPAddress> Union() => Answers().Values.SelectMany(static a => a).Distinct().ToList();

    /// <summary>
    /// The finished lookups, for the race to use instead of asking again (a lookup still under way is left out: the race
    /// asks for it as usual, or takes it over through the task its owner keeps).
    /// </summary>
    public IReadOnlyDictionary<(string Interface, AddressFamily Family), ResolveResult> Finished() =>
        _results.Where(static p => p.Value is not null).ToDictionary(static p => p.Key, static p => p.Value!);

    /// <summary>The timeline's note: when the sort went ahead and with whose answers.</summary>
    public string Describe(TimeSpan now)
    {
        var answered = Answers().Keys.ToList();
        var missing = _lookups.Select(static l => l.Interface).Distinct().Where(n => !answered.Contains(n)).ToList();
        var why = _results.Values.All(static r => r is not null) ? "every interface's lookups had ended"
            : _firstAnswerAt is { } first && now >= first + _wait ? $"{Ms(_wait)} after the first answer ({_firstAnswerBy}, at {Ms(first)}), the bound (RFC 8305 Resolution Delay at most)"
            : $"no answer within the fallback delay of {Ms(_giveUpAt)}";
        var with = answered.Count == 0 ? "without answers" : "with the answers of " + string.Join(", ", answered);
        var without = missing.Count == 0 ? "" : $"; {string.Join(", ", missing)} ranked without answers of their own";
        return $"ranked after resolution (draft §5.2.2) at {Ms(now)}: {why}; {with}{without}";
    }

    private void Add(string name, AddressFamily family)
    {
        if (_results.TryAdd((name, family), null))
        {
            _lookups.Add((name, family));
        }
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}
