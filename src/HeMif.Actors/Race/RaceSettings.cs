namespace HeMif.Race;

/// <summary>The race's timing rules and limits; every value quotes where it comes from.</summary>
internal sealed record RaceSettings
{
    /// <summary>
    /// RFC 8305 §3 (and HEv3): "If a positive A response is received first due to reordering, the client SHOULD wait
    /// a short time for the AAAA response to ensure that preference is given to IPv6 … The recommended value for the
    /// Resolution Delay is 50 milliseconds."
    /// </summary>
    public TimeSpan ResolutionDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Ranking after resolution (<see cref="Sort.RankAfterResolution"/>): once the first interface has answered, how long
    /// the sort waits for the other interfaces' answers before it ranks with what it has (an interface that has not
    /// answered by then is ranked without its answers, as before resolution). No larger than <see cref="ResolutionDelay"/>:
    /// RFC 8305 §3 lets a client hold a positive answer back that long waiting for a better one, and ranking interfaces
    /// must not hold the fast answer longer than that. Zero: the sort does not wait for answers (ranked before resolution).
    /// </summary>
    public TimeSpan RankingWait { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>RFC 8305 §8: "Connection Attempt Delay (Section 5): 250 milliseconds".</summary>
    public TimeSpan ConnectionAttemptDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>RFC 8305 §8: "Minimum Connection Attempt Delay (Section 5): 100 milliseconds".</summary>
    public TimeSpan MinConnectionAttemptDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>RFC 8305 §8: "Maximum Connection Attempt Delay (Section 5): 2 seconds".</summary>
    public TimeSpan MaxConnectionAttemptDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>RFC 8305 §4: "The First Address Family Count … a recommended value of 1."</summary>
    public int FirstAddressFamilyCount { get; init; } = 1;

    /// <summary>
    /// How long the preferred interface(s) get alone before the others join (draft §7.2, which gives no value: "it's
    /// recommended that the timeout should be large enough to allow connection retransmission"). 2 s lets the
    /// first TCP SYN be retransmitted once (RFC 6298's initial RTO is 1 s) with room to answer, while staying far
    /// below the "several minutes" the draft calls inappropriate for users.
    /// </summary>
    public TimeSpan InterfaceFallbackDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Draft §7.2: "the timeout setting based on past experiences of a particular interface may help to make a fair
    /// decision." With RTT history, the delay is this multiple of the smoothed RTT (then clamped).
    /// </summary>
    public double FallbackRttMultiplier { get; init; } = 3;

    /// <summary>The least time a preferred interface gets, also when it is known to fail.</summary>
    public TimeSpan MinInterfaceFallbackDelay { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>The most time a preferred interface gets, however slow its history.</summary>
    public TimeSpan MaxInterfaceFallbackDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The fallback delay the application configured (options, appsettings): a stated delay wins over the adaptive one,
    /// a stated range bounds it (draft §7.2). Below the request's own and the policy's fallback delay rules.
    /// </summary>
    public Planning.FallbackDelaySettings ConfiguredFallbackDelay { get; init; } = Planning.FallbackDelaySettings.None;

    /// <summary>
    /// This race's stated fallback delays, highest precedence first (request, user rule, operator rule, options):
    /// <see cref="FallbackDelays.InputsFor"/>. Empty: only the adaptive delay.
    /// </summary>
    public IReadOnlyList<FallbackDelayInput> FallbackInputs { get; init; } = [];

    /// <summary>
    /// How long a request to a destination nothing is known about waits for the verdict of a race to it that is already
    /// running (HEv3 coalescing of cold starts) before it races on its own.
    /// </summary>
    public TimeSpan ColdStartWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The most attempts in flight at once for one race (curl caps at 6; unbounded attempts are a common complaint).</summary>
    public int MaxConcurrentAttempts { get; init; } = 6;

    /// <summary>The whole race fails after this long.</summary>
    public TimeSpan RaceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws naming the first setting that makes no sense.</summary>
    public void Validate()
    {
        Require(ResolutionDelay >= TimeSpan.Zero, nameof(ResolutionDelay), ResolutionDelay, "must not be negative");
        Require(RankingWait >= TimeSpan.Zero && RankingWait <= ResolutionDelay, nameof(RankingWait), RankingWait, "must lie between zero and ResolutionDelay");
        // RFC 8305 §5: "Connection Attempt Delay … MUST NOT be less than 10 milliseconds".
        Require(MinConnectionAttemptDelay >= TimeSpan.FromMilliseconds(10), nameof(MinConnectionAttemptDelay), MinConnectionAttemptDelay, "must be at least 10 ms (RFC 8305 §5)");
        Require(MaxConnectionAttemptDelay >= MinConnectionAttemptDelay, nameof(MaxConnectionAttemptDelay), MaxConnectionAttemptDelay, "must be at least MinConnectionAttemptDelay");
        Require(ConnectionAttemptDelay >= MinConnectionAttemptDelay && ConnectionAttemptDelay <= MaxConnectionAttemptDelay, nameof(ConnectionAttemptDelay), ConnectionAttemptDelay, "must lie between MinConnectionAttemptDelay and MaxConnectionAttemptDelay");
        Require(FirstAddressFamilyCount >= 1, nameof(FirstAddressFamilyCount), FirstAddressFamilyCount, "must be at least 1");
        Require(MinInterfaceFallbackDelay >= TimeSpan.Zero, nameof(MinInterfaceFallbackDelay), MinInterfaceFallbackDelay, "must not be negative");
        Require(MaxInterfaceFallbackDelay >= MinInterfaceFallbackDelay, nameof(MaxInterfaceFallbackDelay), MaxInterfaceFallbackDelay, "must be at least MinInterfaceFallbackDelay");
        Require(InterfaceFallbackDelay >= MinInterfaceFallbackDelay && InterfaceFallbackDelay <= MaxInterfaceFallbackDelay, nameof(InterfaceFallbackDelay), InterfaceFallbackDelay, "must lie between MinInterfaceFallbackDelay and MaxInterfaceFallbackDelay");
        Require(FallbackRttMultiplier > 0 && double.IsFinite(FallbackRttMultiplier), nameof(FallbackRttMultiplier), FallbackRttMultiplier, "must be a positive number");
        Require(MaxConcurrentAttempts >= 1, nameof(MaxConcurrentAttempts), MaxConcurrentAttempts, "must be at least 1");
        Require(RaceTimeout > TimeSpan.Zero, nameof(RaceTimeout), RaceTimeout, "must be positive");
        Require(ColdStartWait >= TimeSpan.Zero, nameof(ColdStartWait), ColdStartWait, "must not be negative");
        if (!ConfiguredFallbackDelay.IsEmpty && ConfiguredFallbackDelay.Problem() is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(ConfiguredFallbackDelay), ConfiguredFallbackDelay, $"Race setting {nameof(ConfiguredFallbackDelay)}: {problem}.");
        }
    }

    /// <summary>
    /// RFC 8305 §5: the delay "MAY be … based on historical RTT data". 1.5 × SRTT (Chromium holds TCP for 1.5 × SRTT),
    /// clamped to [Min, Max]; the default without history.
    /// </summary>
    public TimeSpan AttemptDelayFor(TimeSpan? smoothedRtt) =>
        smoothedRtt is { } rtt ? Clamp(rtt * 1.5, MinConnectionAttemptDelay, MaxConnectionAttemptDelay) : ConnectionAttemptDelay;

    /// <summary>The fallback delay for one preferred interface alone, with nothing stated (<see cref="FallbackDelays.Decide"/>).</summary>
    public TimeSpan FallbackDelayFor(RaceCandidate candidate) => FallbackDelays.Decide([candidate], [], this).Delay;

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;

    // Generic so that a value is boxed only when it is wrong: Validate runs for every race.
    private static void Require<T>(bool ok, string name, T value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"Race setting {name} = {value} {rule}.");
        }
    }
}
