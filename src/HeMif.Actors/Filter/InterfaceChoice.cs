using HeMif.Interfaces;

namespace HeMif.Filter;

/// <summary>
/// What one request asks of the interfaces (the MIF API's "choose": pin to an interface or a PvD, require or prohibit
/// kinds or PvDs). Each part becomes a Require or Prohibit rule of source <see cref="RuleSource.Request"/>, named
/// <c>request:…</c>, applied after the operator and user rules have been merged (§4.1, §5.1). A request can only
/// narrow the candidates: it never lifts an operator or user Prohibit (nor any other exclusion), and when nothing is
/// left the failure names every rule that excluded each interface, the request's own and the policy's.
/// </summary>
public sealed record InterfaceChoice
{
    /// <summary>Use only this interface (by name, ordinal): rule <c>request:interface</c>.</summary>
    public string? Interface { get; init; }

    /// <summary>
    /// Use only interfaces attached to this provisioning domain (its PvD ID, case-insensitive; an interface is attached to
    /// its <see cref="InterfaceFacts.PvdId"/> and to every PvD it learned): rule <c>request:pvd</c>.
    /// </summary>
    public string? Pvd { get; init; }

    /// <summary>Use only interfaces of these kinds (empty: any): rule <c>request:kinds</c>.</summary>
    public IReadOnlyList<InterfaceKind> RequireKinds { get; init; } = [];

    /// <summary>Never use interfaces of these kinds: rule <c>request:not-kinds</c>.</summary>
    public IReadOnlyList<InterfaceKind> ProhibitKinds { get; init; } = [];

    /// <summary>Never use interfaces attached to these PvDs: rule <c>request:not-pvds</c>.</summary>
    public IReadOnlyList<string> ProhibitPvds { get; init; } = [];

    /// <summary>Nothing is chosen.</summary>
    public bool IsEmpty => Interface is null && Pvd is null && RequireKinds.Count == 0 && ProhibitKinds.Count == 0 && ProhibitPvds.Count == 0;

    /// <summary>The choice as rules (Require and Prohibit only), in a fixed order.</summary>
    public IReadOnlyList<PolicyRule> ToRules()
    {
        var rules = new List<PolicyRule>(5);
        if (Interface is { } name)
        {
            rules.Add(new PolicyRule("request:interface", PreferenceLevel.Require) { Interface = new InterfaceMatch { Names = [name] } });
        }

        if (Pvd is { } pvd)
        {
            rules.Add(new PolicyRule("request:pvd", PreferenceLevel.Require) { Interface = new InterfaceMatch { PvdIds = [pvd] } });
        }

        if (RequireKinds.Count > 0)
        {
            rules.Add(new PolicyRule("request:kinds", PreferenceLevel.Require) { Interface = new InterfaceMatch { Kinds = RequireKinds } });
        }

        if (ProhibitKinds.Count > 0)
        {
            rules.Add(new PolicyRule("request:not-kinds", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { Kinds = ProhibitKinds } });
        }

        if (ProhibitPvds.Count > 0)
        {
            rules.Add(new PolicyRule("request:not-pvds", PreferenceLevel.Prohibit) { Interface = new InterfaceMatch { PvdIds = ProhibitPvds } });
        }

        return rules;
    }
}
