using System.Text;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Filter;

/// <summary>The interface conditions a rule can test, in the order they are tested.</summary>
internal enum InterfaceCondition
{
    None,
    Kind,
    Name,
    PvdId,
    Metered,
    Roaming,
    Constrained,
    AddressFamily,
}

/// <summary>Facts about the host as a whole that §4.1.1 validity conditions read ("where and when").</summary>
/// <param name="Interfaces">The interfaces, overrides applied.</param>
/// <param name="Roaming">Some up interface is roaming.</param>
/// <param name="Now">The decision time.</param>
internal readonly record struct HostEnvironment(IReadOnlyList<InterfaceFacts> Interfaces, bool Roaming, DateTimeOffset Now)
{
    public static HostEnvironment Of(IReadOnlyList<InterfaceFacts> interfaces, DateTimeOffset now)
    {
        var roaming = false;
        for (var iI11 = 0; iI11 < interfaces.Count; iI11++)
        {
            var i = interfaces[iI11];
            roaming |= i.IsUp && i.Roaming;
        }

        return new HostEnvironment(interfaces, roaming, now);
    }
}

/// <summary>
/// A policy rule prepared for evaluation: lists turned into masks where that is cheaper, the reference that reasons
/// and conflicts share. Matching allocates nothing; only descriptions (for excluded interfaces) build strings.
/// </summary>
internal sealed class CompiledRule
{
    private readonly int _kindMask;

    public CompiledRule(PolicyRule rule, RuleSource source, int order)
    {
        Rule = rule;
        Source = source;
        Order = order;
        Reference = new RuleReference(rule.Name, source, rule.Level);

        // A Prefer or Avoid adds the same breakdown line to every interface it concerns, in every decision; the record
        // is immutable, so one instance made here is shared instead of a new one per interface and decision.
        var (factor, points) = source == RuleSource.User
            ? (SoftFactor.UserPreference, HardSetFilter.UserPreferencePoints)
            : (SoftFactor.OperatorPreference, HardSetFilter.OperatorPreferencePoints);
        SoftComponent = rule.Level switch
        {
            PreferenceLevel.Prefer => new ScoreComponent(factor, points, rule.Name),
            PreferenceLevel.Avoid => new ScoreComponent(factor, -points, rule.Name),
            _ => null,
        };
        if (rule.Interface.Kinds is { } kinds)
        {
            foreach (var k in kinds)
            {
                _kindMask |= 1 << (int)k;
            }
        }
    }

    public PolicyRule Rule { get; }

    public RuleSource Source { get; }

    /// <summary>Position in the operator's (or user's) ordered list.</summary>
    public int Order { get; }

    public RuleReference Reference { get; }

    /// <summary>The score line of a Prefer (positive) or Avoid (negative) rule; null for Require and Prohibit.</summary>
    public ScoreComponent? SoftComponent { get; }

    public PreferenceLevel Level => Rule.Level;

    public bool IsHard => Rule.Level is PreferenceLevel.Require or PreferenceLevel.Prohibit;

    /// <summary>
    /// The rule has no request condition and no validity condition: it concerns every request at every time, so its
    /// verdict on an interface depends on the interface alone.
    /// </summary>
    public bool IsUnconditional
    {
        get
        {
            var r = Rule.Request;
            var v = Rule.Validity;
            return Empty(r.Hosts) && Empty(r.DomainSuffixes) && Empty(r.Ports) && r.Transport is null && r.MinExpectedBytes is null
                && r.MaxExpectedBytes is null && Empty(r.TrafficClasses)
                && Empty(v.TimeOfDay) && v.Roaming is null && Empty(v.WifiNetworks) && Empty(v.PvdIds);

            static bool Empty<T>(IReadOnlyList<T>? list) => list is null || list.Count == 0;
        }
    }

    /// <summary>The rule is in force (§4.1.1 validity conditions) and concerns this request.</summary>
    public bool AppliesTo(ConnectionRequest request, in HostEnvironment env) => MatchesRequest(request) && IsValid(env);

