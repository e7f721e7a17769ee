namespace HeMif.Kernel;

/// <summary>
/// How to make an actor (Akka's Props): a factory the kernel calls on start and again on every restart, so a
/// restart always begins from fresh state.
/// </summary>
internal sealed class Props
{
    private Props(Func<Actor> factory, Type actorType)
    {
        Factory = factory;
        ActorType = actorType;
    }

    /// <summary>The factory; it must return a new instance on every call.</summary>
    public Func<Actor> Factory { get; }

    /// <summary>The type the factory makes (for paths and diagnostics).</summary>
    public Type ActorType { get; }

    /// <summary>Props for an actor made by <paramref name="factory"/>.</summary>
    public static Props Create<TActor>(Func<TActor> factory)
        where TActor : Actor
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(factory, typeof(TActor));
    }
}
