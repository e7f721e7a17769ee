using System.Globalization;
using HeMif.Planning;
using HeMif.Report;

namespace HeMif.Race;

/// <summary>One stated fallback delay (draft §7.2): who stated it, under which name, and what.</summary>
/// <param name="Source">The request, a user rule, an operator rule or the options.</param>
/// <param name="Name">What to call it in the timeline ("the request", "user rule 'x'").</param>
/// <param name="Settings">The delay, or its adaptive range.</param>
internal sealed record FallbackDelayInput(FallbackDelaySource Source, string Name, FallbackDelaySettings Settings);

/// <summary>The fallback delay a race uses, and the one before metered or roaming interfaces join.</summary>
/// <param name="Delay">How long the preferred interfaces get alone (from the timer's start).</param>
/// <param name="Source">Where it came from.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="CostlyDelay">How long before a metered or roaming interface joins (at least <paramref name="Delay"/>).</param>
/// <param name="CostlyReason">Why it is longer than <paramref name="Delay"/>; null when it is not.</param>
internal sealed record FallbackDecision(TimeSpan Delay, FallbackDelaySource Source, string Reason, TimeSpan CostlyDelay, string? CostlyReason);

/// <summary>
/// Draft §7.2, "Fallback Timeout", as one pure decision: "it is recommended to prioritize the input from users (e.g.,
/// real customers or applications)", so a stated delay (the request's, a user rule's, an operator rule's, the options',
/// in that order, field by field) wins over the one adapted from history ("the timeout setting based on past experiences
/// of a particular interface may help to make a fair decision"); and "Aggressive timeouts may achieve quick interface
/// handover, but at the cost of traffic that may be chargeable on certain networks", so a metered or roaming interface
/// never joins before the preferred interface's first SYN could be retransmitted (RFC 6298: the initial RTO of 1 s, or
/// the RTO measured on that path) — unless the user or the application stated a shorter delay themselves, or history
/// says the preferred path fails (a hard error during the race starts everyone at once anyway).
/// </summary>
internal static class FallbackDelays
{
    /// <summary>RFC 6298 §2.1: "Until a round-trip time (RTT) measurement has been made ... the sender SHOULD set RTO &lt;- 1 second".</summary>
    public static readonly TimeSpan InitialRetransmissionTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The inputs of one request, highest precedence first: the request, the plan's user then operator rules, the options.</summary>
    public static IReadOnlyList<FallbackDelayInput> InputsFor(ConnectionRequest request, ConnectionPlan plan, RaceSettings settings)
    {
        var inputs = new List<FallbackDelayInput>(4);
        if (!request.FallbackDelay.IsEmpty)
        {
            inputs.Add(new FallbackDelayInput(FallbackDelaySource.Request, "the request", request.FallbackDelay));
        }

        foreach (var rule in plan.FallbackDelayRules)
        {
            var user = rule.Source == Filter.RuleSource.User;
            inputs.Add(new FallbackDelayInput(user ? FallbackDelaySource.UserRule : FallbackDelaySource.OperatorRule,
                $"{(user ? "user" : "operator")} rule '{rule.Name}'", rule.Settings));
        }

        if (!settings.ConfiguredFallbackDelay.IsEmpty)
        {
            inputs.Add(new FallbackDelayInput(FallbackDelaySource.Options, "the options", settings.ConfiguredFallbackDelay));
        }

        return inputs;
    }

    /// <summary>The decision for a race whose preferred interfaces are <paramref name="preferred"/> and whose other candidates are <paramref name="rest"/>.</summary>
    public static FallbackDecision Decide(IReadOnlyList<RaceCandidate> preferred, IReadOnlyList<RaceCandidate> rest, RaceSettings settings)
    {
        IReadOnlyList<FallbackDelayInput> inputs = settings.FallbackInputs.Count > 0 || settings.ConfiguredFallbackDelay.IsEmpty
            ? settings.FallbackInputs
            : [new FallbackDelayInput(FallbackDelaySource.Options, "the options", settings.ConfiguredFallbackDelay)];
        var (min, minFrom) = First(inputs, s => s.Min) ?? (settings.MinInterfaceFallbackDelay, null);
        var (max, maxFrom) = First(inputs, s => s.Max) ?? (settings.MaxInterfaceFallbackDelay, null);
        if (min > max)
        {
            // Two sources disagree: the one higher up wins (a stated one over HeMif's own).
            if (Rank(minFrom) >= Rank(maxFrom))
            {
                max = min;
            }
            else
            {
                min = max;
            }
        }

        TimeSpan delay;
        FallbackDelaySource source;
        string reason;
        if (First(inputs, s => s.Delay) is ({ } stated, { } from))
        {
            delay = stated;
            source = from.Source;
            reason = $"set by {from.Name}: the user's or the application's value wins over the adaptive one " +
                     "(draft §7.2: \"it is recommended to prioritize the input from users (e.g., real customers or applications)\")";
        }
        else
        {
            delay = TimeSpan.Zero;
            source = FallbackDelaySource.Default;
            reason = "";
            foreach (var c in preferred)
            {
                var (d, s, r) = Adapt(c, settings, min, max, minFrom, maxFrom);
                if (d >= delay)
                {
                    (delay, source, reason) = (d, s, r);
                }
            }
        }

        var costlyDelay = delay;
        string? costlyReason = null;
        var stateMine = source is FallbackDelaySource.Request or FallbackDelaySource.UserRule or FallbackDelaySource.Options;
        var knownFailing = preferred.Count > 0 && preferred.All(c => c.RecentFailures > 0);
        if (!stateMine && !knownFailing && rest.Any(c => c.Costly))
        {
            var floor = TimeSpan.Zero;
            string? measured = null;
            foreach (var c in preferred)
            {
                var rto = c.RetransmissionTimeout ?? InitialRetransmissionTimeout;
                if (rto > floor)
                {
                    (floor, measured) = (rto, c.RetransmissionTimeout is null ? null : c.Interface);
                }
            }

            if (floor > delay)
            {
                costlyDelay = floor;
                var names = string.Join(", ", preferred.Select(p => p.Interface));
                costlyReason = $"metered or roaming interfaces wait {Ms(floor)}, until the first SYN on {names} has been retransmitted once " +
                               (measured is null ? "(RFC 6298: the initial RTO is 1 s)" : $"(RFC 6298: the RTO measured on {measured})") +
                               ": draft §7.2, \"Aggressive timeouts may achieve quick interface handover, but at the cost of traffic that may be chargeable\"";
            }
        }

        return new FallbackDecision(delay, source, reason, costlyDelay, costlyReason);
    }

