using System.Globalization;
using HeMif.Configuration;
using HeMif.Multipath;
using HeMif.Planning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace HeMif.Hosting;

/// <summary>
/// Binds <see cref="HeMifOptions"/> from the configuration section <c>HeMif</c>, strictly: every key is either a host
/// setting or a policy key (docs/policy.md), an unknown key is an error naming it, and the policy is read by
/// <see cref="HeMifConfiguration.BindPolicy"/> so its errors carry the configuration path. Errors are collected, not
/// thrown: <see cref="HeMifOptionsValidator"/> reports them all at start (ValidateOnStart) and on every change.
/// The configuration binder is not used because it ignores unknown keys and throws on the first bad value.
/// </summary>
internal sealed class HeMifOptionsSetup(IConfiguration? configuration) : IConfigureOptions<HeMifOptions>, IPostConfigureOptions<HeMifOptions>
{
    internal const string PolicyFileKey = "PolicyFile";
    internal const string OverridesFileKey = "OverridesFile";
    internal const string ProbeUrlKey = "ProbeUrl";
    internal const string DisableValidationKey = "DisableValidation";
    internal const string TransportKey = "Transport";
    internal const string MultipathKey = "Multipath";
    internal const string RaceTimeoutKey = "RaceTimeout";
    internal const string StartupTimeoutKey = "StartupTimeout";
    internal const string QuicProbeTimeoutKey = "QuicProbeTimeout";
    internal const string CaptivePortalPeriodKey = "CaptivePortalPeriod";
    internal const string FallbackDelayKey = "FallbackDelay";
    internal const string MinFallbackDelayKey = "MinFallbackDelay";
    internal const string MaxFallbackDelayKey = "MaxFallbackDelay";
    internal const string RetireHttpConnectionsKey = "RetireHttpConnections";

    /// <summary>The host's own keys, beside the policy's.</summary>
    internal static readonly string[] HostKeys = [PolicyFileKey, OverridesFileKey, ProbeUrlKey, DisableValidationKey, TransportKey, MultipathKey, RaceTimeoutKey, StartupTimeoutKey, QuicProbeTimeoutKey, CaptivePortalPeriodKey, FallbackDelayKey, MinFallbackDelayKey, MaxFallbackDelayKey, RetireHttpConnectionsKey];

    /// <summary>The policy's keys (the top level of docs/policy.md's format).</summary>
    internal static readonly string[] PolicyKeys = ["kindOrder", "operatorRules", "userRules", "interfaceOverrides", "addressSelectionTable", "fallbackDelays"];

    /// <summary>The configuration key of a setting, as messages name it.</summary>
    internal static string Key(string name) => HeMifConfiguration.SectionName + ":" + name;

