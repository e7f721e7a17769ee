using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.TestKit;

namespace HeMif.Actors.Tests.Discovery;

/// <summary>
/// Hostile bytes through the RA reader, with the strictness of the DNS codec's fuzz tests: generated RAs read back
/// exactly as written; real RAs bit-flipped, truncated, extended, spliced and with their length octets rewritten, and
/// pure noise, always give a result (never an exception; each case is bounded, so the loop is also the "never hangs"
/// check), and whatever is accepted respects the RFCs' limits.
/// </summary>
public sealed class RouterAdvertisementFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        RaWire.Advertisement(prf: 0b01).Prefix("2001:db8:1::/64").Mtu(1500).Route("2001:db8:9::/48", prf: 0b11)
            .Rdnss(300, "2001:db8:1::53", "2001:db8:1::54").Dnssl(300, "corp.example", "lab.example").ToArray(),
        RaWire.Advertisement(routerLifetime: 0)
            .Pvd("pvd.corp.example", sequence: 9, h: true, raHeader: RaWire.Header(routerLifetime: 600), delay: 2,
                nested: [.. RaWire.PrefixBytes("2001:db8:a::/64"), .. RaWire.RdnssBytes(600, "2001:db8:a::53"), .. RaWire.DnsslBytes(600, "corp.example"),
                    .. RaWire.RouteBytes("2001:db8:a:1::/80"), .. RaWire.PvdBytes("inner.example")])
            .Rdnss(uint.MaxValue, "fe80::53").ToArray(),
        RaWire.Advertisement().Pvd("a.example").Pvd("b.example", nested: RaWire.RdnssBytes(1, "2001:db8::1")).ToArray(),
    ];

    [Fact]
    public void The_seeds_are_well_formed()
    {
        foreach (var seed in Seeds)
        {
            Assert.True(RouterAdvertisementReader.Read(RaWire.Router, 255, seed).Ok);
        }
    }

    /// <summary>Generated RAs (header, options at the top level and inside a PvD Option) read back as they were written.</summary>
    [Property(MaxTest = 400)]
    public Property A_generated_RA_reads_back_as_written() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed => Assert.Null(RoundTrip(seed)));

    /// <summary>Random bytes, with and without a plausible RA header in front: a result, never an exception.</summary>
    [Property(MaxTest = 2000)]
    public Property Random_bytes_give_a_result_and_never_throw() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            if (bytes.Length >= 16 && random.Next(2) == 0)
            {
                RaWire.Header().CopyTo(bytes, 0);
            }

            Check(RouterAdvertisementReader.Read(RaWire.Router, random.Next(3) == 0 ? random.Next(0, 256) : 255, bytes));
        });

    /// <summary>Mutations of real RAs: both outcomes occur, no exception, and what is accepted is within the limits.</summary>
    [Fact]
    public void Mutated_RAs_give_an_RA_or_a_reason_and_never_throw()
    {
        var random = new Random(2020_07_29);
        var accepted = 0;
        var rejected = 0;
        foreach (var seed in Seeds)
        {
            for (var i = 0; i < 8_000; i++)
            {
                var result = RouterAdvertisementReader.Read(RaWire.Router, 255, Mutate(seed, random));
                Check(result);
                if (result.Ok)
                {
                    accepted++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        Assert.True(accepted > 1000, $"only {accepted} mutants accepted");
        Assert.True(rejected > 1000, $"only {rejected} mutants rejected");
    }

    /// <summary>The largest packet an IPv6 payload can be (65,535 octets) full of the smallest options: read in one pass.</summary>
    [Fact]
    public void The_largest_packet_of_the_smallest_options_is_read()
    {
        var w = RaWire.Advertisement();
        while (w.ToArray().Length + 8 <= 65_535)
        {
            w.Option(200, new byte[6]);
        }

        var result = RouterAdvertisementReader.Read(RaWire.Router, 255, w.ToArray());
        Assert.True(result.Ok);
    }

    private static void Check(RaReadResult result)
    {
        if (!result.Ok)
        {
            Assert.NotNull(result.Rejection);
            Assert.False(string.IsNullOrWhiteSpace(result.Detail));
            return;
        }

        var ra = result.Advertisement!;
        Assert.True(ra.Source.IsIPv6LinkLocal);
        CheckOptions(ra.Options);
        if (ra.Pvd is { } pvd)
        {
            Assert.True(DomainNames.IsValid(pvd.PvdId), pvd.PvdId);
            Assert.InRange((int)pvd.Delay, 0, 15);
            CheckOptions(pvd.Options);
        }

        Assert.All(ra.Ignored, r => Assert.False(string.IsNullOrWhiteSpace(r.Detail)));
    }

    private static void CheckOptions(RaOptions o)
    {
        Assert.All(o.Prefixes, p =>
        {
            Assert.InRange(p.Prefix.PrefixLength, 0, 128);
            Assert.True(p.PreferredLifetime.Seconds <= p.ValidLifetime.Seconds);
            Assert.False(p.Prefix.BaseAddress.IsIPv6LinkLocal);
        });
        Assert.All(o.Routes, r => Assert.InRange(r.Prefix.PrefixLength, 0, 128));
        Assert.All(o.DnsServers, d => Assert.All(d.Servers, s => Assert.False(s.IsIPv6Multicast || IPAddress.IsLoopback(s))));
        Assert.All(o.SearchLists, d => Assert.All(d.Domains, n => Assert.True(DomainNames.IsValid(n), n)));
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        switch (random.Next(6))
        {
            case 0: // flip 1..8 bits
                for (var n = random.Next(1, 9); n > 0; n--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1: // truncate
                return bytes[..random.Next(bytes.Length)];
            case 2: // extend with noise
                var tail = new byte[random.Next(1, 64)];
                random.NextBytes(tail);
                return [.. bytes, .. tail];
            case 3: // rewrite an option length octet (every odd octet from 17 on may be one)
                var at = 17 + (2 * random.Next((bytes.Length - 17) / 2));
                bytes[at] = (byte)random.Next(0, 8);
                return bytes;
            case 4: // duplicate a slice somewhere (repeated options, repeated labels)
                var start = random.Next(bytes.Length);
                var length = random.Next(1, Math.Min(40, bytes.Length - start) + 1);
                var insertAt = 16 + random.Next(bytes.Length - 15);
                return [.. bytes[..insertAt], .. bytes.AsSpan(start, length).ToArray(), .. bytes[insertAt..]];
            default: // a label or length-ish value somewhere past the header
                bytes[16 + random.Next(bytes.Length - 16)] = (byte)(random.Next(2) == 0 ? 0xC0 | random.Next(64) : random.Next(70));
                return bytes;
        }
    }

    /// <summary>Builds an RA from <paramref name="seed"/>, writes it, reads it; null when it read back as written.</summary>
    private static string? RoundTrip(int seed)
    {
        var random = new Random(seed);
        var lifetime = (ushort)(random.Next(3) == 0 ? 0 : random.Next(1, 65536));
        var prf = new[] { 0b00, 0b01, 0b11 }[random.Next(3)];
        var w = RaWire.Advertisement(lifetime, prf, managed: random.Next(2) == 0, other: random.Next(2) == 0, curHopLimit: (byte)random.Next(256));
        var top = Options(random, out var topBytes);
        w.Bytes(topBytes);
        Expected? pvd = null;
        string? pvdId = null;
        if (random.Next(2) == 0)
        {
            pvdId = string.Join('.', Enumerable.Range(0, random.Next(1, 4)).Select(_ => Label(random)));
            pvd = Options(random, out var nested);
            var header = random.Next(2) == 0 ? RaWire.Header(routerLifetime: (ushort)random.Next(1, 65536), prf: 0b01) : null;
            w.Pvd(pvdId, (ushort)random.Next(65536), h: random.Next(2) == 0, delay: random.Next(16), raHeader: header, nested: nested);
        }

        var result = RouterAdvertisementReader.Read(RaWire.Router, 255, w.ToArray());
        if (!result.Ok)
        {
            return result.ToString();
        }

        var ra = result.Advertisement!;
        var expectedPreference = lifetime == 0 ? RoutePreference.Medium : RouterAdvertisementReader.Preference(prf)!.Value;
        if (ra.Header.RouterLifetime != lifetime || ra.Header.DefaultRouterPreference != expectedPreference)
        {
            return $"header {ra.Header}";
        }

        return Same(top, ra.Options, "top") ?? (pvd is null
            ? ra.Pvd is null ? null : "a PvD appeared"
            : ra.Pvd?.PvdId != pvdId ? $"PvD ID {ra.Pvd?.PvdId} for {pvdId}" : Same(pvd, ra.Pvd!.Options, "pvd"))
            ?? (ra.Ignored.Count == 0 ? null : "ignored: " + string.Join("; ", ra.Ignored));
    }

    private sealed record Expected(List<string> Prefixes, List<string> Routes, List<string> Servers, List<string> Domains);

    private static Expected Options(Random random, out byte[] bytes)
    {
        var e = new Expected([], [], [], []);
        var list = new List<byte>();
        for (var n = random.Next(0, 6); n > 0; n--)
        {
            switch (random.Next(4))
            {
                case 0:
                    var global = new byte[16];
                    random.NextBytes(global);
                    (global[0], global[1]) = (0x20, 0x01);
                    var prefixLength = random.Next(16, 65);
                    var masked = new IPNetwork(Masked(global, prefixLength), prefixLength).ToString();
                    e.Prefixes.Add(masked);
                    var valid = (uint)random.Next();
                    list.AddRange(RaWire.PrefixBytes(masked, valid, (uint)random.Next(0, (int)Math.Min(valid, int.MaxValue))));
                    break;
                case 1:
                    var length = random.Next(0, 129);
                    var bytes16 = new byte[16];
                    random.NextBytes(bytes16);
                    var route = new IPNetwork(Masked(bytes16, length), length).ToString();
                    e.Routes.Add(route);
                    list.AddRange(RaWire.RouteBytes(route, prf: 0b01, lifetime: (uint)random.Next()));
                    break;
                case 2:
                    var servers = Enumerable.Range(0, random.Next(1, 4)).Select(_ => $"2001:db8::{random.Next(1, 0xffff):x}").ToArray();
                    e.Servers.AddRange(servers);
                    list.AddRange(RaWire.RdnssBytes(uint.MaxValue, servers));
                    break;
                default:
                    var domains = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Label(random) + "." + Label(random)).ToArray();
                    e.Domains.AddRange(domains);
                    list.AddRange(RaWire.DnsslBytes(0, domains));
                    break;
            }
        }

        bytes = [.. list];
        return e;
    }

    private static string? Same(Expected e, RaOptions o, string where)
    {
        string? Diff(string what, IEnumerable<string> want, IEnumerable<string> got) =>
            want.SequenceEqual(got) ? null : $"{where} {what}: wrote [{string.Join(", ", want)}], read [{string.Join(", ", got)}]";
        return Diff("prefixes", e.Prefixes, o.Prefixes.Select(p => p.Prefix.ToString()))
               ?? Diff("routes", e.Routes, o.Routes.Select(r => r.Prefix.ToString()))
               ?? Diff("servers", e.Servers, o.DnsServers.SelectMany(d => d.Servers).Select(s => s.ToString()))
               ?? Diff("domains", e.Domains, o.SearchLists.SelectMany(d => d.Domains));
    }

    private static string Label(Random random)
    {
        const string Chars = "abcdefghijklmnopqrstuvwxyz0123456789";
        var length = random.Next(1, 20);
        return new string(Enumerable.Range(0, length).Select(i => i is 0 ? 'a' : Chars[random.Next(Chars.Length)]).ToArray());
    }

    private static IPAddress Masked(byte[] bytes, int length)
    {
        for (var bit = length; bit < 128; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPAddress(bytes);
    }
}
