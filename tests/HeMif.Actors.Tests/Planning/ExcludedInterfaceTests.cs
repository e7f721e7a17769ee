using HeMif.Filter;
using HeMif.Planning;

namespace HeMif.Actors.Tests.Planning;

/// <summary>Issue 11: "ExcludedInterface.ToString() prints its reasons" (a record's default printed the list's type).</summary>
public sealed class ExcludedInterfaceTests
{
    [Fact]
    public void An_excluded_interface_prints_every_reason()
    {
        var excluded = new ExcludedInterface("rmnet1",
        [
            new ExclusionReason(new RuleReference("no-roaming", RuleSource.User, PreferenceLevel.Prohibit), "rmnet1 is roaming"),
            new ExclusionReason(new RuleReference("builtin:interface-down", RuleSource.BuiltIn, PreferenceLevel.Prohibit), "rmnet1 is down"),
        ]);

        Assert.Equal("rmnet1: user rule 'no-roaming' (Prohibit): rmnet1 is roaming; built-in check 'builtin:interface-down' (Prohibit): rmnet1 is down", excluded.ToString());
    }
}
