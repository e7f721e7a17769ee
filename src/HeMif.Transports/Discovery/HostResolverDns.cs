using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using Tmds.DBus.Protocol;

namespace HeMif.Discovery;

/// <summary>How reading the host resolver's per-link DNS went.</summary>
public enum HostDnsState
{
    /// <summary>Not read: the interfaces were given by the application, or reading is switched off.</summary>
    Off,

    /// <summary>Read: systemd-resolved answered (some interfaces may have no servers of their own).</summary>
    Read,

    /// <summary>Could not be read (no system bus, resolved not running, no answer in time, a malformed reply): see the detail.</summary>
    Unavailable,
}

/// <summary>Why the host resolver's per-link DNS could not be read.</summary>
public enum HostDnsProblem
{
    /// <summary>No problem.</summary>
    None,

    /// <summary>There is no system bus address, or nothing listens at it.</summary>
    NoBus,

    /// <summary>The bus answered that nobody owns <c>org.freedesktop.resolve1</c> (systemd-resolved is not running), or it refused the call.</summary>
    NoResolver,

    /// <summary>The bus or resolved did not answer within the bounded wait.</summary>
    Timeout,

    /// <summary>resolved's reply did not have the documented shape (<c>a(iiay)</c>, <c>a(isb)</c>) or held an impossible value.</summary>
    MalformedReply,
}

/// <summary>How reading the host resolver's per-link DNS went, in data and in words.</summary>
/// <param name="State">Read, unavailable or off.</param>
/// <param name="Problem">Why it is unavailable (<see cref="HostDnsProblem.None"/> otherwise).</param>
/// <param name="Detail">A sentence: what was read, or what went wrong and where.</param>
public sealed record HostDnsStatus(HostDnsState State, HostDnsProblem Problem, string Detail)
{
    /// <summary>Not read (given interfaces, or switched off).</summary>
    public static HostDnsStatus Off { get; } = new(HostDnsState.Off, HostDnsProblem.None, "the host resolver is not read (the interfaces were given, or reading it is off)");
}

/// <summary>What the host resolver says about one link (an interface by its kernel index).</summary>
/// <param name="IfIndex">The interface index (Linux <c>ifindex</c>).</param>
/// <param name="Servers">Its DNS servers, in resolved's order, each once.</param>
/// <param name="SearchDomains">Its search domains (routing-only domains, <c>~example.com</c>, are not search domains and are left out).</param>
internal sealed record HostDnsLink(int IfIndex, IReadOnlyList<IPAddress> Servers, IReadOnlyList<string> SearchDomains);

/// <summary>One reading of the host resolver: each link's DNS, and how the reading went.</summary>
internal sealed record HostDnsSnapshot(IReadOnlyDictionary<int, HostDnsLink> Links, HostDnsStatus Status)
{
    public static HostDnsSnapshot Failed(HostDnsProblem problem, string detail) =>
        new(new Dictionary<int, HostDnsLink>(), new HostDnsStatus(HostDnsState.Unavailable, problem, detail));
}

/// <summary>
/// Maps systemd-resolved's Manager properties to per-link DNS (pure: tests give it any reply). resolved documents
/// (org.freedesktop.resolve1(5)): <c>DNS</c> is <c>a(iiay)</c>, "the interface index (or 0 for global), the address
/// family (AF_INET or AF_INET6), and the address as a byte array"; <c>Domains</c> is <c>a(isb)</c>, "the interface index,
/// the domain name, and a boolean that indicates whether the domain is a routing-only domain". Global entries
/// (index 0) are the system resolver's, which HeMif already falls back to; they are left out. Any entry that does not
/// have that shape, an address family other than AF_INET/AF_INET6, an address whose length does not fit its family, a
/// negative index or a domain that is not a domain name refuses the whole reply, naming the entry: a resolver that says
/// something impossible is not believed in part.
/// </summary>
internal static class ResolvedReply
{
    /// <summary>AF_INET and AF_INET6 on Linux.</summary>
    private const int AfInet = 2;
    private const int AfInet6 = 10;

    /// <summary>More entries than this is not a host's configuration: refused, not kept.</summary>
    internal const int MaxEntries = 1024;

