using System.Text;
using System.Net;
using HeMif.Configuration;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.Simulation;
using HeMif.Transports.Discovery;
using HeMif.Transports.Mptcp;
using HeMif.Transports.Probes;
using HeMif.Transports.Quic;
using HeMif.Transports.Resolve;

namespace HeMif.Fuzz;

/// <summary>
/// One parser of outside bytes or text, as a fuzz target: <see cref="Run"/> feeds it one input the way HeMif does and
/// catches exactly the error type the parser documents (<see cref="DocumentedError"/>); anything else escapes, and
/// under AFL++ an escaping exception is a crash.
/// </summary>
/// <param name="Name">The target's name (<c>tools/fuzz.sh NAME SECONDS</c>; the seed corpus is <c>corpus/NAME</c>).</param>
/// <param name="Parser">What is parsed, where it lives.</param>
/// <param name="DocumentedError">The one exception type the parser may throw for bad input ("none": it never throws).</param>
/// <param name="Run">Parses one input.</param>
public sealed record FuzzTarget(string Name, string Parser, string DocumentedError, Action<byte[]> Run);

/// <summary>
/// Every fuzz target. To add one: add a
/// <see cref="FuzzTarget"/> here that calls the parser as HeMif does and catches only its documented error, put a few
/// valid inputs under <c>corpus/NAME/</c>, and the corpus test and <c>tools/fuzz.sh</c> pick it up by name.
/// </summary>
public static class FuzzTargets
{
    /// <summary>
    /// The Initial the QUIC target's Version Negotiation must answer (its IDs are in the seeds). Made on first use, not
    /// in a static initialiser: under <c>tools/fuzz.sh</c> HeMif's assemblies are instrumented, and instrumented code
    /// may only run once SharpFuzz has attached AFL's shared memory (inside <c>Fuzzer.Run</c>); before that, the
    /// coverage counters write to nowhere and the process dies with an access violation.
    /// </summary>
    private static readonly Lazy<ProbeInitial> QuicInitial = new(() => new ProbeInitial(0x1a2a3a4a,
        [0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8], [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58], new byte[QuicPackets.MinInitialDatagramSize]));

    private static readonly IPAddress LinkLocalRouter = IPAddress.Parse("fe80::1");