    /// <summary>
    /// Draft §7.2 adapted per interface: known to fail → the minimum; known RTT → multiplier × SRTT, within the range (a
    /// slow interface gets more time, a fast one less); no history → the default, within the range.
    /// </summary>
    private static (TimeSpan Delay, FallbackDelaySource Source, string Reason) Adapt(RaceCandidate c, RaceSettings settings, TimeSpan min, TimeSpan max,
        FallbackDelayInput? minFrom, FallbackDelayInput? maxFrom)
    {
        if (c.RecentFailures > 0)
        {
            return (min, FallbackDelaySource.Adaptive,
                $"the least (set by {minFrom?.Name ?? "HeMif"}): {c.Interface} failed {c.RecentFailures} time(s) recently to this destination");
        }

        if (c.SmoothedRtt is { } rtt)
        {
            var raw = rtt * settings.FallbackRttMultiplier;
            var d = Clamp(raw, min, max);
            var bound = d == raw ? "" : d == min ? $", raised to the least, {Ms(min)} (set by {minFrom?.Name ?? "HeMif"})"
                : $", cut to the most, {Ms(max)} (set by {maxFrom?.Name ?? "HeMif"})";
            return (d, FallbackDelaySource.Adaptive,
                $"adapted from history (draft §7.2: \"the timeout setting based on past experiences of a particular interface\"): " +
                $"{settings.FallbackRttMultiplier.ToString(CultureInfo.InvariantCulture)} × {c.Interface}'s smoothed RTT {Ms(rtt)} = {Ms(raw)}{bound}");
        }

        var fixedDefault = Clamp(settings.InterfaceFallbackDelay, min, max);
        return (fixedDefault, FallbackDelaySource.Default,
            $"the default: nothing is known of {c.Interface} and this destination yet" +
            (fixedDefault == settings.InterfaceFallbackDelay ? "" : $" (HeMif's {Ms(settings.InterfaceFallbackDelay)}, bounded by the stated range)"));
    }

    private static (TimeSpan Value, FallbackDelayInput? From)? First(IReadOnlyList<FallbackDelayInput> inputs, Func<FallbackDelaySettings, TimeSpan?> field)
    {
        foreach (var input in inputs)
        {
            if (field(input.Settings) is { } v)
            {
                return (v, input);
            }
        }

        return null;
    }

    private static int Rank(FallbackDelayInput? input) => input is null ? -1 : (int)input.Source;

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;

    internal static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}

/// <summary>The race settings of one request: the engine's, with the request's and the plan's stated fallback delays (draft §7.2).</summary>
internal static class RaceSettingsFor
{
    /// <summary>
    /// <paramref name="settings"/> itself when nothing is stated (no allocation), else a copy with
    /// <see cref="RaceSettings.FallbackInputs"/>, and with the request's own deadline when it is shorter than the race
    /// timeout (an exchange's, <see cref="ConnectionRequest.Timeout"/>); an exchange's race fails at its deadline for
    /// want of an "answer", not a "connection".
    /// </summary>
    public static RaceSettings Request(RaceSettings settings, ConnectionRequest request, ConnectionPlan plan)
    {
        var stated = request.FallbackDelay.IsEmpty && plan.FallbackDelayRules.Count == 0 && settings.ConfiguredFallbackDelay.IsEmpty
            ? settings
            : settings with { FallbackInputs = FallbackDelays.InputsFor(request, plan, settings) };
        if (request.Exchange is not null)
        {
            stated = stated with { Awaits = "answer" };
        }

        return request.Timeout is { } timeout && timeout < stated.RaceTimeout ? stated with { RaceTimeout = timeout } : stated;
    }
}
