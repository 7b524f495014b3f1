using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using QueueApi.Benchmarks;

// Modes: handoff (BenchmarkDotNet), split (producer and consumer sides alone), lifecycle, memory and scheduled (plain Stopwatch/GC runs),
// recurring (10,000 schedules due in one second against a plain batch), priorities (mixed against the default lane), or all;
// host: the service with the bare route the HTTP ingress benchmark (ingress/run.sh) measures against;
// postgres: the PostgreSQL store end to end, claim and complete per replica (needs a server, see PostgresThroughput.cs);
// recurring-postgres [N]: N schedules (10,000) due in one second on the PostgreSQL stores, 1 and 3 replicas (PostgresScheduleBurst.cs);
// recurring-sqlite [N]: N schedules (10,000) due in one second on the SQLite stores, the default (SqliteScheduleBurst.cs).
// sqlite [packed] [batch]: a million queued through the writer (packed: batch messages a row, 1,000), a start-up timed in a
// fresh process (sqlite-start FOLDER [packed], started by it), then a million processed (SqliteStartup.cs).
var mode = args.Length > 0 ? args[0].ToLowerInvariant() : "handoff";
var rest = args.Skip(1).ToArray();
switch (mode)
{
    case "handoff":
        RunHandoff(rest);
        return 0;
    case "lifecycle":
        Lifecycle.Run();
        return 0;
    case "split":
        Split.Run();
        return 0;
    case "memory":
        MemoryPerMessage.Run();
        return 0;
    case "scheduled":
        Scheduling.Run();
        return 0;
    case "recurring":
        ScheduleBurst.Run();
        return 0;
    case "priorities":
        PriorityLanes.Run();
        return 0;
    case "host":
        return IngressHost.Run(rest);
    case "sqlite":
        SqliteStartup.Run(pack: rest.Contains("packed"), batch: rest.FirstOrDefault(a => a != "packed") is { } size ? int.Parse(size, System.Globalization.CultureInfo.InvariantCulture) : 1_000);
        return 0;
    case "sqlite-start":
        SqliteStartup.Start(rest[0], pack: rest.Contains("packed"));
        return 0;
    case "sqlite-intake":
        SqliteIntake.Run(rest);
        return 0;
    case "postgres":
        return PostgresThroughput.Run();
    case "recurring-postgres":
        return PostgresScheduleBurst.Run(rest);
    case "recurring-sqlite":
        SqliteScheduleBurst.Run(rest);
        return 0;
    case "all":
        RunHandoff(rest);
        Split.Run();
        Lifecycle.Run();
        MemoryPerMessage.Run();
        Scheduling.Run();
        ScheduleBurst.Run();
        PriorityLanes.Run();
        return 0;
    default:
        Console.Error.WriteLine($"Unknown mode '{mode}'. Use: handoff | split | lifecycle | memory | scheduled | recurring | priorities | sqlite [packed] [batch] | sqlite-intake | all | host | postgres | recurring-postgres | recurring-sqlite");
        return 2;
}

static void RunHandoff(string[] args)
{
    // In process: the benchmark owns its threads, and the generated project needs no build of its own.
    var config = ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(3)
            .WithIterationCount(12)
            .WithInvocationCount(1)
            .WithUnrollFactor(1))
        .WithOptions(ConfigOptions.DisableLogFile);
    var summary = BenchmarkRunner.Run<HandoffBenchmarks>(config, args);
    HandoffBenchmarks.PrintTargets(summary);
}
