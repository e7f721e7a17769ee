using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace HeMif.Hosting;

/// <summary>
/// Wraps the primary handler of every <c>UseHeMif()</c> client in a <see cref="RetiringHttpHandler"/>. A filter runs
/// after all of a client's handler configuration, so the SocketsHttpHandler it wraps carries every setting the
/// application gave with <c>UseSocketsHttpHandler</c>, whether before or after <c>UseHeMif()</c>. A client whose primary
/// handler is no longer HeMif's SocketsHttpHandler (the application replaced it), or that opted out, is left alone.
/// </summary>
internal sealed class HeMifHttpHandlerFilter : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return builder =>
        {
            next(builder);
            if (builder.PrimaryHandler is SocketsHttpHandler { ConnectCallback.Target: HeMifConnectCallback { RetireOnPathChange: true } callback } handler)
            {
                var connector = builder.Services.GetRequiredService<IHeMifConnector>();
                builder.PrimaryHandler = new RetiringHttpHandler(handler, callback,
                    () => connector is not HostedConnector hosted || hosted.RetireHttpConnections(), builder.Services.GetService<HeMifTelemetry>());
            }
        };
    }
}
