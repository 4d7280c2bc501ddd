using System;
using System.Linq;
using LeNet.Gen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace LeNet.Gen.Generator.Tests.Generation;

/// <summary>
/// What the generator costs in the IDE: its own time for LeNet-5 (reported, not asserted: timings belong in
/// benchmarks), and that huge specs are turned down before any code is written.
/// </summary>
public class GeneratorCostTests(ITestOutputHelper output)
{
    private const string LeNet5 = """
        using LeNet.Gen;
        [Network(1, 32, 32)]
        [Conv(6, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Conv(16, 5, Activation = Activation.ReLU)]
        [Pool(PoolKind.Average, 2, Stride = 2)]
        [Dense(120, Activation = Activation.ReLU)]
        [Dense(84, Activation = Activation.ReLU)]
        [Dense(10, Activation = Activation.Softmax)]
        public partial class LeNet5 { }
        """;

    [Fact]
    public void Generator_time_for_LeNet5_is_reported()
    {
        var compilation = TestCompiler.CreateCompilation(new[] { new SourceFile("/src/LeNet5.cs", LeNet5) });
        var times = new double[21];
        int lines = 0;
        for (int run = 0; run < times.Length; run++)
        {
            GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: TestCompiler.ParseOptions);
            driver = driver.RunGenerators(compilation);
            times[run] = driver.GetTimingInfo().ElapsedTime.TotalMilliseconds;
            var source = Assert.Single(driver.GetRunResult().GeneratedTrees);
            lines = source.GetText().Lines.Count;
        }

        Array.Sort(times);
        output.WriteLine($"LeNet-5: {lines} generated lines; generator time median {times[times.Length / 2]:F2} ms, first run {times[^1]:F2} ms (a cold run includes JIT compilation of the generator)");
        Assert.True(lines > 100);
    }

    [Theory]
    [InlineData("[Network(3, 4096, 4096)] [Dense(10, Activation = Activation.Softmax)]")]
    [InlineData("[Network(1, 32, 32)] [Dense(100000)] [Dense(100000)] [Dense(10, Activation = Activation.Softmax)]")]
    [InlineData("[Network(1, 4000, 4000)] [Conv(64, 3)] [Dense(10, Activation = Activation.Softmax)]")]
    public void Huge_specs_are_rejected_before_any_code_is_emitted(string attributes)
    {
        var result = TestCompiler.Run("using LeNet.Gen;\n" + attributes + "\npublic partial class Huge { }");

        Assert.Contains(result.Errors, e => e.Id == "LNG0004");
        Assert.Empty(result.Generated);
    }
}
