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
/// error or gets an error that names the problem (an LNG error, or the C# compiler's own for malformed C#), and an
/// invalid spec generates nothing. Specs are random layer sequences with values that include 0, negatives and
/// <c>int.MaxValue</c>; about a third are also malformed on purpose (missing, extra, mistyped, non-constant or default
/// arguments, duplicated [Network], structs, records, interfaces, static, nested and generic types, partial
/// declarations spread over files). They go through the real compiler pipeline in batches, one namespace per spec.
/// </summary>
public class RandomSpecTests(ITestOutputHelper output)
{
    private const int SpecCount = 10_000;
    private const int BatchSize = 100;

    [Fact]
    public void Every_random_spec_compiles_cleanly_or_gets_an_LNG_error()
    {
        var random = new Random(20261125);
        int valid = 0, rejected = 0, malformed = 0;
        var seenRules = new SortedSet<string>();
        for (int batch = 0; batch < SpecCount / BatchSize; batch++)
        {
            var cases = Enumerable.Range(0, BatchSize).Select(i => RandomCase(random, (batch * BatchSize) + i)).ToArray();
            var (diagnostics, exceptions, generated) = Compile(cases.SelectMany(c => c.Files).ToArray());

            Assert.Empty(exceptions);
            Assert.DoesNotContain(diagnostics, d => d.Id is "CS8785" or "AD0001");
            foreach (var @case in cases)
            {
                string prefix = $"S{@case.Id}.";
                bool Mine(string path) => path.StartsWith($"/src/S{@case.Id}.", StringComparison.Ordinal) || System.IO.Path.GetFileName(path).StartsWith(prefix, StringComparison.Ordinal);
                var own = diagnostics.Where(d => d.Location.SourceTree is { } tree && Mine(tree.FilePath)).ToArray();
                var errors = own.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
                string text = string.Join("\n", @case.Files.Select(f => f.Text));
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
                if (@case.Malformed)
                {
                    malformed++;
                }

                Assert.True(
                    errors.Any(e => e.Id.StartsWith("LNG", StringComparison.Ordinal) || (e.Id.StartsWith("CS", StringComparison.Ordinal) && e.Location.SourceTree!.FilePath.StartsWith("/src/", StringComparison.Ordinal))),
                    "A spec failed to compile without an error that names the problem:\n" + text + "\n" + string.Join("\n", errors.Select(e => e.ToString())));
                Assert.False(
                    generated.Any(g => g.StartsWith(prefix, StringComparison.Ordinal)),
                    "An invalid spec generated code:\n" + text + "\n" + string.Join("\n", errors.Select(e => e.ToString())));
                Assert.DoesNotContain(errors, e => !e.Location.SourceTree!.FilePath.StartsWith("/src/", StringComparison.Ordinal));
            }
        }

        output.WriteLine($"{SpecCount} specs: {valid} compiled cleanly, {rejected} rejected ({malformed} of them malformed on purpose); LNG rules seen: {string.Join(", ", seenRules)}");
        Assert.True(valid > SpecCount / 10, $"only {valid} valid specs: the generator is not exercised enough");
        Assert.True(rejected > SpecCount / 10, $"only {rejected} invalid specs: the diagnostics are not exercised enough");
    }

