namespace HeMif.Hosting;

/// <summary>
/// What <see cref="Microsoft.Extensions.DependencyInjection.HeMifBuilder"/> adds to the connector (transports, a
/// resolver, probes, the default transports), kept as steps on the one composition builder
/// (<see cref="HeMifConnectorBuilder"/>) and replayed, in the order they were given, when the container makes the
/// connector. One per service collection.
/// </summary>
internal sealed class HeMifComposition
{
    private readonly List<Action<HeMifConnectorBuilder, IServiceProvider>> _steps = [];

    /// <summary>Adds a step.</summary>
    public void Add(Action<HeMifConnectorBuilder, IServiceProvider> step) => _steps.Add(step);

    /// <summary>Applies every step to <paramref name="builder"/>, with the container's services.</summary>
    public HeMifConnectorBuilder ApplyTo(HeMifConnectorBuilder builder, IServiceProvider services)
    {
        foreach (var step in _steps)
        {
            step(builder, services);
        }

        return builder;
    }
}
