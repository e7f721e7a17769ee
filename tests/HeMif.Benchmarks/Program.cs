using BenchmarkDotNet.Running;
using HeMif.Benchmarks;

// `loopback`: the connector against raw sockets on one loopback listener, medians and ratios printed by this program
// (LoopbackConnectBenchmark). `startup`: a cold process's start-up (StartupBenchmark). `races`: the engine's races in
// plain rounds, for a quick before/after (EngineRoundsBenchmark). `soak`: a million simulated races and 100,000 loopback
// connects, memory and descriptors printed every 10 % (SoakBenchmark). Anything else: every
// BenchmarkDotNet class in this assembly; pick with --filter, e.g. `--filter '*EngineThroughput*'`.
if (args.Length > 0 && args[0] == "loopback")
{
    return await LoopbackConnectBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "races")
{
    return await EngineRoundsBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "soak")
{
    return await SoakBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "startup")
{
    return await StartupBenchmark.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
