using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LeNet.Gen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace LeNet.Gen.CodeFixes.Tests;

/// <summary>
/// The harness for one fix: the analyzer finds the diagnostics marked in the source, the chosen action (by its
/// equivalence key) must turn the source into the fixed source, which must then have only the diagnostics marked in it.
/// The harness also applies Fix All in the document, the project and the solution and checks they give the same result.
/// </summary>
public sealed class FixTest : CSharpCodeFixTest<NetworkAnalyzer, LeNetCodeFixProvider, DefaultVerifier>
{
    /// <summary>.NET 10 and the LeNet.Gen library, without downloading reference packs.</summary>
    public static readonly ImmutableArray<MetadataReference> References =
        Basic.Reference.Assemblies.Net100.References.All.Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(NetworkAttribute).Assembly.Location))
            .ToImmutableArray();

    public FixTest()
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(References);
    }

    /// <summary>
    /// Checks the fix with <paramref name="equivalenceKey"/>, whose title must be <paramref name="title"/>.
    /// <paramref name="before"/> and <paramref name="after"/> mark the expected diagnostics (<c>{|LNG0001:…|}</c>).
    /// </summary>
    public static Task VerifyAsync(string before, string after, string equivalenceKey, string title) =>
        VerifyAsync(new[] { before }, new[] { after }, equivalenceKey, title);

    /// <summary>The same for several files: each is its own document, so Fix All's project and solution scopes apply.</summary>
    public static Task VerifyAsync(string[] before, string[] after, string equivalenceKey, string? title)
    {
        var test = new FixTest { CodeActionEquivalenceKey = equivalenceKey };

        // The fixed source marks every diagnostic it must still have, also those this provider could fix (a LNG0201
        // that appears once a class is partial): by default the harness would ignore those marks.
        test.FixedState.MarkupHandling = MarkupMode.Allow;
        for (int i = 0; i < before.Length; i++)
        {
            test.TestState.Sources.Add(($"/0/Net{i}.cs", before[i]));
            test.FixedState.Sources.Add(($"/0/Net{i}.cs", after[i]));
        }

        if (title is not null)
        {
            test.CodeActionVerifier = (action, verifier) => verifier.Equal(title, action.Title);
        }

        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>
    /// The titles of every action offered for the one LeNet.Gen diagnostic with <paramref name="id"/> in
    /// <paramref name="source"/>, in order, as the light bulb lists them.
    /// </summary>
    public static async Task<List<(string Title, string Key)>> ActionsAsync(string source, string id)
    {
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject("Net", LanguageNames.CSharp)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
            .WithParseOptions(new CSharpParseOptions(LanguageVersion.Latest))
            .WithMetadataReferences(References);
        var document = project.AddDocument("Net.cs", SourceText.From(source));
        var compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkAnalyzer())).GetAnalyzerDiagnosticsAsync();
        var diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await new LeNetCodeFixProvider().RegisterCodeFixesAsync(context);
        return actions.Select(a => (a.Title, a.EquivalenceKey ?? "(none)")).ToList();
    }
}
