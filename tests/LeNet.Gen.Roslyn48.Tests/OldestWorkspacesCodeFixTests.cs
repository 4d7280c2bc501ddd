using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LeNet.Gen.CodeFixes;
using LeNet.Gen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace LeNet.Gen.Roslyn48.Tests;

/// <summary>
/// The code fixes through Workspaces 4.8.0, the oldest the code-fix assembly is built for (the .NET 8 SDK's
/// <c>dotnet format</c> and IDEs of that time): the LNG0001 actions are offered, and applying one, simplifier included,
/// gives the expected source with no LNG diagnostic left.
/// </summary>
public class OldestWorkspacesCodeFixTests
{
    private static readonly string Broken = OldestCompilerTests.Source.Replace(
        "[Conv(16, 5, Activation = Activation.ReLU)]", "[Conv(16, 5, Stride = 2, Activation = Activation.ReLU)]", StringComparison.Ordinal);

    [Fact]
    public void Workspaces_is_4_8()
    {
        Assert.Equal(new Version(4, 8, 0, 0), typeof(Workspace).Assembly.GetName().Version);
    }

    [Theory]
    [InlineData(0, "Set Stride = 1 (conv2 → 10×10)", "[Conv(16, 5, Stride = 2, Activation = Activation.ReLU)]", "[Conv(16, 5, Stride = 1, Activation = Activation.ReLU)]")]
    [InlineData(3, "Set Rounding = Ceiling on [Network] (conv2 → 6×6)", "[Network(1, 32, 32)]", "[Network(1, 32, 32, Rounding = ShapeRounding.Ceiling)]")]
    public async Task An_LNG0001_fix_applies_with_the_oldest_supported_workspaces(int index, string title, string find, string replace)
    {
        using var workspace = new AdhocWorkspace();
        var document = workspace.AddProject("Consumer", LanguageNames.CSharp)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.CSharp12))
            .WithMetadataReferences(OldestCompilerTests.References())
            .AddDocument("LeNet5.cs", SourceText.From(Broken));

        var diagnostic = Assert.Single(await AnalyzeAsync(document.Project));
        Assert.Equal("LNG0001", diagnostic.Id);
        var actions = new List<CodeAction>();
        await new LeNetCodeFixProvider().RegisterCodeFixesAsync(
            new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        Assert.Equal(4, actions.Count); // smaller and larger stride, floor, ceiling
        Assert.Equal(title, actions[index].Title);

        var operations = await actions[index].GetOperationsAsync(CancellationToken.None);
        var fixedSolution = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        var fixedDocument = fixedSolution.GetDocument(document.Id)!;
        string expected = Broken.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Broken, expected);
        Assert.Equal(expected, (await fixedDocument.GetTextAsync()).ToString());
        Assert.Empty(await AnalyzeAsync(fixedDocument.Project));
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Project project)
    {
        var compilation = (await project.GetCompilationAsync())!;
        return await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer())).GetAnalyzerDiagnosticsAsync();
    }
}
