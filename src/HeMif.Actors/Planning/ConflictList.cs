using System.Collections;
using HeMif.Filter;
using HeMif.Interfaces;

namespace HeMif.Planning;

/// <summary>
/// <see cref="ConnectionPlan.Conflicts"/> as a decision leaves it: the filter's user-over-operator conflicts as compact
/// entries, then the sort's order conflicts (a higher source's preference over a lower one's), then at most one §3.2
/// common-practice conflict. The <see cref="PolicyConflict"/> records are built once, all
/// together, the first time the list is indexed or enumerated; a plan that nobody explains never builds them. The
/// count is known without building them. Safe to read from several threads: the records are built from immutable
/// inputs and only one array of them is ever published.
/// </summary>
internal sealed class ConflictList : IReadOnlyList<PolicyConflict>
{
    private readonly ConflictEntry[] _entries;
    private readonly InterfaceFacts[] _interfaces;
    private readonly CompiledRule[] _userRules;
    private readonly CompiledRule[] _operatorRules;
    private readonly List<PolicyConflict>? _ordering;
    private readonly PolicyConflict? _commonPractice;
    private PolicyConflict[]? _conflicts;

    /// <param name="entries">User-over-operator conflicts in the order found.</param>
    /// <param name="interfaces">The decision's interfaces in name order (what <see cref="ConflictEntry.Interface"/> indexes).</param>
    /// <param name="userRules">The planner's user rules.</param>
    /// <param name="operatorRules">The planner's operator rules.</param>
    /// <param name="ordering">The sort's order conflicts; null when there are none.</param>
    /// <param name="commonPractice">The §3.2 conflict found after the sort, reported last; null when there is none.</param>
    public ConflictList(ConflictEntry[] entries, InterfaceFacts[] interfaces, CompiledRule[] userRules, CompiledRule[] operatorRules,
        List<PolicyConflict>? ordering, PolicyConflict? commonPractice)
    {
        _entries = entries;
        _interfaces = interfaces;
        _userRules = userRules;
        _operatorRules = operatorRules;
        _ordering = ordering;
        _commonPractice = commonPractice;
    }

    public int Count => _entries.Length + (_ordering?.Count ?? 0) + (_commonPractice is null ? 0 : 1);

    public PolicyConflict this[int index]
    {
        get
        {
            // The contract of the List<PolicyConflict> this replaces: an index out of range is an argument error.
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return Conflicts()[index];
        }
    }

    public IEnumerator<PolicyConflict> GetEnumerator() => ((IEnumerable<PolicyConflict>)Conflicts()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private PolicyConflict[] Conflicts()
    {
        var built = Volatile.Read(ref _conflicts);
        if (built is not null)
        {
            return built;
        }

        built = new PolicyConflict[Count];
        for (var c = 0; c < _entries.Length; c++)
        {
            var e = _entries[c];
            built[c] = new PolicyConflict(_interfaces[e.Interface].Name, _userRules[e.UserRule], _operatorRules[e.OperatorRule], e.UserFor, e.OperatorStands);
        }

        _ordering?.CopyTo(built, _entries.Length);
        if (_commonPractice is not null)
        {
            built[^1] = _commonPractice;
        }

        // Two threads may build at once; the first to publish wins, so every reader sees the same records.
        return Interlocked.CompareExchange(ref _conflicts, built, null) ?? built;
    }
}
