using HeMif.AkkaSample;

// An application with actors of its own on Akka.Hosting that adds HeMif with one call (builder.WithHeMif(sp)):
//   (no arguments)   hosts a tiny HTTP endpoint on loopback, fetches it once through HttpClient + UseHeMif() from its
//                    own actor, asks HeMif's actor for that connection's race report, prints both, exit 0
//   URL              fetches URL instead (exit 3 when it fails)
return await Sample.RunAsync(args, Console.Out);
