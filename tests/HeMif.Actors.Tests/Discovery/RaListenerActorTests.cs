using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.TestKit;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// The RA listener on its own, as a child of an engine probe, on the virtual clock: packets injected by the test,
/// lifetimes counting down on HeMif's clock, what it learned told to its parent.
/// </summary>
public sealed class RaListenerActorTests : VirtualTimeTestKit
{
    private readonly TestProbe _engine;
    private readonly InjectedRaSource _source = new();

    public RaListenerActorTests()
    {
        _engine = CreateTestProbe("engine");
    }

    private IActorRef StartListener(IRouterAdvertisementSource? source = null)
    {
        var chosen = source ?? _source;
        var listener = _engine.ChildActorOf(Props.Create(() => new RaListenerActor("wlan0", chosen, Clock)), "ra-1-wlan0");
        Idle();
        return listener;
    }

    [Fact]
    public void At_start_it_says_it_listens_with_nothing_learned_yet()
    {
        StartListener();
        var learned = _engine.ExpectMsg<DiscoveryMessages.Learned>();
        Assert.Equal(("wlan0", RaLearningState.Listening), (learned.Interface, learned.Status.State));
        Assert.Empty(learned.Pvds);
        Assert.Equal(["wlan0"], _source.Listening);
    }

    /// <summary>Without a raw socket (no root), it says why and goes on without RA learning.</summary>
    [Fact]
    public void Without_a_usable_source_it_says_why_and_learns_nothing()
    {
        StartListener(new InjectedRaSource("a raw ICMPv6 socket needs root or CAP_NET_RAW"));
        var learned = _engine.ExpectMsg<DiscoveryMessages.Learned>();
        Assert.Equal(RaLearningState.Unavailable, learned.Status.State);
        Assert.Contains("CAP_NET_RAW", learned.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_RA_is_learned_and_told_to_the_parent_and_an_invalid_one_is_counted_and_nothing_else()
    {
        var listener = StartListener();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();

        _source.Send("wlan0", RaWire.Advertisement(0).Pvd("pvd.example", nested: RaWire.RdnssBytes(60, "2001:db8::53")));
        Idle();
        var pvd = Assert.Single(_engine.ExpectMsg<DiscoveryMessages.Learned>().Pvds);
        Assert.Equal("pvd.example", pvd.Id);

        _source.Send("wlan0", RaWire.Advertisement(0).Rdnss(60, "2001:db8::99"), hopLimit: 254);
        _source.Send("wlan0", RaWire.Advertisement(0).Rdnss(60, "2001:db8::99"), router: "2001:db8::1");
        Idle();
        _engine.ExpectNoMsg(TimeSpan.Zero);
        listener.Tell(DiscoveryMessages.GetLearned.Instance, TestActor);
        Idle();
        var status = ExpectMsg<DiscoveryMessages.Learned>().Status;
        Assert.Equal((1, 2), (status.Accepted, status.Ignored));
        Assert.Contains("SourceNotLinkLocal", status.Detail, StringComparison.Ordinal);
    }

    /// <summary>An RDNSS server is told gone exactly when its lifetime ends, on HeMif's clock; the PvD goes with its last fact.</summary>
    [Fact]
    public void A_server_goes_away_exactly_when_its_lifetime_ends()
    {
        StartListener();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();
        _source.Send("wlan0", RaWire.Advertisement(0).Pvd("pvd.example", nested: [.. RaWire.RdnssBytes(60, "2001:db8::53"), .. RaWire.DnsslBytes(90, "corp.example")]));
        Idle();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();

        Advance(TimeSpan.FromSeconds(60) - TimeSpan.FromTicks(1));
        _engine.ExpectNoMsg(TimeSpan.Zero);
        Advance(TimeSpan.FromTicks(1));
        var pvd = Assert.Single(_engine.ExpectMsg<DiscoveryMessages.Learned>().Pvds);
        Assert.Empty(pvd.DnsServers);
        Assert.Single(pvd.SearchDomains);

        Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(_engine.ExpectMsg<DiscoveryMessages.Learned>().Pvds);
    }

    /// <summary>A lifetime of 2^32 − 2 s (136 years) is waited for in steps no timer refuses, and says nothing meanwhile.</summary>
    [Fact]
    public void A_lifetime_at_its_limit_is_waited_for_in_steps()
    {
        StartListener();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();
        _source.Send("wlan0", RaWire.Advertisement(0).Rdnss(uint.MaxValue - 1, "2001:db8::53"));
        Idle();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();

        Advance(TimeSpan.FromDays(3));
        _engine.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(1, Clock.ArmedTimerCount);
    }

    [Fact]
    public void Stopping_it_stops_listening()
    {
        var listener = StartListener();
        Watch(listener);
        Sys.Stop(listener);
        Idle();
        ExpectTerminated(listener);
        Assert.Equal(1, _source.Stopped);
    }
}
