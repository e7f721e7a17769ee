using HeMif.Fuzz;

namespace HeMif.Transports.Tests.Fuzz;

/// <summary>
/// The fuzz harnesses (tests/HeMif.Fuzz) on every test run, without AFL++: each target's seed corpus and its
/// regressions (inputs fuzzing once found escaping as an undocumented error, kept after the fix) run through the
/// parser, then a fixed-seed round of random mutations. Coverage-guided runs are <c>tools/fuzz.sh TARGET SECONDS</c>
/// (docs/testing.md, "Fuzzing").
/// </summary>
public sealed class FuzzCorpusTests
{
    /// <summary>Mutations per target in the fixed-seed round: enough to meet the corpus's edges, a few seconds at most.</summary>
    private const int Mutations = 3000;

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Keys];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_target_has_seeds(string target)
    {
        Assert.NotEmpty(InProcessFuzzing.ReadSeeds(Folder("corpus", target)));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task The_seeds_regressions_and_a_fixed_round_of_mutations_escape_only_as_the_documented_error(string target)
    {
        var seeds = InProcessFuzzing.ReadSeeds(Folder("corpus", target)).Concat(InProcessFuzzing.ReadSeeds(Folder("regressions", target))).ToList();

        // A hang guard only (a parser that loops forever would otherwise stop the whole run), not a speed assertion.
        var summary = await Task.Run(() => InProcessFuzzing.Run(FuzzTargets.All[target], seeds, TimeSpan.Zero, seed: 17, findings: null, maxInputs: Mutations))
            .WaitAsync(TimeSpan.FromMinutes(5));

        Assert.Equal(seeds.Count + Mutations, summary.Inputs);
        Assert.Equal(0, summary.Crashes);
    }

    /// <summary>The regressions exist for what they are: each one still reaches the parser and is accepted or refused as documented.</summary>
    [Theory]
    [InlineData("interfaces", "smoothed-rtt-past-timespan.json")]
    [InlineData("mptcp-info", "sizes-near-2-to-the-31.bin")]
    [InlineData("mptcp-info", "tcp-info-size-negative-as-int.bin")]
    [InlineData("mptcp-info", "text-as-header.bin")]
    public void A_kept_finding_runs_clean(string target, string file)
    {
        FuzzTargets.All[target].Run(File.ReadAllBytes(Path.Combine(Folder("regressions", target), file)));
    }

    [Fact]
    public void An_undocumented_exception_escapes_the_harness()
    {
        var thrower = new FuzzTarget("thrower", "a parser that fails on a zero byte", "none", input =>
        {
            if (input.Contains((byte)0))
            {
                throw new FormatException("zero");
            }
        });

        var summary = InProcessFuzzing.Run(thrower, [[1, 2, 3]], TimeSpan.Zero, seed: 17, findings: null, maxInputs: 2000);

        Assert.True(summary.Crashes > 0, "2000 mutations of 1 2 3 never made a zero byte");
    }

    private static string Folder(string kind, string target) => Path.Combine(Root(), "tests", "HeMif.Fuzz", kind, target);

    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HeMif.Actors.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No HeMif.Actors.sln above {AppContext.BaseDirectory}");
    }
}
