using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Validate;

namespace HeMif.Transports.Tests.Connector;

/// <summary>
/// Issue 13, "Composition through a builder": <see cref="HeMifConnector.CreateBuilder"/> is the one composition root
/// (<see cref="HeMifConnector.Create(HeMifConnectorOptions)"/> is the builder with nothing added); a transport, resolver
/// or probe of the application's is used; bad use is a clear error.
/// </summary>
public sealed class ConnectorBuilderTests
{
    private static readonly InterfaceFacts Loopback = new("lo", InterfaceKind.Loopback)
    {
        Addresses = [new InterfaceAddress(IPAddress.Loopback, 8)],
    };

    private static readonly HeMifConnectorOptions Options = new() { Interfaces = [Loopback], DisableValidation = true };

    private static IReadOnlyList<string> Composition(IHeMifConnector connector) => ((IHeMifConnectorControl)connector).Composition;

    [Fact]
    public async Task The_builders_defaults_are_what_Create_makes()
    {
        var validated = Options with { DisableValidation = false };
        await using var created = HeMifConnector.Create(validated);
        await using var built = HeMifConnector.CreateBuilder().UseOptions(validated).Build();

        Assert.Equal(Composition(created), Composition(built));
        Assert.Equal(
        [
            "transport tcp: HeMif.Transports.Tcp.TcpTransport",
            "transport quic: HeMif.Transports.Quic.QuicTransport",
            "transport mptcp: HeMif.Transports.Mptcp.MptcpTransport",
            "transport udp: HeMif.Transports.Udp.UdpExchangeTransport",
            "defaults: tcp",
            "resolver: HeMif.Transports.Resolve.DnsInterfaceResolver",
            "probe: HeMif.Transports.Probes.LoopbackExemptProbe(HeMif.Validate.ScopedProbe)",
            "quic probe: HeMif.Transports.Quic.QuicVersionProbe",
        ], Composition(built));
    }

    [Fact]
    public async Task A_transport_added_through_the_builder_is_raced_when_a_request_may_use_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var plain = new PlainTcpTransport();
        await using var connector = HeMifConnector.CreateBuilder()
            .UseOptions(Options)
            .AddTransport(plain)
            .UseDefaultTransports(plain.Name)
            .Build();

