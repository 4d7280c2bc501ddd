using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LeNet.Gen.Benchmarks.Reporting;

/// <summary>Per-image figures taken from a summary: every benchmark's operation is one image (see <see cref="LeNet5Benchmarks"/>).</summary>
public static class PerImage
{
    /// <summary>Median nanoseconds per image, or null when the benchmark has no result.</summary>
    public static double? MedianNanoseconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Median;

    /// <summary>Mean nanoseconds per image, or null when the benchmark has no result.</summary>
    public static double? MeanNanoseconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean;

    /// <summary>Fastest measured iteration, nanoseconds per image (the figure least disturbed by other processes), or null.</summary>
    public static double? MinNanoseconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Min;

    /// <summary>Images per second from the median time.</summary>
    public static double? ImagesPerSecond(Summary summary, BenchmarkCase benchmarkCase) =>
        MedianNanoseconds(summary, benchmarkCase) is double ns && ns > 0 ? 1e9 / ns : null;

    /// <summary>Bytes allocated per image, or null when the memory diagnoser did not run.</summary>
    public static long? AllocatedBytes(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        return report is null ? null : report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase);
    }

    /// <summary>The baseline of the same category and job, or null (also when <paramref name="benchmarkCase"/> is the baseline).</summary>
    public static BenchmarkCase? BaselineOf(Summary summary, BenchmarkCase benchmarkCase)
    {
        string category = Category(benchmarkCase);
        return summary.BenchmarksCases.FirstOrDefault(other =>
            other.Descriptor.Baseline
            && Category(other) == category
            && other.Job.Id == benchmarkCase.Job.Id);
    }

    /// <summary>Baseline median time ÷ this median time: how many times faster than the category's baseline (the straightforward network for LeNet-5, ONNX Runtime for vgg-cifar inference).</summary>
    public static double? Speedup(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkCase? baseline = BaselineOf(summary, benchmarkCase);
        if (baseline is null)
        {
            return null;
        }

        double? mine = MedianNanoseconds(summary, benchmarkCase);
        double? theirs = MedianNanoseconds(summary, baseline);
        return mine is double m && theirs is double t && m > 0 ? t / m : null;
    }

    /// <summary>What one operation of the benchmark is (network, pass, threads), or null when it is not a network's forward pass or training step.</summary>
    public static NetworkWorkAttribute? Work(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<NetworkWorkAttribute>();

    /// <summary>FLOPs per image of the benchmark's work (see <see cref="NetworkFlops"/>), or null when it has no <see cref="NetworkWorkAttribute"/>.</summary>
    public static long? FlopsPerImage(BenchmarkCase benchmarkCase) =>
        Work(benchmarkCase) is NetworkWorkAttribute work ? FlopsOf.GetOrAdd(work.Network, NetworkFlops.Of).Of(work.Pass) : null;

    /// <summary>Achieved GFLOP/s: FLOPs per image × images per second (from the median) / 1e9; null without a result or a known work.</summary>
    public static double? Gigaflops(Summary summary, BenchmarkCase benchmarkCase) =>
        FlopsPerImage(benchmarkCase) is long flops && ImagesPerSecond(summary, benchmarkCase) is double rate ? flops * rate / 1e9 : null;

    /// <summary>Achieved GFLOP/s over the measured single-thread peak × the benchmark's threads (1 = the peak of every thread used).</summary>
    public static double? ShareOfPeak(Summary summary, BenchmarkCase benchmarkCase, FmaPeak peak)
    {
        ArgumentNullException.ThrowIfNull(peak);
        return Gigaflops(summary, benchmarkCase) is double gigaflops && Work(benchmarkCase) is NetworkWorkAttribute work && peak.GigaflopsPerSecond > 0
            ? gigaflops / (peak.GigaflopsPerSecond * work.Threads)
            : null;
    }

    /// <summary>The GFLOP/s cell: one decimal; "—" for work that is not a network's, "-" without a result.</summary>
    public static string FormatGigaflops(Summary summary, BenchmarkCase benchmarkCase) =>
        Work(benchmarkCase) is null ? NotNetworkWork
            : Gigaflops(summary, benchmarkCase) is double gigaflops ? gigaflops.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    /// <summary>The share-of-peak cell, as a percentage with one decimal; "—" for work that is not a network's, "-" without a result.</summary>
    public static string FormatShareOfPeak(Summary summary, BenchmarkCase benchmarkCase, FmaPeak peak) =>
        Work(benchmarkCase) is null ? NotNetworkWork
            : ShareOfPeak(summary, benchmarkCase, peak) is double share ? (100 * share).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    /// <summary>What the FLOP columns show for a benchmark whose work is not a network's forward pass or training step.</summary>
    public const string NotNetworkWork = "—";

    private static readonly ConcurrentDictionary<Type, NetworkFlops> FlopsOf = new();

    /// <summary>The benchmark's category (each benchmark here has exactly one).</summary>
    public static string Category(BenchmarkCase benchmarkCase) => string.Join(", ", benchmarkCase.Descriptor.Categories);

    /// <summary>Formats with thousands separators and no decimals.</summary>
    public static string Whole(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>Images per second, 1e9 / median ns per image.</summary>
public sealed class ImagesPerSecondColumn : IColumn
{
    public string Id => nameof(ImagesPerSecondColumn);

    public string ColumnName => "img/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Images per second: 1e9 / median nanoseconds per image";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        PerImage.ImagesPerSecond(summary, benchmarkCase) is double rate ? PerImage.Whole(rate) : "-";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}

/// <summary>Achieved GFLOP/s: FLOPs per image of the network's forward pass or training step × images per second.</summary>
public sealed class GigaflopsColumn : IColumn
{
    public string Id => nameof(GigaflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 2;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "FLOPs per image (multiply-adds × 2 of the convolutions and dense layers; a training step is 3 × forward − the first layer's forward) × img/s / 1e9; — where the work is not a network's";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => PerImage.FormatGigaflops(summary, benchmarkCase);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}

/// <summary>Achieved GFLOP/s over the FMA peak measured in this run (<see cref="FmaPeak"/>) × the benchmark's threads.</summary>
/// <param name="peak">The peak measured before the benchmarks.</param>
public sealed class ShareOfPeakColumn(FmaPeak peak) : IColumn
{
    public string Id => nameof(ShareOfPeakColumn);

    public string ColumnName => "Share of peak";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 3;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "GFLOP/s / (single-thread FMA peak measured in this run × threads of the benchmark): " + peak;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => PerImage.FormatShareOfPeak(summary, benchmarkCase, peak);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}

/// <summary>How many times faster than the baseline of the same category, from median times.</summary>
public sealed class SpeedupColumn : IColumn
{
    public string Id => nameof(SpeedupColumn);

    public string ColumnName => "Speedup";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Median time of the baseline of the same category (straightforward LeNet-5, or ONNX Runtime for vgg-cifar) divided by this median time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Descriptor.Baseline)
        {
            return "1.00x";
        }

        return PerImage.Speedup(summary, benchmarkCase) is double speedup
            ? speedup.ToString("0.00", CultureInfo.InvariantCulture) + "x"
            : "-";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public override string ToString() => ColumnName;
}
