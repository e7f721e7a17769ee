using Akka.Actor;

namespace HeMif.Runtime;

/// <summary>
/// Props for HeMif's actors from a plain factory delegate. Akka's <c>Props.Create(() => new T(...))</c> takes an
/// expression tree and compiles it (a <c>DynamicMethod</c>) every time Props are made; HeMif makes Props for every
/// request and racer, where that compilation cost about half a millisecond of CPU per race (README, Benchmarks). A
/// delegate does the same job without it. Akka calls the factory again on each restart, so it must build the actor
/// from values captured beforehand (never from the creating actor's <c>Self</c> or <c>Context</c>, which are the
/// child's while the factory runs).
/// </summary>
internal static class ActorProps
{
    /// <summary>Props whose actor <paramref name="create"/> makes (on start and on every restart).</summary>
    public static Props Of<TActor>(Func<TActor> create)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(create);
        return Props.CreateBy(new Producer<TActor>(create));
    }

    private sealed class Producer<TActor>(Func<TActor> create) : IIndirectActorProducer
        where TActor : ActorBase
    {
        public Type ActorType => typeof(TActor);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }
}
