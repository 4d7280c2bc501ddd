using System.Globalization;
using System.Linq;
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
