namespace HeMif.Hosting;

/// <summary>Marks a service collection that has HeMif's services (AddHeMif adds them once; WithHeMif needs them).</summary>
internal sealed class HeMifServices
{
    /// <summary>The name of the actor system AddHeMif brings when the application has none of its own.</summary>
    public const string OwnActorSystemName = "hemif";

    /// <summary>The name of HeMif's top actor in whichever actor system it runs.</summary>
    public const string TopActorName = "hemif";
}
