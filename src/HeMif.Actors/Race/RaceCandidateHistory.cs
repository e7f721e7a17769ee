using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Remember;

namespace HeMif.Race;

/// <summary>
/// What a race candidate takes from its interface's facts and outcome cache beyond rank and families: whether traffic on
/// it may be chargeable (draft §7.2), its measured retransmission timeout (RFC 6298), and which address family and
/// transport to try first because they worked there last time while the others did not answer (RFC 8305 §4, the draft
/// §7.5: "The interface state management in HE-MIF is designed to synchronize with IP family states").
/// </summary>
internal static class RaceCandidateHistory
{
    /// <summary><paramref name="candidate"/> with what <paramref name="facts"/> (after the policy's overrides) and <paramref name="history"/> say.</summary>
    public static RaceCandidate With(RaceCandidate candidate, InterfaceFacts facts, OutcomeEntry? history, HeMifPolicy policy, DateTimeOffset now)
    {
        foreach (var o in policy.InterfaceOverrides)
        {
            if (string.Equals(o.Name, facts.Name, StringComparison.Ordinal))
            {
                facts = o.ApplyTo(facts);
            }
        }

        var costly = facts.IsMetered(now) || facts.Roaming;
        if (history is null)
        {
            return costly ? candidate with { Costly = true } : candidate;
        }

        AddressFamily? family = null;
        string? note = null;
        if (history.WinningFamily is { } won)
        {
            var other = won == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            var against = history.Of(other);
            if (against.Unanswered)
            {
                family = won;
                note = $"history: {Name(won)} connected here last time while {Name(other)} " +
                       $"{(against.Silent > 0 ? $"stayed silent ({against.Silent} attempt{(against.Silent == 1 ? "" : "s")})" : "")}" +
                       $"{(against.Silent > 0 && against.Failed > 0 ? " and " : "")}" +
                       $"{(against.Failed > 0 ? $"failed ({against.Failed} attempt{(against.Failed == 1 ? "" : "s")})" : "")}: " +
                       $"{Name(won)} first (RFC 8305 §4, draft §7.5)";
            }
        }

        // A transport that won here last time goes before the ones the registry puts ahead of it (HEv3 puts QUIC before
        // TCP; after a race TCP won while QUIC did not, TCP goes first for each address).
        TransportName? transport = null;
        if (history.WinningTransport is { } wonBy && candidate.Transports.Count > 1 && candidate.Transports[0] != wonBy && candidate.Transports.Contains(wonBy))
        {
            transport = wonBy;
            var upper = wonBy.Value.ToUpperInvariant();
            note = (note is null ? "history: " : note + "; ") + $"{upper} connected here last time: {upper} before {candidate.Transports[0].Value.ToUpperInvariant()} for each address";
        }

        return candidate with
        {
            Costly = costly,
            RetransmissionTimeout = history.RetransmissionTimeout,
            PreferredFamily = family,
            PreferredTransport = transport,
            HistoryNote = note,
        };
    }

    private static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";
}
