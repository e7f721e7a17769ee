using FsCheck;
using FsCheck.Fluent;

namespace HeMif.TestKit;

/// <summary>
/// FsCheck glue from before FsCheck.Xunit restored here: checks a property over generated cases and throws, with
/// FsCheck's shrunk counter-example in the message, when it fails. Property tests use FsCheck.Xunit's
/// <c>[Property]</c> now; this stays only for the actor kernel's own tests (tests/HeMif.Actors.Tests/Kernel), and goes
/// with them.
/// </summary>
public static class PropertyCheck
{
    /// <summary>Checks <paramref name="property"/> for <paramref name="maxTest"/> cases drawn from <paramref name="gen"/>.</summary>
    public static void ForAll<T>(Gen<T> gen, Func<T, bool> property, int maxTest = 100)
    {
        ArgumentNullException.ThrowIfNull(gen);
        ArgumentNullException.ThrowIfNull(property);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(maxTest), Prop.ForAll(Arb.From(gen), property));
    }
}
