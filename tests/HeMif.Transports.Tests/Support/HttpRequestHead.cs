using System.Net.Sockets;
using System.Text;

namespace HeMif.Transports.Tests.Support;

/// <summary>What the test HTTP servers do with a request before they answer: read its head, up to the blank line.</summary>
internal static class HttpRequestHead
{
    /// <summary>Reads from <paramref name="client"/> until the head's end (or the client's end) and returns what came.</summary>
    public static async Task<string> ReadAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var received = new StringBuilder();
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await client.ReceiveAsync(buffer, cancellationToken);
            if (n == 0)
            {
                break;
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return received.ToString();
    }
}
