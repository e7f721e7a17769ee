using Microsoft.Extensions.Logging;

namespace HeMif.Hosting;

/// <summary>
/// Every log line HeMif writes, with stable event IDs (the table is in docs/hosting.md: change an ID only with it).
/// Information is kept for what an operator decides on: an interface validated or not (captive portal, DNS
/// interception, no connectivity, down), a fallback taken, a race that failed, policy and start-up. Attempts,
/// exclusions and connections are Debug; every timeline event is Trace.
/// </summary>
internal static partial class Log
{
    // 1-9: lifecycle and configuration
    [LoggerMessage(EventId = 1, EventName = "Started", Level = LogLevel.Information,
        Message = "HeMif started: {Validated} of {Count} interfaces validated ({States})")]
    public static partial void Started(ILogger logger, int validated, int count, string states);

    [LoggerMessage(EventId = 2, EventName = "StartupExaminationIncomplete", Level = LogLevel.Warning,
        Message = "HeMif started before every interface was examined (HeMif:StartupTimeout {Timeout}); requests wait for the rest up to the probe timeout. So far: {States}")]
    public static partial void StartupExaminationIncomplete(ILogger logger, TimeSpan timeout, string states);

    [LoggerMessage(EventId = 3, EventName = "StartupFailed", Level = LogLevel.Critical,
        Message = "HeMif could not start; the application is stopping: {Reason}")]
    public static partial void StartupFailed(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventId = 4, EventName = "Stopped", Level = LogLevel.Debug,
        Message = "HeMif stopped; {Abandoned} connection requests in flight were abandoned")]
    public static partial void Stopped(ILogger logger, int abandoned);

    [LoggerMessage(EventId = 5, EventName = "PolicyUpdated", Level = LogLevel.Information,
        Message = "HeMif policy changed ({OperatorRules} operator rules, {UserRules} user rules); it applies from the next request")]
    public static partial void PolicyUpdated(ILogger logger, int operatorRules, int userRules);

    [LoggerMessage(EventId = 6, EventName = "PolicyUpdateFailed", Level = LogLevel.Error,
        Message = "HeMif could not apply the changed policy; the previous one stays: {Reason}")]
    public static partial void PolicyUpdateFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 7, EventName = "RestartRequired", Level = LogLevel.Warning,
        Message = "HeMif:{Key} changed; the running engine keeps the old value until the application restarts")]
    public static partial void RestartRequired(ILogger logger, string key);

    [LoggerMessage(EventId = 8, EventName = "ConfigurationRejected", Level = LogLevel.Error,
        Message = "HeMif refused a configuration change and keeps its last valid settings: {Reason}")]
    public static partial void ConfigurationRejected(ILogger logger, string reason);

    // 10-19: interface validation (draft §5.2.1)
    [LoggerMessage(EventId = 10, EventName = "InterfaceValidated", Level = LogLevel.Information,
        Message = "Interface {Interface} validated: {Detail}")]
    public static partial void InterfaceValidated(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 11, EventName = "InterfaceCaptivePortal", Level = LogLevel.Information,
        Message = "Interface {Interface} is behind a captive portal and is not used: {Detail}")]
    public static partial void InterfaceCaptivePortal(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 12, EventName = "InterfaceDnsIntercepted", Level = LogLevel.Information,
        Message = "Interface {Interface} has its DNS answers intercepted and is not used: {Detail}")]
    public static partial void InterfaceDnsIntercepted(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 13, EventName = "InterfaceNoConnectivity", Level = LogLevel.Information,
        Message = "Interface {Interface} has no connectivity and is not used: {Detail}")]
    public static partial void InterfaceNoConnectivity(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 14, EventName = "InterfaceDown", Level = LogLevel.Information,
        Message = "Interface {Interface} is down and is not used: {Detail}")]
    public static partial void InterfaceDown(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 16, EventName = "InterfaceExcludedByPolicy", Level = LogLevel.Information,
        Message = "Interface {Interface} is kept out of every request by the policy and is not examined (nothing is sent on it): {Detail}")]
    public static partial void InterfaceExcludedByPolicy(ILogger logger, string @interface, string detail);

    [LoggerMessage(EventId = 15, EventName = "InterfaceExamining", Level = LogLevel.Debug,
        Message = "Interface {Interface} is being examined: {Detail}")]
    public static partial void InterfaceExamining(ILogger logger, string @interface, string detail);

    // 20-29: races
    [LoggerMessage(EventId = 20, EventName = "Connected", Level = LogLevel.Debug,
        Message = "Connected to {Host}:{Port} over {Interface} ({Kind}), {Transport} {Family} to {Remote}, in {Milliseconds} ms")]
    public static partial void Connected(ILogger logger, string host, int port, string @interface, HeMif.Interfaces.InterfaceKind kind, string transport, string family, string remote, double milliseconds);

    [LoggerMessage(EventId = 21, EventName = "FallbackTaken", Level = LogLevel.Information,
        Message = "Fallback for {Host}:{Port}: {Detail}")]
    public static partial void FallbackTaken(ILogger logger, string host, int port, string detail);

    [LoggerMessage(EventId = 22, EventName = "RaceFailed", Level = LogLevel.Information,
        Message = "No connection to {Host}:{Port}: {Failure}")]
    public static partial void RaceFailed(ILogger logger, string host, int port, string failure);

    [LoggerMessage(EventId = 23, EventName = "Attempt", Level = LogLevel.Debug,
        Message = "{Host}:{Port} attempt #{Id} {Transport} {Remote} on {Interface}: {Result} {Error}")]
    public static partial void Attempt(ILogger logger, string host, int port, ulong id, string transport, string remote, string @interface, string result, string error);

    [LoggerMessage(EventId = 24, EventName = "InterfaceExcluded", Level = LogLevel.Debug,
        Message = "{Host}:{Port}: {Interface} not used: {Reasons}")]
    public static partial void InterfaceExcluded(ILogger logger, string host, int port, string @interface, string reasons);

    [LoggerMessage(EventId = 30, EventName = "InternalFailure", Level = LogLevel.Warning,
        Message = "HeMif failure inside {Failure}")]
    public static partial void InternalFailure(ILogger logger, string failure);

    [LoggerMessage(EventId = 25, EventName = "RaceEvent", Level = LogLevel.Trace,
        Message = "{Milliseconds} ms {Kind} {Interface}: {Detail}")]
    public static partial void RaceEvent(ILogger logger, double milliseconds, string kind, string @interface, string detail);

    // 40-49: after the race (session continuity, draft §7.4)
    [LoggerMessage(EventId = 40, EventName = "HttpConnectionRetired", Level = LogLevel.Information,
        Message = "Pooled HTTP connection to {Host}:{Port} over {Interface} retired ({Reason}): the next request races again; requests in flight finish on it. Because: {PathEvent}")]
    public static partial void HttpConnectionRetired(ILogger logger, string host, int port, string @interface, string reason, HeMif.Continuity.PathEvent pathEvent);
}
