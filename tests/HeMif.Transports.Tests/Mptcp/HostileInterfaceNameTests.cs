using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using HeMif.Multipath;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// Issue 17, "a hostile network": nothing HeMif passes to a child process (<c>ip mptcp</c>) can be read as an option
/// or a second command. Interface facts may come from an application (<c>HeMifConnectorOptions.Interfaces</c>), so a
/// name can be anything; the path manager uses a name and an address only when the kernel reports that interface with
/// that address, and then as one argument after <c>dev</c>, never through a shell. Names with spaces, dashes and shell
/// characters, against a fake <c>ip</c> (the exact argv) and, as root, against the real one in a namespace of ours.
/// </summary>
public sealed class HostileInterfaceNameTests
{
    private static readonly IPAddress Wifi = IPAddress.Parse("2001:db8:1::2");
    private static readonly IPAddress Other = IPAddress.Parse("2001:db8:2::2");
    private readonly FakeIp _ip = new();

    /// <summary>Names Linux accepts (dev_valid_name) but a shell or an option parser would not read as a plain word.</summary>
    public static TheoryData<string> KernelValidHostileNames => new()
    {
        "-j", "--help", "-n", "help", "dev", "x;id", "$(id)", "`id`", "a|b&c>d", "x\"'y", "*", "\u001b[2J",
    };

    /// <summary>Names the kernel never reports (white space, '/', ':', NUL, too long, '.', '..', empty).</summary>
    public static TheoryData<string> KernelInvalidNames => new()
    {
        "wlan 0", "wlan0\nmptcp", "wlan0\t", "", ".", "..", "a/b", "a:b", "a\0b", "0123456789abcdef",
    };

    /// <summary>A name the kernel reports, however odd, is one argv element right after <c>dev</c>: nothing to split, nothing to parse as an option.</summary>
    [Theory]
    [MemberData(nameof(KernelValidHostileNames))]
    public async Task A_name_the_kernel_reports_is_passed_as_one_argument_after_dev(string name)
    {
        await using var manager = Manager(new KernelInterfaces(() => [new KernelInterface("wlan0", [Wifi]), new KernelInterface(name, [Other])]), name);

        await manager.ApplyAsync(Plan(("wlan0", SubflowRole.Primary), (name, SubflowRole.Active)));

        var add = Assert.Single(_ip.Argvs, a => a.AsSpan(0, 3).SequenceEqual(["mptcp", "endpoint", "add"]));
        Assert.Equal(["mptcp", "endpoint", "add", "2001:db8:2::2", "dev", name, "id", "1", "subflow"], add);
    }

    /// <summary>A name the kernel cannot have never reaches <c>ip</c>, even if something claims the kernel reported it; the log says why.</summary>
    [Theory]
    [MemberData(nameof(KernelInvalidNames))]
    public async Task A_name_Linux_does_not_allow_never_reaches_ip(string name)
    {
        await using var manager = Manager(new KernelInterfaces(() => [new KernelInterface("wlan0", [Wifi]), new KernelInterface(name, [Other])]), name);

        var log = await manager.ApplyAsync(Plan(("wlan0", SubflowRole.Primary), (name, SubflowRole.Active)));

        Assert.DoesNotContain(_ip.Argvs, a => a.Contains(name));
        Assert.Empty(_ip.Endpoints);
        Assert.Contains(log, l => l.StartsWith(name + ": not used for an endpoint: ", StringComparison.Ordinal));
        Assert.NotNull(KernelInterfaces.InvalidName(name));
    }

