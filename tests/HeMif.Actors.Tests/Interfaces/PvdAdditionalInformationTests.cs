using HeMif.Interfaces;

namespace HeMif.Actors.Tests.Interfaces;

/// <summary>RFC 8801 §4.3 "Provisioning Domain Additional Information" parsing.</summary>
public class PvdAdditionalInformationTests
{
    private const string Valid = """
        {
          "identifier": "cafe.example.com",
          "expires": "2026-05-23T06:00:00Z",
          "prefixes": ["2001:db8:1::/48", "2001:db8:4::/48"],
          "name": "Cafe",
          "noInternet": false,
          "metered": true,
          "dnsZones": ["cafe.example.com", "menu.example.org"],
          "vendor-foo": { "private-key": "private-value" }
        }
        """;

    /// <summary>The RFC's example keys are read; extension keys are ignored, as RFC 8801 lets networks add them.</summary>
    [Fact]
    public void A_valid_object_is_read_and_extension_keys_are_ignored()
    {
        var info = PvdAdditionalInformation.Parse(Valid, "cafe.example.com");

        Assert.Equal("cafe.example.com", info.Identifier);
        Assert.Equal(new DateTimeOffset(2026, 5, 23, 6, 0, 0, TimeSpan.Zero), info.Expires);
        Assert.Equal(["2001:db8:1::/48", "2001:db8:4::/48"], info.Prefixes.Select(p => p.ToString()));
        Assert.True(info.Metered);
        Assert.False(info.NoInternet);
        Assert.Equal(["cafe.example.com", "menu.example.org"], info.DnsZones);
        Assert.Equal("Cafe", info.Name);
    }

    /// <summary>Expired information must not be used: valid strictly before "expires".</summary>
    [Fact]
    public void Information_is_valid_until_the_instant_it_expires()
    {
        var info = PvdAdditionalInformation.Parse(Valid);
        Assert.True(info.IsValidAt(info.Expires.AddTicks(-1)));
        Assert.False(info.IsValidAt(info.Expires));
    }

    [Theory]
    [InlineData("""{"expires":"2026-05-23T06:00:00Z","prefixes":[]}""", "$.identifier", "PvD ID")]
    [InlineData("""{"identifier":"a.example","prefixes":[]}""", "$.expires", "RFC 3339")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z"}""", "$.prefixes", "IPv6 prefixes")]
    [InlineData("""{"identifier":"a.example","expires":"tomorrow","prefixes":[]}""", "$.expires", "RFC 3339")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00","prefixes":[]}""", "$.expires", "time zone")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":["192.0.2.0/24"]}""", "$.prefixes[0]", "IPv6 prefix")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":["2001:db8::1/48"]}""", "$.prefixes[0]", "no bits set")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":[],"metered":"yes"}""", "$.metered", "true or false")]
    [InlineData("""{"identifier":"a.example","expires":"2026-05-23T06:00:00Z","prefixes":[],"dnsZones":["not a zone"]}""", "$.dnsZones[0]", "domain name")]
    [InlineData("""{"identifier":"bad..name","expires":"2026-05-23T06:00:00Z","prefixes":[]}""", "$.identifier", "domain name")]
    [InlineData("""[1,2]""", "$", "JSON object")]
    [InlineData("""{"identifier": """, "$", "not valid JSON")]
    public void Malformed_information_is_rejected_with_the_path_and_the_expectation(string json, string path, string expected)
    {
        var e = Assert.Throws<FormatException>(() => PvdAdditionalInformation.Parse(json));
        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>RFC 8801: the identifier must be the PvD ID the network advertised.</summary>
    [Fact]
    public void Information_for_another_PvD_is_rejected()
    {
        var e = Assert.Throws<FormatException>(() => PvdAdditionalInformation.Parse(Valid, "other.example.com"));
        Assert.Contains("$.identifier: expected \"other.example.com\"", e.Message, StringComparison.Ordinal);
    }
}
