using System.Net;
using HeMif.Configuration;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Simulation;

/// <summary>One request a scenario makes, in order.</summary>
/// <param name="Host">The destination host name (or IP literal).</param>
/// <param name="Port">The destination port.</param>
public sealed record ScenarioRequest(string Host, int Port)
{
    /// <summary>
    /// The transports the request may use, by name (<c>tcp</c>, <c>quic</c>): the file's <c>"transport": "tcp"</c> is
    /// TCP alone, <c>"quic"</c> and <c>"any"</c> both race QUIC first with TCP behind it (HEv3). Default: TCP.
    /// </summary>
    public IReadOnlyList<TransportName> Transports { get; init; } = [TransportName.Tcp];

    /// <summary>How many bytes the request expects to transfer, when it says (draft §4.1.2 "larger than 20Mb").</summary>
    public long? ExpectedBytes { get; init; }

    /// <summary>
    /// The virtual time, from the scenario's start, before which the request does not start (the file's <c>atMs</c>);
    /// null: as soon as the request before it has ended. A request never starts before the one before it ended.
    /// </summary>
    public TimeSpan? At { get; init; }

    /// <summary>
    /// How long the connection stays open after it connected (the file's <c>holdMs</c>), in virtual time, while its path
    /// events are recorded (draft §7.4: not viable, viable again, better path available); null: closed at once. The
    /// next request starts once it is closed.
    /// </summary>
    public TimeSpan? Hold { get; init; }

    /// <summary>Equal when every member is, the transports compared name by name in order.</summary>
    public bool Equals(ScenarioRequest? other) =>
        other is not null && Host == other.Host && Port == other.Port && ExpectedBytes == other.ExpectedBytes && At == other.At &&
        Hold == other.Hold && Transports.SequenceEqual(other.Transports);

    /// <summary>A hash of the members <see cref="Equals(ScenarioRequest?)"/> compares.</summary>
    public override int GetHashCode() => HashCode.Combine(Host, Port, ExpectedBytes, At, Hold, Transports.Count > 0 ? Transports[0] : default);
}

/// <summary>
/// A change of one interface's network while the scenario runs (the file's <c>changes[i]</c>): at <paramref name="At"/>
/// (virtual time from the scenario's start) the interface's path behaves as <paramref name="Path"/> from then on,
/// for example a captive portal the user logs into, or a path that breaks after it was validated (draft §3.1).
/// Operations already under way keep the behaviour they started with; the engine learns of the change as it would
/// on a real network: from its next probe, query or attempt.
/// </summary>
/// <param name="At">When the change happens, from the scenario's start.</param>
/// <param name="Interface">The interface whose path changes.</param>
/// <param name="Path">The path's whole behaviour from then on (it replaces the one before; it is not merged with it).</param>
/// <param name="Description">What happens, in words, for the timeline (may be empty).</param>
public sealed record ScenarioChange(TimeSpan At, string Interface, SimulatedPath Path, string Description);

/// <summary>Race settings a scenario overrides; null keeps the engine's default.</summary>
public sealed record ScenarioSettings
{
    /// <summary>No overrides.</summary>
    public static ScenarioSettings None { get; } = new();

    /// <summary>The interface fallback delay (draft §7.2).</summary>
    public TimeSpan? FallbackDelay { get; init; }

    /// <summary>The RFC 8305 Connection Attempt Delay.</summary>
    public TimeSpan? ConnectionAttemptDelay { get; init; }

    /// <summary>The RFC 8305 Resolution Delay.</summary>
    public TimeSpan? ResolutionDelay { get; init; }

    /// <summary>The most attempts in flight at once for one race.</summary>
    public int? MaxConcurrentAttempts { get; init; }

    /// <summary>How long a whole race may take.</summary>
    public TimeSpan? RaceTimeout { get; init; }

    /// <summary>
    /// <paramref name="settings"/> with these overrides; a delay outside the engine's clamping range widens the range
    /// so that the scenario's value is the one used.
    /// </summary>
    internal Race.RaceSettings ApplyTo(Race.RaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var s = settings;
        if (FallbackDelay is { } f)
        {
            s = s with
            {
                InterfaceFallbackDelay = f,
                MinInterfaceFallbackDelay = f < s.MinInterfaceFallbackDelay ? f : s.MinInterfaceFallbackDelay,
                MaxInterfaceFallbackDelay = f > s.MaxInterfaceFallbackDelay ? f : s.MaxInterfaceFallbackDelay,
            };
        }

        if (ConnectionAttemptDelay is { } c)
        {
            s = s with
            {
                ConnectionAttemptDelay = c,
                MinConnectionAttemptDelay = c < s.MinConnectionAttemptDelay ? c : s.MinConnectionAttemptDelay,
                MaxConnectionAttemptDelay = c > s.MaxConnectionAttemptDelay ? c : s.MaxConnectionAttemptDelay,
            };
        }

        return s with
        {
            ResolutionDelay = ResolutionDelay ?? s.ResolutionDelay,
            // The ranking's wait is bounded by the resolution delay (RaceSettings.RankingWait): a shorter one shortens it.
            RankingWait = ResolutionDelay is { } rd && rd < s.RankingWait ? rd : s.RankingWait,
            MaxConcurrentAttempts = MaxConcurrentAttempts ?? s.MaxConcurrentAttempts,
            RaceTimeout = RaceTimeout ?? s.RaceTimeout,
        };
    }
}

