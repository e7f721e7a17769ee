using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace HeMif.Transports.Mptcp;

/// <summary>One interface as the kernel reports it: its name and its addresses.</summary>
internal sealed record KernelInterface(string Name, IReadOnlyList<IPAddress> Addresses);

/// <summary>
/// Checks an interface name and an address against what the kernel reports before either is handed to a child process
/// (<c>ip mptcp endpoint add ADDRESS dev NAME</c>). Interface facts can come from an application
/// (<c>HeMifConnectorOptions.Interfaces</c>) or an override file, so a name may be anything: with spaces, a leading dash,
/// shell characters, a newline. <see cref="ProcessCommandRunner"/> never uses a shell and each value is one argument
/// after its keyword, but only a name the kernel itself reported, carrying an address the kernel has on it, is used at
/// all: anything else is refused with the reason and never reaches <c>ip</c>.
/// </summary>
internal sealed class KernelInterfaces(Func<IReadOnlyList<KernelInterface>> read)
{
    /// <summary>Linux's <c>IFNAMSIZ</c> (16) less the terminating NUL.</summary>
    public const int MaxNameBytes = 15;

    /// <summary>The host's interfaces now, as the kernel reports them (netlink / getifaddrs, through .NET).</summary>
    public static KernelInterfaces Host { get; } = new(ReadHost);

    /// <summary>
    /// Null when <paramref name="name"/> is a valid Linux interface name that the kernel reports now, with
    /// <paramref name="address"/> among its addresses; otherwise why not.
    /// </summary>
    public string? Refusal(string name, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(address);
        if (InvalidName(name) is { } invalid)
        {
            return invalid;
        }

        var kernel = read().FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));
        if (kernel is null)
        {
            return "the kernel reports no interface of that name";
        }

        return kernel.Addresses.Contains(address) ? null : $"the kernel reports no address {address} on it";
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot be a Linux interface name, or null. The kernel's own rule
    /// (<c>dev_valid_name</c> in net/core/dev.c): not empty, shorter than IFNAMSIZ, not "." or "..", and no '/', ':' or
    /// white space; a NUL would cut the name short in C, so it is refused too.
    /// </summary>
    public static string? InvalidName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            return "an empty interface name";
        }

        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            return $"an interface name longer than {MaxNameBytes} bytes";
        }

        if (name is "." or "..")
        {
            return "not an interface name ('.' or '..')";
        }

        foreach (var c in name)
        {
            // The kernel's isspace(): space, \t, \n, \v, \f, \r.
            if (c is '/' or ':' or '\0' or ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
            {
                return "an interface name with a character Linux does not allow in one ('/', ':', white space or NUL)";
            }
        }

        return null;
    }

    private static IReadOnlyList<KernelInterface> ReadHost()
    {
        try
        {
            return [.. NetworkInterface.GetAllNetworkInterfaces().Select(i => new KernelInterface(i.Name,
                [.. i.GetIPProperties().UnicastAddresses.Select(u => u.Address)
                    .Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)]))];
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }
}
