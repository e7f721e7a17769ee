using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HeMif.Interfaces;

namespace HeMif.Actors.Tests.Interfaces;

/// <summary>
/// RFC 8801 §4 PvD Additional Information as fetched from the network: a typed report for every bad document
/// (malformed, truncated, nested too deep, too large, dates at their limits), never an exception; and §4.3's checks
/// against the RA (expiry, prefixes covered).
/// </summary>
public sealed class PvdAdditionalInformationFuzzTests
{
    private const string Valid = """
        {"identifier":"pvd.corp.example","expires":"2026-05-23T06:00:00Z","prefixes":["2001:db8:a::/48"],
         "noInternet":true,"dnsZones":["corp.example"],"vendor":{"x":[1,2,{"y":null}]}}
        """;

    private static PvdInformationError Refused(string json, PvdInformationProblem problem, string? expected = null)
    {
        var info = PvdAdditionalInformation.TryParse(Encoding.UTF8.GetBytes(json), expected, out var error);
        Assert.Null(info);
        Assert.NotNull(error);
        Assert.Equal(problem, error.Problem);
        Assert.StartsWith(error.Path + ":", error.Message, StringComparison.Ordinal);
        return error;
    }

    [Fact]
    public void A_valid_document_is_read_without_an_error()
    {
        var info = PvdAdditionalInformation.TryParse(Encoding.UTF8.GetBytes(Valid), "pvd.corp.example", out var error);
        Assert.Null(error);
        Assert.True(info!.NoInternet);
        Assert.Equal(["corp.example"], info.DnsZones);
    }

