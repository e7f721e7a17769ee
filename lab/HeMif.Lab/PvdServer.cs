using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace HeMif.Lab;

/// <summary>
/// The lab's PvD Additional Information server (RFC 8801 §4.1): HTTPS (HTTP/1.1 over TLS) on every address of its
/// namespace, answering <c>GET /.well-known/pvd</c> with the JSON document it was given (<c>application/pvd+json</c>)
/// and 404 elsewhere, with the certificate it was given (a PKCS#12 file: a test CA's certificate for the PvD ID).
/// Prints "serving pvd on PORT" once it listens. Counts requests on stdout ("GET /.well-known/pvd").
/// </summary>
internal static class PvdServer
{
    public static async Task<int> RunAsync(int port, string pfxPath, string documentPath)
    {
        if (port <= 0)
        {
            throw new UsageException("serve-pvd needs --port");
        }

        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, password: null);
        var document = await File.ReadAllBytesAsync(documentPath).ConfigureAwait(false);
        using var listener = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        listener.Listen(64);
        Console.WriteLine($"serving pvd on {port}");
        await LabServer.AcceptLoopAsync(listener, s => ServeAsync(s, certificate, document)).ConfigureAwait(false);
        return 0;
    }

    private static async Task ServeAsync(Socket socket, X509Certificate2 certificate, byte[] document)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, timeout.Token).ConfigureAwait(false);
        }
        catch (System.Security.Authentication.AuthenticationException e)
        {
            Console.WriteLine($"TLS handshake refused: {e.Message}"); // a client that does not trust the certificate: its own connection ends
            return;
        }

        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && request.Length < 16384)
        {
            var read = await tls.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var line = request.ToString().Split("\r\n")[0];
        Console.WriteLine(line);
        var found = line.StartsWith("GET /.well-known/pvd ", StringComparison.Ordinal);
        var body = found ? document : "not found\n"u8.ToArray();
        var head = $"HTTP/1.1 {(found ? "200 OK" : "404 Not Found")}\r\nContent-Type: {(found ? "application/pvd+json" : "text/plain")}\r\n"
                   + $"Content-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\nConnection: close\r\n\r\n";
        await tls.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token).ConfigureAwait(false);
        await tls.WriteAsync(body, timeout.Token).ConfigureAwait(false);
        await tls.FlushAsync(timeout.Token).ConfigureAwait(false);
    }
}
