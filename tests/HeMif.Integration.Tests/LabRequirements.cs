namespace HeMif.Integration.Tests;

/// <summary>
/// What the network lab needs from the machine, checked before any lab test runs. When something is
/// missing the tests are reported as skipped with the reason, so a developer sees why they did not run;
/// under <c>CI=true</c> they are never skipped: they run and fail with the same reason.
/// </summary>
public static class LabRequirements
{
    private static readonly (string Tool, string Install)[] Tools =
    [
        ("ip", "apt-get install iproute2"),
        ("ss", "apt-get install iproute2"),
        ("nft", "apt-get install nftables"),
        ("dnsmasq", "apt-get install dnsmasq-base"),
        ("setsid", "apt-get install util-linux"),
        ("bash", "apt-get install bash"),
        ("dotnet", "install the .NET 10 SDK"),
    ];

    private static readonly Lazy<string?> MissingOnce = new(Check);

    /// <summary>Why the lab cannot run on this machine, or null when it can.</summary>
    public static string? Missing => MissingOnce.Value;

    /// <summary>True under CI (<c>CI=true</c>), where the lab tests must run.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string? Check()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the lab runs on Linux only (network namespaces)";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "the lab needs root (network namespaces, TAP devices, nftables)";
        }

        var missing = Tools.Where(t => FindOnPath(t.Tool) is null).Select(t => $"lab needs `{t.Tool}`: {t.Install}").ToList();
        if (!File.Exists("/dev/net/tun"))
        {
            missing.Add("lab needs /dev/net/tun (the TUN/TAP driver) for its delayed links: modprobe tun");
        }

        return missing.Count == 0 ? null : string.Join("; ", missing);
    }

    internal static string? FindOnPath(string tool)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>A test that runs in the network lab: skipped, with the reason, where the lab cannot run (never under CI).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        if (LabRequirements.Missing is { } why && !LabRequirements.InCi)
        {
            Skip = "could not run in the network lab: " + why;
        }
    }
}
