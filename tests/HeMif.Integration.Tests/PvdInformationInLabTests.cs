using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace HeMif.Integration.Tests;

/// <summary>
/// PvD Additional Information (RFC 8801 §4, docs/discovery.md), for real: the Wi-Fi router advertises the PvD
/// <c>pvd.lab.example</c> with the H-flag (the lab's RA sender, <c>--http</c>) and its own DNS server, which names the
/// router's address for it; an HTTPS server of our own in the router's namespace (<c>HeMif.Lab serve-pvd</c>) serves
/// <c>/.well-known/pvd</c> with a certificate from a test CA generated here (CertificateRequest); and
/// <c>hemif interfaces --json --pvd-ca</c> in the client's namespace fetches it over wlan0 and shows what it says.
/// The server is stopped and the files deleted also when an assertion fails.
/// </summary>
[Collection(NetworkLab.Name)]
public sealed class PvdInformationInLabTests(LabFixture lab) : IDisposable
{
    private const string PvdId = "pvd.lab.example";
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("hemif-pvd-");

    public void Dispose() => _dir.Delete(recursive: true);

    [LabFact]
    public async Task The_client_learns_noInternet_and_dnsZones_from_the_PvDs_Additional_Information()
    {
        var (caPem, pfx) = TestCertificates(PvdId);
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var document = Write("pvd.json", $$"""{"identifier": "{{PvdId}}", "expires": "{{expires}}", "prefixes": ["2001:db8:1::/48"], "noInternet": true, "dnsZones": ["corp.lab.example"]}""");
        var ca = Write("ca.pem", caPem);
        var pfxPath = Path.Combine(_dir.FullName, "server.pfx");
        await File.WriteAllBytesAsync(pfxPath, pfx);

        using var server = await StartServerAsync(lab["NS_WIFI_ROUTER"], pfxPath, document);
        var sending = Run(lab["NS_WIFI_ROUTER"], ["dotnet", LabFixture.LabDll, "send-ra", "--device", "client0", "--router-lifetime", "0",
            "--pvd", PvdId, "--seq", "1", "--http", "--rdnss", lab["WIFI_GW6"] + ",600", "--count", "12", "--interval-ms", "1000"]);
        var hemif = LabProcess.RunAsync("ip", ["netns", "exec", lab.ClientNamespace, "dotnet", LabProcess.Hemif, "interfaces", "--json", "--no-validation",
            "--listen", "15000", "--pvd-ca", ca], TimeSpan.FromSeconds(120));
        await sending;
        var result = await hemif;

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var wlan = json.RootElement.GetProperty("interfaces").EnumerateArray().Single(i => i.GetProperty("name").GetString() == "wlan0");
        var pvd = wlan.GetProperty("pvds").EnumerateArray().Single(p => p.GetProperty("id").GetString() == PvdId);
        Assert.True(pvd.GetProperty("additionalInformationAdvertised").GetBoolean());
        var info = pvd.GetProperty("additionalInformation");
        Assert.True(info.ValueKind == JsonValueKind.Object, "no Additional Information: " + pvd.GetProperty("additionalInformationError") + "\nserver: " + server.Output);
        Assert.True(info.GetProperty("noInternet").GetBoolean());
        Assert.Equal(["corp.lab.example"], info.GetProperty("dnsZones").EnumerateArray().Select(z => z.GetString()));
        Assert.Contains("GET /.well-known/pvd", server.Output, StringComparison.Ordinal);
    }

    /// <summary>A test CA and a server certificate for the PvD ID signed by it: the CA as PEM, the server's as PKCS#12 with its key.</summary>
    internal static (string CaPem, byte[] ServerPfx) TestCertificates(string pvdId)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=HeMif lab test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var caCert = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=" + pvdId, serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(pvdId);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        using var signed = serverRequest.Create(caCert, now.AddMinutes(-5), now.AddHours(12), RandomNumberGenerator.GetBytes(8));
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        return (caCert.ExportCertificatePem(), withKey.Export(X509ContentType.Pkcs12));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>Starts <c>serve-pvd</c> on port 443 in namespace <paramref name="ns"/> (a router's) and waits (bounded) until it listens.</summary>
    internal static async Task<Server> StartServerAsync(string ns, string pfx, string document)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", ns, "dotnet", LabFixture.LabDll, "serve-pvd", "--port", "443", "--pfx", pfx, "--document", document])
        {
            info.ArgumentList.Add(arg);
        }

        var server = new Server(Process.Start(info) ?? throw new InvalidOperationException("could not start serve-pvd"));
        try
        {
            using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hang guard, not a timing assertion
            await server.Listening.WaitAsync(guard.Token);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private static async Task Run(string ns, string[] command)
    {
        var result = await LabProcess.RunAsync("ip", ["netns", "exec", ns, .. command], TimeSpan.FromSeconds(90));
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>The running server: what it printed; killed on dispose.</summary>
    internal sealed class Server : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Server(Process process)
        {
            _process = process;
            process.StandardInput.Close();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    _listening.TrySetException(new InvalidOperationException("serve-pvd ended: " + Output));
                    return;
                }

                lock (_output)
                {
                    _output.AppendLine(e.Data);
                }

                if (e.Data.StartsWith("serving pvd on", StringComparison.Ordinal))
                {
                    _listening.TrySetResult();
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_output)
                    {
                        _output.AppendLine(e.Data);
                    }
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Task Listening => _listening.Task;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }
    }
}
