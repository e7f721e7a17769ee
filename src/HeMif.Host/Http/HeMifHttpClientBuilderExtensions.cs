using HeMif;
using HeMif.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>HeMif for clients made by <c>IHttpClientFactory</c>.</summary>
public static class HeMifHttpClientBuilderExtensions
{
    /// <summary>
    /// Makes the client's primary handler a <see cref="System.Net.Http.SocketsHttpHandler"/> whose connect callback is
    /// HeMif's (<see cref="HeMifConnectCallback"/>): every new HTTP/1.1 and HTTP/2 connection races across the
    /// interfaces. Adds HeMif (<c>AddHeMif</c>) if it is not there yet. Further handler settings compose with
    /// <c>UseSocketsHttpHandler</c>.
    /// </summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="options">Per-connection hints for policy rules (traffic class, expected size); null: the configured defaults.</param>
    public static IHttpClientBuilder UseHeMif(this IHttpClientBuilder builder, ConnectOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHeMif();
        return builder.UseSocketsHttpHandler((handler, services) =>
            handler.ConnectCallback = new HeMifConnectCallback(services.GetRequiredService<IHeMifConnector>(), options).ConnectAsync);
    }
}
