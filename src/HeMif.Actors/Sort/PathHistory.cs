namespace HeMif.Sort;

/// <summary>
/// What recent connections from one interface to the request's destination showed. The outcome cache (§5.2.3: "The
/// node would cache information regarding the outcome of each connection attempt") produces these; the sort only
/// reads them: "an interface whose recent attempts to this destination failed ranks lower; lower smoothed RTT ranks
/// higher".
/// </summary>
/// <param name="Interface">The interface name.</param>
/// <param name="RecentFailures">Failed attempts to this destination still in the cache (not negative).</param>
/// <param name="SmoothedRtt">The smoothed round-trip time of recent successful attempts, when there were any.</param>
public sealed record PathHistory(string Interface, int RecentFailures, TimeSpan? SmoothedRtt);
