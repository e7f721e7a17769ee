using System.Buffers;

namespace HeMif.Filter;

/// <summary>
/// One user-over-operator conflict of a decision, as positions: the interface (in the decision's name order), the user
/// rule and the operator rule (in their lists), and which way the user rule pointed. Together with the decision's
/// interfaces and the planner's rules this is everything a <see cref="Planning.PolicyConflict"/> reports.
/// </summary>
/// <param name="Interface">Index into the decision's interfaces, sorted by name.</param>
/// <param name="UserRule">Index into the user rules.</param>
/// <param name="OperatorRule">Index into the operator rules.</param>
/// <param name="UserFor">The user rule is for the interface (else against it).</param>
internal readonly record struct ConflictEntry(int Interface, int UserRule, int OperatorRule, bool UserFor)
{
    /// <summary>
    /// The operator's hard rule was applied and the user's soft rule was not enough to lift it (a preference never
    /// lifts a hard rule); false: the user rule won (the usual case).
    /// </summary>
    public bool OperatorStands { get; init; }
}

/// <summary>
/// Collects the conflicts of one decision. There is one per (interface, user rule, operator rule) that disagree, so a
/// policy whose sources contradict each other yields hundreds per decision, and most plans are never explained: the
/// entries go into a buffer borrowed from the shared pool (no growth garbage) and leave it, at their exact size, in
/// <see cref="ToArray"/>. Dispose returns the buffer.
/// </summary>
internal sealed class ConflictLog : IDisposable
{
    private ConflictEntry[] _buffer = [];
    private int _count;

    public int Count => _count;

    public void Add(ConflictEntry entry)
    {
        if (_count == _buffer.Length)
        {
            Grow();
        }

        _buffer[_count++] = entry;
    }

    /// <summary>The entries in the order they were added, in an array of their own.</summary>
    public ConflictEntry[] ToArray() => _count == 0 ? [] : _buffer.AsSpan(0, _count).ToArray();

    public void Dispose()
    {
        ReturnBuffer();
        _count = 0;
    }

    private void Grow()
    {
        var bigger = ArrayPool<ConflictEntry>.Shared.Rent(Math.Max(64, _buffer.Length * 2));
        _buffer.AsSpan(0, _count).CopyTo(bigger);
        ReturnBuffer();
        _buffer = bigger;
    }

    private void ReturnBuffer()
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<ConflictEntry>.Shared.Return(_buffer);
        }

        _buffer = [];
    }
}
