using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using HeMif.Configuration;
using HeMif.Discovery;
using HeMif.Interfaces;
using HeMif.Validate;

namespace HeMif.Cli;

/// <summary>
/// <c>hemif interfaces [--interfaces FILE] [--listen MS] [--watch] [--probe-url URL] [--no-validation] [--json] [--pvd-ca FILE]</c>: what
/// HeMif knows about this host now: each interface with the facts it decides with, every provisioning domain learned
/// from Router Advertisements with each fact's lifetime, the validation state and why, and how RA learning goes
/// (docs/discovery.md). <c>--listen</c> waits that long first (RAs arrive every few minutes, or when a router starts);
/// <c>--watch</c> prints each interface again whenever what HeMif knows about it changes during that time (with
/// <c>--json</c>: one JSON object per line). Exit codes: 0, 2 bad input.
/// </summary>
public static class InterfacesCommand
{
    internal static Command Create(TerminalWriter output, TerminalWriter error)
    {
        var interfaces = CliInput.File("--interfaces", "Host override file: kind, cost flags, PvD, DNS servers, probe settings (docs/connect.md)");
        var listen = CliInput.Int("--listen", "Milliseconds to listen (for Router Advertisements, validation) before printing, 0-600000", "between 0 and 600000 ms", 0, 600_000, 0);
        var watch = new Option<bool>("--watch") { Description = "Print each interface again whenever what HeMif knows about it changes while listening" };
        var probeUrl = CliInput.ProbeUrl("--probe-url", "Connectivity check URL, plain http:// (must answer 204)");
        var noValidation = new Option<bool>("--no-validation") { Description = "Skip the connectivity check (hosts without a check server)" };
        var json = new Option<bool>("--json") { Description = "Print JSON: one object (with --watch: one object per line, per change)" };
        var pvdCa = CliInput.File("--pvd-ca", "PEM file of the one CA trusted for PvD Additional Information servers (a private or test CA) instead of the system's");
        var command = new Command("interfaces", "What HeMif knows about this host's interfaces: facts, provisioning domains learned from the network, validation.")
        {
            interfaces, listen, watch, probeUrl, noValidation, json, pvdCa,
        };
        command.SetAction(parse =>
        {
            IHeMifConnector connector;
            try
            {
                connector = HeMifConnector.Create(new HeMifConnectorOptions
                {
                    OverridesFile = parse.GetValue(interfaces),
                    ProbeUrl = parse.GetValue(probeUrl),
                    DisableValidation = parse.GetValue(noValidation),
                    PvdCertificateValidation = parse.GetValue(pvdCa) is { } ca ? TrustOnly(ca) : null,
                });
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                return CliInput.Fail(error, $"--pvd-ca: {parse.GetValue(pvdCa)}: not a readable PEM certificate: {e.Message}");
            }
            catch (HeMifConfigurationException e)
            {
                return CliInput.Fail(error, "--interfaces: " + e.Message);
            }
            catch (ArgumentException e)
            {
                return CliInput.Fail(error, CliInput.Message(e));
            }

            var asJson = parse.GetValue(json);
            try
            {
                using var changes = parse.GetValue(watch)
                    ? connector.InterfaceChanges.Subscribe(view =>
                    {
                        lock (output)
                        {
                            if (asJson)
                            {
                                output.Raw.WriteLine(TerminalText.Json(JsonSerializer.Serialize(Json(view), JsonOptions)));
                            }
                            else
                            {
                                Write(output, view);
                            }

                            output.Flush();
                        }
                    })
                    : null;
                WaitForFirstExamination(connector);
                Thread.Sleep(parse.GetValue(listen));
                changes?.Dispose();
                var now = connector.Interfaces;
                lock (output)
                {
                    if (asJson)
                    {
                        var document = new Dictionary<string, object?> { ["interfaces"] = now.Select(Json).ToList(), ["hostDns"] = Json(connector.HostDns) };
                        output.Raw.WriteLine(TerminalText.Json(JsonSerializer.Serialize(document, parse.GetValue(watch) ? JsonOptions : Indented)));
                    }
                    else
                    {
                        foreach (var view in now)
                        {
                            Write(output, view);
                        }

                        output.WriteLine($"host DNS: {connector.HostDns.State}, {connector.HostDns.Detail}");
                    }

                    output.Flush();
                }
            }
            finally
            {
                connector.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// Accepts a PvD server's certificate when it is valid for the PvD ID and chains to <paramref name="caFile"/>'s
    /// certificate alone (revocation not checked: a test CA has no revocation service).
    /// </summary>
    internal static System.Net.Security.RemoteCertificateValidationCallback TrustOnly(string caFile)
    {
        var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
        return (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != System.Net.Security.SslPolicyErrors.None)
            {
                return false; // no certificate, or not for this name
            }

            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            using var leaf = new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate);
            return chain.Build(leaf);
        };
    }

    /// <summary>
    /// How long the command waits for every interface's first examination (draft §5.2.1) before it prints what it knows:
    /// beyond the connectivity check's default timeout (5 s), so a check that times out is shown as failed, not as
    /// "not examined yet".
    /// </summary>
    internal static readonly TimeSpan FirstExaminationWait = TimeSpan.FromSeconds(8);

    /// <summary>
    /// Waits (at most <see cref="FirstExaminationWait"/>) until the engine has every interface, each has had its first
    /// examination and its RA listener has said whether it listens. The engine adds all interfaces it starts with in one step, so once it shows any and none is still
    /// being examined for the first time, it has them all.
    /// </summary>
    private static void WaitForFirstExamination(IHeMifConnector connector)
    {
        var examined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latest = new Dictionary<string, InterfaceView>(StringComparer.Ordinal);
        using var subscription = connector.InterfaceChanges.Subscribe(view =>
        {
            lock (latest)
            {
                if (view.Removed)
                {
                    latest.Remove(view.Facts.Name);
                }
                else
                {
                    latest[view.Facts.Name] = view;
                }

                if (latest.Count > 0 && latest.Values.All(v => v.State is not (ValidationState.Unknown or ValidationState.Validating)
                                                               && v.Learning.State != RaLearningState.Starting))
                {
                    examined.TrySetResult();
                }
            }
        });
        examined.Task.Wait(FirstExaminationWait);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonSerializerOptions Indented = new(JsonOptions) { WriteIndented = true };

    /// <summary>One interface as a JSON object (docs/discovery.md shows it).</summary>
    internal static Dictionary<string, object?> Json(InterfaceView v) => new()
    {
        ["name"] = v.Facts.Name,
        ["kind"] = v.Facts.Kind.ToString(),
        ["up"] = v.Facts.IsUp,
        ["removed"] = v.Removed,
        ["addresses"] = v.Facts.Addresses.Select(a => $"{a.Address}/{a.PrefixLength}").ToList(),
        ["dnsServers"] = v.Facts.DnsServers.Select(s => s.ToString()).ToList(),
        ["searchDomains"] = v.Facts.SearchDomains,
        ["routes"] = v.Facts.Routes.Select(r => new Dictionary<string, object?> { ["prefix"] = r.Prefix.ToString(), ["preference"] = r.Preference.ToString(), ["source"] = r.Source.ToString() }).ToList(),
        ["pvdId"] = v.Facts.PvdId,
        ["metered"] = IsMetered(v),
        ["roaming"] = v.Facts.Roaming,
        ["constrained"] = v.Facts.Constrained,
        ["sources"] = new Dictionary<string, object?>
        {
            ["kind"] = v.Facts.Sources.Kind.ToString(),
            ["up"] = v.Facts.Sources.Link.ToString(),
            ["addresses"] = v.Facts.Sources.Addresses.ToString(),
            ["dnsServers"] = v.Facts.Sources.DnsServers.ToString(),
            ["pvdId"] = v.Facts.PvdId is null ? null : v.Facts.Sources.PvdId.ToString(),
            ["metered"] = MeteredSource(v).ToString(),
            ["roaming"] = v.Facts.Sources.Roaming.ToString(),
            ["constrained"] = v.Facts.Sources.Constrained.ToString(),
        },
        ["validation"] = new Dictionary<string, object?> { ["state"] = v.State.ToString(), ["detail"] = v.Detail },
        ["raLearning"] = new Dictionary<string, object?>
        {
            ["state"] = v.Learning.State.ToString(),
            ["detail"] = v.Learning.Detail,
            ["accepted"] = v.Learning.Accepted,
            ["ignored"] = v.Learning.Ignored,
            ["refused"] = v.Learning.Refused,
        },
        ["pvds"] = v.Facts.Pvds.Select(Json).ToList(),
    };

    /// <summary>How reading the host resolver went (docs/discovery.md, "The host's own DNS").</summary>
    internal static Dictionary<string, object?> Json(HostDnsStatus s) => new()
    {
        ["state"] = s.State.ToString(),
        ["problem"] = s.Problem.ToString(),
        ["detail"] = s.Detail,
    };

    private static Dictionary<string, object?> Json(ProvisioningDomain p) => new()
    {
        ["id"] = p.Id,
        ["routers"] = p.Routers.Select(r => r.ToString()).ToList(),
        ["sequenceNumber"] = p.SequenceNumber,
        ["additionalInformationAdvertised"] = p.HasAdditionalInformation,
        ["legacy"] = p.Legacy,
        ["defaultRoute"] = p.DefaultRoute is { } d ? new Dictionary<string, object?> { ["preference"] = d.Preference.ToString(), ["expires"] = Time(d.Expires) } : null,
        ["prefixes"] = p.Prefixes.Select(x => Fact(x.Value.ToString(), x.Expires)).ToList(),
        ["routes"] = p.Routes.Select(r => new Dictionary<string, object?> { ["prefix"] = r.Prefix.ToString(), ["preference"] = r.Preference.ToString(), ["expires"] = Time(r.Expires) }).ToList(),
        ["dnsServers"] = p.DnsServers.Select(x => Fact(x.Value.ToString(), x.Expires)).ToList(),
        ["searchDomains"] = p.SearchDomains.Select(x => Fact(x.Value, x.Expires)).ToList(),
        ["lastAdvertised"] = Time(p.LastAdvertised),
        ["additionalInformation"] = p.AdditionalInformation is { } i
            ? new Dictionary<string, object?>
            {
                ["identifier"] = i.Identifier,
                ["expires"] = Time(i.Expires),
                ["prefixes"] = i.Prefixes.Select(x => x.ToString()).ToList(),
                ["noInternet"] = i.NoInternet,
                ["metered"] = i.Metered,
                ["dnsZones"] = i.DnsZones,
                ["name"] = i.Name,
            }
            : null,
        ["additionalInformationError"] = p.AdditionalInformationError is { } e
            ? new Dictionary<string, object?> { ["problem"] = e.Problem.ToString(), ["path"] = e.Path, ["message"] = e.Message }
            : null,
    };

    /// <summary>Metered as decisions see it: stated on the interface, or said by its PvD's valid Additional Information.</summary>
    private static bool IsMetered(InterfaceView v) => v.Facts.IsMetered(TimeProvider.System.GetUtcNow());

    private static FactSource MeteredSource(InterfaceView v) =>
        !v.Facts.Metered && IsMetered(v) ? FactSource.PvdAdditionalInformation : v.Facts.Sources.Metered;

    /// <summary>A source in a few words for the text output.</summary>
    private static string Said(FactSource source) => source switch
    {
        FactSource.OperatingSystem => "OS",
        FactSource.OverrideFile => "override file",
        FactSource.RouterAdvertisement => "RA",
        FactSource.PvdAdditionalInformation => "PvD additional information",
        FactSource.HostResolver => "host resolver",
        FactSource.SystemdNetworkd => "systemd-networkd",
        _ => "configuration",
    };

    private static Dictionary<string, object?> Fact(string value, DateTimeOffset? expires) => new() { ["value"] = value, ["expires"] = Time(expires) };

    private static string? Time(DateTimeOffset? t) => t?.ToString("O", CultureInfo.InvariantCulture);

    private static void Write(TerminalWriter o, InterfaceView v)
    {
        var f = v.Facts;
        var src = f.Sources;
        o.WriteLine($"{f.Name} ({f.Kind}{(f.IsUp ? "" : ", down")}{(v.Removed ? ", removed" : "")}): {v.State}, {v.Detail}");
        o.WriteLine($"  kind         {f.Kind} ({Said(src.Kind)})");
        o.WriteLine($"  addresses    {Join(f.Addresses.Select(a => $"{a.Address}/{a.PrefixLength}"))} ({Said(src.Addresses)})");
        o.WriteLine($"  DNS servers  {Join(f.DnsServers.Select(s => s.ToString()))} ({Said(src.DnsServers)})");
        if (f.SearchDomains.Count > 0)
        {
            o.WriteLine($"  search       {Join(f.SearchDomains)} ({Said(src.DnsServers)})");
        }

        if (f.Routes.Count > 0)
        {
            o.WriteLine($"  routes       {Join(f.Routes.Select(r => $"{r.Prefix} {r.Preference} ({Said(r.Source)})"))}");
        }

        if (f.PvdId is not null)
        {
            o.WriteLine($"  PvD ID       {f.PvdId} ({Said(src.PvdId)})");
        }

        o.WriteLine($"  cost         metered {(IsMetered(v) ? "yes" : "no")} ({Said(MeteredSource(v))}), roaming {(f.Roaming ? "yes" : "no")} ({Said(src.Roaming)}), constrained {(f.Constrained ? "yes" : "no")} ({Said(src.Constrained)})");

        o.WriteLine($"  RA learning  {v.Learning.State}{(v.Learning.Detail is { } d ? ": " + d : "")} ({v.Learning.Accepted} used, {v.Learning.Ignored} ignored)");
        foreach (var p in f.Pvds)
        {
            o.WriteLine($"  PvD {p.Id ?? "(implicit, router " + p.Routers[0] + ")"}{(p.SequenceNumber is { } s ? ", sequence " + s.ToString(CultureInfo.InvariantCulture) : "")}{(p.HasAdditionalInformation ? ", H" : "")}");
            o.WriteLine($"    DNS servers     {Join(p.DnsServers.Select(x => $"{x.Value} {Until(x.Expires)}"))}");
            o.WriteLine($"    search domains  {Join(p.SearchDomains.Select(x => $"{x.Value} {Until(x.Expires)}"))}");
            o.WriteLine($"    prefixes        {Join(p.Prefixes.Select(x => $"{x.Value} {Until(x.Expires)}"))}");
            o.WriteLine($"    routes          {Join((p.DefaultRoute is { } dr ? [dr] : Enumerable.Empty<LearnedRoute>()).Concat(p.Routes).Select(r => $"{r.Prefix} {r.Preference} {Until(r.Expires)}"))}");
            if (p.AdditionalInformation is { } info)
            {
                o.WriteLine($"    additional information: expires {Time(info.Expires)}{(info.NoInternet ? ", noInternet" : "")}{(info.Metered ? ", metered" : "")}, dnsZones {Join(info.DnsZones)}");
            }

            if (p.AdditionalInformationError is { } e)
            {
                o.WriteLine($"    additional information not used: {e.Message}");
            }
        }
    }

    private static string Until(DateTimeOffset? t) => t is { } at ? "until " + Time(at) : "(no end)";

    private static string Join(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }
}
