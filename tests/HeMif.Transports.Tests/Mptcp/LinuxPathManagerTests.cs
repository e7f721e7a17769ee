using System.Net;
using System.Reactive.Subjects;
using HeMif.Multipath;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// The Linux path manager against a fake <c>ip</c>: the exact argv for each role, the diff when a new plan arrives
/// (Wi-Fi lost, cellular promoted, Wi-Fi back), endpoints it did not create left alone, and everything undone on
/// dispose. Unless a test says otherwise, the connection is made, over IPv6, and its own (initial subflow's) address is Wi-Fi's.
/// </summary>
public sealed class LinuxPathManagerTests
{
    private static readonly IPAddress Wifi = IPAddress.Parse("2001:db8:1::2");
    private static readonly IPAddress Cell = IPAddress.Parse("2001:db8:2::2");
    private static readonly IPAddress Ether = IPAddress.Parse("2001:db8:3::2");
    private readonly FakeIp _ip = new();
    private readonly Dictionary<string, IPAddress?> _addresses = new() { ["wlan0"] = Wifi, ["rmnet0"] = Cell, ["eth0"] = Ether };

    [Fact]
    public async Task Aggregate_adds_a_subflow_endpoint_for_cellular_and_none_for_the_connections_own_address()
    {
        await using var manager = Create();

        var log = await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Equal(["mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow"], _ip.Changes);
        Assert.Contains(log, l => l.StartsWith("ip mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow", StringComparison.Ordinal));
        Assert.Equal(new OwnedEndpoint(1, "rmnet0", Cell, Subflow: true, Backup: false), Assert.Single(manager.Owned));
    }

