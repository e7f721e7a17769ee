using System.Runtime.CompilerServices;

// The kit works with the engine's internal types (the virtual-time driver, the clock), so it is internal too and shown to test projects.
[assembly: InternalsVisibleTo("HeMif.Actors.Tests")]
[assembly: InternalsVisibleTo("HeMif.Transports.Tests")]
[assembly: InternalsVisibleTo("HeMif.Host.Tests")]
[assembly: InternalsVisibleTo("HeMif.Cli.Tests")]
[assembly: InternalsVisibleTo("HeMif.Integration.Tests")]
