using System.Net;
using System.Net.Sockets;
using HeMif.Interfaces;
using HeMif.Resolve;
using HeMif.Transports.Resolve;
using HeMif.Transports.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HeMif.Transports.Tests.Resolve;

/// <summary>
/// Issue 17, "a hostile network": spoofed and poisoned DNS answers, against our responder on loopback. RFC 5452 §3
/// accepts a response only if it answers the question, with the ID, from the address and port the query went to (the
/// decoys of <see cref="InterfaceResolverTests"/>); here, what a well-formed matching answer may smuggle in — records for
/// other names in any section, the question's records in the wrong section — and a flood of spoofed replies. Every
/// decoy carries 192.0.2.66, which no right answer has.
/// </summary>
public sealed class SpoofedAnswerTests
{
    private const string Host = "www.example.com";
    private const string Victim = "bank.example.net";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _clock = new();

    /// <summary>
    /// RFC 2181 §5.4.1 ranks "Data from the additional information section" and the authority section below answers;
    /// a stub has no use for them at all. An answer for www that carries records for another name in its authority and
    /// additional sections gives www's address, and the other name is still asked of the server, not served from the cache.
    /// </summary>
    [Fact]
    public async Task Records_for_other_names_in_the_authority_and_additional_sections_are_neither_used_nor_cached()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Raw(q => Response(q, answers: [(Host, "192.0.2.1")], authority: [(Victim, "192.0.2.66")], additional: [(Victim, "192.0.2.66")])));
        server.On(Victim, DnsType.A, DnsScript.Addresses("198.51.100.7"));
        var resolver = Resolver(server.Port);

        var www = await Resolve(resolver, Host);
        Assert.Equal([IPAddress.Parse("192.0.2.1")], www.Addresses);

        var victim = await Resolve(resolver, Victim);
        Assert.Equal([IPAddress.Parse("198.51.100.7")], victim.Addresses);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>RFC 1034 §3.6.2: only the chain from the question's name counts; a record for another name in the answer section is not part of it.</summary>
    [Fact]
    public async Task A_record_for_another_name_in_the_answer_section_is_neither_used_nor_cached()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Raw(q => Response(q, answers: [(Victim, "192.0.2.66"), (Host, "192.0.2.1")])));
        server.On(Victim, DnsType.A, DnsScript.Addresses("198.51.100.7"));
        var resolver = Resolver(server.Port);

        Assert.Equal([IPAddress.Parse("192.0.2.1")], (await Resolve(resolver, Host)).Addresses);
        Assert.Equal([IPAddress.Parse("198.51.100.7")], (await Resolve(resolver, Victim)).Addresses);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>The question's own address in the additional section only is no answer: NODATA, and nothing cached.</summary>
    [Fact]
    public async Task The_questions_address_in_the_additional_section_only_is_no_answer()
    {
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Raw(q => Response(q, answers: [], additional: [(Host, "192.0.2.66")])));
        var resolver = Resolver(server.Port);

        var result = await Resolve(resolver, Host);
        Assert.Null(result.Error);
        Assert.Empty(result.Addresses);
        await Resolve(resolver, Host);
        Assert.Equal(2, server.QueryCount);
    }

    /// <summary>
    /// A flood of replies that match the ID but ask other questions (each a different name, as a poisoning attempt
    /// guessing nothing but the ID would send), then the right answer: the answer is taken, and the note counts every
    /// ignored reply but names at most <see cref="IgnoredReplies.MaxReasons"/> distinct reasons (before, it listed every
    /// one: a spoofer chose how much memory and text the note took).
    /// </summary>
    [Fact]
    public async Task A_flood_of_spoofed_replies_is_counted_and_its_reasons_are_bounded()
    {
        const int Spoofed = 100;
        await using var server = DnsResponder.Start(IPAddress.Loopback, time: _clock);
        server.On(Host, DnsType.A, new DnsScript.Flood(Spoofed,
            (q, i) => DnsResponses.Build(q.Id, $"spoof{i}.{Host}", q.Type, 0, [TestRecord.Address("192.0.2.66")]),
            DnsScript.Addresses("192.0.2.1")));

        var result = await Resolve(Resolver(server.Port), Host);

        Assert.Equal([IPAddress.Parse("192.0.2.1")], result.Addresses);
        Assert.Contains($"ignored {Spoofed} response(s): wrong question (spoof0.{Host} A), ", result.Note, StringComparison.Ordinal);
        Assert.Equal(IgnoredReplies.MaxReasons, result.Note!.Split("wrong question").Length - 1);
        Assert.EndsWith(", …", result.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Ignored_replies_count_all_and_keep_the_first_distinct_reasons()
    {
        var ignored = new IgnoredReplies();
        for (var i = 0; i < 1000; i++)
        {
            ignored.Add("reason " + (i % 20));
        }

        Assert.Equal(1000, ignored.Count);
        Assert.Equal(Enumerable.Range(0, IgnoredReplies.MaxReasons).Select(i => "reason " + i), ignored.Reasons);
        Assert.True(ignored.Truncated);

        var few = new IgnoredReplies();
        few.Add("a");
        few.Add("a");
        Assert.Equal("a", few.Describe(", "));
        Assert.Equal(2, few.Count);
    }

    private static InterfaceFacts Loopback => InterfaceResolverTests.Loopback("127.0.0.1");

    private InterfaceResolver Resolver(int port) => new(new InterfaceResolverOptions { Port = port, CacheCapacity = 64 }, _clock);

    private static async Task<ResolveResult> Resolve(InterfaceResolver resolver, string name) =>
        await resolver.ResolveAsync(Loopback, name, AddressFamily.InterNetwork, default).WaitAsync(Bound);

    /// <summary>A response to <paramref name="q"/> with A records (owner, address) in each section; TTL 300.</summary>
    private static byte[] Response(ReceivedQuery q, (string Name, string Address)[] answers, (string Name, string Address)[]? authority = null, (string Name, string Address)[]? additional = null)
    {
        authority ??= [];
        additional ??= [];
        var w = DnsWire.Header(q.Id, DnsResponses.ResponseFlags, 1, answers.Length, authority.Length, additional.Length).Name(q.Name).U16(q.Type).U16(1);
        foreach (var (name, address) in answers.Concat(authority).Concat(additional))
        {
            w.Name(name).RecordTail(DnsType.A, 300, DnsWire.Address(address));
        }

        return w.ToArray();
    }
}