    [Fact]
    public void Each_kind_of_bad_document_has_its_own_problem_and_path()
    {
        Refused("""{"identifier": """, PvdInformationProblem.NotJson);
        Refused("\"just a string\"", PvdInformationProblem.NotAnObject);
        Refused("""{"expires":"2026-05-23T06:00:00Z","prefixes":[]}""", PvdInformationProblem.MissingKey);
        Assert.Equal("$.identifier", Refused("""{"identifier":"a.example","identifier":"b.example","expires":"2026-05-23T06:00:00Z","prefixes":[]}""", PvdInformationProblem.DuplicateKey).Path);
        Assert.Equal("$.prefixes[0]", Refused("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":[7]}""", PvdInformationProblem.WrongValue).Path);
        Refused(Valid, PvdInformationProblem.IdentifierMismatch, "other.example");
    }

    /// <summary>
    /// Found by fuzzing (tests/HeMif.Fuzz/regressions/pvd-info): bytes that are not UTF-8 inside a string, and an
    /// escaped surrogate without its pair, parsed as JSON and then threw InvalidOperationException out of TryParse,
    /// which never throws. RFC 8259 §8.1: JSON "MUST be encoded using UTF-8"; §8.2: such strings behave unpredictably.
    /// </summary>
    [Fact]
    public void Bytes_that_are_not_UTF8_and_unpaired_surrogates_are_refused_not_thrown()
    {
        var notUtf8 = Encoding.UTF8.GetBytes("""{"identifier":"pvd.corp.example","expires":"2026-05-23T06:00:00Z","prefixes":[],"name":"?"}""");
        notUtf8[Array.LastIndexOf(notUtf8, (byte)'?')] = 0xff;
        Assert.Null(PvdAdditionalInformation.TryParse(notUtf8, null, out var error));
        Assert.Equal((PvdInformationProblem.NotJson, "$"), (error!.Problem, error.Path));
        Assert.Contains("not UTF-8", error.Message, StringComparison.Ordinal);

        Assert.Equal("$.name", Refused("""{"identifier":"pvd.corp.example","expires":"2026-05-23T06:00:00Z","prefixes":[],"name":"\ud800x"}""", PvdInformationProblem.WrongValue).Path);
        Assert.Equal("$.prefixes[1]", Refused("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":["2001:db8::/32","\udc00"]}""", PvdInformationProblem.WrongValue).Path);
        Assert.Equal("$", Refused("""{"\ud800":1,"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":[]}""", PvdInformationProblem.WrongValue).Path);
    }

    /// <summary>Nesting deeper than <see cref="PvdAdditionalInformation.MaxDepth"/> is refused before it is parsed, however deep.</summary>
    [Theory]
    [InlineData(40)]
    [InlineData(100_000)]
    public void A_document_nested_too_deep_is_refused(int depth)
    {
        var json = "{\"identifier\":\"a.example\",\"expires\":\"2026-05-23T06:00:00Z\",\"prefixes\":[],\"v\":" + new string('[', depth) + new string(']', depth) + "}";
        Refused(json, json.Length > PvdAdditionalInformation.MaxDocumentBytes ? PvdInformationProblem.TooLarge : PvdInformationProblem.TooDeep);
        Refused(new string('[', depth), depth > PvdAdditionalInformation.MaxDocumentBytes ? PvdInformationProblem.TooLarge : PvdInformationProblem.TooDeep);
    }

    [Fact]
    public void Nesting_at_the_limit_is_read()
    {
        const int Inside = PvdAdditionalInformation.MaxDepth - 1; // the root object is depth 0, the value of "v" depth 1
        var json = "{\"identifier\":\"a.example\",\"expires\":\"2026-05-23T06:00:00Z\",\"prefixes\":[],\"v\":" + new string('[', Inside) + new string(']', Inside) + "}";
        Assert.NotNull(PvdAdditionalInformation.TryParse(Encoding.UTF8.GetBytes(json), null, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void A_document_larger_than_the_limit_is_refused()
    {
        var padding = new string(' ', PvdAdditionalInformation.MaxDocumentBytes);
        Refused(Valid + padding, PvdInformationProblem.TooLarge);
    }

    /// <summary>"expires" at the ends of what RFC 3339 can say; one that cannot be represented is a wrong value, not an exception.</summary>
    [Theory]
    [InlineData("9999-12-31T23:59:59Z", true)]
    [InlineData("0001-01-01T00:00:00Z", true)]
    [InlineData("9999-12-31T23:59:59-14:00", false)]
    [InlineData("0001-01-01T00:00:00+14:00", false)]
    [InlineData("2026-02-30T00:00:00Z", false)]
    [InlineData("2026-05-23T24:00:00Z", false)]
    public void Expiry_dates_at_their_limits(string expires, bool readable)
    {
        var json = $$"""{"identifier":"a.example","expires":"{{expires}}","prefixes":[]}""";
        var info = PvdAdditionalInformation.TryParse(Encoding.UTF8.GetBytes(json), null, out var error);
        Assert.Equal(readable, info is not null);
        if (!readable)
        {
            Assert.Equal(PvdInformationProblem.WrongValue, error!.Problem);
            Assert.Equal("$.expires", error.Path);
        }
    }

    /// <summary>RFC 8801 §4.3: "Hosts MUST verify that all prefixes in the RA PIO are covered by a prefix from the PvD Additional Information"; expired information is not used.</summary>
    [Fact]
    public void Information_is_checked_against_the_RA_and_the_clock()
    {
        var info = PvdAdditionalInformation.Parse(Valid);
        var before = info.Expires.AddSeconds(-1);
        Assert.Null(info.CheckAgainst([IPNetwork.Parse("2001:db8:a:1::/64"), IPNetwork.Parse("2001:db8:a::/48")], before));
        Assert.Null(info.CheckAgainst([], before));

        var uncovered = info.CheckAgainst([IPNetwork.Parse("2001:db8:a:1::/64"), IPNetwork.Parse("2001:db8:b::/64")], before)!;
        Assert.Equal(PvdInformationProblem.PrefixNotCovered, uncovered.Problem);
        Assert.Contains("2001:db8:b::/64", uncovered.Message, StringComparison.Ordinal);
        Assert.Equal(PvdInformationProblem.PrefixNotCovered, info.CheckAgainst([IPNetwork.Parse("2001:db8::/32")], before)!.Problem);
        Assert.Equal(PvdInformationProblem.Expired, info.CheckAgainst([], info.Expires)!.Problem);
    }

    /// <summary>Mutations of a valid document (cut, characters inserted, deleted, replaced): a document or a typed error, never an exception.</summary>
    [Property(MaxTest = 3000)]
    public Property Mutated_documents_give_information_or_a_typed_error() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var text = new StringBuilder(Valid);
            for (var n = random.Next(1, 4); n > 0 && text.Length > 0; n--)
            {
                var at = random.Next(text.Length);
                switch (random.Next(4))
                {
                    case 0:
                        text.Length = at;
                        break;
                    case 1:
                        const string Syntax = "{}[]\",:\\ 0-.eZ";
                        text.Insert(at, Syntax[random.Next(Syntax.Length)]);
                        break;
                    case 2:
                        text.Remove(at, 1);
                        break;
                    default:
                        text[at] = (char)random.Next(0, 0x80);
                        break;
                }
            }

            var info = PvdAdditionalInformation.TryParse(Encoding.UTF8.GetBytes(text.ToString()), random.Next(2) == 0 ? "pvd.corp.example" : null, out var error);
            Assert.True((info is null) != (error is null));
            if (error is not null)
            {
                Assert.StartsWith("$", error.Path, StringComparison.Ordinal);
                Assert.False(string.IsNullOrWhiteSpace(error.Message));
            }
        });

    /// <summary>Random bytes (including invalid UTF-8): a typed error, never an exception.</summary>
    [Property(MaxTest = 1000)]
    public Property Random_bytes_give_a_typed_error() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            Assert.Null(PvdAdditionalInformation.TryParse(bytes, null, out var error));
            Assert.NotNull(error);
        });
}
