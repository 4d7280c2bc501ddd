using System;
using System.IO;
using System.Linq;
using System.Reflection;
using LeNet.Gen.Generator;
using LeNet.Gen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace LeNet.Gen.Roslyn48.Tests;

/// <summary>LeNet-5 through Roslyn 4.8.0 (the .NET 8 SDK's compiler): generate, analyze, compile, load and run.</summary>
public class OldestCompilerTests
{
    internal const string Source = """
        using LeNet.Gen;
        namespace Demo;
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
    public void Roslyn_is_4_8()
    {
        Assert.Equal(new Version(4, 8, 0, 0), typeof(CSharpCompilation).Assembly.GetName().Version);
    }

    [Fact]
    public async System.Threading.Tasks.Task LeNet5_generates_compiles_and_trains_with_the_oldest_supported_compiler()
    {
        var compilation = Compile(Source);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new NetworkGenerator());
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzed = await output.WithAnalyzers(System.Collections.Immutable.ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer()))
            .GetAllDiagnosticsAsync();

        Assert.Empty(generatorDiagnostics);
        Assert.Empty(analyzed.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        using var image = new MemoryStream();
        var emit = output.Emit(image);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));

        var assembly = Assembly.Load(image.ToArray());
        var network = (ITrainableNetwork)Activator.CreateInstance(assembly.GetType("Demo.LeNet5")!, 1)!;
        var input = new float[1024];
        input[500] = 1f;
        float first = network.Train(input, 3, 0.1f);
        for (int step = 0; step < 20; step++)
        {
            network.Train(input, 3, 0.1f);
        }

        Assert.True(network.Loss(input, 3) < first / 2, "training did not lower the loss");
        Assert.Equal(3, network.Predict(input));
    }

    [Fact]
    public async System.Threading.Tasks.Task Shape_errors_are_reported_by_the_oldest_supported_compiler()
    {
        var compilation = Compile(Source.Replace("[Conv(16, 5, Activation = Activation.ReLU)]", "[Conv(16, 5, Stride = 2)]", StringComparison.Ordinal));
        var diagnostics = await compilation.WithAnalyzers(System.Collections.Immutable.ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();

        var error = Assert.Single(diagnostics);
        Assert.Equal("LNG0001", error.Id);
        Assert.Equal(6, error.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    /// <summary>The running .NET's own assemblies stand in for reference assemblies: enough to compile and load the result.</summary>
    internal static MetadataReference[] References() => ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
        .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
        .Select(p => MetadataReference.CreateFromFile(p))
        .Append(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location))
        .ToArray<MetadataReference>();

    private static CSharpCompilation Compile(string source)
    {
        return CSharpCompilation.Create(
            "Roslyn48Consumer",
            new[] { CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.CSharp12)) },
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, optimizationLevel: OptimizationLevel.Release));
    }
}
