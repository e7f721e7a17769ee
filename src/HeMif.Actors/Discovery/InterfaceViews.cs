using System.Collections.Immutable;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Discovery;

/// <summary>
/// What HeMif knows about one interface now: the facts it uses (given ones merged with what it learned from its routers,
/// with every provisioning domain in <see cref="InterfaceFacts.Pvds"/>), its validation state and why, and how RA
/// learning goes on it.
/// </summary>
/// <param name="Facts">The facts decisions use.</param>
/// <param name="State">The validation state (draft §5.2.1).</param>
/// <param name="Detail">Why it is in that state, in words.</param>
/// <param name="Learning">Whether Router Advertisements are read here, and what was read.</param>
public sealed record InterfaceView(InterfaceFacts Facts, ValidationState State, string Detail, RaLearningStatus Learning)
{
    /// <summary>The interface is gone from the engine (removed from the host): the last view of it.</summary>
    public bool Removed { get; init; }
}

/// <summary>
/// The engine's current <see cref="InterfaceView"/>s (replaced whole by the engine actor, read from any thread) and
/// their changes as a stream that first replays every current view, then says each change, and completes when the
/// engine is disposed.
/// </summary>
internal sealed class InterfaceViews
{
    // One lock orders publishing and subscribing: a subscriber gets the views current when it came, then every change
    // after that, none lost or said twice (the engine actor publishes while holding it; subscribers are told to hand
    // heavy work off).
    private readonly Lock _gate = new();
    private readonly ISubject<InterfaceView> _changes = Subject.Synchronize(new Subject<InterfaceView>());
    private ImmutableSortedDictionary<string, InterfaceView> _current = ImmutableSortedDictionary.Create<string, InterfaceView>(StringComparer.Ordinal);
    private bool _completed;

    /// <summary>Every interface's view now, in name order.</summary>
    public IReadOnlyList<InterfaceView> Current => [.. Volatile.Read(ref _current).Values];

    /// <summary>The current views (name order), then each view as it changes; completes when the engine is disposed.</summary>
    public IObservable<InterfaceView> Changes => Observable.Create<InterfaceView>(observer =>
    {
        lock (_gate)
        {
            foreach (var view in _current.Values)
            {
                observer.OnNext(view);
            }

            if (_completed)
            {
                observer.OnCompleted();
                return System.Reactive.Disposables.Disposable.Empty;
            }

            return _changes.Subscribe(observer);
        }
    });

    /// <summary>Publishes <paramref name="view"/> when it differs from the one known (the engine actor only).</summary>
    public void Set(InterfaceView view)
    {
        lock (_gate)
        {
            if (_completed || (_current.TryGetValue(view.Facts.Name, out var old) && Same(old, view)))
            {
                return;
            }

            Volatile.Write(ref _current, _current.SetItem(view.Facts.Name, view));
            _changes.OnNext(view);
        }
    }

    /// <summary>The interface is gone: its last view says so.</summary>
    public void Remove(string name)
    {
        lock (_gate)
        {
            if (!_completed && _current.TryGetValue(name, out var old))
            {
                Volatile.Write(ref _current, _current.Remove(name));
                _changes.OnNext(old with { Removed = true });
            }
        }
    }

    /// <summary>The engine is disposed: the stream completes.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (!_completed)
            {
                _completed = true;
                _changes.OnCompleted();
            }
        }
    }

    private static bool Same(InterfaceView a, InterfaceView b) =>
        a.State == b.State && a.Detail == b.Detail && a.Learning == b.Learning && ReferenceEquals(a.Facts, b.Facts);
}
