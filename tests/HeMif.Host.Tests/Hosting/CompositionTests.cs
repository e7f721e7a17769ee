using System.Net;
using System.Net.Sockets;
using HeMif.Host.Tests.Support;
using HeMif.Interfaces;
using HeMif.TestKit;
using HeMif.Validate;
using Microsoft.Extensions.DependencyInjection;

namespace HeMif.Host.Tests.Hosting;

/// <summary>
/// Issue 13, "Composition through a builder … in DI (<c>services.AddHeMif().AddTransport&lt;T&gt;()</c>…)": what the
/// application adds on <see cref="HeMifBuilder"/> reaches the same composition builder as
/// <see cref="HeMifConnector.CreateBuilder"/>, with services from the container.
/// </summary>
public sealed class CompositionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_transport_type_added_in_DI_is_made_by_the_container_and_raced()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var (host, _) = TestHosts.Create(
            configure: b => b.AddTransport<ContainerTransport>().UseDefaultTransports(new TransportName("plain")),
            services: s => s.AddSingleton<AttemptLog>());
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var connector = host.Services.GetRequiredService<IHeMifConnector>();

            await using var connection = await connector.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(Bound);

            Assert.Equal("plain", connection.Transport);
            Assert.Equal(1, host.Services.GetRequiredService<AttemptLog>().Count); // the container's instance, with its dependency
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task An_instance_a_resolver_type_and_a_probe_type_added_in_DI_are_the_ones_used()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var plain = new PlainTcpTransport("mine");
        // Loopback as if it were a wired network: a name resolved to it may go there, and the probe is asked about it.
        var wired = new InterfaceFacts("lo", InterfaceKind.Ethernet) { Addresses = TestHosts.Loopback.Addresses };
        var (host, _) = TestHosts.Create(
            new Dictionary<string, string?> { ["HeMif:DisableValidation"] = "false" },
            b => b.UseInterfaces([wired]).AddTransport(plain).UseDefaultTransports(plain.Name).UseResolver<LoopbackResolver>().UseProbe<PassingProbe>());
        using (host)
        {
            await host.StartAsync().WaitAsync(Bound);
            var connector = host.Services.GetRequiredService<IHeMifConnector>();

            await using var connection = await connector.ConnectAsync("service.test", ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(Bound);

            Assert.Equal("mine", connection.Transport);
            Assert.Equal(1, plain.Attempts);
            Assert.Contains("service.test", host.Services.GetRequiredService<LoopbackResolver>().Hosts);
            Assert.Contains("lo", host.Services.GetRequiredService<PassingProbe>().Interfaces);
            await host.StopAsync().WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task Two_transports_with_one_name_fail_start_up_naming_both()
    {
        var (host, _) = TestHosts.Create(configure: b => b.AddTransport(new PlainTcpTransport("tcp")));
        using (host)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => host.StartAsync().WaitAsync(Bound));
            Assert.Contains($"Transport 'tcp' is registered twice: HeMif's own HeMif.Transports.Tcp.TcpTransport and {typeof(PlainTcpTransport).FullName}", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Null_arguments_are_refused()
    {
        var builder = new ServiceCollection().AddHeMif();
        Assert.Throws<ArgumentNullException>(() => builder.AddTransport(null!));
        Assert.Throws<ArgumentNullException>(() => builder.UseDefaultTransports(null!));
    }

    /// <summary>A dependency the container gives the transport (so the test sees the container made it).</summary>
    public sealed class AttemptLog
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add() => Interlocked.Increment(ref _count);
    }

    /// <summary>TCP under the name <c>plain</c>, counting its attempts in a service from the container.</summary>
    public sealed class ContainerTransport(AttemptLog log) : AttemptTransport
    {
        private readonly PlainTcpTransport _tcp = new();

        public override TransportName Name => _tcp.Name;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken)
        {
            log.Add();
            return _tcp.ConnectAsync(context, cancellationToken);
        }
    }

    public sealed class LoopbackResolver : InterfaceResolver
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Hosts { get; } = [];

        public override Task<ResolveResult> ResolveAsync(InterfaceFacts networkInterface, string host, AddressFamily family, CancellationToken cancellationToken)
        {
            Hosts.Add(host);
            return Task.FromResult(new ResolveResult(family == AddressFamily.InterNetwork ? [IPAddress.Loopback] : []));
        }
    }

    public sealed class PassingProbe : ConnectivityProbe
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Interfaces { get; } = [];

        public override Task<ValidationResult> ProbeAsync(InterfaceFacts networkInterface, CancellationToken cancellationToken)
        {
            Interfaces.Add(networkInterface.Name);
            return Task.FromResult(new ValidationResult(ValidationState.Validated, "passed"));
        }
    }
}
