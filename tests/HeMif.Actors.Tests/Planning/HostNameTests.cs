using HeMif.Planning;

namespace HeMif.Actors.Tests.Planning;

/// <summary>
/// Issue 11: "Host names are not validated … A host is an IP literal or a valid DNS name (RFC 1123 labels, total length
/// ≤ 253, IDN converted with IdnMapping); anything else is exit 2 naming the rule. The library's ConnectAsync throws
/// ArgumentException for it before any packet." One validator (<see cref="HostName"/>) serves the library and the CLI.
/// </summary>
public sealed class HostNameTests
{
    [Theory]
    [InlineData("www.example.com", "www.example.com")]
    [InlineData("WWW.Example.COM", "WWW.Example.COM")]
    [InlineData("www.example.com.", "www.example.com.")]
    [InlineData("localhost", "localhost")]
    [InlineData("a", "a")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("192.0.2.1", "192.0.2.1")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    [InlineData("::1", "::1")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1")]
    [InlineData("3com.example", "3com.example")]
    [InlineData("a-b.example", "a-b.example")]
    public void Valid_hosts_are_taken_and_normalized(string host, string expected)
    {
        Assert.True(HostName.TryNormalize(host, out var normalized, out var problem), problem);
        Assert.Equal(expected, normalized);
        Assert.Equal(expected, HostName.Normalize(host));
        Assert.True(HostName.IsValid(host));
    }

    /// <summary>The rule each one breaks is named, in words.</summary>
    [Theory]
    [InlineData("", "empty")]
    [InlineData("www example com", "U+0020 at position 4")]
    [InlineData("a..b", "empty label")]
    [InlineData(".a", "empty label")]
    [InlineData("a.b..", "empty label")]
    [InlineData(".", "empty label")]
    [InlineData("1.2.3.256", "looks like an IPv4 address")]
    [InlineData("1.2.3", "looks like an IPv4 address")]
    [InlineData("1.2.3.4.5", "looks like an IPv4 address")]
    [InlineData("010.1.1.1", "looks like an IPv4 address")]
    [InlineData("0x7f.0.0.1", "looks like an IPv4 address")]
    [InlineData("1.2.3.4.", "looks like an IPv4 address")]
    [InlineData("-a.example", "starts with a hyphen")]
    [InlineData("a-.example", "ends with a hyphen")]
    [InlineData("under_score.example", "U+005F '_'")]
    [InlineData("a/b", "U+002F '/'")]
    [InlineData("\u001b[31m", "U+001B at position 1")]
    [InlineData("a\nb", "U+000A")]
    [InlineData("\u202eexample.com", "internationalized domain name (IDNA): it contains U+202E")]
    [InlineData("\u0085.example", "U+0085")]
    [InlineData("[2001:db8::1]:443", "must end at the ']'")]
    [InlineData("[2001:db8::1", "must close with ']'")]
    [InlineData("[www.example.com]", "not an IPv6 address")]
    [InlineData("2001:db8::g", "U+003A ':'")]
    [InlineData("http://www.example.com/", "U+003A ':'")]
    public void Invalid_hosts_are_refused_naming_the_rule(string host, string rule)
    {
        Assert.False(HostName.TryNormalize(host, out _, out var problem));
        Assert.Contains(rule, problem, StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => HostName.Normalize(host));
        Assert.Contains(rule, e.Message, StringComparison.Ordinal);
        Assert.Equal("host", e.ParamName);
    }

    [Fact]
    public void Labels_have_at_most_63_characters_and_names_at_most_253()
    {
        Assert.True(HostName.IsValid(new string('a', 63) + ".example"));
        Assert.Contains("64 characters long", Problem(new string('a', 64) + ".example"), StringComparison.Ordinal);
        Assert.Contains("a label has at most 63", Problem(new string('a', 300)), StringComparison.Ordinal);

        var longest = string.Join('.', Enumerable.Repeat(new string('a', 63), 4))[..253];
        Assert.True(HostName.IsValid(longest), Problem(longest));
        Assert.True(HostName.IsValid(longest + "."), "a trailing dot is not counted");
        Assert.Contains("254 characters long; a host name has at most 253", Problem(longest + "a"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_host_is_refused()
    {
        Assert.False(HostName.TryNormalize(null, out _, out var problem));
        Assert.Equal("it is empty", problem);
    }

    /// <summary>ConnectionRequest is where the engine, the planner and the connector meet: it refuses a bad host itself.</summary>
    [Fact]
    public void A_connection_request_refuses_a_bad_host_and_keeps_the_normalized_one()
    {
        Assert.Throws<ArgumentException>(() => new ConnectionRequest("a..b", 443));
        Assert.Throws<ArgumentException>(() => new ConnectionRequest("www.example.com", 443) with { Host = "" });
        Assert.Equal("2001:db8::1", new ConnectionRequest("[2001:db8::1]", 443).Host);
        Assert.Equal("xn--bcher-kva.example", new ConnectionRequest("bücher.example", 443).Host);
        Assert.Equal(new ConnectionRequest("www.example.com", 443), new ConnectionRequest("www.example.com", 443));
    }

    private static string Problem(string host) => HostName.TryNormalize(host, out _, out var problem) ? "(valid)" : problem;
}