/// <summary>
/// A simulated situation to run the engine in (<c>docs/scenarios.md</c>): the host's interfaces and policy (the formats
/// of <c>docs/policy.md</c>), how each interface's network behaves, what the destinations resolve to, the requests to
/// make, and race settings to override. Load one from a file (<see cref="Load"/>), from JSON (<see cref="Parse"/>),
/// or take a built-in (<see cref="BuiltIn"/>, <see cref="BuiltInNames"/>). Loading is strict and all or nothing.
/// </summary>
public sealed record Scenario
{
    private const string ResourcePrefix = "HeMif.Simulation.Scenarios.";
    private const string ResourceSuffix = ".json";

    private static readonly Lazy<IReadOnlyList<string>> Names = new(() =>
        typeof(Scenario).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^ResourceSuffix.Length])
            .Order(StringComparer.Ordinal)
            .ToList());

    /// <summary>The scenario's name (a built-in's is how <see cref="BuiltIn"/> finds it).</summary>
    public required string Name { get; init; }

    /// <summary>What the scenario shows, in words.</summary>
    public string Description { get; init; } = "";

    /// <summary>The host's interfaces.</summary>
    public required IReadOnlyList<InterfaceFacts> Interfaces { get; init; }

    /// <summary>The policy (operator rules, user rules, kind order…).</summary>
    public HeMifPolicy Policy { get; init; } = HeMifPolicy.Empty;

    /// <summary>How each interface's path behaves, by interface name; an interface not listed has <see cref="SimulatedPath.Default"/>.</summary>
    public IReadOnlyDictionary<string, SimulatedPath> Network { get; init; } = new Dictionary<string, SimulatedPath>();

    /// <summary>What the resolvers answer: host name (case-insensitive) → its IPv6 and IPv4 addresses. Any other name is NXDOMAIN.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> Destinations { get; init; } = new Dictionary<string, IReadOnlyList<IPAddress>>();

    /// <summary>The requests to make, one after the other (at least one).</summary>
    public required IReadOnlyList<ScenarioRequest> Requests { get; init; }

    /// <summary>Changes of the interfaces' networks while the scenario runs, in time order (<see cref="ScenarioChange"/>).</summary>
    public IReadOnlyList<ScenarioChange> Changes { get; init; } = [];

    /// <summary>Race settings the scenario overrides.</summary>
    public ScenarioSettings Settings { get; init; } = ScenarioSettings.None;

    /// <summary>Whether the host can open QUIC connections at all (default true).</summary>
    public bool QuicSupported { get; init; } = true;

    /// <summary>Seeds jitter and loss: the same seed gives the same run.</summary>
    public int Seed { get; init; }

    /// <summary>The wall-clock time the scenario starts at (policy validity windows read it); default 2026-01-01T00:00:00Z.</summary>
    public DateTimeOffset Now { get; init; } = VirtualClock.DefaultStart;

    /// <summary>The names of the built-in scenarios, in order.</summary>
    public static IReadOnlyList<string> BuiltInNames => Names.Value;

    /// <summary>
    /// Reads and validates a scenario file (a regular file of at most <see cref="HeMifConfiguration.MaxFileBytes"/>, see
    /// <see cref="HeMifConfiguration.ReadFile"/>); a scenario without a <c>name</c> is named after the file.
    /// </summary>
    /// <exception cref="HeMifConfigurationException">The file is missing, unreadable or invalid; the message names the file, the JSON path and what was expected.</exception>
    public static Scenario Load(string path) =>
        ScenarioReader.Read(HeMifConfiguration.ReadFile(path), path);

    /// <summary>Validates scenario JSON; <paramref name="sourceName"/> names it in errors (usually the file name).</summary>
    /// <exception cref="HeMifConfigurationException">The JSON is invalid; the message names the source, the JSON path and what was expected.</exception>
    public static Scenario Parse(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrEmpty(sourceName);
        return ScenarioReader.Read(json, sourceName);
    }

    /// <summary>A built-in scenario by name (case-insensitive).</summary>
    /// <exception cref="HeMifConfigurationException">No built-in scenario has that name; the message lists those there are.</exception>
    public static Scenario BuiltIn(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var found = BuiltInNames.FirstOrDefault(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new HeMifConfigurationException("built-in scenarios", "name", "one of " + string.Join(", ", BuiltInNames), "\"" + name + "\"");
        using var stream = typeof(Scenario).Assembly.GetManifestResourceStream(ResourcePrefix + found + ResourceSuffix)
            ?? throw new InvalidOperationException($"The built-in scenario resource '{found}' disappeared.");
        using var reader = new StreamReader(stream);
        return ScenarioReader.Read(reader.ReadToEnd(), found + ResourceSuffix);
    }

    /// <summary>The simulated network of this scenario on <paramref name="clock"/>.</summary>
    internal SimulatedNetwork CreateNetwork(TimeProvider clock) => new(Network, Destinations, QuicSupported, clock, Seed);

    /// <summary>The engine's default race settings with this scenario's overrides.</summary>
    internal Race.RaceSettings CreateRaceSettings() => Settings.ApplyTo(new Race.RaceSettings());
}
