using System.Globalization;
using System.Net;
using System.Text;
using Akka.Actor;
using Akka.TestKit;
using HeMif.Actors.Tests.TestKit;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// RFC 8801 §4, PvD Additional Information, on the RA listener with a fake fetcher and the virtual clock: the first
/// fetch waits a random time up to 2^(Delay × 2) ms (§4.1), the document is checked (identifier, prefixes covered,
/// expires: §4.3) before it is used, refreshed before it expires, dropped when it expires without a newer one, and a
/// failed fetch or a bad document is reported while the PvD stays usable with the RA's facts.
/// </summary>
public sealed class PvdInformationFetchTests : VirtualTimeTestKit
{
    private const string Id = "corp.pvd.example";

    /// <summary>Delay 0 is at most 2^0 = 1 ms; the draw is one half.</summary>
    private static readonly TimeSpan FirstFetch = TimeSpan.FromMilliseconds(0.5);
    private readonly TestProbe _engine;
    private readonly InjectedRaSource _source = new();
    private readonly FakeFetcher _fetcher;

    public PvdInformationFetchTests()
    {
        _engine = CreateTestProbe("engine");
        _fetcher = new FakeFetcher(Clock);
    }

    /// <summary>Delay 5: at most 2^10 = 1024 ms; the random draw is one half, so the fetch is due at exactly 512 ms.</summary>
    [Fact]
    public void The_first_fetch_waits_the_random_delay_then_the_document_is_kept_with_what_it_says()
    {
        Start();
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1), noInternet: true, zones: ["corp.example"]);
        SendRa(delay: 5);
        var learned = Assert.Single(_engine.ExpectMsg<DiscoveryMessages.Learned>().Pvds);
        Assert.True(learned.HasAdditionalInformation);
        Assert.Equal(TimeSpan.FromMilliseconds(1024), learned.MaxFetchDelay);

        Advance(TimeSpan.FromMilliseconds(512) - TimeSpan.FromTicks(1));
        Assert.Empty(_fetcher.Calls);
        Advance(TimeSpan.FromTicks(1));

        var call = Assert.Single(_fetcher.Calls);
        Assert.Equal(("wlan0", Id, TimeSpan.FromMilliseconds(512)), (call.Interface, call.PvdId, call.At));
        Assert.Equal([IPAddress.Parse("2001:db8:1::53")], call.Servers);
        var pvd = Assert.Single(_engine.ExpectMsg<DiscoveryMessages.Learned>().Pvds);
        Assert.NotNull(pvd.AdditionalInformation);
        Assert.True(pvd.AdditionalInformation!.NoInternet);
        Assert.Equal(["corp.example"], pvd.AdditionalInformation.DnsZones);
        Assert.Null(pvd.AdditionalInformationError);
    }

    [Fact]
    public void It_is_fetched_again_before_it_expires_and_the_newer_document_is_kept()
    {
        Start();
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1));
        SendRa();
        Advance(TimeSpan.FromMilliseconds(1));
        Assert.Single(_fetcher.Calls);
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1), metered: true);

        Advance(TimeSpan.FromMinutes(30));

        Assert.Equal([FirstFetch, FirstFetch + TimeSpan.FromMinutes(30)], _fetcher.Calls.Select(c => c.At));
        var pvd = LastLearned().Single();
        Assert.True(pvd.AdditionalInformation!.Metered);
        Advance(TimeSpan.FromMinutes(45)); // past the first document's expiry: the newer one is still used
        Assert.NotNull(Current().Single().AdditionalInformation);
    }

    public static TheoryData<string, PvdInformationProblem> BadDocuments => new()
    {
        { "identifier", PvdInformationProblem.IdentifierMismatch },
        { "prefixes", PvdInformationProblem.PrefixNotCovered },
        { "expired", PvdInformationProblem.Expired },
        { "json", PvdInformationProblem.NotJson },
        { "fetch", PvdInformationProblem.FetchFailed },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void A_bad_document_or_a_failed_fetch_is_reported_kept_out_and_tried_again_later(string what, PvdInformationProblem problem)
    {
        Start();
        var bad = what switch
        {
            "identifier" => Document("other.pvd.example", Clock.GetUtcNow() + TimeSpan.FromHours(1)),
            "prefixes" => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1), prefixes: "2001:db8:2::/48"),
            "expired" => Document(Id, Clock.GetUtcNow() - TimeSpan.FromSeconds(1)),
            "json" => PvdFetchResult.Ok(Encoding.UTF8.GetBytes("{\"identifier\": ")),
            _ => PvdFetchResult.Failed(PvdInformationProblem.FetchFailed, "https://corp.pvd.example/.well-known/pvd", "connection refused"),
        };
        _fetcher.Next = _ => bad;
        SendRa();
        Advance(TimeSpan.FromMilliseconds(1));

        var pvd = LastLearned().Single();
        Assert.Null(pvd.AdditionalInformation);
        Assert.Equal(problem, pvd.AdditionalInformationError!.Problem);
        Assert.StartsWith("https://corp.pvd.example/.well-known/pvd: ", pvd.AdditionalInformationError.Message, StringComparison.Ordinal);
        // The PvD stays usable with the RA's facts.
        Assert.Equal([IPAddress.Parse("2001:db8:1::53")], pvd.DnsServers.Select(s => s.Value));

        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1));
        Advance(PvdInformationKeeper.FirstRetry);
        Assert.Equal([FirstFetch, FirstFetch + PvdInformationKeeper.FirstRetry], _fetcher.Calls.Select(c => c.At));
        Assert.NotNull(LastLearned().Single().AdditionalInformation);
    }

    [Fact]
    public void A_document_that_expires_without_a_newer_one_is_dropped_and_the_failure_said()
    {
        Start();
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        SendRa();
        Advance(TimeSpan.FromMilliseconds(1));
        _fetcher.Next = _ => PvdFetchResult.Failed(PvdInformationProblem.FetchTimedOut, "https://corp.pvd.example/.well-known/pvd", "no answer in 10 s");

        Advance(TimeSpan.FromMinutes(5)); // the refresh fails: the first document is still valid, and still used
        var during = Current().Single();
        Assert.NotNull(during.AdditionalInformation);
        Assert.Equal(PvdInformationProblem.FetchTimedOut, during.AdditionalInformationError!.Problem);

        Advance(TimeSpan.FromMinutes(5));
        var after = Current().Single();
        Assert.Null(after.AdditionalInformation);
        Assert.NotNull(after.AdditionalInformationError);
    }

    [Fact]
    public void A_new_sequence_number_forgets_the_document_and_fetches_anew()
    {
        Start();
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1), noInternet: true);
        SendRa(sequence: 1);
        Advance(TimeSpan.FromMilliseconds(1));
        _fetcher.Next = _ => Document(Id, Clock.GetUtcNow() + TimeSpan.FromHours(1));

        Advance(TimeSpan.FromSeconds(1));
        SendRa(sequence: 2);
        Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(2, _fetcher.Calls.Count);
        Assert.False(Current().Single().AdditionalInformation!.NoInternet);
    }

    [Fact]
    public void Without_the_H_flag_nothing_is_fetched()
    {
        Start();
        _source.Send("wlan0", RaWire.Advertisement(0).Pvd(Id, sequence: 1, h: false, nested: RaWire.RdnssBytes(600, "2001:db8:1::53")));
        Advance(TimeSpan.FromHours(1));
        Assert.Empty(_fetcher.Calls);
    }

    /// <summary>What the listener kept becomes the interface's <see cref="InterfaceFacts.PvdInfo"/>, which scope, metered and rules read.</summary>
    [Fact]
    public void The_document_of_the_PvD_the_interface_is_named_by_is_the_interfaces_PvD_information()
    {
        var now = DateTimeOffset.UnixEpoch;
        var info = new PvdAdditionalInformation(Id, now.AddHours(1), []) { NoInternet = true, DnsZones = ["corp.example"] };
        var pvd = new ProvisioningDomain(Id, [IPAddress.Parse("fe80::1")]) { SequenceNumber = 1, HasAdditionalInformation = true, AdditionalInformation = info };

        var merged = LearnedFacts.Merge(new InterfaceFacts("wlan0", InterfaceKind.Wifi), [pvd], now);
        var named = LearnedFacts.Merge(new InterfaceFacts("wlan0", InterfaceKind.Wifi) { PvdId = Id }, [pvd], now);
        var other = LearnedFacts.Merge(new InterfaceFacts("wlan0", InterfaceKind.Wifi) { PvdId = "other.example" }, [pvd], now);

        Assert.Same(info, merged.PvdInfo);
        Assert.Same(info, named.PvdInfo);
        Assert.Null(other.PvdInfo);
    }

    private IActorRef? _listener;

    private void Start()
    {
        _listener = _engine.ChildActorOf(Props.Create(() => new RaListenerActor("wlan0", _source, Clock, _fetcher, new HalfRandom())), "ra-1-wlan0");
        Idle();
        _engine.ExpectMsg<DiscoveryMessages.Learned>();
    }

    private void SendRa(int delay = 0, ushort sequence = 1)
    {
        _source.Send("wlan0", RaWire.Advertisement(0).Pvd(Id, sequence: sequence, h: true, delay: delay,
            nested: [.. RaWire.PrefixBytes("2001:db8:1::/64"), .. RaWire.RdnssBytes(600, "2001:db8:1::53")]));
        Idle();
    }

    /// <summary>The last thing the listener told its parent (draining what came before).</summary>
    private IReadOnlyList<ProvisioningDomain> LastLearned()
    {
        DiscoveryMessages.Learned? last = null;
        while (_engine.HasMessages)
        {
            last = _engine.ExpectMsg<DiscoveryMessages.Learned>();
        }

        return (last ?? throw new InvalidOperationException("the listener told its parent nothing")).Pvds;
    }

    private IReadOnlyList<ProvisioningDomain> Current()
    {
        _listener!.Tell(DiscoveryMessages.GetLearned.Instance, TestActor);
        Idle();
        return ExpectMsg<DiscoveryMessages.Learned>().Pvds;
    }

    private static PvdFetchResult Document(string id, DateTimeOffset expires, bool noInternet = false, bool metered = false, string[]? zones = null, string prefixes = "2001:db8:1::/48") =>
        PvdFetchResult.Ok(Encoding.UTF8.GetBytes($$"""
            {"identifier": "{{id}}", "expires": "{{expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)}}", "prefixes": ["{{prefixes}}"],
             "noInternet": {{(noInternet ? "true" : "false")}}, "metered": {{(metered ? "true" : "false")}}, "dnsZones": [{{string.Join(",", (zones ?? []).Select(z => $"\"{z}\""))}}]}
            """));

    private sealed class HalfRandom : Random
    {
        public override double NextDouble() => 0.5;
    }

    private sealed class FakeFetcher(TimeProvider clock) : IPvdInformationFetcher
    {
        private readonly DateTimeOffset _start = clock.GetUtcNow();

        public List<(string Interface, string PvdId, IReadOnlyList<IPAddress> Servers, TimeSpan At)> Calls { get; } = [];

        public Func<string, PvdFetchResult> Next { get; set; } = _ => throw new InvalidOperationException("no document set");

        public Task<PvdFetchResult> FetchAsync(string interfaceName, string pvdId, IReadOnlyList<IPAddress> dnsServers, CancellationToken cancellationToken)
        {
            Calls.Add((interfaceName, pvdId, dnsServers, clock.GetUtcNow() - _start));
            return Task.FromResult(Next(pvdId));
        }
    }
}