    public void Configure(HeMifOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (configuration is null)
        {
            return;
        }

        var section = configuration.GetSection(HeMifConfiguration.SectionName);
        var policyGiven = false;
        foreach (var child in section.GetChildren())
        {
            if (PolicyKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                policyGiven = true;
            }
            else if (!HostKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                options.BindErrors.Add($"{child.Path} is not a HeMif setting; the section takes {string.Join(", ", HostKeys)} and the policy keys {string.Join(", ", PolicyKeys)} (docs/hosting.md, docs/policy.md)");
            }
        }

        Text(section, PolicyFileKey, v => options.PolicyFile = v);
        Text(section, OverridesFileKey, v => options.OverridesFile = v);
        Parse<Uri>(section, ProbeUrlKey, "an absolute http:// URL", (string v, out Uri u) => Uri.TryCreate(v, UriKind.Absolute, out u!) && u.Scheme == Uri.UriSchemeHttp, v => options.ProbeUrl = v, options);
        Parse<bool>(section, DisableValidationKey, "true or false", bool.TryParse, v => options.DisableValidation = v, options);
        Parse<bool>(section, RetireHttpConnectionsKey, "true or false", bool.TryParse, v => options.RetireHttpConnections = v, options);
        Parse<TransportPreference>(section, TransportKey, "one of " + string.Join(", ", Enum.GetNames<TransportPreference>()),
            (string v, out TransportPreference t) => Enum.TryParse(v, ignoreCase: true, out t) && !v.Any(char.IsDigit), v => options.Transport = v, options);
        Parse<MultipathMode?>(section, MultipathKey, "one of Off, " + string.Join(", ", Enum.GetNames<MultipathMode>()), ParseMultipath, v => options.Multipath = v, options);
        Parse<TimeSpan>(section, RaceTimeoutKey, "a time span such as 00:00:30", ParseTimeSpan, v => options.RaceTimeout = v, options);
        Parse<TimeSpan>(section, StartupTimeoutKey, "a time span such as 00:00:10", ParseTimeSpan, v => options.StartupTimeout = v, options);
        Parse<TimeSpan>(section, QuicProbeTimeoutKey, "a time span such as 00:00:01.5", ParseTimeSpan, v => options.QuicProbeTimeout = v, options);
        Parse<TimeSpan>(section, CaptivePortalPeriodKey, "a time span such as 00:00:15", ParseTimeSpan, v => options.CaptivePortalPeriod = v, options);
        Parse<TimeSpan>(section, FallbackDelayKey, "a time span such as 00:00:00.5", ParseTimeSpan, v => options.FallbackDelay = options.FallbackDelay with { Delay = v }, options);
        Parse<TimeSpan>(section, MinFallbackDelayKey, "a time span such as 00:00:00.3", ParseTimeSpan, v => options.FallbackDelay = options.FallbackDelay with { Min = v }, options);
        Parse<TimeSpan>(section, MaxFallbackDelayKey, "a time span such as 00:00:10", ParseTimeSpan, v => options.FallbackDelay = options.FallbackDelay with { Max = v }, options);

        if (policyGiven)
        {
            try
            {
                var policySection = new PolicyOnlySection(section);
                options.Policy = HeMifConfiguration.BindPolicy(policySection);
                options.PolicyText = string.Join("\n", policySection.AsEnumerable()
                    .OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
                    .Select(kv => kv.Key.ToUpperInvariant() + "=" + kv.Value));
            }
            catch (HeMifConfigurationException e)
            {
                options.BindErrors.Add(e.Message);
            }
        }
    }

    /// <summary>Reads <see cref="HeMifOptions.PolicyFile"/> after every other configuration step (code may set it too).</summary>
    public void PostConfigure(string? name, HeMifOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PolicyFile is not { } file)
        {
            return;
        }

        if (options.PolicyGiven)
        {
            options.BindErrors.Add($"{Key(PolicyFileKey)} and a policy (policy keys in the {HeMifConfiguration.SectionName} section, or one set in code) are both given; give one");
            return;
        }

        string text;
        try
        {
            // The one reader of every input file: regular files only (a FIFO or a device is refused, never opened), at
            // most HeMifConfiguration.MaxFileBytes, UTF-8.
            text = HeMifConfiguration.ReadFile(file);
        }
        catch (HeMifConfigurationException e)
        {
            options.BindErrors.Add($"{Key(PolicyFileKey)} must name a readable policy file: {e.Message}");
            return;
        }

        try
        {
            options.Policy = HeMifConfiguration.ParsePolicy(text, file);
            options.PolicyText = "file:" + file + "\n" + text;
        }
        catch (HeMifConfigurationException e)
        {
            options.BindErrors.Add($"{Key(PolicyFileKey)}: {e.Message}");
        }
    }

    private delegate bool TryParser<T>(string text, out T value);

    private static bool ParseMultipath(string v, out MultipathMode? mode)
    {
        mode = null;
        if (string.Equals(v, "Off", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (!v.Any(char.IsDigit) && Enum.TryParse<MultipathMode>(v, ignoreCase: true, out var m))
        {
            mode = m;
            return true;
        }

        return false;
    }

    private static bool ParseTimeSpan(string v, out TimeSpan t) => TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out t);

    private static void Text(IConfigurationSection section, string key, Action<string> set)
    {
        if (section[key] is { Length: > 0 } v)
        {
            set(v);
        }
    }

    private static void Parse<T>(IConfigurationSection section, string key, string expected, TryParser<T> parse, Action<T> set, HeMifOptions options)
    {
        var child = section.GetSection(key);
        if (child.Value is not { } text)
        {
            if (child.GetChildren().Any())
            {
                options.BindErrors.Add($"{child.Path} must be {expected}; got a section");
            }

            return;
        }

        if (!parse(text.Trim(), out var value))
        {
            options.BindErrors.Add($"{child.Path} must be {expected}; got \"{text}\"");
            return;
        }

        set(value);
    }

    /// <summary>
    /// The <c>HeMif</c> section without the host's keys, so that the strict policy reader sees only the policy and names
    /// every path as the configuration key it really is (<c>HeMif:userRules:0:level</c>).
    /// </summary>
    private sealed class PolicyOnlySection(IConfigurationSection inner) : IConfigurationSection
    {
        public string Key => inner.Key;

        public string Path => inner.Path;

        public string? Value
        {
            get => inner.Value;
            set => inner.Value = value;
        }

        public string? this[string key]
        {
            get => inner[key];
            set => inner[key] = value;
        }

        public IEnumerable<IConfigurationSection> GetChildren() =>
            inner.GetChildren().Where(c => !HostKeys.Contains(c.Key, StringComparer.OrdinalIgnoreCase));

        public IChangeToken GetReloadToken() => inner.GetReloadToken();

        public IConfigurationSection GetSection(string key) => inner.GetSection(key);
    }
}