    private static (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<Exception> Exceptions, IReadOnlyList<string> Generated) Compile(IReadOnlyList<SourceFile> sources)
    {
        var compilation = TestCompiler.CreateCompilation(sources);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: TestCompiler.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);
        var exceptions = driver.GetRunResult().Results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();
        var hints = driver.GetRunResult().Results.SelectMany(r => r.GeneratedSources).Select(g => g.HintName).ToList();
        var analyzerOptions = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(System.Collections.Immutable.ImmutableArray<AdditionalText>.Empty), onAnalyzerException: (e, _, _) => exceptions.Add(e),
            concurrentAnalysis: false, logAnalyzerExecutionTime: false);
        var diagnostics = generated
            .WithAnalyzers(System.Collections.Immutable.ImmutableArray.Create<DiagnosticAnalyzer>(new LeNet.Gen.Generator.Diagnostics.NetworkAnalyzer()), analyzerOptions)
            .GetAllDiagnosticsAsync().GetAwaiter().GetResult()
            .AddRange(generatorDiagnostics);
        return (diagnostics, exceptions, hints);
    }

    private sealed record Case(int Id, bool Malformed, IReadOnlyList<SourceFile> Files);

    private static Case RandomCase(Random random, int id)
    {
        var attributes = new List<string>();
        var rounding = random.Next(4) switch
        {
            0 => ", Rounding = ShapeRounding.Floor",
            1 => ", Rounding = ShapeRounding.Ceiling",
            2 => ", Rounding = ShapeRounding.Exact",
            _ => string.Empty,
        };
        attributes.Add($"Network({Value(random, 1, 3)}, {Value(random, 4, 32)}, {Value(random, 4, 32)}{rounding})");

        // Mostly the usual order (convolutions and pools, then dense layers), sometimes any order at all.
        int layers = random.Next(0, 8);
        int spatial = random.Next(0, layers + 1);
        bool anyOrder = random.Next(8) == 0;
        for (int i = 0; i < layers; i++)
        {
            int kind = anyOrder ? random.Next(3) : i < spatial ? random.Next(2) : 2;
            attributes.Add(RandomLayer(random, kind, last: i == layers - 1));

            // Now and then a batch norm, dropout or global pooling after it (or first, or twice in a row, or a global pool
            // after a dense layer), with edge values too.
            if (random.Next(4) == 0)
            {
                attributes.Insert(random.Next(8) == 0 ? random.Next(1, attributes.Count + 1) : attributes.Count, RandomNewLayer(random, spatial: i < spatial));
            }
        }

        string declaration = "public partial class Net";
        string body = "{ static int field = 3; public static int Field => field; }";
        string? secondFile = null;
        bool malformed = random.Next(3) == 0;
        if (malformed)
        {
            int at = random.Next(attributes.Count);
            switch (random.Next(12))
            {
                case 0: // missing arguments
                    attributes[at] = random.Next(5) switch { 0 => "Conv(6)", 1 => "Pool(PoolKind.Max)", 2 => "Dense()", 3 => "Dropout()", _ => "Network(1, 32)" };
                    break;
                case 1: // extra arguments
                    attributes[at] = random.Next(5) switch { 0 => "Conv(6, 5, 1)", 1 => "Dense(10, 3)", 2 => "GlobalAveragePool(2)", 3 => "BatchNorm(1e-5)", _ => "Network(1, 2, 3, 4)" };
                    break;
                case 2: // wrong types
                    attributes[at] = random.Next(7) switch
                    {
                        5 => "Dropout(\"0.5\")",
                        6 => "BatchNorm(Momentum = Activation.ReLU)",
                        0 => "Conv(\"6\", 5)",
                        1 => "Dense(1.5)",
                        2 => "Pool(2, PoolKind.Max)",
                        3 => "Network(1, 32, 32, Rounding = 1)",
                        _ => "Conv(6, 5, Activation = PoolKind.Max)",
                    };
                    break;
                case 3: // not a constant
                    attributes[at] = random.Next(2) == 0 ? "Dense(field)" : "Conv(Field, 5)";
                    break;
                case 4: // default values
                    attributes[at] = random.Next(3) switch { 0 => "Conv(default, default)", 1 => "Dense(default, Activation = default)", _ => "Network(default, default, default)" };
                    break;
                case 5: // [Network] twice
                    attributes.Insert(random.Next(attributes.Count + 1), "Network(1, 8, 8)");
                    break;
                case 6: // [Network] again on a second partial declaration
                    secondFile = "[Network(1, 4, 4)]\npublic partial class Net { }";
                    break;
                case 7: // the layers after the first on another partial declaration
                    if (attributes.Count > 2)
                    {
                        int split = random.Next(2, attributes.Count);
                        secondFile = string.Concat(attributes.Skip(split).Select(a => "[" + a + "]\n")) + "public partial class Net { }";
                        attributes.RemoveRange(split, attributes.Count - split);
                    }

                    break;
                case 8: // kinds of type that cannot hold a network, or need care
                    declaration = random.Next(7) switch
                    {
                        0 => "public partial struct Net",
                        1 => "public partial record Net",
                        2 => "public partial interface Net",
                        3 => "public static partial class Net",
                        4 => "public partial record struct Net",
                        5 => "public partial class Net<T> where T : struct",
                        _ => "public class Net",
                    };
                    body = declaration.Contains("interface", StringComparison.Ordinal) ? "{ }" : body;
                    break;
                case 9: // nested, in a partial or a non-partial type
                    return Nested(random, id, attributes);
                case 10: // an innocent second partial declaration
                    secondFile = "public partial class Net { public int Extra => InputLength; }";
                    malformed = false;
                    break;
                default: // a stray argument name
                    attributes[at] = "Conv(6, 5, Strde = 2)";
                    break;
            }
        }

        var files = new List<SourceFile> { new($"/src/S{id}.a.cs", Header(id) + string.Concat(attributes.Select(a => "[" + a + "]\n")) + declaration + "\n" + body + "\n") };
        if (secondFile is not null)
        {
            files.Add(new SourceFile($"/src/S{id}.b.cs", Header(id) + secondFile + "\n"));
        }

        return new Case(id, malformed, files);
    }

    private static Case Nested(Random random, int id, List<string> attributes)
    {
        string outer = random.Next(2) == 0 ? "public partial class Outer<TOuter>" : "public class Outer";
        string text = Header(id) + outer + "\n{\n" + string.Concat(attributes.Select(a => "    [" + a + "]\n")) + "    public partial class Net { }\n}\n";
        return new Case(id, true, new[] { new SourceFile($"/src/S{id}.a.cs", text) });
    }

    private static string Header(int id) => $"using LeNet.Gen;\nnamespace S{id};\n";

    private static string RandomLayer(Random random, int kind, bool last) => kind switch
    {
        0 => $"Conv({Value(random, 1, 8)}, {Value(random, 1, 5)}{Named(random, "Stride", 1, 3)}{Named(random, "Padding", 0, 2)}{ActivationArgument(random, last)})",
        1 => $"Pool({PoolKindArgument(random)}, {Value(random, 1, 3)}{Named(random, "Stride", 1, 3)})",
        _ => $"Dense({Value(random, 1, 40)}{ActivationArgument(random, last)}{Named(random, "Inputs", 1, 400, probability: 0.1)})",
    };

    private static string RandomNewLayer(Random random, bool spatial) => random.Next(spatial ? 3 : 5) switch
    {
        0 => $"BatchNorm({string.Join(", ", new[] { DoubleNamed(random, "Epsilon", "1e-3"), DoubleNamed(random, "Momentum", "0.2") }.Where(a => a.Length > 0))})",
        1 or 3 => $"Dropout({DoubleValue(random, "0.5")})",
        _ => "GlobalAveragePool",
    };

    /// <summary>Mostly a usual value, sometimes an edge case: 0, 1, negative, above 1, NaN, infinity.</summary>
    private static string DoubleValue(Random random, string usual) => random.Next(20) switch
    {
        0 => "0",
        1 => "1",
        2 => "-0.25",
        3 => "1.5",
        4 => "double.NaN",
        5 => "double.PositiveInfinity",
        6 => "0.999",
        _ => usual,
    };

    private static string DoubleNamed(Random random, string name, string usual) =>
        random.Next(3) == 0 ? $"{name} = {DoubleValue(random, usual)}" : string.Empty;

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
