using System.Globalization;

namespace HeMif.Integration.Tests;

/// <summary>
/// The host override file (docs/connect.md) for a HeMif process in the client namespace: the lab's two interfaces
/// with their own DNS servers, and the connectivity check on the lab server, named by the service name so each
/// interface resolves it through its own DNS (a captive portal intercepts exactly that, §7.3). Deleted on dispose.
/// </summary>
public sealed class LabHostOverrides : IAsyncDisposable
{
    private LabHostOverrides(string path) => Path = path;

    public string Path { get; }

    /// <summary>The lab server's connectivity check URL.</summary>
    public static string CheckUrl(LabFixture lab) =>
        $"http://{lab.ServiceName}:{lab.ServerHttpPort.ToString(CultureInfo.InvariantCulture)}{lab["CHECK_PATH"]}";

    /// <summary>Writes the file; <paramref name="periodSeconds"/>: the validation period, when a test needs it shorter than 5 minutes.</summary>
    public static async Task<LabHostOverrides> WriteAsync(LabFixture lab, bool validate, int? periodSeconds = null)
    {
        var period = periodSeconds is { } p ? $", \"periodSeconds\": {p.ToString(CultureInfo.InvariantCulture)}" : "";
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hemif-lab-host-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, $$"""
            {
              "interfaces": [
                { "name": "{{lab.WifiInterface}}", "kind": "Wifi", "dnsServers": ["{{lab.WifiDns4}}"] },
                { "name": "{{lab.CellInterface}}", "kind": "Cellular", "dnsServers": ["{{lab.CellDns4}}"] }
              ],
              "probe": { "url": "{{CheckUrl(lab)}}", "timeoutMs": 1500, "disabled": {{(validate ? "false" : "true")}}{{period}} }
            }
            """);
        return new LabHostOverrides(path);
    }

    public ValueTask DisposeAsync()
    {
        File.Delete(Path);
        return ValueTask.CompletedTask;
    }
}
