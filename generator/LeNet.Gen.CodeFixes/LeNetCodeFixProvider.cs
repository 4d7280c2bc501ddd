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
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace LeNet.Gen.CodeFixes;

/// <summary>
/// Offers the fixes that LeNet.Gen's analyzer attaches to its diagnostics: each suggested <c>Stride</c>, <c>Padding</c>
/// or <c>Rounding</c> for LNG0001, the real <c>Inputs</c> for LNG0006, <c>partial</c> for LNG0007 and LNG0013, Softmax on
/// the last layer for LNG0010 and LNG0201. The analyzer works out what to change (it has the shapes); this provider only
/// applies the edits it finds in the diagnostic's properties, so no shape arithmetic lives here.
/// </summary>
// No [Shared]: that attribute would tie this assembly to one version of System.Composition, and hosts differ.
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LeNetCodeFixProvider))]
public sealed class LeNetCodeFixProvider : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create("LNG0001", "LNG0006", "LNG0007", "LNG0010", "LNG0013", "LNG0015", "LNG0201");

    /// <summary>
    /// Fix All in a document, project or solution. Each action's equivalence key names the kind of fix
    /// (<c>LNG0001.SmallerStride</c>), so every diagnostic gets that kind of fix with its own values.
    /// </summary>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var solution = context.Document.Project.Solution;
        foreach (var diagnostic in context.Diagnostics)
        {
            foreach (var fix in FixProperties.Decode(diagnostic.Properties, diagnostic.AdditionalLocations.Count))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(fix.Title, cancellationToken => ApplyAsync(solution, diagnostic, fix, cancellationToken), fix.EquivalenceKey),
                    diagnostic);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Applies every edit of <paramref name="fix"/>; the edits may touch several files (partial declarations).</summary>
    private static async Task<Solution> ApplyAsync(Solution solution, Diagnostic diagnostic, FixData fix, CancellationToken cancellationToken)
    {
        foreach (var byTree in fix.Edits.GroupBy(e => diagnostic.AdditionalLocations[e.Location].SourceTree))
        {
            if (byTree.Key is null || solution.GetDocument(byTree.Key) is not { } document
                || await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false) is not { } root)
            {
                continue;
            }

            var edits = new Dictionary<SyntaxNode, List<FixEditData>>();
            var removals = new List<SyntaxNode>();
            foreach (var edit in byTree)
            {
                var span = diagnostic.AdditionalLocations[edit.Location].SourceSpan;
                if (edit.Kind == FixEditKind.RemoveAttribute)
                {
                    // The attribute goes, with its brackets when it is alone in them ([BatchNorm] on its own line).
                    if (root.FindNode(span).FirstAncestorOrSelf<AttributeSyntax>() is { } removed)
                    {
                        removals.Add(removed.Parent is AttributeListSyntax { Attributes.Count: 1 } brackets ? brackets : removed);
                    }

                    continue;
                }

                SyntaxNode? node = edit.Kind == FixEditKind.AddPartial
                    ? root.FindToken(span.Start).Parent?.FirstAncestorOrSelf<TypeDeclarationSyntax>()
                    : root.FindNode(span).FirstAncestorOrSelf<AttributeSyntax>();
                if (node is null)
                {
                    continue;
                }

                if (!edits.TryGetValue(node, out var list))
                {
                    edits[node] = list = new List<FixEditData>();
                }

                list.Add(edit);
            }

            var tracked = root.TrackNodes(edits.Keys.Concat(removals));
            var newRoot = tracked.ReplaceNodes(edits.Keys.Select(n => tracked.GetCurrentNode(n)!), (original, rewritten) =>
                edits[edits.Keys.First(k => tracked.GetCurrentNode(k) == original)].Aggregate(rewritten, Apply));
            if (removals.Count > 0)
            {
                newRoot = newRoot.RemoveNodes(removals.Select(n => newRoot.GetCurrentNode(n)!), SyntaxRemoveOptions.KeepNoTrivia)!;
            }

            solution = solution.WithDocumentSyntaxRoot(document.Id, newRoot);
        }

        return solution;
    }

    private static SyntaxNode Apply(SyntaxNode node, FixEditData edit) => (node, edit.Kind) switch
    {
        (AttributeSyntax attribute, FixEditKind.SetArgument) => SetArgument(attribute, edit.Name, edit.Value),
        (AttributeSyntax attribute, FixEditKind.RemoveArgument) => RemoveArgument(attribute, edit.Name),
        (TypeDeclarationSyntax declaration, FixEditKind.AddPartial) => AddPartial(declaration),
        _ => node,
    };

    /// <summary><c>Name = value</c>: replaces the value if the argument is written, else appends the argument.</summary>
    private static AttributeSyntax SetArgument(AttributeSyntax attribute, string name, string valueText)
    {
        var value = SyntaxFactory.ParseExpression(valueText).WithAdditionalAnnotations(Simplifier.Annotation);
        var list = attribute.ArgumentList;
        if (list is not null && Named(list, name) is { } existing)
        {
            return attribute.ReplaceNode(existing.Expression, value.WithTriviaFrom(existing.Expression));
        }

        var argument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(
                SyntaxFactory.IdentifierName(name),
                SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
            nameColon: null,
            value);
        if (list is null)
        {
            return attribute.WithArgumentList(SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
        }

        var items = list.Arguments.GetWithSeparators();
        if (list.Arguments.Count > 0)
        {
            items = items.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space));
        }

        return attribute.WithArgumentList(list.WithArguments(SyntaxFactory.SeparatedList<AttributeArgumentSyntax>(items.Add(argument))));
    }

    private static AttributeSyntax RemoveArgument(AttributeSyntax attribute, string name)
    {
        if (attribute.ArgumentList is not { } list || Named(list, name) is not { } existing)
        {
            return attribute;
        }

        var arguments = list.Arguments.Remove(existing);
        return arguments.Count == 0
            ? attribute.WithArgumentList(null)
            : attribute.WithArgumentList(list.WithArguments(arguments));
    }

    /// <summary>The last <c>Name = …</c> argument with that name (the last assignment is the one that counts).</summary>
    private static AttributeArgumentSyntax? Named(AttributeArgumentListSyntax list, string name) =>
        list.Arguments.LastOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name);

    /// <summary>Adds <c>partial</c> right before the <c>class</c> (or <c>struct</c>, <c>record</c>) keyword, as C# requires.</summary>
    private static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return declaration;
        }

        var partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (declaration.Modifiers.Count > 0)
        {
            return declaration.WithModifiers(declaration.Modifiers.Add(partial));
        }

        // No modifiers: the keyword's leading trivia (indentation, comments) moves to the new first token.
        return declaration
            .WithKeyword(declaration.Keyword.WithLeadingTrivia(SyntaxFactory.TriviaList()))
            .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(declaration.Keyword.LeadingTrivia)));
    }
}