    private bool MatchesRequest(ConnectionRequest request)
    {
        var m = Rule.Request;
        if (m.Hosts is { Count: > 0 } hosts && !AnyHost(hosts, request.Host))
        {
            return false;
        }

        if (m.DomainSuffixes is { Count: > 0 } suffixes)
        {
            var any = false;
            for (var iS10 = 0; iS10 < suffixes.Count; iS10++)
            {
                var s = suffixes[iS10];
                any |= DomainNames.IsInZone(request.Host, s);
            }

            if (!any)
            {
                return false;
            }
        }

        if (m.Ports is { Count: > 0 } ports)
        {
            var any = false;
            for (var iP9 = 0; iP9 < ports.Count; iP9++)
            {
                var p = ports[iP9];
                any |= p == request.Port;
            }

            if (!any)
            {
                return false;
            }
        }

        if (m.Transport is { } t && !request.Transports.Contains(t))
        {
            return false;
        }

        // An unknown size matches neither bound: "Only download applications larger than 20Mb over WiFi" says
        // nothing about a request of unknown size.
        if (m.MinExpectedBytes is { } min && !(request.ExpectedBytes >= min))
        {
            return false;
        }

        if (m.MaxExpectedBytes is { } max && !(request.ExpectedBytes <= max))
        {
            return false;
        }

        if (m.TrafficClasses is { Count: > 0 } classes)
        {
            var any = false;
            for (var iC8 = 0; iC8 < classes.Count; iC8++)
            {
                var c = classes[iC8];
                any |= string.Equals(c, request.TrafficClass, StringComparison.OrdinalIgnoreCase);
            }

            if (!any)
            {
                return false;
            }
        }

        return true;
    }

