using System.Net.NetworkInformation;
using System.Net.Sockets;
using HeMif.Interfaces;

namespace HeMif.Transports.Discovery;

/// <summary>
/// Reads the host's interfaces: addresses and link state from <see cref="NetworkInterface"/>, the kind from Linux sysfs
/// (<c>/sys/class/net/IF/wireless</c>, <c>uevent</c> DEVTYPE <c>wlan</c>/<c>wwan</c>, <c>type</c>), then the name
/// (rmnet*, wwan* cellular; tun*, wg*, ppp* VPN; eth*, en* Ethernet); per-interface DNS servers where the OS keeps
/// them per interface (Windows: <see cref="DnsServersFromOs"/>). What the OS cannot tell (cost flags, PvD, per-interface
/// DNS servers on Linux, where .NET reports the global resolv.conf for every interface) comes from the host resolver,
/// systemd-networkd's state or <see cref="HostOverrides"/>; without them an interface's DNS servers are unknown and the
/// system resolver is used for it, which the timeline says.
/// </summary>
internal sealed class InterfaceDiscovery(string sysfsRoot = "/sys/class/net")
{
    /// <summary>ARPHRD_LOOPBACK and ARPHRD_NONE (tun devices) from linux/if_arp.h.</summary>
    private const int ArphrdLoopback = 772;
    private const int ArphrdNone = 65534;

    /// <summary>The host's interfaces now, with <paramref name="overrides"/> applied.</summary>
    public IReadOnlyList<InterfaceFacts> Discover(HostOverrides? overrides = null)
    {
        var found = new List<InterfaceFacts>();
        foreach (var ni in NetworkInterface.GetAllNetworkInterfaces())
        {
            var properties = ni.GetIPProperties();
            var addresses = properties.UnicastAddresses
                .Where(u => u.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(u => new InterfaceAddress(u.Address, u.PrefixLength))
                .ToList();
            var up = ni.OperationalStatus == OperationalStatus.Up
                     || (ni.OperationalStatus == OperationalStatus.Unknown && addresses.Count > 0); // tun and lo report Unknown
            found.Add(new InterfaceFacts(ni.Name, Classify(ni.Name))
            {
                IsUp = up,
                Addresses = addresses,
                DnsServers = DnsServersFromOs(OperatingSystem.IsWindows(), () => properties.DnsAddresses),
                Sources = InterfaceFactSources.OperatingSystem,
            });
        }

        return overrides is null ? found : overrides.ApplyTo(found);
    }

    /// <summary>
    /// An interface's own DNS servers as the OS reports them, where it reports them per interface: Windows keeps them per
    /// adapter (<see cref="IPInterfaceProperties.DnsAddresses"/>). On Linux and macOS .NET answers with the global
    /// resolv.conf for every interface, which says nothing about one interface, so nothing is taken there (the host
    /// resolver over D-Bus, systemd-networkd's state or the override file say it instead). Windows' placeholder
    /// site-local servers (fec0:0:0:ffff::1-3, RFC 3879 deprecated) are left out.
    /// </summary>
    internal static IReadOnlyList<System.Net.IPAddress> DnsServersFromOs(bool perInterface, Func<IEnumerable<System.Net.IPAddress>> reported)
    {
        if (!perInterface)
        {
            return [];
        }

        try
        {
            return [.. reported().Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 && !a.IsIPv6SiteLocal).Distinct()];
        }
        catch (NetworkInformationException)
        {
            return []; // the adapter went away between the listing and the read
        }
    }

    /// <summary>The kind, from sysfs first, then the name.</summary>
    internal InterfaceKind Classify(string name)
    {
        var dir = Path.Combine(sysfsRoot, name);
        if (Directory.Exists(Path.Combine(dir, "wireless")) || Directory.Exists(Path.Combine(dir, "phy80211")))
        {
            return InterfaceKind.Wifi;
        }

        var devType = ReadKey(Path.Combine(dir, "uevent"), "DEVTYPE");
        switch (devType)
        {
            case "wlan":
                return InterfaceKind.Wifi;
            case "wwan":
                return InterfaceKind.Cellular;
        }

        if (int.TryParse(ReadFirstLine(Path.Combine(dir, "type")), out var type))
        {
            if (type == ArphrdLoopback)
            {
                return InterfaceKind.Loopback;
            }

            if (type == ArphrdNone)
            {
                return InterfaceKind.Vpn;
            }
        }

        return FromName(name);
    }

    internal static InterfaceKind FromName(string name) => name switch
    {
        "lo" => InterfaceKind.Loopback,
        _ when Starts(name, "wlan", "wlp", "wifi") => InterfaceKind.Wifi,
        _ when Starts(name, "rmnet", "wwan", "ccmni", "pdp", "usb") => InterfaceKind.Cellular,
        _ when Starts(name, "tun", "tap", "wg", "ppp", "utun", "ipsec", "vpn") => InterfaceKind.Vpn,
        _ when Starts(name, "eth", "en", "em") => InterfaceKind.Ethernet,
        _ => InterfaceKind.Other,
    };

    private static bool Starts(string name, params string[] prefixes) => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadKey(string path, string key)
    {
        try
        {
            return File.Exists(path)
                ? File.ReadLines(path).Select(l => l.Split('=', 2)).Where(p => p.Length == 2 && p[0] == key).Select(p => p[1].Trim()).FirstOrDefault()
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
