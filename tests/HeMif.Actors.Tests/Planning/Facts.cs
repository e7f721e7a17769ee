using System.Net;
using HeMif.Filter;
using HeMif.Interfaces;
using HeMif.Planning;

namespace HeMif.Actors.Tests.Planning;

/// <summary>Builders for interface facts and rules; addresses from the documentation ranges (RFC 5737, RFC 3849).</summary>
internal static class Facts
{
    public static readonly DateTimeOffset Noon = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    public static InterfaceAddress Addr(string address, int prefix = -1) =>
        new(IPAddress.Parse(address), prefix >= 0 ? prefix : address.Contains(':', StringComparison.Ordinal) ? 64 : 24);

    public static InterfaceFacts Wifi(string name = "wlan0", string address = "192.0.2.10") =>
        new(name, InterfaceKind.Wifi) { Addresses = [Addr(address)], WifiNetwork = "HomeNet" };

    public static InterfaceFacts Cellular(string name = "rmnet0", string address = "2001:db8:1::10") =>
        new(name, InterfaceKind.Cellular) { Addresses = [Addr(address)] };

    public static InterfaceFacts Ethernet(string name = "eth0", string address = "198.51.100.10") =>
        new(name, InterfaceKind.Ethernet) { Addresses = [Addr(address)] };

    public static InterfaceFacts Vpn(string name = "tun0", string address = "203.0.113.10") =>
        new(name, InterfaceKind.Vpn) { Addresses = [Addr(address)] };

    public static ConnectionRequest Request(string host = "www.example.com", int port = 443) => new(host, port);

    public static PolicyRule Rule(string name, PreferenceLevel level, InterfaceMatch? match = null, RequestMatch? request = null,
        ValidityConditions? validity = null) =>
        new(name, level) { Interface = match ?? new(), Request = request ?? new(), Validity = validity ?? new() };

    public static InterfaceMatch Kind(params InterfaceKind[] kinds) => new() { Kinds = kinds };

    public static InterfaceMatch Named(params string[] names) => new() { Names = names };

    public static ConnectionPlan Plan(HeMifPolicy policy, IReadOnlyList<InterfaceFacts> interfaces, ConnectionRequest? request = null,
        DateTimeOffset? now = null, IReadOnlyList<HeMif.Sort.PathHistory>? history = null) =>
        new ConnectionPlanner(policy).Plan(interfaces, request ?? Request(), now ?? Noon, history);

    public static HeMifPolicy Operator(params PolicyRule[] rules) => new() { OperatorRules = rules };

    public static HeMifPolicy User(params PolicyRule[] rules) => new() { UserRules = rules };

    public static string[] Order(this ConnectionPlan plan) => plan.Candidates.Select(c => c.Interface).ToArray();

    public static string[] ExcludedNames(this ConnectionPlan plan) => plan.Excluded.Select(e => e.Interface).ToArray();

    public static ExcludedInterface ExcludedEntry(this ConnectionPlan plan, string name) => Assert.Single(plan.Excluded, e => e.Interface == name);
}
