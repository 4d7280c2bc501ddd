using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LeNet.Gen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LeNet.Gen.Generator.Tests.Infrastructure;

/// <summary>A source file given to the test compiler.</summary>
public sealed record SourceFile(string Path, string Text);

/// <summary>
/// What compiling a program with the LeNet.Gen generator and analyzer produced: every diagnostic after <c>#pragma</c> and
/// <c>.editorconfig</c> filtering (compiler and analyzer alike), the generated sources and the output compilation.
/// </summary>
public sealed record CompileResult(
    ImmutableArray<Diagnostic> Diagnostics,
    ImmutableArray<GeneratedSourceResult> Generated,
    ImmutableArray<Exception> GeneratorExceptions,
    Compilation Output)
{
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);

    public IEnumerable<Diagnostic> Lng => Diagnostics.Where(d => d.Id.StartsWith("LNG", StringComparison.Ordinal));

    public string GeneratedText(string hintName) => Generated.Single(g => g.HintName == hintName).SourceText.ToString();

    public string Describe() => string.Join(Environment.NewLine, Diagnostics.Select(d => d.ToString()));
}

/// <summary>
/// Compiles C# sources against .NET 10 and the LeNet.Gen library the way the real compiler does: generator first, then
/// the compiler's own diagnostics and the analyzers on the result.
/// </summary>
public static class TestCompiler
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly ImmutableArray<MetadataReference> References =
        Basic.Reference.Assemblies.Net100.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(LeNet.Gen.NetworkAttribute).Assembly.Location))
            .ToImmutableArray();

    public static CompileResult Run(string source) => Run(new[] { new SourceFile("/src/Network.cs", source) });

    public static CompileResult Run(IReadOnlyList<SourceFile> sources, string? editorConfig = null)
    {
        var compilation = CreateCompilation(sources, editorConfig);
        CachingCheck.AssertCachedAfterUnrelatedEdit(compilation);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() }, parseOptions: ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var run = driver.GetRunResult();

        var withAnalyzers = output.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer()));
        var diagnostics = withAnalyzers.GetAllDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult()
            .AddRange(generatorDiagnostics)
            .Where(d => d.Severity != DiagnosticSeverity.Hidden || d.Id.StartsWith("LNG", StringComparison.Ordinal))
            .OrderBy(d => d.Location.SourceTree?.FilePath).ThenBy(d => d.Location.SourceSpan.Start).ThenBy(d => d.Id)
            .ToImmutableArray();
        return new CompileResult(
            diagnostics,
            run.Results.SelectMany(r => r.GeneratedSources).ToImmutableArray(),
            run.Results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToImmutableArray(),
            output);
    }

    public static CSharpCompilation CreateCompilation(IReadOnlyList<SourceFile> sources, string? editorConfig = null)
    {
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, ParseOptions, s.Path)).ToArray();
        // CS1701/CS1702 (assembly version unification) are silenced by the .NET SDK in every real build; do the same here.
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress });
        if (editorConfig is not null)
        {
            options = options.WithSyntaxTreeOptionsProvider(new EditorConfigOptions(editorConfig, trees));
        }

        return CSharpCompilation.Create("TestAssembly", trees, References, options);
    }

    /// <summary>Applies the rule severities of one <c>.editorconfig</c> at <c>/src/.editorconfig</c> to every tree, as the compiler does.</summary>
    private sealed class EditorConfigOptions : SyntaxTreeOptionsProvider
    {
        private readonly Dictionary<SyntaxTree, ImmutableDictionary<string, ReportDiagnostic>> _severities = new();

        public EditorConfigOptions(string text, IEnumerable<SyntaxTree> trees)
        {
            var set = AnalyzerConfigSet.Create(new[] { AnalyzerConfig.Parse(text, "/src/.editorconfig") });
            foreach (var tree in trees)
            {
                _severities[tree] = set.GetOptionsForSourcePath(tree.FilePath).TreeOptions;
            }
        }

        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        {
            severity = default;
            return _severities.TryGetValue(tree, out var map) && map.TryGetValue(diagnosticId, out severity);
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity)
        {
            severity = default;
            return false;
        }
    }
}