/// <summary>The checks of every <see cref="HeMifOptions"/> value, whether it came from configuration or code.</summary>
internal sealed class HeMifOptionsValidator : IValidateOptions<HeMifOptions>
{
    public ValidateOptionsResult Validate(string? name, HeMifOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(options.BindErrors);
        Range(failures, HeMifOptionsSetup.RaceTimeoutKey, options.RaceTimeout, HeMifOptions.MinRaceTimeout, HeMifOptions.MaxRaceTimeout);
        Range(failures, HeMifOptionsSetup.StartupTimeoutKey, options.StartupTimeout, TimeSpan.Zero, HeMifOptions.MaxStartupTimeout);
        Range(failures, HeMifOptionsSetup.QuicProbeTimeoutKey, options.QuicProbeTimeout, TimeSpan.FromMilliseconds(1), HeMifOptions.MaxQuicProbeTimeout);
        Range(failures, HeMifOptionsSetup.CaptivePortalPeriodKey, options.CaptivePortalPeriod, HeMifConnectorOptions.MinCaptivePortalPeriod, HeMifConnectorOptions.MaxCaptivePortalPeriod);
        if (options.ProbeUrl is { } url && !(url.IsAbsoluteUri && url.Scheme == Uri.UriSchemeHttp))
        {
            // The check is a plain HTTP request over each interface (docs/connect.md): a TLS check would need a name.
            failures.Add($"{HeMifOptionsSetup.Key(HeMifOptionsSetup.ProbeUrlKey)} must be an absolute http:// URL; got \"{url}\"");
        }

        if (options.Multipath is { } mode && !Enum.IsDefined(mode))
        {
            failures.Add($"{HeMifOptionsSetup.Key(HeMifOptionsSetup.MultipathKey)} must be one of Off, {string.Join(", ", Enum.GetNames<MultipathMode>())}; got {mode}");
        }

        if (!Enum.IsDefined(options.Transport))
        {
            failures.Add($"{HeMifOptionsSetup.Key(HeMifOptionsSetup.TransportKey)} must be one of {string.Join(", ", Enum.GetNames<TransportPreference>())}; got {options.Transport}");
        }

        if (options.FallbackDelay is null)
        {
            failures.Add("HeMifOptions.FallbackDelay is null: give FallbackDelaySettings.None for nothing stated");
        }
        else
        {
            var f = options.FallbackDelay;
            RangeIfGiven(failures, HeMifOptionsSetup.FallbackDelayKey, f.Delay, TimeSpan.Zero, FallbackDelaySettings.Limit);
            RangeIfGiven(failures, HeMifOptionsSetup.MinFallbackDelayKey, f.Min, TimeSpan.Zero, FallbackDelaySettings.Limit);
            RangeIfGiven(failures, HeMifOptionsSetup.MaxFallbackDelayKey, f.Max, TimeSpan.Zero, FallbackDelaySettings.Limit);
            if (f.Min > f.Max)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{HeMifOptionsSetup.Key(HeMifOptionsSetup.MinFallbackDelayKey)} ({f.Min:c}) must not be above {HeMifOptionsSetup.Key(HeMifOptionsSetup.MaxFallbackDelayKey)} ({f.Max:c})"));
            }
        }

        if (options.Interfaces is { Count: 0 })
        {
            failures.Add("HeMifOptions.Interfaces is empty: give at least one interface, or null to discover the host's own");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RangeIfGiven(List<string> failures, string key, TimeSpan? value, TimeSpan min, TimeSpan max)
    {
        if (value is { } v)
        {
            Range(failures, key, v, min, max);
        }
    }

    private static void Range(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{HeMifOptionsSetup.Key(key)} must be between {min:c} and {max:c}; got {value:c}"));
        }
    }
}
