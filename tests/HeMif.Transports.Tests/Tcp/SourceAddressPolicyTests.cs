using System.Net;
using System.Net.Sockets;
using HeMif.Engine;
using HeMif.Interfaces;
using HeMif.Planning;
using HeMif.Race;
using HeMif.Sort;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tcp;
using HeMif.Validate;

namespace HeMif.Transports.Tests.Tcp;

/// <summary>
/// Issue 14: "The socket's source address follows the configured RFC 6724 policy table, not the default one." On
/// loopback, where every 127.0.0.0/8 address can be bound: the interface has 127.1.0.9 and 127.0.0.5, the service
/// listens on 127.0.0.1. The default table gives all three the label of ::ffff:0:0/96, and Rule 8 ("Use longest
/// matching prefix") picks 127.0.0.5; a configured table that gives 127.1.0.0/16 and 127.0.0.1 a label of their own
/// makes Rule 6 ("Prefer matching label: If Label(SA) = Label(D) and Label(SB) &lt;&gt; Label(D), then prefer SA") pick
/// 127.1.0.9. The server sees which address the socket was bound to.
/// </summary>
public sealed class SourceAddressPolicyTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("127.1.0.9"), 32), new InterfaceAddress(IPAddress.Parse("127.0.0.5"), 32)],
    };

    private static readonly AddressSelectionPolicyTable Configured = new(
    [
        .. AddressSelectionPolicyTable.Default.Entries,
        new PolicyTableEntry(IPNetwork.Parse("::ffff:127.1.0.0/112"), 35, 30),
        new PolicyTableEntry(IPNetwork.Parse("::ffff:127.0.0.1/128"), 35, 30),
    ]);

    /// <summary>The TCP transport binds the source its attempt's table chooses.</summary>
    [Fact]
    public async Task The_TCP_transport_binds_the_source_the_configured_table_chooses()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var remote = (IPEndPoint)listener.LocalEndpoint;
        var transport = new TcpTransport();

        Assert.Equal(IPAddress.Parse("127.0.0.5"), await BoundSource(new AttemptContext(Loopback, remote, "127.0.0.1", [])));
        Assert.Equal(IPAddress.Parse("127.1.0.9"), await BoundSource(new AttemptContext(Loopback, remote, "127.0.0.1", []) { AddressSelectionTable = Configured }));

        async Task<IPAddress> BoundSource(AttemptContext context)
        {
            await using var path = await transport.ConnectAsync(context, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            using var accepted = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(path.LocalEndPoint!.Address, ((IPEndPoint)accepted.RemoteEndPoint!).Address);
            return ((IPEndPoint)accepted.RemoteEndPoint!).Address;
        }
    }

    /// <summary>Through the whole engine: the race gives each attempt the policy's table (HeMifPolicy.AddressSelectionTable).</summary>
    [Theory]
    [InlineData(false, "127.0.0.5")]
    [InlineData(true, "127.1.0.9")]
    public async Task A_raced_attempt_binds_the_source_the_policys_table_chooses(bool configured, string expected)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var engine = new HeMifEngine(new EngineOptions
        {
            Interfaces = [Loopback],
            Policy = configured ? HeMifPolicy.Empty with { AddressSelectionTable = Configured } : HeMifPolicy.Empty,
            Probe = new AlwaysValidated(),
            Resolver = new DnsInterfaceResolver(),
            Transports = new TransportRegistry([new TcpTransport()], [TransportName.Tcp]),
        });
        for (var i = 0; i < 600 && !engine.AllExamined; i++)
        {
            await Task.Delay(50); // a hang guard: the first examination answers at once
        }

        var result = await engine.ConnectAsync(new ConnectionRequest("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.Connection is not null, string.Join("\n", result.Report.Events.Select(e => $"{e.Kind}: {e.Detail}")));
        await using var connection = result.Connection;
        using var accepted = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(IPAddress.Parse(expected), ((IPEndPoint)accepted.RemoteEndPoint!).Address);
    }

    private sealed class AlwaysValidated : ConnectivityProbe
    {
        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken) =>
            Task.FromResult(new ValidationResult(ValidationState.Validated, "validated by the test"));
    }
}
