using HeMif.Filter;

namespace HeMif.Planning;

/// <summary>
/// The fallback delay (how long the preferred interface gets alone before the others join, draft §7.2) as a user or an
/// application states it. §7.2: "Aggressive timeouts may achieve quick interface handover, but at the cost of traffic
/// that may be chargeable on certain networks ... Considering the reasons, it is recommended to prioritize the input from
/// users (e.g., real customers or applications)". A stated <see cref="Delay"/> wins over the delay HeMif adapts from the
/// interface's history; <see cref="Min"/> and <see cref="Max"/> bound that adaptive delay instead. Every value is
/// optional; one left out comes from the next source down (request, user rule, operator rule, options, HeMif's default).
/// </summary>
public sealed record FallbackDelaySettings
{
    /// <summary>The longest delay that may be stated (10 minutes: the draft calls even "several minutes" inappropriate for users).</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    /// <summary>Nothing stated.</summary>
    public static FallbackDelaySettings None { get; } = new();

    /// <summary>The delay to use, whatever the history says; null: adapt it (within <see cref="Min"/> and <see cref="Max"/>).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>The least the adaptive delay may be; null: the next source's, or HeMif's 300 ms.</summary>
    public TimeSpan? Min { get; init; }

    /// <summary>The most the adaptive delay may be; null: the next source's, or HeMif's 10 s.</summary>
    public TimeSpan? Max { get; init; }

    /// <summary>Whether nothing is stated.</summary>
    public bool IsEmpty => Delay is null && Min is null && Max is null;

    /// <summary>
    /// Why these settings cannot be used (a value negative or above <see cref="Limit"/>, or <see cref="Min"/> above
    /// <see cref="Max"/>), naming the value; null when they can.
    /// </summary>
    public string? Problem()
    {
        return OutOfRange("Delay", Delay) ?? OutOfRange("Min", Min) ?? OutOfRange("Max", Max)
            ?? (Min is { } min && Max is { } max && min > max ? $"Min = {Ms(min)} is above Max = {Ms(max)}" : null);

        static string? OutOfRange(string name, TimeSpan? value) =>
            value is { } v && (v < TimeSpan.Zero || v > Limit) ? $"{name} = {Ms(v)}: a fallback delay must be from 0 to {Ms(Limit)}" : null;

        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " ms";
    }
}

/// <summary>
/// A policy rule that states the fallback delay (draft §7.2) for some requests and preferred interfaces: per destination
/// (<see cref="Request"/>), per interface kind or any other interface fact (<see cref="Interface"/>, matched against the
/// interface that goes first), when its <see cref="Validity"/> holds. A user's rule wins over an operator's, field by field
/// (§7.2: "it is recommended to prioritize the input from users").
/// </summary>
/// <param name="Name">Unique among all rules of a policy (Prefer/Require rules included); timelines name it.</param>
/// <param name="Source">Who stated it: <see cref="RuleSource.User"/> or <see cref="RuleSource.Operator"/>.</param>
public sealed record FallbackDelayRule(string Name, RuleSource Source)
{
    /// <summary>The preferred interfaces it concerns (empty: all).</summary>
    public InterfaceMatch Interface { get; init; } = new();

    /// <summary>The requests it applies to (empty: all).</summary>
    public RequestMatch Request { get; init; } = new();

    /// <summary>When it is in force (empty: always).</summary>
    public ValidityConditions Validity { get; init; } = new();

    /// <summary>The delay, or its adaptive range.</summary>
    public FallbackDelaySettings Settings { get; init; } = FallbackDelaySettings.None;

    /// <summary>Free text for people.</summary>
    public string? Description { get; init; }
}
