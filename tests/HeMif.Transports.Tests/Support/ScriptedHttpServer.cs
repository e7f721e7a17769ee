using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HeMif.Transports.Tests.Support;

/// <summary>
/// An HTTP server on 127.0.0.1 for connectivity-check tests: reads each request head, writes the scripted answer
/// (null: never answers; <see cref="Answer"/> changes it for the next request), closes. Disposing it stops it.
/// </summary>
internal sealed class ScriptedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile string? _answer;
    private int _requests;

    public ScriptedHttpServer(string? answer)
    {
        _answer = answer;
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The answer to the next requests (a captive portal the user logs into answers differently afterwards).</summary>
    public string? Answer
    {
        get => _answer;
        set => _answer = value;
    }

    /// <summary>How many request heads were received.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The last request head received.</summary>
    public string LastRequest { get; private set; } = "";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptSocketAsync(_stop.Token);
            LastRequest = await HttpRequestHead.ReadAsync(client, _stop.Token);
            Interlocked.Increment(ref _requests);
            var answer = _answer;
            if (answer is null)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            await client.SendAsync(Encoding.ASCII.GetBytes(answer!), _stop.Token);
            client.Shutdown(SocketShutdown.Both);
        }
    }
}
