namespace HeMif.Validate;

/// <summary>An interface's validation state (draft §5.2.1).</summary>
public enum ValidationState
{
    /// <summary>Not examined yet. Draft §5.2.1: "Unexamined PVDs or interfaces should be accounted as 'unconnected'."</summary>
    Unknown,

    /// <summary>A probe is running.</summary>
    Validating,

    /// <summary>The probe passed: the interface may take part in races.</summary>
    Validated,

    /// <summary>An HTTP proxy "that forces a login or a click-through" (§5.2.1) answered the probe.</summary>
    CaptivePortal,

    /// <summary>DNS answers were tampered with (§7.3: "The DNS server modified and replied the answer").</summary>
    DnsIntercepted,

    /// <summary>The probe got no answer, or not the expected one.</summary>
    NoConnectivity,

    /// <summary>The link is down.</summary>
    Down,

    /// <summary>
    /// A hard rule of the policy keeps the interface out of every request, whatever it asks (an operator or user
    /// <c>Prohibit</c> or <c>Require</c> with no request or validity condition, not lifted by a user's hard rule): it is
    /// not examined, so HeMif sends nothing on it, not even a connectivity check (draft §5.1: the hard set "will
    /// provide a filter which will exclude not qualifying interfaces"; a prohibited interface carries no packet).
    /// </summary>
    Excluded,
}