    [Fact]
    public async Task A_name_the_kernel_does_not_report_never_reaches_ip()
    {
        await using var manager = Manager(new KernelInterfaces(() => [new KernelInterface("wlan0", [Wifi])]), "rmnet0");

        var log = await manager.ApplyAsync(Plan(("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Empty(_ip.Changes);
        Assert.Contains("rmnet0: not used for an endpoint: the kernel reports no interface of that name", log);
    }

    /// <summary>An address the application claims for an interface, but the kernel does not have on it, is not used either.</summary>
    [Fact]
    public async Task An_address_the_kernel_does_not_have_on_the_interface_never_reaches_ip()
    {
        await using var manager = Manager(new KernelInterfaces(() => [new KernelInterface("wlan0", [Wifi]), new KernelInterface("rmnet0", [IPAddress.Parse("2001:db8:9::9")])]), "rmnet0");

        var log = await manager.ApplyAsync(Plan(("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Empty(_ip.Changes);
        Assert.Contains("rmnet0: not used for an endpoint: the kernel reports no address 2001:db8:2::2 on it", log);
    }

    [Theory]
    [InlineData("wlan0", null)]
    [InlineData("0123456789abcde", null)]
    [InlineData("-j", null)]
    [InlineData("0123456789abcdef", "an interface name longer than 15 bytes")]
    [InlineData("wlän01234567890", "an interface name longer than 15 bytes")]
    [InlineData("", "an empty interface name")]
    [InlineData("..", "not an interface name ('.' or '..')")]
    [InlineData("a\u000bb", "an interface name with a character Linux does not allow in one ('/', ':', white space or NUL)")]
    public void Linux_interface_name_rules_are_the_kernels(string name, string? why) => Assert.Equal(why, KernelInterfaces.InvalidName(name));

    /// <summary>
    /// The real <c>ip</c> and kernel, in a network namespace of this test's own: veth devices named <c>-j</c> and
    /// <c>x;id$(id)`id`</c> get their MPTCP endpoints with exactly those names as the device (ip took each as one
    /// device name: no option, no command substitution), and dispose removes them. The namespace is removed again, also
    /// on failure.
    /// </summary>
    [RootFact]
    public async Task The_real_ip_gets_hostile_names_as_device_names_and_nothing_else()
    {
        var ns = $"hm17n{Environment.ProcessId}{Random.Shared.Next(1000, 9999)}";
        const string Dash = "-j";
        const string Shell = "x;id$(id)`id`";
        try
        {
            Ip("netns", "add", ns);
            Ip("-n", ns, "link", "add", "name", Dash, "type", "veth", "peer", "name", Shell);
            Ip("-n", ns, "link", "set", "dev", Dash, "up");
            Ip("-n", ns, "link", "set", "dev", Shell, "up");
            Ip("-n", ns, "addr", "add", "2001:db8:17::1/64", "dev", Dash, "nodad");
            Ip("-n", ns, "addr", "add", "2001:db8:17::2/64", "dev", Shell, "nodad");
            var kernel = new KernelInterfaces(() => ReadNamespace(ns));
            var addresses = new Dictionary<string, IPAddress> { [Dash] = IPAddress.Parse("2001:db8:17::1"), [Shell] = IPAddress.Parse("2001:db8:17::2") };
            var runner = new NamespacedRunner(ns);
            var manager = new LinuxPathManager(runner, (name, family) => family == AddressFamily.InterNetworkV6 ? addresses.GetValueOrDefault(name) : null, kernel);
            await using (manager)
            {
                // Before the race, both are planned: the Primary gets none (it carries the initial subflow), the other one.
                await manager.ApplyAsync(new SubflowPlan(MultipathMode.Aggregate, "svc.lab.example", 5201,
                    [new SubflowAssignment(Dash, SubflowRole.Active, "test"), new SubflowAssignment(Shell, SubflowRole.Active, "test")], [], "test"));

                var endpoints = Endpoints(ns);
                Assert.Equal([("2001:db8:17::1", Dash), ("2001:db8:17::2", Shell)], endpoints.OrderBy(e => e.Address, StringComparer.Ordinal));
            }

            Assert.Empty(Endpoints(ns));
            Assert.Contains(runner.Argvs, a => a.SequenceEqual(["mptcp", "endpoint", "add", "2001:db8:17::2", "dev", Shell, "id", "2", "subflow"]));
        }
        finally
        {
            Ip(check: false, "netns", "del", ns);
        }
    }

    private LinuxPathManager Manager(KernelInterfaces kernel, string name)
    {
        var manager = new LinuxPathManager(_ip, (n, family) => family != AddressFamily.InterNetworkV6 ? null : n == "wlan0" ? Wifi : n == name ? Other : null, kernel);
        manager.Connected(new IPEndPoint(Wifi, 40000));
        return manager;
    }

    private static SubflowPlan Plan(params (string Interface, SubflowRole Role)[] subflows) =>
        new(MultipathMode.Aggregate, "svc.lab.example", 5201, subflows.Select(s => new SubflowAssignment(s.Interface, s.Role, "test")).ToList(), [], "first plan");

    private static List<(string Address, string? Dev)> Endpoints(string ns)
    {
        using var document = JsonDocument.Parse(Ip("-n", ns, "-j", "mptcp", "endpoint", "show") is { Length: > 0 } json ? json : "[]");
        return [.. document.RootElement.EnumerateArray().Select(e => (e.GetProperty("address").GetString()!, e.TryGetProperty("dev", out var d) ? d.GetString() : null))];
    }

    private static List<KernelInterface> ReadNamespace(string ns)
    {
        using var document = JsonDocument.Parse(Ip("-n", ns, "-j", "addr", "show"));
        return [.. document.RootElement.EnumerateArray().Select(i => new KernelInterface(i.GetProperty("ifname").GetString()!,
            [.. i.GetProperty("addr_info").EnumerateArray().Select(a => IPAddress.Parse(a.GetProperty("local").GetString()!))]))];
    }

    private static string Ip(params string[] args) => Ip(check: true, args);

    private static string Ip(bool check, params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} failed: {stderr}");
        }

        return stdout;
    }

    /// <summary>The real runner (no shell), with <c>-n NS</c> in front so that <c>ip</c> works in the test's namespace.</summary>
    private sealed class NamespacedRunner(string ns) : ICommandRunner
    {
        private readonly ProcessCommandRunner _inner = new(TimeSpan.FromSeconds(10));

        public List<string[]> Argvs { get; } = [];

        public Task<CommandResult> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
        {
            lock (Argvs)
            {
                Argvs.Add([.. arguments]);
            }

            return _inner.RunAsync(file, ["-n", ns, .. arguments], cancellationToken);
        }
    }
}

/// <summary>A test that needs root and iproute2's <c>ip</c> (network namespaces): skipped with the reason elsewhere, never under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        var missing = !OperatingSystem.IsLinux() ? "needs Linux network namespaces"
            : !Environment.IsPrivilegedProcess ? "needs root (it creates a network namespace)"
            : !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/bin/ip") ? "needs iproute2's ip: apt-get install iproute2"
            : null;
        if (missing is not null && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "could not run: " + missing;
        }
    }
}
