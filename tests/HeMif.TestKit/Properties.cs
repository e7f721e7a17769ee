using System.Runtime.CompilerServices;

// The kit's probe implements the kernel's internal IActorRef, so the kit is internal too and shown to test projects.
[assembly: InternalsVisibleTo("HeMif.Actors.Tests")]
[assembly: InternalsVisibleTo("HeMif.Transports.Tests")]
[assembly: InternalsVisibleTo("HeMif.Host.Tests")]
[assembly: InternalsVisibleTo("HeMif.Cli.Tests")]
[assembly: InternalsVisibleTo("HeMif.Integration.Tests")]