    /// <summary>Maps the <c>DNS</c> and <c>Domains</c> property values (the variants' contents).</summary>
    public static HostDnsSnapshot Map(VariantValue dns, VariantValue domains)
    {
        var servers = new SortedDictionary<int, List<IPAddress>>();
        var searches = new SortedDictionary<int, List<string>>();
        if (Problem(dns, "DNS", 3, out var count) is { } dnsProblem)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, dnsProblem);
        }

        for (var i = 0; i < count; i++)
        {
            var at = $"DNS[{i}]";
            var entry = dns.GetItem(i);
            if ((Field(entry, 0, VariantValueType.Int32, at) ?? Field(entry, 1, VariantValueType.Int32, at) ?? Field(entry, 2, VariantValueType.Array, at)) is { } shape)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, shape);
            }

            var index = entry.GetItem(0).GetInt32();
            var family = entry.GetItem(1).GetInt32();
            var bytesValue = entry.GetItem(2);
            if (bytesValue.Count > 16 || Enumerable.Range(0, bytesValue.Count).Any(b => bytesValue.GetItem(b).Type != VariantValueType.Byte))
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected the address as at most 16 bytes (ay); found {bytesValue.Count} items");
            }

            var bytes = Enumerable.Range(0, bytesValue.Count).Select(b => bytesValue.GetItem(b).GetByte()).ToArray();
            var expected = family switch { AfInet => 4, AfInet6 => 16, _ => -1 };
            if (index < 0)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected an interface index of 0 or more; found {index}");
            }

            if (expected < 0)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected address family 2 (AF_INET) or 10 (AF_INET6); found {family}");
            }

            if (bytes.Length != expected)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected a {expected}-byte address for family {family}; found {bytes.Length} bytes");
            }

            if (index == 0)
            {
                continue; // global: the system resolver's, not one link's
            }

            var address = new IPAddress(bytes);
            var list = servers.TryGetValue(index, out var l) ? l : servers[index] = [];
            if (!list.Contains(address))
            {
                list.Add(address);
            }
        }

        if (Problem(domains, "Domains", 3, out count) is { } domainsProblem)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, domainsProblem);
        }

        for (var i = 0; i < count; i++)
        {
            var at = $"Domains[{i}]";
            var entry = domains.GetItem(i);
            if ((Field(entry, 0, VariantValueType.Int32, at) ?? Field(entry, 1, VariantValueType.String, at) ?? Field(entry, 2, VariantValueType.Bool, at)) is { } shape)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, shape);
            }

            var index = entry.GetItem(0).GetInt32();
            var name = entry.GetItem(1).GetString().TrimEnd('.');
            var routingOnly = entry.GetItem(2).GetBool();
            if (index < 0)
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected an interface index of 0 or more; found {index}");
            }

            if (name.Length > 0 && !DomainNames.IsValid(name))
            {
                return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"{at}: expected a domain name; found \"{Printable(name)}\"");
            }

            if (index == 0 || routingOnly || name.Length == 0)
            {
                continue;
            }

            var list = searches.TryGetValue(index, out var l) ? l : searches[index] = [];
            if (!list.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                list.Add(name);
            }
        }

        var links = new Dictionary<int, HostDnsLink>();
        foreach (var index in servers.Keys.Union(searches.Keys))
        {
            links[index] = new HostDnsLink(index, servers.GetValueOrDefault(index) ?? [], searches.GetValueOrDefault(index) ?? []);
        }

        var detail = links.Count == 0
            ? "systemd-resolved answered: no interface has DNS servers or search domains of its own"
            : $"systemd-resolved answered: {links.Count} interface(s) with DNS of their own";
        return new HostDnsSnapshot(links, new HostDnsStatus(HostDnsState.Read, HostDnsProblem.None, detail));
    }

    private static string? Problem(VariantValue value, string property, int fields, out int count)
    {
        count = 0;
        if (value.Type != VariantValueType.Array)
        {
            return $"{property}: expected an array of structs of {fields} fields; found a {value.Type}";
        }

        count = value.Count;
        return count > MaxEntries ? $"{property}: expected at most {MaxEntries} entries; found {count}" : null;
    }

    private static string? Field(VariantValue entry, int field, VariantValueType type, string at)
    {
        if (entry.Type != VariantValueType.Struct || entry.Count != 3)
        {
            return $"{at}: expected a struct of 3 fields; found a {entry.Type}{(entry.Type == VariantValueType.Struct ? $" of {entry.Count}" : "")}";
        }

        var item = entry.GetItem(field);
        return item.Type == type ? null : $"{at}.{field}: expected a {type}; found a {item.Type}";
    }

    private static string Printable(string s) => new([.. s.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);
}

