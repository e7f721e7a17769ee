using HeMif.Validate;

namespace HeMif;

/// <summary>What a connectivity probe found.</summary>
/// <param name="State">The verdict.</param>
/// <param name="Detail">In words, for the timeline and logs.</param>
/// <param name="PortalUrl">Where a captive portal redirected to, when known.</param>
public sealed record ValidationResult(ValidationState State, string Detail, Uri? PortalUrl = null);
