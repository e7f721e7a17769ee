using HeMif.Planning;
using HeMif.Validate;

namespace HeMif.Multipath;

/// <summary>What the subflow planner knows of one interface besides the plan: its validation state and its RTT.</summary>
/// <param name="State">Its validation state (draft §5.2.1).</param>
/// <param name="Detail">Why it is in that state.</param>
/// <param name="SmoothedRtt">The smoothed handshake RTT to the destination over it, when known.</param>
internal readonly record struct SubflowInput(ValidationState State, string Detail, TimeSpan? SmoothedRtt);

/// <summary>
/// Decides which interfaces may carry subflows of one multipath connection (draft §7.6, "Multipath applicability": MPTCP
/// "can be used … to take advantage of multiple interfaces", within what the hard set allows). Pure and deterministic:
/// the engine feeds it the same <see cref="ConnectionPlan"/> a race would use, so the filter and the sort decide here
/// exactly as they do for single-path connections.
/// <list type="bullet">
/// <item>Excluded by the hard set (prohibited, roaming-when-prohibited, failing a Require): no subflow, with the rule's reason.</item>
/// <item>Not validated (§5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'"): no subflow.</item>
/// <item>Avoided by a user or operator rule (e.g. metered when the rule says avoid metered): no subflow — it may still be
/// the primary when nothing else qualifies, since a single-path connection would use it too.</item>
/// </list>
/// </summary>
internal static class SubflowPlanner
{
    public static SubflowPlan Plan(MultipathMode mode, ConnectionRequest request, ConnectionPlan plan,
        IReadOnlyDictionary<string, SubflowInput> interfaces, string trigger)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(interfaces);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown multipath mode.");
        }

        var excluded = plan.Excluded
            .Select(e => new SubflowExclusion(e.Interface, string.Join("; ", e.Reasons.Select(r => r.ToString()))))
            .ToList();

        // Plan order: rank, then the planner's own stable tie-break.
        var eligible = new List<(PlanCandidate Candidate, SubflowInput Input)>();
        var avoided = new List<(PlanCandidate Candidate, SubflowInput Input, string Why)>();
        foreach (var candidate in plan.Candidates)
        {
            var input = interfaces.TryGetValue(candidate.Interface, out var i)
                ? i
                : new SubflowInput(ValidationState.Unknown, "never examined", null);
            if (input.State != ValidationState.Validated)
            {
                excluded.Add(new SubflowExclusion(candidate.Interface, $"not validated: {input.State} ({input.Detail}); draft §5.2.1"));
                continue;
            }

            var avoiding = candidate.Breakdown
                .Where(c => c.Factor is SoftFactor.UserPreference or SoftFactor.OperatorPreference && c.Points < 0)
                .Select(c => c.Reason)
                .ToList();
            if (avoiding.Count > 0)
            {
                avoided.Add((candidate, input, "avoided: " + string.Join("; ", avoiding)));
            }
            else
            {
                eligible.Add((candidate, input));
            }
        }

        var subflows = new List<SubflowAssignment>();
        if (eligible.Count == 0 && avoided.Count > 0)
        {
            // Nothing else qualifies: the connection goes where a single-path one would, but gets no extra subflow.
            var (candidate, _, why) = avoided[0];
            subflows.Add(new SubflowAssignment(candidate.Interface, SubflowRole.Primary, $"the only validated interface left ({why})"));
            avoided.RemoveAt(0);
        }
        else if (eligible.Count > 0)
        {
            subflows.AddRange(Assign(mode, eligible));
        }

        excluded.AddRange(avoided.Select(a => new SubflowExclusion(a.Candidate.Interface, a.Why)));
        excluded.Sort((a, b) => string.CompareOrdinal(a.Interface, b.Interface));
        return new SubflowPlan(mode, request.Host, request.Port, subflows, excluded, trigger);
    }

    private static List<SubflowAssignment> Assign(MultipathMode mode, List<(PlanCandidate Candidate, SubflowInput Input)> eligible)
    {
        var result = new List<SubflowAssignment>(eligible.Count);
        switch (mode)
        {
            case MultipathMode.Handover:
                result.Add(new(eligible[0].Candidate.Interface, SubflowRole.Primary, $"rank {eligible[0].Candidate.Rank}: the best interface"));
                result.AddRange(eligible.Skip(1).Select(e =>
                    new SubflowAssignment(e.Candidate.Interface, SubflowRole.Backup, $"rank {e.Candidate.Rank}: backup, used only when the primary fails")));
                break;
            case MultipathMode.Interactive:
                // Lowest latency first; interfaces without a known RTT keep plan order behind those with one.
                var byLatency = eligible
                    .Select((e, index) => (e.Candidate, e.Input, index))
                    .OrderBy(e => e.Input.SmoothedRtt ?? TimeSpan.MaxValue)
                    .ThenBy(e => e.index)
                    .ToList();
                for (var i = 0; i < byLatency.Count; i++)
                {
                    var (candidate, input, _) = byLatency[i];
                    var rtt = input.SmoothedRtt is { } r ? $"smoothed RTT {r.TotalMilliseconds:0.#} ms" : "no RTT known yet";
                    result.Add(i switch
                    {
                        0 => new(candidate.Interface, SubflowRole.Primary, $"lowest latency ({rtt})"),
                        1 => new(candidate.Interface, SubflowRole.Active, $"next lowest latency ({rtt}): active, so a degrading primary costs no handshake"),
                        _ => new(candidate.Interface, SubflowRole.Backup, $"{rtt}: backup"),
                    });
                }

                break;
            default:
                result.Add(new(eligible[0].Candidate.Interface, SubflowRole.Primary, $"rank {eligible[0].Candidate.Rank}: the best interface"));
                result.AddRange(eligible.Skip(1).Select(e =>
                    new SubflowAssignment(e.Candidate.Interface, SubflowRole.Active, $"rank {e.Candidate.Rank}: aggregated")));
                break;
        }

        return result;
    }
}