    [Fact]
    public async Task Handover_adds_cellular_as_a_backup_subflow()
    {
        await using var manager = Create();

        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)));

        Assert.Equal(["mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow backup"], _ip.Changes);
    }

    [Fact]
    public async Task Limits_too_low_for_the_plan_are_raised_before_the_endpoints_and_restored_on_dispose()
    {
        _ip.Limits = (0, 1);
        var manager = Create();

        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active), ("eth0", SubflowRole.Active)));
        Assert.Equal((0, 2), _ip.Limits);
        Assert.Equal("mptcp limits set subflows 2 add_addr_accepted 0", _ip.Changes.First());

        await manager.DisposeAsync();
        Assert.Equal((0, 1), _ip.Limits);
        Assert.Empty(_ip.Endpoints);
        Assert.Equal("mptcp limits set subflows 1 add_addr_accepted 0", _ip.Changes.Last());
    }

    [Fact]
    public async Task Limits_someone_changed_after_us_are_left_as_they_are()
    {
        _ip.Limits = (0, 0);
        var manager = Create();
        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));
        _ip.Limits = (8, 8);

        await manager.DisposeAsync();

        Assert.Equal((8, 8), _ip.Limits);
    }

    /// <summary>Issue 6: "Wi-Fi lost: move to cellular" — the backup becomes the primary with MP_PRIO, not a new subflow.</summary>
    [Fact]
    public async Task Cellular_promoted_from_backup_is_changed_to_nobackup_in_place()
    {
        await using var manager = Create();
        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)));

        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("rmnet0", SubflowRole.Primary)));

        Assert.Equal("mptcp endpoint change id 1 nobackup", _ip.Changes.Last());
        Assert.False(Assert.Single(_ip.Endpoints).Backup);
    }

    [Fact]
    public async Task An_interface_the_new_plan_drops_has_its_endpoint_deleted_by_id()
    {
        await using var manager = Create();
        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("eth0", SubflowRole.Active), ("rmnet0", SubflowRole.Active)));

        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Equal("mptcp endpoint delete id 1", _ip.Changes.Last());
        Assert.Equal("rmnet0", Assert.Single(manager.Owned).Interface);
    }

    [Fact]
    public async Task The_same_plan_twice_runs_no_second_command()
    {
        await using var manager = Create();
        var plan = Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup));
        await manager.ApplyAsync(plan);
        var before = _ip.Changes.Count();

        Assert.Empty(await manager.ApplyAsync(plan with { Trigger = "periodic re-validation" }));
        Assert.Equal(before, _ip.Changes.Count());
    }

    [Fact]
    public async Task Wi_Fi_back_returns_to_the_first_plans_endpoints()
    {
        await using var manager = Create();
        var first = Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup));
        await manager.ApplyAsync(first);
        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("rmnet0", SubflowRole.Primary)));

        await manager.ApplyAsync(first with { Trigger = "wlan0: Validated" });

        Assert.Equal("mptcp endpoint change id 1 backup", _ip.Changes.Last());
        Assert.Equal((1, "2001:db8:2::2", "rmnet0", true, true), Assert.Single(_ip.Endpoints));
    }

    /// <summary>
    /// The connection's own address carries the initial subflow: demoting it to Backup needs an endpoint to change
    /// (MP_PRIO is sent by <c>change</c>, not by <c>add</c>), and promoting it again changes that endpoint back.
    /// </summary>
    [Fact]
    public async Task The_connections_own_address_demoted_to_backup_gets_a_flagless_endpoint_changed_to_backup()
    {
        await using var manager = Create();
        await manager.ApplyAsync(Plan(MultipathMode.Interactive, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        await manager.ApplyAsync(Plan(MultipathMode.Interactive, ("rmnet0", SubflowRole.Primary), ("wlan0", SubflowRole.Backup)));
        Assert.Equal(["mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow", "mptcp endpoint add 2001:db8:1::2 dev wlan0 id 2", "mptcp endpoint change id 2 backup"], _ip.Changes);

        await manager.ApplyAsync(Plan(MultipathMode.Interactive, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));
        Assert.Equal("mptcp endpoint change id 2 nobackup", _ip.Changes.Last());
    }

    [Fact]
    public async Task An_endpoint_someone_else_made_for_the_address_is_left_alone_and_not_deleted_on_dispose()
    {
        _ip.Endpoints.Add((1, "2001:db8:2::2", "rmnet0", true, false));
        var manager = Create();

        var log = await manager.ApplyAsync(Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)));
        await manager.DisposeAsync();

        Assert.Empty(_ip.Changes);
        Assert.Contains(log, l => l.Contains("endpoint id 1 for 2001:db8:2::2 exists and is not ours", StringComparison.Ordinal));
        Assert.Single(_ip.Endpoints);
    }

    [Fact]
    public async Task New_endpoint_ids_skip_the_ones_in_use()
    {
        _ip.Endpoints.Add((1, "192.0.2.99", "eth9", false, false));
        _ip.Endpoints.Add((2, "192.0.2.98", "eth9", false, false));
        await using var manager = Create();

        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Equal(3, manager.Owned.Single(o => o.Interface == "rmnet0").Id);
    }

    [Fact]
    public async Task An_interface_without_an_address_of_the_family_gets_no_endpoint_and_the_log_says_so()
    {
        _addresses["rmnet0"] = null;
        await using var manager = Create();

        var log = await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active)));

        Assert.Empty(_ip.Changes);
        Assert.Contains("rmnet0: no IPv6 address; no subflow from it", log);
    }

    [Fact]
    public async Task Dispose_deletes_exactly_what_was_added()
    {
        _ip.Endpoints.Add((9, "192.0.2.99", "eth9", true, false));
        var manager = Create();
        await manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active), ("eth0", SubflowRole.Active)));

        await manager.DisposeAsync();

        Assert.Equal(9, Assert.Single(_ip.Endpoints).Id);
        Assert.Equal(2, _ip.Changes.Count(c => c.StartsWith("mptcp endpoint delete id ", StringComparison.Ordinal)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary))));
    }

    [Fact]
    public async Task A_failing_ip_is_an_error_naming_the_command_and_its_stderr()
    {
        _ip.Fail = line => line.StartsWith("mptcp endpoint add", StringComparison.Ordinal) ? "Error: Operation not permitted" : null;
        await using var manager = Create();

        var error = await Assert.ThrowsAsync<PathManagerException>(() =>
            manager.ApplyAsync(Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active))));

        Assert.Contains("'ip mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow' failed (exit 2): Error: Operation not permitted", error.Message, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_ADMIN", error.Message, StringComparison.Ordinal);
        Assert.Empty(manager.Owned);
    }

    [Fact]
    public async Task Following_applies_each_suggestion_in_order_and_stops_on_dispose()
    {
        var manager = Create();
        using var suggestions = new Subject<SubflowPlan>();
        var applied = System.Threading.Channels.Channel.CreateUnbounded<SubflowPlan>();
        manager.Follow(suggestions, applied: (plan, _) => applied.Writer.TryWrite(plan));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        suggestions.OnNext(Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)));
        await applied.Reader.ReadAsync(timeout.Token);
        suggestions.OnNext(Plan(MultipathMode.Handover, ("rmnet0", SubflowRole.Primary)) with { Trigger = "wlan0: NoConnectivity" });
        Assert.Equal("wlan0: NoConnectivity", (await applied.Reader.ReadAsync(timeout.Token)).Trigger);
        Assert.Equal("mptcp endpoint change id 1 nobackup", _ip.Changes.Last());

        await manager.DisposeAsync();
        Assert.False(suggestions.HasObservers);
        Assert.Empty(_ip.Endpoints);
    }

    [Fact]
    public async Task Concurrent_plans_leave_one_consistent_state()
    {
        await using var manager = Create();
        var a = Plan(MultipathMode.Aggregate, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active), ("eth0", SubflowRole.Active));
        var b = Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup));

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => manager.ApplyAsync(i % 2 == 0 ? a : b))));

        Assert.Equal(manager.Owned.Count, _ip.Endpoints.Count);
        Assert.All(manager.Owned, o => Assert.Contains(_ip.Endpoints, e => e.Id == o.Id && e.Backup == o.Backup));
    }

    /// <summary>
    /// Issue found in the lab: the kernel ignores, for a connection, endpoints added after it was created and before it
    /// is fully established. So a plan is applied before the race for both families, the Primary taken as the
    /// connection's own interface.
    /// </summary>
    [Fact]
    public async Task Before_the_race_every_family_of_every_other_interface_gets_its_endpoint()
    {
        await using var manager = new LinuxPathManager(_ip, BothFamilies, Kernel);

        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup)));

        Assert.Equal(["mptcp endpoint add 2001:db8:2::2 dev rmnet0 id 1 subflow backup", "mptcp endpoint add 198.18.2.2 dev rmnet0 id 2 subflow backup"], _ip.Changes);
    }

    [Fact]
    public async Task Once_connected_the_other_familys_endpoints_are_deleted()
    {
        await using var manager = new LinuxPathManager(_ip, BothFamilies, Kernel);
        var plan = Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup));
        await manager.ApplyAsync(plan);

        manager.Connected(new IPEndPoint(Wifi, 40000));
        var log = await manager.ApplyAsync(plan);

        Assert.Equal("mptcp endpoint delete id 2", _ip.Changes.Last());
        Assert.Contains(log, l => l.EndsWith("(rmnet0: family not used)", StringComparison.Ordinal));
        Assert.Equal(Cell, Assert.Single(manager.Owned).Address);
    }

    /// <summary>
    /// The race may win on another interface than the plan's Primary (Wi-Fi validated but broken): its endpoint then
    /// carries the initial subflow and must stay (deleting it would close that subflow); only its flag follows the plan.
    /// </summary>
    [Fact]
    public async Task A_winner_on_an_interface_with_our_endpoint_keeps_that_endpoint_and_the_primary_gets_one()
    {
        await using var manager = new LinuxPathManager(_ip, BothFamilies, Kernel);
        var plan = Plan(MultipathMode.Handover, ("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Backup));
        await manager.ApplyAsync(plan);

        manager.Connected(new IPEndPoint(Cell, 40000));
        await manager.ApplyAsync(plan);
        Assert.DoesNotContain("mptcp endpoint delete id 1", _ip.Changes);
        Assert.Equal("mptcp endpoint add 2001:db8:1::2 dev wlan0 id 2 subflow", _ip.Changes.Last());

        await manager.ApplyAsync(Plan(MultipathMode.Handover, ("rmnet0", SubflowRole.Primary)) with { Trigger = "wlan0: NoConnectivity" });
        Assert.Equal(["mptcp endpoint delete id 2", "mptcp endpoint change id 1 nobackup"], _ip.Changes.TakeLast(2));
        Assert.Equal((1, "2001:db8:2::2", "rmnet0", true, false), Assert.Single(_ip.Endpoints));
    }

    /// <summary>The kernel of these tests: every interface of the plan, with both of its addresses.</summary>
    private KernelInterfaces Kernel => new(() =>
        [.. _addresses.Keys.Select(name => new KernelInterface(name,
            [.. new[] { BothFamilies(name, System.Net.Sockets.AddressFamily.InterNetworkV6), BothFamilies(name, System.Net.Sockets.AddressFamily.InterNetwork) }.OfType<IPAddress>()]))]);

    private IPAddress? BothFamilies(string name, System.Net.Sockets.AddressFamily family) =>
        family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? _addresses.GetValueOrDefault(name)
        : name switch { "wlan0" => IPAddress.Parse("198.18.1.2"), "rmnet0" => IPAddress.Parse("198.18.2.2"), _ => null };

    private LinuxPathManager Create()
    {
        var manager = new LinuxPathManager(_ip, (name, family) => family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? _addresses.GetValueOrDefault(name) : null, Kernel);
        manager.Connected(new IPEndPoint(Wifi, 40000));
        return manager;
    }

    private static SubflowPlan Plan(MultipathMode mode, params (string Interface, SubflowRole Role)[] subflows) =>
        new(mode, "svc.lab.example", 5201, subflows.Select(s => new SubflowAssignment(s.Interface, s.Role, "test")).ToList(), [], "first plan");
}
