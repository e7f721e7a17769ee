using System.Net;
using HeMif.Configuration;
using HeMif.Interfaces;
using HeMif.Sort;

namespace HeMif.Actors.Tests.Sort;

/// <summary>
/// Issue 14: "The socket's source address follows the configured RFC 6724 policy table, not the default one." RFC 6724
/// §2.1: the policy table "can be configured by the administrator"; §5 Rule 6, "Prefer matching label: If Label(SA) =
/// Label(D) and Label(SB) &lt;&gt; Label(D), then prefer SA", reads its labels from that table. The interface here has a
/// ULA (fd00::10) and a global address (2001:db8:1::10); the destination is 2001:db8:ff::80.
/// </summary>
public sealed class ConfiguredSourceAddressTests
{
    private static readonly InterfaceFacts Wired = new("eth0", InterfaceKind.Ethernet)
    {
        Addresses = [new InterfaceAddress(IPAddress.Parse("fd00::10"), 64), new InterfaceAddress(IPAddress.Parse("2001:db8:1::10"), 64)],
    };

    private static readonly IPAddress Destination = IPAddress.Parse("2001:db8:ff::80");

    /// <summary>
    /// The policy file's table: RFC 6724 §2.1's rows plus 2001:db8:ff::/48 with the ULA label 13, so that this site's
    /// servers are reached from the ULA (the kind of row RFC 6724 §10.6 shows for configuring ULA use).
    /// </summary>
    private static AddressSelectionPolicyTable Configured() => HeMifConfiguration.ParsePolicy("""
        {
          "addressSelectionTable": [
            { "prefix": "::1/128", "precedence": 50, "label": 0 },
            { "prefix": "::/0", "precedence": 40, "label": 1 },
            { "prefix": "2001:db8:ff::/48", "precedence": 45, "label": 13 },
            { "prefix": "::ffff:0:0/96", "precedence": 35, "label": 4 },
            { "prefix": "2002::/16", "precedence": 30, "label": 2 },
            { "prefix": "2001::/32", "precedence": 5, "label": 5 },
            { "prefix": "fc00::/7", "precedence": 3, "label": 13 },
            { "prefix": "::/96", "precedence": 1, "label": 3 },
            { "prefix": "fec0::/10", "precedence": 1, "label": 11 },
            { "prefix": "3ffe::/16", "precedence": 1, "label": 12 }
          ]
        }
        """, "policy.json").AddressSelectionTable;

    /// <summary>With the default table, Label(D) = 1 (::/0) = Label(2001:db8:1::10), and the ULA's is 13: the global address.</summary>
    [Fact]
    public void The_default_table_sends_from_the_global_address()
    {
        Assert.Equal(IPAddress.Parse("2001:db8:1::10"), SourceAddressSelection.For(Wired, Destination));
        Assert.Equal(IPAddress.Parse("2001:db8:1::10"), SourceAddressSelection.For(Wired, Destination, AddressSelectionPolicyTable.Default));
    }

    /// <summary>With the configured table, Label(D) = 13 = Label(fd00::10): Rule 6 picks the ULA.</summary>
    [Fact]
    public void A_configured_table_that_gives_the_destination_the_ULA_label_sends_from_the_ULA()
    {
        Assert.Equal(IPAddress.Parse("fd00::10"), SourceAddressSelection.For(Wired, Destination, Configured()));
    }

    /// <summary>An attempt's source is chosen with the table it is given (the race gives the policy's), the default otherwise.</summary>
    [Fact]
    public void An_attempt_binds_the_source_its_table_chooses()
    {
        var remote = new IPEndPoint(Destination, 443);
        Assert.Equal(IPAddress.Parse("2001:db8:1::10"), new AttemptContext(Wired, remote, "www.example.com", ["h3"]).SourceAddress);
        var configured = new AttemptContext(Wired, remote, "www.example.com", ["h3"]) { AddressSelectionTable = Configured() };
        Assert.Equal(IPAddress.Parse("fd00::10"), configured.SourceAddress);
    }
}
