using System.Net;

namespace HeMif.Sort;

/// <summary>One row of the RFC 6724 §2.1 policy table.</summary>
/// <param name="Prefix">The prefix; IPv4 rows are written as IPv4-mapped IPv6 prefixes (<c>::ffff:0:0/96</c>).</param>
/// <param name="Precedence">Higher is preferred by destination Rule 6.</param>
/// <param name="Label">Source and destination with equal labels are preferred by source Rule 6 / destination Rule 5.</param>
public sealed record PolicyTableEntry(IPNetwork Prefix, int Precedence, int Label);

/// <summary>
/// The RFC 6724 §2.1 policy table: "a longest-matching-prefix lookup table, much like a routing table. Given an
/// address A, a lookup in the policy table produces two values: a precedence value denoted Precedence(A) and a
/// classification or label denoted Label(A)." §4.2.4 of the draft: "the node should consider IP prefix and
/// precedence parameter in policy table to select the best source address". Configurable, as §2.1 allows.
/// </summary>
public sealed class AddressSelectionPolicyTable
{
    private readonly Row[] _rows;

    /// <summary>Builds a table; every prefix must be an IPv6 prefix (IPv4 is looked up as IPv4-mapped).</summary>
    public AddressSelectionPolicyTable(IEnumerable<PolicyTableEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries.ToArray();
        if (Entries.Count == 0)
        {
            throw new ArgumentException("A policy table needs at least one row (RFC 6724 §2.1 requires ::/0).", nameof(entries));
        }

        var rows = new Row[Entries.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var e = Entries[i];
            if (e.Prefix.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                throw new ArgumentException($"Policy table prefix {e.Prefix} is not IPv6; write IPv4 prefixes as ::ffff:a.b.c.d/96+n.", nameof(entries));
            }

            rows[i] = new Row(Rfc6724.ToUInt128(e.Prefix.BaseAddress), e.Prefix.PrefixLength, e.Precedence, e.Label);
        }

        // Longest prefix first, so the first match is the longest match.
        _rows = rows.OrderByDescending(r => r.Length).ToArray();
    }

    /// <summary>The rows, in the order given.</summary>
    public IReadOnlyList<PolicyTableEntry> Entries { get; }

    /// <summary>
    /// The RFC 6724 §2.1 default table:
    /// <code>
    /// Prefix        Precedence Label
    /// ::1/128               50     0
    /// ::/0                  40     1
    /// ::ffff:0:0/96         35     4
    /// 2002::/16             30     2
    /// 2001::/32              5     5
    /// fc00::/7               3    13
    /// ::/96                  1     3
    /// fec0::/10              1    11
    /// 3ffe::/16              1    12
    /// </code>
    /// </summary>
    public static AddressSelectionPolicyTable Default { get; } = new(
    [
        new(IPNetwork.Parse("::1/128"), 50, 0),
        new(IPNetwork.Parse("::/0"), 40, 1),
        new(IPNetwork.Parse("::ffff:0:0/96"), 35, 4),
        new(IPNetwork.Parse("2002::/16"), 30, 2),
        new(IPNetwork.Parse("2001::/32"), 5, 5),
        new(IPNetwork.Parse("fc00::/7"), 3, 13),
        new(IPNetwork.Parse("::/96"), 1, 3),
        new(IPNetwork.Parse("fec0::/10"), 1, 11),
        new(IPNetwork.Parse("3ffe::/16"), 1, 12),
    ]);

    /// <summary>Precedence(A) and Label(A) for an address in the 128-bit form of <see cref="Rfc6724.ToUInt128"/>.</summary>
    internal (int Precedence, int Label) Lookup(UInt128 address)
    {
        foreach (var r in _rows)
        {
            if (Rfc6724.PrefixMatches(address, r.Prefix, r.Length))
            {
                return (r.Precedence, r.Label);
            }
        }

        // No row matched (a custom table without ::/0): lowest precedence, a label nothing else has.
        return (0, -1);
    }

    private readonly record struct Row(UInt128 Prefix, int Length, int Precedence, int Label);
}