    /// <summary>The targets by name. Building this list runs no HeMif code (see <see cref="QuicInitial"/>).</summary>
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new FuzzTarget[]
    {
        new("dns", "DNS messages: DnsMessage.Parse, the RFC 5452 match and the CNAME chain (src/HeMif.Transports/Resolve)", "none", Dns),
        new("quic-vn", "QUIC Version Negotiation: QuicPackets.ReadVersionNegotiation and ReadLongHeader (src/HeMif.Transports/Quic)", "none", QuicVersionNegotiation),
        new("policy", "the policy file: HeMifConfiguration.ParsePolicy (src/HeMif.Actors/Configuration)", nameof(HeMifConfigurationException), Policy),
        new("interfaces", "the interfaces file: HeMifConfiguration.ParseInterfaces (src/HeMif.Actors/Configuration)", nameof(HeMifConfigurationException), Interfaces),
        new("overrides", "the host override file: HostOverrides.Parse (src/HeMif.Transports/Discovery)", nameof(HeMifConfigurationException), Overrides),
        new("scenario", "the scenario file: ScenarioReader.Read (src/HeMif.Actors/Simulation)", nameof(HeMifConfigurationException), Scenario),
        new("mptcp-info", "MPTCP_INFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO: MptcpInfoReader (src/HeMif.Transports/Mptcp)", nameof(ArgumentException), MptcpInfo),
        new("ip-mptcp", "`ip mptcp limits show` and `ip -j mptcp endpoint show`: LinuxPathManager.Limits / KernelEndpoint (src/HeMif.Transports/Mptcp)", nameof(PathManagerException), IpMptcp),
        new("http-head", "the HTTP check's answer head: HttpAnswerHeadReader and the verdict (src/HeMif.Transports/Probes)", "none", HttpHead),
        new("ra", "Router Advertisements and their options (PvD, RDNSS, DNSSL, routes, prefixes): RouterAdvertisementReader.Read (src/HeMif.Actors/Discovery)", "none", RouterAdvertisementTarget),
        new("pvd-info", "PvD Additional Information JSON: PvdAdditionalInformation.TryParse and CheckAgainst (src/HeMif.Actors/Interfaces)", "none", PvdInformation),
        new("networkd", "systemd-networkd link state files (DNS=, DOMAINS=): NetworkdState.Parse (src/HeMif.Transports/Discovery)", "none", NetworkdLink),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    private static void Dns(byte[] input)
    {
        var parsed = DnsMessage.Parse(input);
        if (parsed.Message is not { } message)
        {
            _ = parsed.Error ?? throw new InvalidOperationException("a rejected message without a reason");
            return;
        }

        foreach (var question in message.Questions)
        {
            _ = DnsInterfaceResolver.Mismatch(message, message.Id, question);
            var records = message.FollowChain(question, out _, out var error);
            if (error is not null && records.Count > 0)
            {
                throw new InvalidOperationException("a chain error with records");
            }

            // RFC 2308 §5 negative caching reads the authority section's SOA along the chain.
            _ = message.NegativeTtl(question);
        }
    }

    private static void QuicVersionNegotiation(byte[] input)
    {
        _ = QuicPackets.ReadLongHeader(input, out _);
        var versions = QuicPackets.ReadVersionNegotiation(input, QuicInitial.Value, out var rejection);
        if ((versions is null) == (rejection is null))
        {
            throw new InvalidOperationException("a Version Negotiation must be read or rejected with a reason, not both or neither");
        }
    }

    private static void Policy(byte[] input) => Configuration(() => HeMifConfiguration.ParsePolicy(Text(input), "fuzz.json"));

    private static void Interfaces(byte[] input) => Configuration(() => HeMifConfiguration.ParseInterfaces(Text(input), "fuzz.json"));

    private static void Overrides(byte[] input) => Configuration(() => HostOverrides.Parse(Text(input), "fuzz.json"));

    private static void Scenario(byte[] input) => Configuration(() => ScenarioReader.Read(Text(input), "fuzz.json"));

    private static void MptcpInfo(byte[] input)
    {
        // As the readers call them: the whole answer for MPTCP_INFO and MPTCP_SUBFLOW_ADDRS; for MPTCP_FULL_INFO the
        // header the kernel wrote (the first bytes), then the two arrays at the strides the reader asks for.
        Documented<ArgumentException>(() => MptcpInfoReader.ParseInfo(input));
        Documented<ArgumentException>(() => MptcpInfoReader.ParseSubflowAddrs(input));
        var header = input.AsSpan(0, Math.Min(input.Length, MptcpInfoReader.FullInfoHeaderSize + MptcpInfoReader.InfoSize)).ToArray();
        var subflows = new byte[MptcpInfoReader.MaxSubflows * MptcpInfoReader.SubflowInfoSize];
        var tcp = new byte[MptcpInfoReader.MaxSubflows * MptcpInfoReader.TcpInfoSize];
        var rest = input.AsSpan(header.Length);
        rest[..Math.Min(rest.Length, subflows.Length)].CopyTo(subflows);
        rest[Math.Min(rest.Length, subflows.Length)..][..Math.Min(Math.Max(0, rest.Length - subflows.Length), tcp.Length)].CopyTo(tcp);
        Documented<ArgumentException>(() => MptcpInfoReader.ParseFullInfo(header, subflows, MptcpInfoReader.SubflowInfoSize, tcp, MptcpInfoReader.TcpInfoSize));
        _ = MptcpInfoReader.ParseSockaddr(input);
    }

    private static void IpMptcp(byte[] input)
    {
        var text = Text(input);
        Documented<PathManagerException>(() => LinuxPathManager.Limits.Parse(text));
        Documented<PathManagerException>(() => LinuxPathManager.KernelEndpoint.ParseList(text));
    }

    private static void HttpHead(byte[] input)
    {
        _ = HttpAnswerHeadReader.CouldBeHttp(input);
        var end = HttpAnswerHeadReader.HeadEnd(input);
        var head = HttpAnswerHeadReader.Parse(end < 0 ? input : input.AsSpan(0, end), out var error);
        if ((head is null) == (error is null))
        {
            throw new InvalidOperationException("a head must be read or rejected with a reason, not both or neither");
        }

        if (head is not null)
        {
            _ = HttpConnectivityProbe.Judge(head.Status, head.Location, Math.Max(0, head.ContentLength ?? 0), 204, new Uri("http://check.example.net/generate_204"));
        }
    }

    private static void RouterAdvertisementTarget(byte[] input)
    {
        // As RawIcmpv6Source hands it over: from a link-local router, hop limit 255 (what the socket checked), so that
        // every input reaches the options.
        var read = RouterAdvertisementReader.Read(LinkLocalRouter, RouterAdvertisementReader.RequiredHopLimit, input);
        if (read.Ok == (read.Rejection is not null) || (read.Rejection is not null && string.IsNullOrWhiteSpace(read.Detail)))
        {
            throw new InvalidOperationException("an RA must be used, or ignored with a reason and a detail, not both or neither");
        }

        _ = read.ToString();
    }

    private static void PvdInformation(byte[] input)
    {
        // As fetched (RFC 8801 §4.1: https://<PvD-ID>/.well-known/pvd), for a PvD ID the RA named.
        var information = PvdAdditionalInformation.TryParse(input, "pvd.corp.example", out var error);
        if ((information is null) == (error is null))
        {
            throw new InvalidOperationException("PvD information must be read or refused with a reason, not both or neither");
        }

        _ = information?.CheckAgainst([IPNetwork.Parse("2001:db8:a::/64")], new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _ = PvdAdditionalInformation.TryParse(input, null, out _);
    }

    private static void NetworkdLink(byte[] input)
    {
        // As read from /run/systemd/netif/links/<ifindex> (File.ReadAllText: UTF-8).
        var link = NetworkdState.Parse(3, Text(input), out var error);
        if ((link is null) == (error is null))
        {
            throw new InvalidOperationException("a link state file must be read or refused with a reason, not both or neither");
        }
    }

    /// <summary>Input files are read as UTF-8 text (invalid bytes become U+FFFD), as <see cref="HeMifConfiguration.ReadFile"/> does.</summary>
    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    private static void Configuration(Action parse) => Documented<HeMifConfigurationException>(parse);

    /// <summary>Runs <paramref name="parse"/>; exactly <typeparamref name="T"/> (not a subtype) is the documented failure.</summary>
    private static void Documented<T>(Action parse)
        where T : Exception
    {
        try
        {
            parse();
        }
        catch (T e) when (e.GetType() == typeof(T))
        {
            if (string.IsNullOrWhiteSpace(e.Message))
            {
                throw new InvalidOperationException("a documented error without a message", e);
            }
        }
    }

    private static void Documented<T>(Func<object?> parse)
        where T : Exception => Documented<T>(() => { _ = parse(); });
}
