using System.Net;
using BenchmarkDotNet.Attributes;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Sort;

namespace HeMif.Benchmarks;

/// <summary>
/// One decision of filter (§5.1) and sort (§5.2): 16 interfaces under 50 rules (30 operator, 20 user, every level,
/// request conditions and validity windows), a dual-stack destination (so RFC 6724 and RFC 4191 run) and history.
/// <see cref="Decide"/> is the realistic case: rules are scoped to hosts, ports and sizes, so 20 of the 50 concern the
/// request. <see cref="DecideEveryRuleApplies"/> is the stress case: all 50 concern it and user and operator rules
/// contradict each other on most interfaces (hundreds of conflicts). Goal (issue 3): under 16 KB allocated and under
/// 20 µs median per decision.
/// </summary>
[MemoryDiagnoser]
public class PlanBenchmarks
{
    private ConnectionPlanner _planner = null!;
    private ConnectionPlanner _stress = null!;
    private InterfaceFacts[] _interfaces = null!;
    private ConnectionRequest _request = null!;
    private PathHistory[] _history = null!;
    private readonly DateTimeOffset _now = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    [GlobalSetup]
    public void Setup()
    {
        var kinds = new[] { InterfaceKind.Ethernet, InterfaceKind.Wifi, InterfaceKind.Cellular, InterfaceKind.Vpn };
        _interfaces = Enumerable.Range(0, 16).Select(i => new InterfaceFacts($"if{i:00}", kinds[i % 4])
        {
            Addresses = i % 3 == 0
                ? [new InterfaceAddress(IPAddress.Parse($"192.0.2.{i + 1}"), 24)]
                : [new InterfaceAddress(IPAddress.Parse($"192.0.2.{i + 1}"), 24), new InterfaceAddress(IPAddress.Parse($"2001:db8:{i + 1}::1"), 64) { Temporary = i % 2 == 0 }],
            Routes = i % 4 == 0 ? [new RouteInformation(IPNetwork.Parse("2001:db8:ff::/48"), RoutePreference.High, TimeSpan.FromHours(1))] : [],
            DnsSelection = i % 5 == 0 ? [new DnsServerSelection(IPAddress.Parse("192.0.2.53"), RoutePreference.High, ["corp.example.com"])] : [],
            PvdId = i % 6 == 0 ? "pvd" + i + ".example.net" : null,
            PvdInfo = i % 6 == 0 ? new PvdAdditionalInformation("pvd" + i + ".example.net", _now.AddDays(1), []) { DnsZones = ["example.com"] } : null,
            Metered = i % 3 == 1,
            Roaming = i == 7,
            Constrained = i % 7 == 0,
            WifiNetwork = kinds[i % 4] == InterfaceKind.Wifi ? "HomeNet" : null,
        }).ToArray();

        var levels = new[] { PreferenceLevel.Prefer, PreferenceLevel.Avoid, PreferenceLevel.Prohibit, PreferenceLevel.Require };
        PolicyRule MakeRule(int i, bool scoped) => new($"rule{i:00}", levels[i % 4] == PreferenceLevel.Require && i % 8 != 3 ? PreferenceLevel.Prefer : levels[i % 4])
        {
            Interface = (i % 5) switch
            {
                0 => new InterfaceMatch { Kinds = [kinds[i % 4]] },
                1 => new InterfaceMatch { Metered = true, Roaming = i % 2 == 0 },
                2 => new InterfaceMatch { Names = [$"if{i % 16:00}"] },
                3 => new InterfaceMatch { AddressFamily = IpVersion.IPv6, Constrained = false },
                _ => new InterfaceMatch { PvdIds = ["pvd0.example.net", "pvd6.example.net"] },
            },
            Request = (scoped ? i % 5 : i % 2) switch
            {
                0 => new RequestMatch { DomainSuffixes = ["example.com"] },
                1 => new RequestMatch { Ports = [443, 8443], MinExpectedBytes = 1_000 },
                2 => new RequestMatch { Hosts = [$"host{i}.example.org"] },
                3 => new RequestMatch { Ports = [25], Transport = TransportProtocol.Tcp },
                _ => new RequestMatch { DomainSuffixes = ["corp.example.net"], TrafficClasses = ["bulk"] },
            },
            Validity = i % 4 == 0 ? new ValidityConditions { TimeOfDay = [new TimeWindow(new(6, 0), new(23, 0))] } : new ValidityConditions(),
        };

        _planner = new ConnectionPlanner(new HeMifPolicy
        {
            OperatorRules = Enumerable.Range(0, 30).Select(i => MakeRule(i, scoped: true)).ToArray(),
            UserRules = Enumerable.Range(30, 20).Select(i => MakeRule(i, scoped: true)).ToArray(),
        });
        _stress = new ConnectionPlanner(new HeMifPolicy
        {
            OperatorRules = Enumerable.Range(0, 30).Select(i => MakeRule(i, scoped: false)).ToArray(),
            UserRules = Enumerable.Range(30, 20).Select(i => MakeRule(i, scoped: false)).ToArray(),
        });
        _request = new ConnectionRequest("www.example.com", 443)
        {
            ExpectedBytes = 1_000_000,
            DestinationAddresses = [IPAddress.Parse("2001:db8:ff::80"), IPAddress.Parse("192.0.2.80")],
        };
        _history = [new PathHistory("if01", 1, TimeSpan.FromMilliseconds(40)), new PathHistory("if05", 0, TimeSpan.FromMilliseconds(15))];

        foreach (var plan in new[] { Decide(), DecideEveryRuleApplies() })
        {
            Console.WriteLine($"// scenario: {plan.Candidates.Count} candidates, {plan.Excluded.Count} excluded, {plan.Conflicts.Count} conflicts");
            if (plan.Candidates.Count + plan.Excluded.Count != 16 || plan.Candidates.Count < 2)
            {
                throw new InvalidOperationException("The benchmark scenario must keep every interface and at least two candidates.");
            }
        }
    }

    /// <summary>Filter + sort for one request.</summary>
    [Benchmark(Baseline = true)]
    public ConnectionPlan Decide() => _planner.Plan(_interfaces, _request, _now, _history);

    /// <summary>Filter + sort when every rule concerns the request (stress).</summary>
    [Benchmark]
    public ConnectionPlan DecideEveryRuleApplies() => _stress.Plan(_interfaces, _request, _now, _history);
}
