using System.Net;
using HeMif.Filter;
using HeMif.Planning;
using HeMif.Report;

namespace HeMif;

/// <summary>Per-exchange hints for <see cref="IHeMifConnector.ExchangeAsync"/>: the same as a connection's, where they apply to UDP.</summary>
public sealed record ExchangeOptions
{
    /// <summary>
    /// How long the whole exchange may take: the request, its resends, and the other interfaces' tries; then it fails with
    /// every try listed (<see cref="HeMifExchangeException"/>). At most the connector's race timeout, which also applies
    /// when this is null (the default).
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// What this exchange asks of the interfaces (pin an interface or a PvD, require or prohibit kinds or PvDs), checked
    /// against the policy exactly as for a connection (<see cref="ConnectOptions.Choice"/>). Null: no choice.
    /// </summary>
    public InterfaceChoice? Choice { get; init; }

    /// <summary>A traffic class for policy rules (<see cref="ConnectOptions.TrafficClass"/>).</summary>
    public string? TrafficClass { get; init; }

    /// <summary>This exchange's fallback delay (draft §7.2), as <see cref="ConnectOptions.FallbackDelay"/>. Null: nothing stated.</summary>
    public FallbackDelaySettings? FallbackDelay { get; init; }
}

/// <summary>
/// The answer to a request/response exchange over UDP (draft §7.1): the first matching response, and the interface,
/// addresses and time it came with. Nothing stays open: the exchange's sockets are closed when it ends.
/// </summary>
public sealed class HeMifExchange
{
    internal HeMifExchange(DatagramAnswer answer, RaceReport report)
    {
        Response = answer.Response;
        RemoteEndPoint = answer.RemoteEndPoint;
        LocalEndPoint = answer.LocalEndPoint;
        Sends = answer.Sends;
        IgnoredDatagrams = answer.Ignored;
        Report = report;
    }

    /// <summary>The response datagram the matcher took.</summary>
    public ReadOnlyMemory<byte> Response { get; }

    /// <summary>The interface the response came over (the one the answered request left from).</summary>
    public string Interface => Report.Winner!.Interface;

    /// <summary>The remote endpoint the request went to and the response came from (a response from any other source is never taken).</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The local endpoint, on <see cref="Interface"/>, the request left from and the response came to.</summary>
    public IPEndPoint? LocalEndPoint { get; }

    /// <summary>When the response came, counted from the start of the exchange (on the connector's clock).</summary>
    public TimeSpan ReceivedAfter => Report.TimeToConnect!.Value;

    /// <summary>How many times the answered try sent the request (1 when its first send was answered; resends follow <see cref="DatagramExchange"/>'s backoff).</summary>
    public int Sends { get; }

    /// <summary>Datagrams the answered try ignored because the matcher did not take them (a stale or spoofed answer, for instance).</summary>
    public int IgnoredDatagrams { get; }

    /// <summary>The race: every try (an attempt of the <c>udp</c> transport) on every interface, exclusions, timeline.</summary>
    public RaceReport Report { get; }
}

/// <summary>
/// No response came (every try failed, or the deadline passed first), or the caller cancelled: <see cref="Report"/>
/// lists every try and why it ended, and every excluded interface. When the caller cancels, the exchange ends with
/// <see cref="HeMifExchangeCanceledException"/> instead (an <see cref="OperationCanceledException"/> with the same report).
/// </summary>
public sealed class HeMifExchangeException : Exception
{
    /// <summary>Creates the exception from the race's report.</summary>
    public HeMifExchangeException(RaceReport report)
        : base(Describe(report, "No answer")) => Report = report;

    /// <summary>Creates the exception (serialization-style constructors are not supported).</summary>
    public HeMifExchangeException()
        : base("No answer came.") => Report = null!;

    /// <summary>Creates the exception.</summary>
    public HeMifExchangeException(string message)
        : base(message) => Report = null!;

    /// <summary>Creates the exception.</summary>
    public HeMifExchangeException(string message, Exception innerException)
        : base(message, innerException) => Report = null!;

    /// <summary>The race: every try, exclusions, timeline.</summary>
    public RaceReport Report { get; }

    /// <summary>The message: what happened, then one line per try and per excluded interface.</summary>
    internal static string Describe(RaceReport report, string what)
    {
        var lines = new List<string> { $"{what} from {report.Host}:{report.Port}: {report.Failure ?? "no try was answered"}" };
        lines.AddRange(report.Attempts.Select(a => $"  try #{a.Id} {a.Transport} {a.Remote} on {a.Interface}: {a.Result}{(a.Error is null ? "" : ": " + a.Error)}"));
        lines.AddRange(report.Excluded.Select(x => $"  not used: {x.Interface}: {string.Join("; ", x.Reasons)}"));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>
/// The caller cancelled an exchange: an <see cref="OperationCanceledException"/> (catch it as one) that also carries
/// the report of the tries made until then.
/// </summary>
public sealed class HeMifExchangeCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception from the race's report and the caller's token.</summary>
    public HeMifExchangeCanceledException(RaceReport report, CancellationToken token)
        : base(HeMifExchangeException.Describe(report, "Cancelled: no answer"), token) => Report = report;

    /// <summary>Creates the exception (serialization-style constructors are not supported).</summary>
    public HeMifExchangeCanceledException()
        : base("The exchange was cancelled.") => Report = null!;

    /// <summary>Creates the exception.</summary>
    public HeMifExchangeCanceledException(string message)
        : base(message) => Report = null!;

    /// <summary>Creates the exception.</summary>
    public HeMifExchangeCanceledException(string message, Exception innerException)
        : base(message, innerException) => Report = null!;

    /// <summary>The race until it was cancelled: every try, exclusions, timeline.</summary>
    public RaceReport Report { get; }
}
