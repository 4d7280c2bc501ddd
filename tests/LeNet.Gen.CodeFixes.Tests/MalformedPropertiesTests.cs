using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace LeNet.Gen.CodeFixes.Tests;

/// <summary>
/// The provider trusts nothing in a diagnostic's properties: a diagnostic from another analyzer version, or edited by a
/// tool, with missing or malformed entries gets no action for those entries, and never an exception.
/// </summary>
public class MalformedPropertiesTests
{
    private static readonly DiagnosticDescriptor Lng0001 = new LeNet.Gen.Generator.Diagnostics.NetworkAnalyzer().SupportedDiagnostics.Single(d => d.Id == "LNG0001");

    private const string Conv = "LeNet.Gen.Conv(6, 5, Stride = 2)";

    public static TheoryData<Dictionary<string, string?>> Malformed => new()
    {
        new() { ["LeNet.Gen.Fix.Count"] = "abc" },
        new() { ["LeNet.Gen.Fix.Count"] = "1" },
        new() { ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "t", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "5|SetArgument|Stride|1" },
        new() { ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "t", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "0|Rename|Stride|1" },
        new() { ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "t", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "0|SetArgument|Stride" },
        new() { ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "t", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "-1|SetArgument|Stride|1" },
        new() { ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "0|SetArgument|Stride|1" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_fix_properties_give_no_action(Dictionary<string, string?> properties)
    {
        const string source = "[LeNet.Gen.Network(1, 28, 28)]\n[LeNet.Gen.Conv(6, 5, Stride = 2)]\n[LeNet.Gen.Dense(10)]\npublic partial class Net { }\n";
        using var workspace = new AdhocWorkspace();
        var document = workspace.AddProject("Net", LanguageNames.CSharp).WithMetadataReferences(FixTest.References).AddDocument("Net.cs", SourceText.From(source));
        var tree = (await document.GetSyntaxTreeAsync())!;
        var attribute = Location.Create(tree, new TextSpan(source.IndexOf(Conv, System.StringComparison.Ordinal), Conv.Length));
        var diagnostic = Diagnostic.Create(Lng0001, attribute, new[] { attribute }, properties.ToImmutableDictionary(), "conv1", "(28 − 5 + 2·0) / 2 + 1 = 12.5", "…");

        var actions = new List<CodeAction>();
        await new LeNetCodeFixProvider().RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));

        Assert.Empty(actions);
    }

    [Fact]
    public async Task Well_formed_properties_give_the_action_they_describe()
    {
        // The same diagnostic with a valid entry: the control for the theory above.
        const string source = "[LeNet.Gen.Network(1, 28, 28)]\n[LeNet.Gen.Conv(6, 5, Stride = 2)]\n[LeNet.Gen.Dense(10)]\npublic partial class Net { }\n";
        using var workspace = new AdhocWorkspace();
        var document = workspace.AddProject("Net", LanguageNames.CSharp).WithMetadataReferences(FixTest.References).AddDocument("Net.cs", SourceText.From(source));
        var tree = (await document.GetSyntaxTreeAsync())!;
        var attribute = Location.Create(tree, new TextSpan(source.IndexOf(Conv, System.StringComparison.Ordinal), Conv.Length));
        var properties = new Dictionary<string, string?>
        {
            ["LeNet.Gen.Fix.Count"] = "1", ["LeNet.Gen.Fix0.Title"] = "Set Stride = 1", ["LeNet.Gen.Fix0.EquivalenceKey"] = "k", ["LeNet.Gen.Fix0.Edits"] = "0|SetArgument|Stride|1",
        };
        var diagnostic = Diagnostic.Create(Lng0001, attribute, new[] { attribute }, properties.ToImmutableDictionary(), "conv1", "(28 − 5 + 2·0) / 2 + 1 = 12.5", "…");

        var actions = new List<CodeAction>();
        await new LeNetCodeFixProvider().RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));

        var action = Assert.Single(actions);
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var changed = ((ApplyChangesOperation)Assert.Single(operations)).ChangedSolution.GetDocument(document.Id)!;
        Assert.Equal(source.Replace("Stride = 2", "Stride = 1", System.StringComparison.Ordinal), (await changed.GetTextAsync()).ToString());
    }
}
