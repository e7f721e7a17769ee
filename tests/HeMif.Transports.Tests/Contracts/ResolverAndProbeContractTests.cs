using System.Net;
using HeMif.Interfaces;
using HeMif.TestKit.Contracts;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Probes;
using HeMif.Transports.Tests.Resolve;
using HeMif.Transports.Tests.Support;

namespace HeMif.Transports.Tests.Contracts;

/// <summary>
/// Issue 13: HeMif's resolver passes the resolver contract (<see cref="InterfaceResolverContract"/>) against the test
/// DNS responder on 127.0.0.1, with a 200 ms query timeout and no cache.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
public sealed class DnsInterfaceResolverContract : InterfaceResolverContract
{
    protected override Task<ResolverSubject> StartAsync()
    {
        var server = DnsResponder.Start(IPAddress.Loopback);
        server.On("answered.example", DnsType.A, DnsScript.Addresses("192.0.2.10"))
            .On("answered.example", DnsType.Aaaa, DnsScript.NoData)
            .On("silent.example", DnsType.A, DnsScript.Silence);
        var resolver = new DnsInterfaceResolver(new InterfaceResolverOptions { Port = server.Port, CacheCapacity = 0, QueryTimeout = TimeSpan.FromMilliseconds(200) });
        return Task.FromResult(new ResolverSubject(resolver, InterfaceResolverTests.Loopback("127.0.0.1"), "answered.example", IPAddress.Parse("192.0.2.10"), "silent.example", server));
    }
}

/// <summary>
/// Issue 13: HeMif's HTTP connectivity check passes the probe contract (<see cref="ConnectivityProbeContract"/>)
/// against the scripted check server on 127.0.0.1: 204 passes, 503 fails, silence times out after 300 ms.
/// </summary>
[Collection(Resolve.FileDescriptorCounting.Name)]
public sealed class HttpConnectivityProbeContract : ConnectivityProbeContract
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    protected override Task<ProbeSubject> StartAsync(ContractCheck check)
    {
        var server = new ScriptedHttpServer(check switch
        {
            ContractCheck.Passes => "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
            ContractCheck.Fails => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            _ => null,
        });
        return Task.FromResult(new ProbeSubject(ProbeTests.Probe(server, TimeSpan.FromMilliseconds(300)), Loopback, server));
    }
}
