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
    /// <param name="peak">The FMA peak measured before the benchmarks, for the share-of-peak column.</param>
    public static IConfig Full(FmaPeak peak) => WithColumns(
        peak,
        Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithId("Measure"));

    /// <summary>
    /// A smoke run that only checks every benchmark still runs: BenchmarkDotNet's dry job (one invocation, no pilot, no
    /// warm-up), in this process so that no benchmark project has to be generated and built.
    /// </summary>
    /// <param name="peak">The FMA peak measured before the benchmarks, for the share-of-peak column.</param>
    public static IConfig Dry(FmaPeak peak) => WithColumns(
        peak,
        Job.Dry
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Dry"));

    private static IConfig WithColumns(FmaPeak peak, Job job) =>
        ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min, new ImagesPerSecondColumn(), new SpeedupColumn(), new GigaflopsColumn(), new ShareOfPeakColumn(peak))
            .WithOptions(ConfigOptions.JoinSummary);
}