/// <summary>
/// Reads systemd-resolved's per-link DNS over D-Bus (the system bus, or the address given), bounded in time: the
/// <c>org.freedesktop.DBus.Properties.Get</c> calls for <c>org.freedesktop.resolve1.Manager</c>'s <c>DNS</c> and
/// <c>Domains</c> properties on <c>/org/freedesktop/resolve1</c>. Never throws and never waits longer than its timeout:
/// every way it can fail is a <see cref="HostDnsStatus"/> with the reason, and HeMif goes on without host DNS.
/// </summary>
internal sealed class ResolvedClient(string? busAddress, TimeSpan timeout)
{
    private const string Service = "org.freedesktop.resolve1";
    private const string ObjectPath = "/org/freedesktop/resolve1";
    private const string ManagerInterface = "org.freedesktop.resolve1.Manager";

    /// <summary>The default bound on one reading: a start-up is never held longer than this by the bus.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The bus address used: the one given, else <c>DBUS_SYSTEM_BUS_ADDRESS</c>, else the standard system bus socket.</summary>
    public string? Address { get; } = busAddress ?? DBusAddress.System;

    /// <summary>Reads now, at most <c>timeout</c> long.</summary>
    public async Task<HostDnsSnapshot> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(Address))
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.NoBus, "there is no system bus address (DBUS_SYSTEM_BUS_ADDRESS is not set and this platform has no default)");
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var connection = new DBusConnection(Address);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(bounded.Token).ConfigureAwait(false);
            var dns = await GetAsync(connection, "DNS").WaitAsync(bounded.Token).ConfigureAwait(false);
            var domains = await GetAsync(connection, "Domains").WaitAsync(bounded.Token).ConfigureAwait(false);
            return ResolvedReply.Map(dns, domains);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.Timeout, $"the bus at {Address} or systemd-resolved did not answer within {timeout.TotalMilliseconds:0} ms");
        }
        catch (DBusErrorReplyException e)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.NoResolver, $"the bus at {Address} refused the call to {Service} ({e.ErrorName}: {e.ErrorMessage}): systemd-resolved is not running or not reachable");
        }
        catch (Exception e) when (e is DBusReadException or DBusUnexpectedValueException or DBusMessageException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.MalformedReply, $"systemd-resolved's reply could not be read: {e.Message}");
        }
        catch (Exception e) when (e is DBusExceptionBase or SocketException or IOException)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.NoBus, $"no D-Bus system bus at {Address}: {e.Message}");
        }
        finally
        {
            connection.Dispose();
        }
    }

    /// <summary>Reads now from a synchronous caller (start-up, the interface watcher's tick), at most <c>timeout</c> long.</summary>
    public HostDnsSnapshot Read()
    {
        try
        {
            // ReadAsync bounds itself; this outer bound is a second guard against a library call that ignores it.
            return ReadAsync().WaitAsync(timeout + TimeSpan.FromSeconds(1)).GetAwaiter().GetResult();
        }
        catch (TimeoutException)
        {
            return HostDnsSnapshot.Failed(HostDnsProblem.Timeout, $"the bus at {Address} did not answer within {timeout.TotalMilliseconds:0} ms");
        }
    }

    private static Task<VariantValue> GetAsync(DBusConnection connection, string property)
    {
        MessageBuffer message;
        using (var writer = connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader(destination: Service, path: ObjectPath, @interface: "org.freedesktop.DBus.Properties",
                signature: "ss", member: "Get");
            writer.WriteString(ManagerInterface);
            writer.WriteString(property);
            message = writer.CreateMessage();
        }

        return connection.CallMethodAsync(message, static (Message reply, object? _) => reply.GetBodyReader().ReadVariantValue(), null);
    }
}

