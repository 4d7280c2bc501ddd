using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Generator.Tests.Properties;

/// <summary>
/// Property: for any spec at all, the generator and the analyzer never throw, and the program either compiles with no
/// error or gets at least one LNG error. Specs are random layer sequences with values that include 0, negatives and
/// <c>int.MaxValue</c>, fed through the real compiler pipeline in batches (one namespace and file per spec).
/// </summary>
public class RandomSpecTests(ITestOutputHelper output)
{
    private const int SpecCount = 10_000;
    private const int BatchSize = 100;

    [Fact]
    public void Every_random_spec_compiles_cleanly_or_gets_an_LNG_error()
    {
        var random = new Random(20261125);
        int valid = 0, rejected = 0;
        var seenRules = new SortedSet<string>();
        for (int batch = 0; batch < SpecCount / BatchSize; batch++)
        {
            var sources = Enumerable.Range(0, BatchSize).Select(i => RandomSpec(random, (batch * BatchSize) + i)).ToArray();
            var (diagnostics, exceptions) = Compile(sources);

            Assert.Empty(exceptions);
            Assert.DoesNotContain(diagnostics, d => d.Id is "CS8785" or "AD0001");
            foreach (var source in sources)
            {
                string prefix = System.IO.Path.GetFileNameWithoutExtension(source.Path);
                var own = diagnostics.Where(d => d.Location.SourceTree is { } tree
                    && (tree.FilePath == source.Path || System.IO.Path.GetFileName(tree.FilePath).StartsWith(prefix + ".", StringComparison.Ordinal))).ToArray();
                var errors = own.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
                foreach (var d in own.Where(d => d.Id.StartsWith("LNG", StringComparison.Ordinal)))
                {
                    seenRules.Add(d.Id);
                }

                if (errors.Length == 0)
                {
                    valid++;
                    continue;
                }

                rejected++;
                Assert.True(
                    errors.Any(e => e.Id.StartsWith("LNG", StringComparison.Ordinal)),
                    "A spec failed to compile without an LNG error:\n" + source.Text + "\n" + string.Join("\n", errors.Select(e => e.ToString())));
            }
        }

        output.WriteLine($"{SpecCount} specs: {valid} compiled cleanly, {rejected} rejected with LNG errors; rules seen: {string.Join(", ", seenRules)}");
        Assert.True(valid > SpecCount / 10, $"only {valid} valid specs: the generator is not exercised enough");
        Assert.True(rejected > SpecCount / 10, $"only {rejected} invalid specs: the diagnostics are not exercised enough");
    }

    private static (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<Exception> Exceptions) Compile(IReadOnlyList<SourceFile> sources)
    {
        var compilation = TestCompiler.CreateCompilation(sources);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: TestCompiler.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);
        var exceptions = driver.GetRunResult().Results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();
        var analyzerOptions = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(System.Collections.Immutable.ImmutableArray<AdditionalText>.Empty), onAnalyzerException: (e, _, _) => exceptions.Add(e),
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var diagnostics = generated
            .WithAnalyzers(System.Collections.Immutable.ImmutableArray.Create<DiagnosticAnalyzer>(new LeNet.Gen.Generator.Diagnostics.NetworkAnalyzer()), analyzerOptions)
            .GetAllDiagnosticsAsync().GetAwaiter().GetResult()
            .AddRange(generatorDiagnostics);
        return (diagnostics, exceptions);
    }

    private static SourceFile RandomSpec(Random random, int id)
    {
        var text = new StringBuilder();
        text.Append("using LeNet.Gen;\nnamespace S").Append(id).Append(";\n");
        var rounding = random.Next(4) switch
        {
            0 => ", Rounding = ShapeRounding.Floor",
            1 => ", Rounding = ShapeRounding.Ceiling",
            2 => ", Rounding = ShapeRounding.Exact",
            _ => string.Empty,
        };
        text.Append(CultureInfo.InvariantCulture, $"[Network({Value(random, 1, 3)}, {Value(random, 4, 32)}, {Value(random, 4, 32)}{rounding})]\n");
        // Mostly the usual order (convolutions and pools, then dense layers), sometimes any order at all.
        int layers = random.Next(0, 8);
        int spatial = random.Next(0, layers + 1);
        bool anyOrder = random.Next(8) == 0;
        for (int i = 0; i < layers; i++)
        {
            int kind = anyOrder ? random.Next(3) : i < spatial ? random.Next(2) : 2;
            text.Append('[').Append(RandomLayer(random, kind, last: i == layers - 1)).Append("]\n");
        }

        text.Append("public partial class Net { }\n");
        return new SourceFile($"/src/S{id}.cs", text.ToString());
    }

    private static string RandomLayer(Random random, int kind, bool last) => kind switch
    {
        0 => $"Conv({Value(random, 1, 8)}, {Value(random, 1, 5)}{Named(random, "Stride", 1, 3)}{Named(random, "Padding", 0, 2)}{ActivationArgument(random, last)})",
        1 => $"Pool({PoolKindArgument(random)}, {Value(random, 1, 3)}{Named(random, "Stride", 1, 3)})",
        _ => $"Dense({Value(random, 1, 40)}{ActivationArgument(random, last)}{Named(random, "Inputs", 1, 400, probability: 0.1)})",
    };

    /// <summary>Mostly a small valid value, sometimes an edge case.</summary>
    private static string Value(Random random, int min, int max) => random.Next(80) switch
    {
        0 => "0",
        1 => "-" + random.Next(1, 10).ToString(CultureInfo.InvariantCulture),
        2 => "int.MaxValue",
        3 => random.Next(1000, 100_000).ToString(CultureInfo.InvariantCulture),
        4 => "int.MinValue",
        _ => random.Next(min, max + 1).ToString(CultureInfo.InvariantCulture),
    };

    private static string Named(Random random, string name, int min, int max, double probability = 0.4) =>
        random.NextDouble() < probability ? $", {name} = {Value(random, min, max)}" : string.Empty;

    private static string ActivationArgument(Random random, bool last)
    {
        int roll = random.Next(40);
        if (roll < 12)
        {
            return string.Empty;
        }

        if (roll == 3)
        {
            return ", Activation = (Activation)" + random.Next(5, 100).ToString(CultureInfo.InvariantCulture);
        }

        string[] names = { "None", "ReLU", "Tanh", "Sigmoid", "Softmax" };
        string name = last && random.Next(2) == 0 ? "Softmax" : names[random.Next(random.Next(10) == 0 ? names.Length : names.Length - 1)];
        return ", Activation = Activation." + name;
    }

    private static string PoolKindArgument(Random random) => random.Next(40) switch
    {
        0 => "(PoolKind)" + random.Next(2, 50).ToString(CultureInfo.InvariantCulture),
        < 20 => "PoolKind.Max",
        _ => "PoolKind.Average",
    };
}
