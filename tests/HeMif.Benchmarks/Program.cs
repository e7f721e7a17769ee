using BenchmarkDotNet.Running;
using HeMif.Benchmarks;

// `loopback`: the connector against raw sockets on one loopback listener, medians and ratios printed by this program
// (LoopbackConnectBenchmark). Anything else: every BenchmarkDotNet class in this assembly; pick with --filter, e.g.
// `--filter '*EngineThroughput*'`.
if (args.Length > 0 && args[0] == "loopback")
{
    return await LoopbackConnectBenchmark.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
