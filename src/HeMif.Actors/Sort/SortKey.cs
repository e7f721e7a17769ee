using HeMif.Planning;

namespace HeMif.Sort;

/// <summary>
/// Where a candidate stands in the sort, by source, compared in this order (lexicographically): the user's Prefer/Avoid
/// points, then the operator's, then the rest of the soft set (§4.2.1 PvD to §4.2.5 common practice, and history).
/// Within one source points add up; across sources they never do, so no number of lower-source rules or facts can
/// outrank one point of a higher source. §5.1: "a demand from users should be normally considered higher priority than
/// from other actors"; §4.1: "the user's preference should be prioritized"; and stated policy comes before the facts
/// of the soft set, which §4.2 lists after it ("Soft set contains factors which impact the selection of the path across
/// which a particular flow should be transmitted among the available interfaces ... which meet the hard set
/// requirements").
/// </summary>
/// <param name="User">The sum of the user's Prefer/Avoid points.</param>
/// <param name="Operator">The sum of the operator's Prefer/Avoid points.</param>
/// <param name="SoftSet">The sum of every other factor's points.</param>
internal readonly record struct SortKey(int User, int Operator, int SoftSet) : IComparable<SortKey>
{
    /// <summary>The key of a breakdown.</summary>
    public static SortKey Of(IReadOnlyList<ScoreComponent> breakdown)
    {
        int user = 0, op = 0, rest = 0;
        for (var i = 0; i < breakdown.Count; i++)
        {
            var c = breakdown[i];
            switch (c.Factor)
            {
                case SoftFactor.UserPreference:
                    user += c.Points;
                    break;
                case SoftFactor.OperatorPreference:
                    op += c.Points;
                    break;
                default:
                    rest += c.Points;
                    break;
            }
        }

        return new SortKey(user, op, rest);
    }

    /// <summary>Higher is better: user points first, then operator points, then the soft set.</summary>
    public int CompareTo(SortKey other) =>
        User != other.User ? User.CompareTo(other.User)
        : Operator != other.Operator ? Operator.CompareTo(other.Operator)
        : SoftSet.CompareTo(other.SoftSet);
}
