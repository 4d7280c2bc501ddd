using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace LeNet.Gen.Benchmarks.Reporting;

/// <summary>The two ways the suite runs: the real measurement and a seconds-long smoke run for CI.</summary>
public static class BenchmarkConfigs
{
    /// <summary>
    /// The measurement: one process per benchmark, 3 warm-up and 15 measured iterations of about 0.5 s each, which keeps
    /// the twelve benchmarks within about ten minutes on two cores.
    /// </summary>
    public static IConfig Full() => WithColumns(
        Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithId("Measure"));

    /// <summary>
    /// A smoke run that only checks every benchmark still runs: BenchmarkDotNet's dry job (one invocation, no pilot, no
    /// warm-up), in this process so that no benchmark project has to be generated and built.
    /// </summary>
    public static IConfig Dry() => WithColumns(
        Job.Dry
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Dry"));

    private static IConfig WithColumns(Job job) =>
        ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min, new ImagesPerSecondColumn(), new SpeedupColumn())
            .WithOptions(ConfigOptions.JoinSummary);
}