/// <summary>
/// The connector's reading of the host resolver: wraps interface discovery so that every reading (at start, on each
/// interface watcher tick and OS network event) asks resolved again, and keeps how the last reading went.
/// </summary>
internal sealed class HostDnsReading(ResolvedClient? client, string? networkdDirectory = null, Func<string, int?>? indexOf = null, Func<bool>? inNetworkdsNamespace = null)
{
    private HostDnsStatus _status = HostDnsStatus.Off;

    /// <summary>How the last reading went (resolved's, then networkd's state in the detail when there is any).</summary>
    public HostDnsStatus Status => Volatile.Read(ref _status);

    /// <summary>
    /// <paramref name="discover"/>, with the host resolver's per-link DNS applied, then systemd-networkd's state for the
    /// interfaces resolved said nothing about (as is when neither is read).
    /// </summary>
    public Func<IReadOnlyList<InterfaceFacts>> Around(Func<IReadOnlyList<InterfaceFacts>> discover) => client is null && networkdDirectory is null ? discover : () =>
    {
        var index = indexOf ?? (name => HostDns.IndexOf(name));
        var found = discover();
        var status = HostDnsStatus.Off;
        if (client is not null)
        {
            var snapshot = client.Read();
            status = snapshot.Status;
            found = HostDns.Apply(found, snapshot.Links, index, FactSource.HostResolver);
        }

        if (networkdDirectory is not null)
        {
            var networkd = NetworkdState.Read(networkdDirectory, found.Select(f => index(f.Name)).OfType<int>(), inNetworkdsNamespace);
            var gave = networkd.Links.Values.Any(static l => l.Servers.Count > 0);
            if (networkd.Detail is { } detail && (gave || networkd.Refused))
            {
                // Said only when networkd's state gave something or refused a file: an empty state directory (networkd
                // running without DNS for these links) leaves resolved's status as it was.
                found = HostDns.Apply(found, networkd.Links, index, FactSource.SystemdNetworkd);
                status = status.State == HostDnsState.Read ? status with { Detail = $"{status.Detail}; {detail}" }
                    : gave ? new HostDnsStatus(HostDnsState.Read, HostDnsProblem.None, status.State == HostDnsState.Off ? detail : $"{detail}; resolved: {status.Detail}")
                    : status with { Detail = $"{status.Detail}; {detail}" };
            }
        }

        Volatile.Write(ref _status, status);
        return found;
    };
}

/// <summary>Puts the host resolver's per-link DNS onto discovered interfaces (by their kernel index).</summary>
internal static class HostDns
{
    /// <summary>
    /// Each interface whose DNS servers nobody stated (their source is the OS: none) gets its link's servers and search
    /// domains, with <see cref="FactSource.HostResolver"/>; the override file, applied after, still wins.
    /// </summary>
    public static IReadOnlyList<InterfaceFacts> Apply(IReadOnlyList<InterfaceFacts> interfaces, HostDnsSnapshot snapshot, Func<string, int?> indexOf) =>
        Apply(interfaces, snapshot.Links, indexOf, FactSource.HostResolver);

    /// <summary>
    /// Each interface whose DNS servers nobody stated (their source is the OS: none) gets its link's servers and search
    /// domains from <paramref name="links"/>, with <paramref name="source"/>: so resolved, applied first, wins over
    /// networkd's state, applied after; the override file, applied after both, still wins.
    /// </summary>
    public static IReadOnlyList<InterfaceFacts> Apply(IReadOnlyList<InterfaceFacts> interfaces, IReadOnlyDictionary<int, HostDnsLink> links, Func<string, int?> indexOf, FactSource source)
    {
        if (links.Count == 0)
        {
            return interfaces;
        }

        return [.. interfaces.Select(f =>
            f.Sources.DnsServers == FactSource.OperatingSystem && f.DnsServers.Count == 0
            && indexOf(f.Name) is { } index && links.TryGetValue(index, out var link) && link.Servers.Count > 0
                ? f with { DnsServers = link.Servers, SearchDomains = link.SearchDomains, Sources = f.Sources with { DnsServers = source } }
                : f)];
    }

    /// <summary>The kernel's index of an interface (Linux sysfs <c>/sys/class/net/NAME/ifindex</c>), or null.</summary>
    public static int? IndexOf(string name, string sysfsRoot = "/sys/class/net")
    {
        try
        {
            var path = Path.Combine(sysfsRoot, name, "ifindex");
            return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var index) ? index : null;
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
