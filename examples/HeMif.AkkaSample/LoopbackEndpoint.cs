using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HeMif.AkkaSample;

/// <summary>A minimal HTTP/1.1 endpoint on 127.0.0.1 that answers every request "200 OK hello" (so the sample needs no network).</summary>
public sealed class LoopbackEndpoint : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private LoopbackEndpoint()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _serving = ServeAsync();
    }

    /// <summary>Where it listens.</summary>
    public Uri Url { get; }

    /// <summary>Starts listening on a free loopback port.</summary>
    public static Task<LoopbackEndpoint> StartAsync() => Task.FromResult(new LoopbackEndpoint());

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _serving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        var answer = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            var buffer = new byte[4096];
            var seen = new StringBuilder();
            while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            await stream.WriteAsync(answer, _stop.Token).ConfigureAwait(false);
        }
    }
}