        await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("plain", connection.Transport);
        Assert.IsType<PlainTcpTransport.Path>(connection.Path);
        Assert.All(connection.Report.Attempts, a => Assert.Equal("plain", a.Transport));
        Assert.Equal(1, plain.Attempts);
        Assert.Contains("transport plain: " + typeof(PlainTcpTransport).FullName, Composition(connector));
    }

    [Fact]
    public async Task A_resolver_and_a_probe_given_to_the_builder_are_the_ones_asked()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var resolver = new FixedResolver(IPAddress.Loopback);
        var probe = new CountingProbe();
        // Loopback as if it were a wired network: a name resolved to it may go there, and the probe is asked about it
        // (a loopback interface is validated without asking, and takes only destinations on this host).
        var wired = new InterfaceFacts("lo", InterfaceKind.Ethernet) { Addresses = Loopback.Addresses };
        await using var connector = HeMifConnector.CreateBuilder()
            .UseOptions(Options with { Interfaces = [wired], DisableValidation = false })
            .UseResolver(resolver)
            .UseProbe(probe)
            .Build();

        await using var connection = await connector.ConnectAsync("service.test", ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("tcp", connection.Transport);
        Assert.Contains("service.test", resolver.Hosts);
        Assert.Contains("lo", probe.Interfaces);
        Assert.Contains("resolver: " + typeof(FixedResolver).FullName, Composition(connector));
        Assert.Contains($"probe: HeMif.Transports.Probes.LoopbackExemptProbe({typeof(CountingProbe).FullName})", Composition(connector));
    }

    [Fact]
    public async Task A_probe_given_to_the_builder_never_sees_loopback_which_is_validated_by_definition()
    {
        var probe = new CountingProbe();
        await using var connector = HeMifConnector.CreateBuilder().UseOptions(Options with { DisableValidation = false }).UseProbe(probe).Build();

        Assert.Contains($"probe: HeMif.Transports.Probes.LoopbackExemptProbe({typeof(CountingProbe).FullName})", Composition(connector));
    }

    [Fact]
    public async Task Build_twice_is_refused()
    {
        var builder = HeMifConnector.CreateBuilder().UseOptions(Options);
        await using var connector = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(builder.Build);
        Assert.Contains("Build was already called: a builder makes one connector", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_parts_are_refused_naming_the_parameter()
    {
        var builder = HeMifConnector.CreateBuilder();
        Assert.Equal("transport", Assert.Throws<ArgumentNullException>(() => builder.AddTransport(null!)).ParamName);
        Assert.Equal("resolver", Assert.Throws<ArgumentNullException>(() => builder.UseResolver(null!)).ParamName);
        Assert.Equal("probe", Assert.Throws<ArgumentNullException>(() => builder.UseProbe(null!)).ParamName);
        Assert.Equal("probe", Assert.Throws<ArgumentNullException>(() => builder.UseQuicProbe(null!)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => builder.UseOptions(null!)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => builder.Configure(null!)).ParamName);
        Assert.Contains("returned null options", Assert.Throws<InvalidOperationException>(() => builder.Configure(_ => null!)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_transport_name_is_refused_naming_both_types()
    {
        var onTcp = Assert.Throws<ArgumentException>(() => HeMifConnector.CreateBuilder().AddTransport(new PlainTcpTransport("TCP")));
        Assert.Contains("Transport 'tcp' is registered twice: HeMif's own HeMif.Transports.Tcp.TcpTransport and " + typeof(PlainTcpTransport).FullName, onTcp.Message, StringComparison.Ordinal);

        var builder = HeMifConnector.CreateBuilder().AddTransport(new PlainTcpTransport("socks5"));
        var twice = Assert.Throws<ArgumentException>(() => builder.AddTransport(new OtherTransport()));
        Assert.Contains($"Transport 'socks5' is registered twice: {typeof(PlainTcpTransport).FullName} and {typeof(OtherTransport).FullName}", twice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_default_transport_nobody_registered_is_refused_naming_what_is()
    {
        var builder = HeMifConnector.CreateBuilder().UseOptions(Options).UseDefaultTransports(TransportName.Tcp, new TransportName("socks5"));

        var error = Assert.Throws<ArgumentException>(builder.Build);
        Assert.Contains("UseDefaultTransports names 'socks5', which no transport is registered as (registered: tcp, quic, mptcp, udp)", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => builder.UseDefaultTransports());
    }

    [Fact]
    public void A_probe_with_validation_disabled_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => HeMifConnector.CreateBuilder().UseOptions(Options).UseProbe(new CountingProbe()).Build());
        Assert.Contains("UseProbe gave a connectivity probe, but HeMifConnectorOptions.DisableValidation is set", error.Message, StringComparison.Ordinal);
    }

    private sealed class OtherTransport : AttemptTransport
    {
        public override TransportName Name { get; } = new("socks5");

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken) =>
            throw new AttemptFailedException(AttemptFailureKind.Hard, "never connects");
    }

    private sealed class FixedResolver(IPAddress address) : InterfaceResolver
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Hosts { get; } = [];

        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
        {
            Hosts.Add(host);
            return Task.FromResult(family == address.AddressFamily ? new ResolveResult([address]) : new ResolveResult([]));
        }
    }

    private sealed class CountingProbe : ConnectivityProbe
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Interfaces { get; } = [];

        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
        {
            Interfaces.Add(networkInterface.Name);
            return Task.FromResult(new ValidationResult(ValidationState.Validated, "counted"));
        }
    }
}
