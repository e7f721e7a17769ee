using HeMif.Race;

namespace HeMif.Actors.Tests.Race;

/// <summary>
/// Transports are registered by name (issue 13: "not by an enum with fixed slots; the planner asks the registry which
/// transports a request may use and in what order (HEv3: QUIC before TCP where both are allowed)").
/// </summary>
public sealed class TransportRegistryTests
{
    private static readonly TransportName Socks5 = new("socks5");

    /// <summary>HEv3: "the preference policy favors QUIC over TCP": transports over UDP first, whatever the order of registration.</summary>
    [Fact]
    public void Transports_over_UDP_come_first_then_the_others_in_registration_order()
    {
        var registry = new TransportRegistry([Named("tcp"), Named("socks5"), Named("quic", overUdp: true), Named("mptcp")], [TransportName.Tcp]);

        Assert.Equal(["quic", "tcp", "socks5"], registry.Order([TransportName.Tcp, Socks5, TransportName.Quic]).Select(t => t.Name.Value));
        Assert.Equal(["tcp"], registry.Order([TransportName.Tcp]).Select(t => t.Name.Value));
        Assert.Empty(registry.Order([new TransportName("uds")]));
    }

    [Fact]
    public void A_name_of_the_applications_own_is_raced_like_any_other_and_names_are_case_insensitive()
    {
        var socks = Named("SOCKS5");
        var registry = new TransportRegistry([socks], [Socks5]);

        Assert.Same(socks, registry.Find(new TransportName("socks5")));
        Assert.Equal([Socks5], registry.Defaults);
        Assert.Null(registry.Unusable([Socks5]));
    }

    [Fact]
    public void Two_transports_of_one_name_or_a_default_nobody_registered_are_refused_saying_which()
    {
        var twice = Assert.Throws<ArgumentException>(() => new TransportRegistry([Named("tcp"), Named("TCP")], []));
        Assert.Contains("Two transports are registered as 'tcp'", twice.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ArgumentException>(() => new TransportRegistry([Named("tcp")], [TransportName.Quic]));
        Assert.Contains("Default transport 'quic' is not registered (registered: tcp)", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>A request none of whose transports can be used here says why for each.</summary>
    [Fact]
    public void A_request_no_transport_of_which_can_be_used_is_told_why_for_each()
    {
        var registry = new TransportRegistry([Named("tcp"), Named("quic", overUdp: true, unsupported: "QUIC unsupported on this host (no libmsquic)")], [TransportName.Tcp]);

        Assert.Null(registry.Unusable([TransportName.Quic, TransportName.Tcp]));
        Assert.Equal("QUIC unsupported on this host (no libmsquic); UDS unsupported: no transport named 'uds' is registered (registered: tcp, quic)",
            registry.Unusable([TransportName.Quic, new TransportName("uds")]));
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("1tcp", "must begin with an ASCII letter")]
    [InlineData("tcp/ip", "found '/'")]
    [InlineData("a23456789012345678901234567890123", "longer than 32 characters")]
    public void A_bad_transport_name_says_which_rule_it_breaks(string name, string says)
    {
        Assert.False(TransportName.TryParse(name, out _));
        Assert.Contains(says, Assert.Throws<ArgumentException>(() => new TransportName(name)).Message, StringComparison.Ordinal);
    }

    private static NamedTransport Named(string name, bool overUdp = false, string? unsupported = null) => new(new TransportName(name), overUdp, unsupported);

    private sealed class NamedTransport(TransportName name, bool overUdp, string? unsupported) : AttemptTransport
    {
        public override TransportName Name => name;

        public override bool RunsOverUdp => overUdp;

        public override string? UnsupportedReason => unsupported;

        public override Task<ConnectedPath> ConnectAsync(AttemptContext context, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the registry never connects");
    }
}
