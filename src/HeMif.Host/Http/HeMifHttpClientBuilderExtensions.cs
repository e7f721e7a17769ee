using HeMif;
using HeMif.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>HeMif for clients made by <c>IHttpClientFactory</c>.</summary>
public static class HeMifHttpClientBuilderExtensions
{
    /// <summary>
    /// Makes the client's primary handler a <see cref="System.Net.Http.SocketsHttpHandler"/> whose connect callback is
    /// HeMif's (<see cref="HeMifConnectCallback"/>): every new HTTP/1.1 and HTTP/2 connection races across the
    /// interfaces. When a connection's path is no longer viable or a better path appears (draft §7.4), the client's
    /// pooled connections are retired so that the next request races again, while requests in flight finish
    /// (HeMif:RetireHttpConnections, on by default; docs/continuity.md). Adds HeMif (<c>AddHeMif</c>) if it is not there
    /// yet. Further handler settings compose with <c>UseSocketsHttpHandler</c>.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="options">Per-connection hints for policy rules (traffic class, expected size); null: the configured defaults.</param>
    public static IHttpClientBuilder UseHeMif(this IHttpClientBuilder builder, ConnectOptions? options = null) =>
        UseHeMif(builder, options, retireOnPathChange: true);

    /// <summary>
    /// <see cref="UseHeMif(IHttpClientBuilder, ConnectOptions?)"/>, with this client's own say on retiring pooled
    /// connections when their path changes: false never retires them (a connection then stays on its path until it
    /// closes); true follows HeMif:RetireHttpConnections.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="options">Per-connection hints for policy rules (traffic class, expected size); null: the configured defaults.</param>
    /// <param name="retireOnPathChange">Whether this client retires pooled connections on "not viable" and "better path available".</param>
    public static IHttpClientBuilder UseHeMif(this IHttpClientBuilder builder, ConnectOptions? options, bool retireOnPathChange)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHeMif();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, HeMifHttpHandlerFilter>());
        return builder.UseSocketsHttpHandler((handler, services) =>
            handler.ConnectCallback = new HeMifConnectCallback(services.GetRequiredService<IHeMifConnector>(), options)
            {
                RetireOnPathChange = retireOnPathChange,
            }.ConnectAsync);
    }
}
