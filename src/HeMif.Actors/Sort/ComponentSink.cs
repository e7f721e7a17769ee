using System.Buffers;
using HeMif.Planning;

namespace HeMif.Sort;

/// <summary>
/// Collects score components of one decision for all interfaces in one growing buffer (one buffer instead of a
/// list per interface), tagged with the interface they belong to. The filter and the ranker set
/// <see cref="Owner"/> before adding. The buffer is scratch (<see cref="Split"/> copies the components out at their
/// exact sizes), so it is borrowed from the shared pool rather than allocated and grown per decision; Dispose returns it.
/// </summary>
internal sealed class ComponentSink : IDisposable
{
    private (int Owner, ScoreComponent Component)[] _items;

    public ComponentSink(int capacity) => _items = ArrayPool<(int, ScoreComponent)>.Shared.Rent(Math.Max(16, capacity));

    public int Owner { get; set; }

    public int Count { get; private set; }

    public void Add(ScoreComponent component)
    {
        if (Count == _items.Length)
        {
            var bigger = ArrayPool<(int, ScoreComponent)>.Shared.Rent(_items.Length * 2);
            _items.AsSpan(0, Count).CopyTo(bigger);
            ReturnBuffer();
            _items = bigger;
        }

        _items[Count++] = (Owner, component);
    }

    public void Dispose()
    {
        ReturnBuffer();
        _items = [];
        Count = 0;
    }

    private void ReturnBuffer()
    {
        if (_items.Length > 0)
        {
            // Cleared so that the pool does not keep this decision's components alive.
            _items.AsSpan(0, Count).Clear();
            ArrayPool<(int, ScoreComponent)>.Shared.Return(_items);
        }
    }

    /// <summary>Drops everything added from <paramref name="count"/> on (an interface turned out excluded).</summary>
    public void Truncate(int count) => Count = count;

    /// <summary>Each interface's components in the order they were added: rules first, then §4.2 in order.</summary>
    public ScoreComponent[][] Split(int interfaces)
    {
        Span<int> counts = interfaces <= 256 ? stackalloc int[interfaces] : new int[interfaces];
        counts.Clear();
        for (var c = 0; c < Count; c++)
        {
            counts[_items[c].Owner]++;
        }

        var result = new ScoreComponent[interfaces][];
        for (var i = 0; i < interfaces; i++)
        {
            result[i] = counts[i] == 0 ? [] : new ScoreComponent[counts[i]];
            counts[i] = 0;
        }

        for (var c = 0; c < Count; c++)
        {
            var (owner, component) = _items[c];
            result[owner][counts[owner]++] = component;
        }

        return result;
    }
}
