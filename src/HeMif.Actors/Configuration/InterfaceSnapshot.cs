using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif.Configuration;

/// <summary>Interface facts as a file describes them, with the recent outcomes per destination.</summary>
/// <param name="Interfaces">The interfaces.</param>
/// <param name="History">Recent outcomes, keyed by destination host (case-insensitive).</param>
public sealed record InterfaceSnapshot(IReadOnlyList<InterfaceFacts> Interfaces, IReadOnlyDictionary<string, IReadOnlyList<PathHistory>> History)
{
    /// <summary>The recent outcomes for <paramref name="host"/>, or null when none are recorded.</summary>
    public IReadOnlyList<PathHistory>? HistoryFor(string host) => History.TryGetValue(host, out var h) ? h : null;
}
