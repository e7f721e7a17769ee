namespace HeMif;

/// <summary>How an attempt failed, as the race needs to know it.</summary>
public enum AttemptFailureKind
{
    /// <summary>
    /// A hard error: TCP RST, ICMP unreachable / prohibited, a refused handshake. Draft §7.2: "a hard error [RFC1122] in
    /// replied ICMP could serve as a trigger for the fallback process": the other interfaces start at once.
    /// </summary>
    Hard,

    /// <summary>No answer, an ICMP soft error, a timeout: the path may just be slow; the fallback delay runs on.</summary>
    Soft,
}

/// <summary>An attempt failed; <see cref="Kind"/> says whether it was a hard error. The message says what and where.</summary>
public sealed class AttemptFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">Hard or soft.</param>
    /// <param name="message">What failed, with the endpoint and interface (for the timeline).</param>
    /// <param name="innerException">The cause (a <see cref="System.Net.Sockets.SocketException"/>, …), if any.</param>
    public AttemptFailedException(AttemptFailureKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>Creates a soft failure without details.</summary>
    public AttemptFailedException()
        : this(AttemptFailureKind.Soft, "The attempt failed.")
    {
    }

    /// <summary>Creates a soft failure.</summary>
    public AttemptFailedException(string message)
        : this(AttemptFailureKind.Soft, message)
    {
    }

    /// <summary>Creates a soft failure with its cause.</summary>
    public AttemptFailedException(string message, Exception innerException)
        : this(AttemptFailureKind.Soft, message, innerException)
    {
    }

    /// <summary>Hard or soft.</summary>
    public AttemptFailureKind Kind { get; }
}
