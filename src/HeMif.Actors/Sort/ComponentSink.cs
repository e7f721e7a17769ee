using HeMif.Planning;

namespace HeMif.Sort;

/// <summary>
/// Collects score components of one decision for all interfaces in one growing buffer (one allocation instead of a
/// list per interface), tagged with the interface they belong to. The filter and the ranker set
/// <see cref="Owner"/> before adding.
/// </summary>
internal sealed class ComponentSink(int capacity)
{
    private (int Owner, ScoreComponent Component)[] _items = new (int, ScoreComponent)[Math.Max(4, capacity)];

    public int Owner { get; set; }

    public int Count { get; private set; }

    public void Add(ScoreComponent component)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = (Owner, component);
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
