using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LeNet.Gen.Benchmarks.Reporting;

/// <summary>The post-run summary: one line per benchmark, per image, each next to the baseline of its category.</summary>
public static class ResultsTable
{
    /// <summary>Builds the table as Markdown, prints it and saves it next to BenchmarkDotNet's own reports.</summary>
    /// <param name="summaries">The suite's summaries.</param>
    /// <param name="peak">The FMA peak measured in this run, printed above the table and the reference of "share of peak".</param>
    public static void Print(IEnumerable<Summary> summaries, FmaPeak peak)
    {
        ArgumentNullException.ThrowIfNull(peak);
        foreach (Summary summary in summaries)
        {
            if (summary.BenchmarksCases.Length == 0)
            {
                continue;
            }

            string table = Heading(peak) + Environment.NewLine + Build(summary, peak);
            Console.WriteLine();
            Console.Write(table);
            string path = Path.Combine(summary.ResultsDirectoryPath, "per-image-summary.md");
            Directory.CreateDirectory(summary.ResultsDirectoryPath);
            File.WriteAllText(path, table);
            Console.WriteLine();
            Console.WriteLine($"Saved to {path}");
        }
    }

    // The measured peak and what the columns mean, above the table (and saved with it).
    private static string Heading(FmaPeak peak) =>
        $"""
        FMA peak measured in this run: {peak}

        Per image (median time; img/s = 1e9 / median ns; GFLOP/s = FLOPs per image × img/s, where FLOPs are the
        multiply-adds × 2 of the convolutions and dense layers, and a training step is 3 × forward − the first layer's
        forward; share of peak = GFLOP/s / (the peak above × the row's threads), — where the work is not a network's;
        speedup = the category's baseline median / this median):

        """;

    private static string Build(Summary summary, FmaPeak peak)
    {
        var text = new StringBuilder();
        text.AppendLine("| Category | Network | Median ns/img | Mean ns/img | Min ns/img | img/s | GFLOP/s | Share of peak | Speedup | Allocated B/img |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        IEnumerable<BenchmarkCase> ordered = summary.BenchmarksCases
            .OrderBy(c => CategoryOrder(PerImage.Category(c)))
            .ThenBy(c => c.Descriptor.Baseline ? 0 : 1);
        foreach (BenchmarkCase benchmarkCase in ordered)
        {
            bool baseline = benchmarkCase.Descriptor.Baseline;
            string speedup = baseline
                ? "1.00x"
                : PerImage.Speedup(summary, benchmarkCase) is double s ? s.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";
            text.Append("| ").Append(PerImage.Category(benchmarkCase))
                .Append(" | ").Append(Network(benchmarkCase))
                .Append(" | ").Append(Format(PerImage.MedianNanoseconds(summary, benchmarkCase)))
                .Append(" | ").Append(Format(PerImage.MeanNanoseconds(summary, benchmarkCase)))
                .Append(" | ").Append(Format(PerImage.MinNanoseconds(summary, benchmarkCase)))
                .Append(" | ").Append(Format(PerImage.ImagesPerSecond(summary, benchmarkCase)))
                .Append(" | ").Append(PerImage.FormatGigaflops(summary, benchmarkCase))
                .Append(" | ").Append(PerImage.FormatShareOfPeak(summary, benchmarkCase, peak))
                .Append(" | ").Append(speedup)
                .Append(" | ").Append(PerImage.AllocatedBytes(summary, benchmarkCase) is long bytes ? bytes.ToString(CultureInfo.InvariantCulture) : "-")
                .AppendLine(" |");
        }

        return text.ToString();
    }

    // Who ran the benchmark, from the method's name.
    private static string Network(BenchmarkCase benchmarkCase)
    {
        string name = benchmarkCase.Descriptor.WorkloadMethod.Name;
        return name.EndsWith("OnnxRuntime", StringComparison.Ordinal) ? "ONNX Runtime"
            : name.EndsWith("Straightforward", StringComparison.Ordinal) ? "straightforward"
            : name.EndsWith("Batched", StringComparison.Ordinal) ? "generated, batched Predict"
            : name.EndsWith("WithoutNorm", StringComparison.Ordinal) ? "generated, without batch norm"
            : name.EndsWith("WithNorm", StringComparison.Ordinal) ? "generated, with batch norm"
            : name.EndsWith("Arithmetic", StringComparison.Ordinal) ? "batch-norm arithmetic, plain C#"
            : "generated";
    }

    private static int CategoryOrder(string category)
    {
        string[] order =
        [
            LeNet5Benchmarks.PredictOneCategory,
            LeNet5Benchmarks.Inference1Category,
            LeNet5Benchmarks.Inference2Category,
            LeNet5Benchmarks.Train32Threads1Category,
            LeNet5Benchmarks.Train32Threads2Category,
            LeNet5Benchmarks.Train1Category,
            VggCifarBenchmarks.PredictOneCategory,
            VggCifarBenchmarks.Inference1Category,
            VggCifarBenchmarks.Inference2Category,
            VggCifarBenchmarks.Train32Threads1Category,
            VggCifarBenchmarks.Train32Threads2Category,
            BatchNormBenchmarks.Train32Threads1Category,
            BatchNormBenchmarks.Train32Threads2Category,
            BatchNormBenchmarks.ArithmeticCategory,
        ];
        int index = Array.IndexOf(order, category);
        return index < 0 ? order.Length : index;
    }

    private static string Format(double? value) => value is double v ? PerImage.Whole(v) : "-";
}