    private static bool AnyHost(IReadOnlyList<string> hosts, string host)
    {
        var h = host.AsSpan().TrimEnd('.');
        for (var iX7 = 0; iX7 < hosts.Count; iX7++)
        {
            var x = hosts[iX7];
            if (h.Equals(x.AsSpan().TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsValid(in HostEnvironment env)
    {
        var v = Rule.Validity;
        if (v.TimeOfDay is { Count: > 0 } windows)
        {
            var t = TimeOnly.FromTimeSpan(env.Now.TimeOfDay);
            var any = false;
            for (var iW6 = 0; iW6 < windows.Count; iW6++)
            {
                var w = windows[iW6];
                any |= w.Contains(t);
            }

            if (!any)
            {
                return false;
            }
        }

        if (v.Roaming is { } r && r != env.Roaming)
        {
            return false;
        }

        if (v.WifiNetworks is { Count: > 0 } ssids)
        {
            var any = false;
            for (var iI5 = 0; iI5 < env.Interfaces.Count; iI5++)
            {
                var i = env.Interfaces[iI5];
                if (i.IsUp && i.Kind == InterfaceKind.Wifi && i.WifiNetwork is { } ssid)
                {
                    for (var iS4 = 0; iS4 < ssids.Count; iS4++)
                    {
                        var s = ssids[iS4];
                        // SSIDs are octet strings: compared exactly.
                        any |= string.Equals(s, ssid, StringComparison.Ordinal);
                    }
                }
            }

            if (!any)
            {
                return false;
            }
        }

        if (v.PvdIds is { Count: > 0 } pvds)
        {
            var any = false;
            for (var iI3 = 0; iI3 < env.Interfaces.Count; iI3++)
            {
                var i = env.Interfaces[iI3];
                if (i.IsUp && i.PvdId is { } id)
                {
                    any |= ContainsIgnoreCase(pvds, id);
                }
            }

            if (!any)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The first interface condition that does not hold, or <see cref="InterfaceCondition.None"/> when the rule selects the interface.</summary>
    public InterfaceCondition FirstMismatch(InterfaceFacts f, DateTimeOffset now)
    {
        var m = Rule.Interface;
        if (_kindMask != 0 && (_kindMask & (1 << (int)f.Kind)) == 0)
        {
            return InterfaceCondition.Kind;
        }

        if (m.Names is { Count: > 0 } names)
        {
            var any = false;
            for (var iN2 = 0; iN2 < names.Count; iN2++)
            {
                var n = names[iN2];
                any |= string.Equals(n, f.Name, StringComparison.Ordinal);
            }

            if (!any)
            {
                return InterfaceCondition.Name;
            }
        }

        if (m.PvdIds is { Count: > 0 } pvds && !AttachedTo(f, pvds))
        {
            return InterfaceCondition.PvdId;
        }

        if (m.Metered is { } metered && metered != f.IsMetered(now))
        {
            return InterfaceCondition.Metered;
        }

        if (m.Roaming is { } roaming && roaming != f.Roaming)
        {
            return InterfaceCondition.Roaming;
        }

        if (m.Constrained is { } constrained && constrained != f.Constrained)
        {
            return InterfaceCondition.Constrained;
        }

        if (m.AddressFamily is { } family && !f.Supports(family))
        {
            return InterfaceCondition.AddressFamily;
        }

        return InterfaceCondition.None;
    }

    /// <summary>
    /// The interface is attached to one of <paramref name="pvds"/>: its PvD ID, or any PvD it learned from its routers
    /// (RFC 8801: an interface can be attached to several).
    /// </summary>
    private static bool AttachedTo(InterfaceFacts f, IReadOnlyList<string> pvds)
    {
        if (f.PvdId is { } id && ContainsIgnoreCase(pvds, id))
        {
            return true;
        }

        for (var i = 0; i < f.Pvds.Count; i++)
        {
            if (f.Pvds[i].Id is { } learned && ContainsIgnoreCase(pvds, learned))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContainsIgnoreCase(IReadOnlyList<string> list, string value)
    {
        for (var iS1 = 0; iS1 < list.Count; iS1++)
        {
            var s = list[iS1];
            if (string.Equals(s.TrimEnd('.'), value.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>"prohibits kind Cellular, roaming; rmnet1 is Cellular, roaming" — the facts a Prohibit matched.</summary>
    public string DescribeMatch(InterfaceFacts f)
    {
        var sb = new StringBuilder();
        sb.Append(Rule.Level == PreferenceLevel.Prohibit ? "prohibits " : "selects ").Append(Conditions()).Append("; ").Append(f.Name).Append(" matches");
        return sb.ToString();

        string Conditions()
        {
            var m = Rule.Interface;
            var parts = new List<string>();
            if (m.Kinds is { Count: > 0 })
            {
                parts.Add($"kind {f.Kind}");
            }

            if (m.Names is { Count: > 0 })
            {
                parts.Add($"name {f.Name}");
            }

            if (m.PvdIds is { Count: > 0 })
            {
                parts.Add($"PvD {string.Join(" or ", m.PvdIds)}");
            }

            if (m.Metered is { } me)
            {
                parts.Add(me ? "metered" : "not metered");
            }

            if (m.Roaming is { } ro)
            {
                parts.Add(ro ? "roaming" : "not roaming");
            }

            if (m.Constrained is { } co)
            {
                parts.Add(co ? "constrained" : "not constrained");
            }

            if (m.AddressFamily is { } af)
            {
                parts.Add($"{af} capable");
            }

            return parts.Count == 0 ? "every interface" : string.Join(", ", parts);
        }
    }

    /// <summary>"requires kind Wifi; rmnet0 is Cellular" — the fact that failed a Require.</summary>
    public string DescribeMismatch(InterfaceCondition c, InterfaceFacts f, DateTimeOffset now)
    {
        var m = Rule.Interface;
        return c switch
        {
            InterfaceCondition.Kind => $"requires kind {string.Join(" or ", m.Kinds!)}; {f.Name} is {f.Kind}",
            InterfaceCondition.Name => $"requires interface {string.Join(" or ", m.Names!)}; this is {f.Name}",
            InterfaceCondition.PvdId => $"requires PvD {string.Join(" or ", m.PvdIds!)}; {f.Name} has {(f.PvdId is null ? "no PvD ID" : "PvD " + f.PvdId)}",
            InterfaceCondition.Metered => $"requires {(m.Metered == true ? "metered" : "not metered")}; {f.Name} is {(f.IsMetered(now) ? "metered" : "not metered")}",
            InterfaceCondition.Roaming => $"requires {(m.Roaming == true ? "roaming" : "not roaming")}; {f.Name} is {(f.Roaming ? "roaming" : "not roaming")}",
            InterfaceCondition.Constrained => $"requires {(m.Constrained == true ? "constrained" : "not constrained")}; {f.Name} is {(f.Constrained ? "constrained" : "not constrained")}",
            InterfaceCondition.AddressFamily => $"requires {m.AddressFamily} capability; {f.Name} has none",
            _ => "matches",
        };
    }
}
