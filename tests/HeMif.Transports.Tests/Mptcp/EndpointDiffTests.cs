using System.Net;
using System.Net.Sockets;
using HeMif.Multipath;
using HeMif.Transports.Mptcp;

namespace HeMif.Transports.Tests.Mptcp;

/// <summary>
/// The path manager's decisions without a fake <c>ip</c> (issue 13: "the pure endpoint diff apart from the ip mptcp
/// driver, so it is tested without a fake ip"): which endpoints a subflow plan wants, which of ours go, the subflows
/// limit, the endpoint id and the <c>ip mptcp endpoint add</c> arguments. LinuxPathManagerTests drive the commands.
/// </summary>
public sealed class EndpointDiffTests
{
    private static readonly Dictionary<(string, AddressFamily), IPAddress> Addresses = new()
    {
        [("wlan0", AddressFamily.InterNetworkV6)] = IPAddress.Parse("2001:db8:1::2"),
        [("wlan0", AddressFamily.InterNetwork)] = IPAddress.Parse("198.18.1.2"),
        [("rmnet0", AddressFamily.InterNetworkV6)] = IPAddress.Parse("2001:db8:2::2"),
        [("rmnet0", AddressFamily.InterNetwork)] = IPAddress.Parse("198.18.2.2"),
        [("eth0", AddressFamily.InterNetwork)] = IPAddress.Parse("198.18.3.2"), // IPv4 only
    };

    private static readonly Dictionary<(string Interface, AddressFamily Family), OwnedEndpoint> None = [];

