using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tmds.DBus.Protocol;

namespace HeMif.Integration.Tests;

/// <summary>
/// A private D-Bus bus of the tests' own: Debian's <c>dbus-daemon</c> with a configuration written here, listening on a
/// socket in a temp directory (a path socket, so processes in any network namespace reach it). Disposing stops the
/// daemon and deletes the directory, also when the test failed.
/// </summary>
public sealed class PrivateBus : IAsyncDisposable
{
    private readonly Process _daemon;
    private readonly DirectoryInfo _dir;

    private PrivateBus(Process daemon, DirectoryInfo dir, string address)
    {
        _daemon = daemon;
        _dir = dir;
        Address = address;
    }

    /// <summary>The bus address (<c>unix:path=…</c>) to give clients (DBUS_SYSTEM_BUS_ADDRESS).</summary>
    public string Address { get; }

    /// <summary>Why a private bus cannot be started here, or null.</summary>
    public static string? Missing => LabRequirements.FindOnPath("dbus-daemon") is null
        ? "a private D-Bus bus needs `dbus-daemon`: apt-get install dbus-daemon (.ci/run installs it)"
        : null;

    /// <summary>Starts the daemon and waits (bounded) until it says its address.</summary>
    public static async Task<PrivateBus> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("hemif-bus-");
        var socket = Path.Combine(dir.FullName, "bus");
        var config = Path.Combine(dir.FullName, "bus.conf");
        // Anyone on this private bus may own any name and call anything: it holds only the test's stand-in.
        await File.WriteAllTextAsync(config, $"""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>custom</type>
              <listen>unix:path={socket}</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/>
                <allow own="*"/>
                <allow send_destination="*"/>
                <allow receive_sender="*"/>
              </policy>
            </busconfig>
            """);
        var info = new ProcessStartInfo(LabRequirements.FindOnPath("dbus-daemon")!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["--config-file=" + config, "--nofork", "--nopidfile", "--print-address=1"])
        {
            info.ArgumentList.Add(arg);
        }

        var daemon = Process.Start(info) ?? throw new InvalidOperationException("could not start dbus-daemon");
        try
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a hang guard, not a timing assertion
            var address = await daemon.StandardOutput.ReadLineAsync(guard.Token)
                          ?? throw new InvalidOperationException("dbus-daemon ended without an address: " + await daemon.StandardError.ReadToEndAsync(guard.Token));
            return new PrivateBus(daemon, dir, address.Trim());
        }
        catch
        {
            Stop(daemon);
            dir.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop(_daemon);
        await _daemon.WaitForExitAsync();
        _daemon.Dispose();
        _dir.Delete(recursive: true);
    }

    private static void Stop(Process daemon)
    {
        if (!daemon.HasExited)
        {
            daemon.Kill(entireProcessTree: true);
        }
    }
}

/// <summary>
/// A stand-in for systemd-resolved on a private bus: owns <c>org.freedesktop.resolve1</c> and answers
/// <c>org.freedesktop.DBus.Properties.Get</c> for the Manager's <c>DNS</c> (<c>a(iiay)</c>) and <c>Domains</c>
/// (<c>a(isb)</c>) on <c>/org/freedesktop/resolve1</c>, with the links it was given, as resolved documents them
/// (org.freedesktop.resolve1(5)).
/// </summary>
public sealed class ResolvedStandIn : IPathMethodHandler, IDisposable
{
    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private readonly DBusConnection _connection;
    private readonly IReadOnlyList<(int IfIndex, IPAddress Server)> _servers;
    private readonly IReadOnlyList<(int IfIndex, string Domain)> _domains;

    private ResolvedStandIn(DBusConnection connection, IReadOnlyList<(int, IPAddress)> servers, IReadOnlyList<(int, string)> domains)
    {
        _connection = connection;
        _servers = servers;
        _domains = domains;
    }

    /// <summary>How many property reads it answered.</summary>
    public int Answered { get; private set; }

    public string Path => "/org/freedesktop/resolve1";

    public bool HandlesChildPaths => false;

    /// <summary>Connects to <paramref name="address"/>, serves the object and takes the name.</summary>
    public static async Task<ResolvedStandIn> StartAsync(string address, IReadOnlyList<(int, IPAddress)> servers, IReadOnlyList<(int, string)> domains)
    {
        var connection = new DBusConnection(address);
        try
        {
            await connection.ConnectAsync();
            var standIn = new ResolvedStandIn(connection, servers, domains);
            connection.AddMethodHandler(standIn);
            await connection.RequestNameAsync("org.freedesktop.resolve1", RequestNameOptions.Default);
            return standIn;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        var request = context.Request;
        if (request.InterfaceAsString != "org.freedesktop.DBus.Properties" || request.MemberAsString != "Get")
        {
            context.ReplyUnknownMethodError();
            return default;
        }

        var reader = request.GetBodyReader();
        var @interface = reader.ReadString();
        var property = reader.ReadString();
        if (@interface != "org.freedesktop.resolve1.Manager" || property is not ("DNS" or "Domains"))
        {
            context.ReplyError("org.freedesktop.DBus.Error.UnknownProperty", $"no property {@interface}.{property} here");
            return default;
        }

        using var writer = context.CreateReplyWriter("v");
        if (property == "DNS")
        {
            writer.WriteSignature("a(iiay)");
            var array = writer.WriteArrayStart(DBusType.Struct);
            foreach (var (index, server) in _servers)
            {
                writer.WriteStructureStart();
                writer.WriteInt32(index);
                writer.WriteInt32(server.AddressFamily == AddressFamily.InterNetwork ? AfInet : AfInet6);
                writer.WriteArray(server.GetAddressBytes());
            }

            writer.WriteArrayEnd(array);
        }
        else
        {
            writer.WriteSignature("a(isb)");
            var array = writer.WriteArrayStart(DBusType.Struct);
            foreach (var (index, domain) in _domains)
            {
                writer.WriteStructureStart();
                writer.WriteInt32(index);
                writer.WriteString(domain);
                writer.WriteBool(false);
            }

            writer.WriteArrayEnd(array);
        }

        context.Reply(writer.CreateMessage());
        Answered++;
        return default;
    }

    public void Dispose() => _connection.Dispose();
}
