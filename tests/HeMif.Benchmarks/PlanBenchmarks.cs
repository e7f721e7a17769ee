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
/// <see cref="Decide"/> is the realistic case: rules are scoped to hosts, ports and sizes, so 15 of the 50 concern the
/// request (12 operator, 3 user). <see cref="DecideEveryRuleApplies"/> is the stress case: all 50 concern it and user and operator rules
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
            Roaming = i == 6,
            Constrained = i % 7 == 0,
            WifiNetwork = kinds[i % 4] == InterfaceKind.Wifi ? "HomeNet" : null,
        }).ToArray();

        // Operator rules, ANDSF-like: most are scoped to other destinations, ports or sizes; some carry validity windows.
        PolicyRule OperatorRule(int i, bool scoped)
        {
            var (level, match, request) = (i % 6) switch
            {
                0 => (PreferenceLevel.Prefer, new InterfaceMatch { Kinds = [kinds[i / 6 % 4]] }, new RequestMatch { DomainSuffixes = ["example.com"] }),
                1 => (PreferenceLevel.Avoid, new InterfaceMatch { Metered = true }, new RequestMatch { MinExpectedBytes = 1_000 }),
                2 => (PreferenceLevel.Prohibit, new InterfaceMatch { Names = [$"if{i % 16:00}"] }, new RequestMatch { Hosts = [$"host{i}.example.org"] }),
                3 => (PreferenceLevel.Require, new InterfaceMatch { Kinds = [InterfaceKind.Vpn] }, new RequestMatch { DomainSuffixes = ["corp.example.net"] }),
                4 => (PreferenceLevel.Prefer, new InterfaceMatch { AddressFamily = IpVersion.IPv6 }, new RequestMatch { Ports = [443, 8443] }),
                _ => (PreferenceLevel.Prefer, new InterfaceMatch { PvdIds = ["pvd0.example.net", "pvd6.example.net"] }, new RequestMatch { Transport = TransportName.Tcp }),
            };
            // Two rules of each kind concern the request; the other three are for other destinations.
            if (scoped && i / 6 >= 2)
            {
                request = request with { Hosts = [$"host{i}.example.org"] };
            }

            return new PolicyRule($"op{i:00}", level)
            {
                Interface = match,
                Request = scoped ? request : new RequestMatch(),
                Validity = i % 6 == 4 ? new ValidityConditions { TimeOfDay = [new TimeWindow(new(6, 0), new(23, 0))] } : new ValidityConditions(),
            };
        }

        // User preferences: "No 3/4G while roaming", "Only download applications larger than 20Mb over WiFi", and
        // everyday likes and dislikes, several scoped to other traffic.
        PolicyRule UserRule(int j, bool scoped)
        {
            var (level, match, request) = j switch
            {
                0 => (PreferenceLevel.Prohibit, new InterfaceMatch { Kinds = [InterfaceKind.Cellular], Roaming = true }, new RequestMatch()),
                1 => (PreferenceLevel.Require, new InterfaceMatch { Kinds = [InterfaceKind.Wifi] }, new RequestMatch { MinExpectedBytes = 20_000_000 }),
                2 => (PreferenceLevel.Prefer, new InterfaceMatch { Names = ["if02"] }, new RequestMatch()),
                3 => (PreferenceLevel.Avoid, new InterfaceMatch { Constrained = true }, new RequestMatch()),
                _ => (j % 2) switch
                {
                    0 => (PreferenceLevel.Avoid, new InterfaceMatch { Kinds = [InterfaceKind.Cellular] }, new RequestMatch { TrafficClasses = ["bulk"], Hosts = [$"user{j}.example.org"] }),
                    _ => (PreferenceLevel.Prefer, new InterfaceMatch { Names = [$"if{j % 16:00}"] }, new RequestMatch { Ports = [8443], Hosts = [$"user{j}.example.org"] }),
                },
            };
            return new PolicyRule($"user{j:00}", level) { Interface = match, Request = scoped ? request : new RequestMatch() };
        }

        _planner = new ConnectionPlanner(new HeMifPolicy
        {
            OperatorRules = Enumerable.Range(0, 30).Select(i => OperatorRule(i, scoped: true)).ToArray(),
            UserRules = Enumerable.Range(0, 20).Select(j => UserRule(j, scoped: true)).ToArray(),
        });
        _stress = new ConnectionPlanner(new HeMifPolicy
        {
            OperatorRules = Enumerable.Range(0, 30).Select(i => OperatorRule(i, scoped: false)).ToArray(),
            UserRules = Enumerable.Range(0, 20).Select(j => UserRule(j, scoped: false)).ToArray(),
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
            if (plan.Candidates.Count + plan.Excluded.Count != 16)
            {
                throw new InvalidOperationException("The benchmark scenario lost an interface.");
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