    [Fact]
    public void Before_the_connection_every_family_is_planned_and_the_primary_gets_no_endpoint()
    {
        var log = new List<string>();
        var desired = EndpointDiff.Desired(Plan(("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active), ("eth0", SubflowRole.Backup)), null, None, AddressOf, log);

        Assert.False(desired.ContainsKey(("wlan0", AddressFamily.InterNetworkV6)));
        Assert.False(desired.ContainsKey(("wlan0", AddressFamily.InterNetwork)));
        Assert.Equal(new WantedEndpoint(IPAddress.Parse("2001:db8:2::2"), Subflow: true, Backup: false, SubflowRole.Active), desired[("rmnet0", AddressFamily.InterNetworkV6)]);
        Assert.Equal(new WantedEndpoint(IPAddress.Parse("198.18.2.2"), Subflow: true, Backup: false, SubflowRole.Active), desired[("rmnet0", AddressFamily.InterNetwork)]);
        Assert.Equal(new WantedEndpoint(IPAddress.Parse("198.18.3.2"), Subflow: true, Backup: true, SubflowRole.Backup), desired[("eth0", AddressFamily.InterNetwork)]);
        Assert.Empty(log); // a missing family before the connection is not worth a line
        Assert.Equal(2, EndpointDiff.SubflowsNeeded(desired)); // IPv4: rmnet0 and eth0
    }

    [Fact]
    public void After_the_connection_only_its_family_is_planned_and_an_interface_without_it_is_logged()
    {
        var log = new List<string>();
        var desired = EndpointDiff.Desired(Plan(("rmnet0", SubflowRole.Primary), ("wlan0", SubflowRole.Active), ("eth0", SubflowRole.Active)),
            IPAddress.Parse("2001:db8:2::2"), None, AddressOf, log);

        Assert.Equal([("wlan0", AddressFamily.InterNetworkV6)], desired.Keys);
        Assert.Equal(["eth0: no IPv6 address; no subflow from it"], log);
    }

    [Fact]
    public void The_connection_s_own_address_demoted_to_backup_gets_a_flag_only_endpoint_and_one_of_ours_there_keeps_its_subflow_flag()
    {
        var own = IPAddress.Parse("198.18.1.2");
        var demoted = EndpointDiff.Desired(Plan(("wlan0", SubflowRole.Backup), ("rmnet0", SubflowRole.Primary)), own, None, AddressOf, []);
        Assert.Equal(new WantedEndpoint(own, Subflow: false, Backup: true, SubflowRole.Backup), demoted[("wlan0", AddressFamily.InterNetwork)]);

        // An endpoint of ours is already on that address (it was a subflow endpoint before this connection): kept, and
        // only re-flagged, because deleting it would close the initial subflow.
        var ours = new Dictionary<(string Interface, AddressFamily Family), OwnedEndpoint>
        {
            [("wlan0", AddressFamily.InterNetwork)] = new OwnedEndpoint(3, "wlan0", own, Subflow: true, Backup: false),
        };
        var kept = EndpointDiff.Desired(Plan(("wlan0", SubflowRole.Backup)), own, ours, AddressOf, []);
        Assert.Equal(new WantedEndpoint(own, Subflow: true, Backup: true, SubflowRole.Backup), kept[("wlan0", AddressFamily.InterNetwork)]);
        Assert.Empty(EndpointDiff.Removals(Plan(("wlan0", SubflowRole.Backup)), ours, kept));
    }

    [Fact]
    public void Endpoints_of_ours_go_when_their_interface_family_or_address_is_no_longer_wanted()
    {
        var ours = new Dictionary<(string Interface, AddressFamily Family), OwnedEndpoint>
        {
            [("eth0", AddressFamily.InterNetwork)] = new OwnedEndpoint(1, "eth0", IPAddress.Parse("198.18.3.2"), Subflow: true, Backup: false),
            [("rmnet0", AddressFamily.InterNetworkV6)] = new OwnedEndpoint(2, "rmnet0", IPAddress.Parse("2001:db8:2::2"), Subflow: true, Backup: false),
            [("rmnet0", AddressFamily.InterNetwork)] = new OwnedEndpoint(4, "rmnet0", IPAddress.Parse("198.18.2.99"), Subflow: true, Backup: false),
        };
        var plan = Plan(("wlan0", SubflowRole.Primary), ("rmnet0", SubflowRole.Active));
        var desired = EndpointDiff.Desired(plan, IPAddress.Parse("198.18.1.2"), ours, AddressOf, []);

        var removals = EndpointDiff.Removals(plan, ours, desired).OrderBy(r => r.Owned.Id).Select(r => (r.Owned.Id, r.Why)).ToList();
        Assert.Equal([(1, "eth0: no longer in the plan"), (2, "rmnet0: family not used"), (4, "rmnet0: address changed")], removals);
    }

    [Fact]
    public void The_free_id_is_the_lowest_one_neither_the_kernel_nor_we_use_and_there_may_be_none()
    {
        Assert.Equal(1, EndpointDiff.FreeId([], []));
        Assert.Equal(3, EndpointDiff.FreeId([1, 4], [2]));
        Assert.Null(EndpointDiff.FreeId(Enumerable.Range(1, 200), Enumerable.Range(150, 106)));
    }

    [Fact]
    public void The_add_arguments_carry_the_subflow_and_backup_flags_only_when_wanted()
    {
        var address = IPAddress.Parse("198.18.2.2");
        Assert.Equal(["mptcp", "endpoint", "add", "198.18.2.2", "dev", "rmnet0", "id", "7", "subflow", "backup"],
            EndpointDiff.AddArguments(new WantedEndpoint(address, Subflow: true, Backup: true, SubflowRole.Backup), "rmnet0", 7));
        Assert.Equal(["mptcp", "endpoint", "add", "198.18.2.2", "dev", "rmnet0", "id", "7", "subflow"],
            EndpointDiff.AddArguments(new WantedEndpoint(address, Subflow: true, Backup: false, SubflowRole.Active), "rmnet0", 7));
        Assert.Equal(["mptcp", "endpoint", "add", "198.18.2.2", "dev", "rmnet0", "id", "7"],
            EndpointDiff.AddArguments(new WantedEndpoint(address, Subflow: false, Backup: true, SubflowRole.Backup), "rmnet0", 7));
    }

    private static IPAddress? AddressOf(string name, AddressFamily family) => Addresses.GetValueOrDefault((name, family));

    private static SubflowPlan Plan(params (string Interface, SubflowRole Role)[] subflows) =>
        new(MultipathMode.Handover, "svc.lab.example", 5201, subflows.Select(s => new SubflowAssignment(s.Interface, s.Role, "test")).ToList(), [], "test");
}
