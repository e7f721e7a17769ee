using Xunit.Abstractions;

namespace HeMif.Integration.Tests;

/// <summary>A lab leaves nothing behind: not after down, not after a one-shot run that failed, not after an up that failed; and two labs at once do not collide.</summary>
[Collection(NetworkLab.Name)]
public sealed class LabLifecycleTests(LabFixture lab, ITestOutputHelper output)
{
    [LabFact]
    public async Task A_second_lab_beside_the_first_works_and_down_removes_its_namespaces_processes_and_state()
    {
        var up = await Script(["up", "--wifi-delay-ms", "5", "--cell-delay-ms", "15"]);
        Assert.True(up.ExitCode == 0, up.ToString());
        var values = up.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var run = values["RUN_ID"];
        try
        {
            Assert.NotEqual(lab.RunId, run);
            Assert.Equal(4, (await LabFixture.NamespacesOfRunAsync(run)).Count);
            var probe = await LabProcess.RunAsync("ip", ["netns", "exec", values["NS_CLIENT"], "dotnet", LabFixture.LabDll, "probe-tcp", values["SERVER_ADDR6"], values["SERVER_TCP_PORT"], "--bind", values["CELL_ADDR6"], "--echo"], TimeSpan.FromSeconds(30));
            Assert.True(probe.ExitCode == 0, probe.ToString());

            var pids = new List<int>();
            foreach (var ns in new[] { "NS_CLIENT", "NS_WIFI_ROUTER", "NS_CELL_ROUTER", "NS_SERVER" })
            {
                var list = await LabProcess.RunAsync("ip", ["netns", "pids", values[ns]], TimeSpan.FromSeconds(10));
                pids.AddRange(list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
            }

            output.WriteLine($"run {run}: helper processes {string.Join(", ", pids)}");
            Assert.True(pids.Count >= 5, "expected the relay, the server, the portal and two dnsmasq");

            var down = await Script(["down", run]);
            Assert.True(down.ExitCode == 0, down.ToString());
            Assert.Empty(await LabFixture.NamespacesOfRunAsync(run));
            Assert.False(Directory.Exists(values["STATE_DIR"]), "the state directory is still there");
            Assert.False(Directory.Exists($"/etc/netns/{values["NS_CLIENT"]}"), "/etc/netns/<client> is still there");
            Assert.DoesNotContain(pids, IsRunning);
        }
        finally
        {
            await Script(["down", run]);
        }

        // The first lab did not notice.
        await lab.SwitchAsync("healthy");
        var still = await lab.ConnectAsync(lab.ServerAddress4, lab.CellAddress4);
        Assert.True(still.Connected, still.ToString());
    }

    [LabFact]
    public async Task A_one_shot_run_tears_down_when_its_command_fails_and_passes_on_its_exit_code()
    {
        var run = await Script(["run", "--switch", "wifi-broken", "--", "bash", "-c", "echo \"$HEMIF_LAB_RUN_ID $HEMIF_LAB_SWITCH $HEMIF_LAB_NS_CLIENT\"; exit 7"]);
        output.WriteLine(run.ToString());
        Assert.Equal(7, run.ExitCode);
        var words = run.Stdout.Trim().Split(' ');
        Assert.Equal("wifi-broken", words[1]);
        Assert.Equal($"hm{words[0]}-cli", words[2]);
        Assert.Empty(await LabFixture.NamespacesOfRunAsync(words[0]));
    }

    [LabFact]
    public async Task An_up_whose_helper_dies_fails_clearly_and_leaves_nothing_behind()
    {
        var dir = Directory.CreateTempSubdirectory("hemif-lab-bogus");
        try
        {
            var bogus = Path.Combine(dir.FullName, "HeMif.Lab.dll");
            await File.WriteAllTextAsync(bogus, "not an assembly");
            var up = await LabProcess.RunAsync("bash", [LabFixture.Script, "up"], TimeSpan.FromSeconds(120), new Dictionary<string, string> { ["HEMIF_LAB_DLL"] = bogus });
            output.WriteLine(up.ToString());
            Assert.NotEqual(0, up.ExitCode);
            Assert.Contains("a lab helper exited", up.Stderr, StringComparison.Ordinal);
            var run = System.Text.RegularExpressions.Regex.Match(up.Stderr, "run ([0-9a-f]+):").Groups[1].Value;
            Assert.NotEmpty(run);
            Assert.Empty(await LabFixture.NamespacesOfRunAsync(run));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [LabFact]
    public async Task An_unknown_switch_is_refused_with_the_list_of_switches()
    {
        var result = await Script(["switch", lab.RunId, "wifi-sideways"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("unknown switch 'wifi-sideways'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("wifi-hard-error", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Alive and not a zombie: lab.sh's helpers outlive lab.sh, so once ended they wait as zombies
    /// until whatever adopted them reaps them; a zombie runs nothing and holds nothing.
    /// </summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static Task<ProcessResult> Script(string[] args) =>
        LabProcess.RunAsync("bash", [LabFixture.Script, .. args], TimeSpan.FromSeconds(120), LabFixture.ScriptEnvironment);
}
