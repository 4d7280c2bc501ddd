using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using LeNet.Gen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace LeNet.Gen.Generator.Diagnostics;

/// <summary>
/// Reports every LNG diagnostic. It runs the same <see cref="SpecReader"/> and <see cref="ShapeInference"/> as the generator,
/// then places each problem on the attribute or argument that causes it. Reporting from an analyzer rather than from the
/// generator keeps locations out of the generator's cached pipeline and lets <c>#pragma</c> and <c>.editorconfig</c>
/// severities apply as they do to any other rule.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class NetworkAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Rules.All;

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            // Nothing to do in a compilation that does not reference LeNet.Gen.
            if (start.Compilation.GetTypeByMetadataName(AttributeNames.Network) is not { } network)
            {
                return;
            }

            var ours = LayerKinds.All.Select(kind => start.Compilation.GetTypeByMetadataName(kind.AttributeName)).Append(network)
                .OfType<INamedTypeSymbol>().ToImmutableHashSet<INamedTypeSymbol>(SymbolEqualityComparer.Default);
            start.RegisterSymbolAction(
                context =>
                {
                    // Most types carry none of our attributes: a symbol comparison turns them away before any other work.
                    if (context.Symbol.GetAttributes().Any(a => a.AttributeClass is { } c && ours.Contains(c)))
                    {
                        AnalyzeType(context);
                    }
                },
                SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var reading = SpecReader.Read(type, context.CancellationToken);
        if (reading is null)
        {
            return;
        }

        var problems = reading.Problems;
        if (reading.Spec is not null)
        {
            problems = problems.AddRange(ShapeInference.Infer(reading.Spec).Problems);
        }

        foreach (var problem in problems)
        {
            var location = Locate(type, reading, problem.Target, context.CancellationToken);
            var (additionalLocations, properties) = Fixes(type, reading, problem, context.CancellationToken);
            context.ReportDiagnostic(Diagnostic.Create(
                Rules.Get(problem.RuleId), location, additionalLocations, properties, problem.MessageArguments.ToArray<object>()));
        }
    }

    /// <summary>
    /// The problem's fixes as the code fix reads them: every syntax an edit touches becomes an additional location, and
    /// the edits, which refer to those locations by index, go in the properties (<see cref="FixProperties"/>). A fix
    /// whose syntax cannot be found (an attribute not in source, say) is left out.
    /// </summary>
    private static (List<Location> Locations, ImmutableDictionary<string, string?> Properties) Fixes(
        INamedTypeSymbol type, SpecReading reading, Problem problem, CancellationToken cancellationToken)
    {
        var locations = new List<Location>();
        var fixes = new List<FixData>();
        int IndexOf(Location location)
        {
            int index = locations.IndexOf(location);
            if (index < 0)
            {
                locations.Add(location);
                index = locations.Count - 1;
            }

            return index;
        }

        foreach (var fix in problem.Fixes)
        {
            var edits = new List<FixEditData>();
            bool complete = true;
            foreach (var edit in fix.Edits)
            {
                if (edit.Kind == FixEditKind.AddPartial)
                {
                    var declarations = NonPartialDeclarations(type, edit.Value, cancellationToken);
                    complete &= declarations.Count > 0;
                    edits.AddRange(declarations.Select(d => new FixEditData(IndexOf(d.Identifier.GetLocation()), edit.Kind, edit.Name, edit.Value)));
                }
                else if (AttributeOf(reading, edit.Target)?.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax attribute)
                {
                    edits.Add(new FixEditData(IndexOf(attribute.GetLocation()), edit.Kind, edit.Name, edit.Value));
                }
                else
                {
                    complete = false;
                }
            }

            if (complete && edits.Count > 0)
            {
                fixes.Add(new FixData(fix.Title, fix.EquivalenceKey, edits));
            }
        }

        return (locations, FixProperties.Encode(fixes));
    }

    /// <summary>The declarations without <c>partial</c> of the network class (depth 0) or of the type that many levels out.</summary>
    private static List<TypeDeclarationSyntax> NonPartialDeclarations(INamedTypeSymbol type, string depthText, CancellationToken cancellationToken)
    {
        if (!int.TryParse(depthText, out int depth) || depth < 0)
        {
            return new List<TypeDeclarationSyntax>();
        }

        INamedTypeSymbol? target = type;
        for (; depth > 0 && target is not null; depth--)
        {
            target = target.ContainingType;
        }

        return target is null
            ? new List<TypeDeclarationSyntax>()
            : target.DeclaringSyntaxReferences
                .Select(r => r.GetSyntax(cancellationToken))
                .OfType<TypeDeclarationSyntax>()
                .Where(declaration => !SpecReader.IsPartial(declaration))
                .ToList();
    }

    private static AttributeData? AttributeOf(SpecReading reading, ProblemTarget target) => target.Kind switch
    {
        TargetKind.Network => reading.NetworkAttribute,
        TargetKind.Layer when target.LayerIndex >= 0 && target.LayerIndex < reading.LayerAttributes.Length => reading.LayerAttributes[target.LayerIndex],
        _ => null,
    };

    /// <summary>The argument named by the target if it is written in source, else the whole attribute, else the type's name.</summary>
    private static Location Locate(INamedTypeSymbol type, SpecReading reading, ProblemTarget target, CancellationToken cancellationToken)
    {
        var attribute = AttributeOf(reading, target);
        if (attribute?.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax syntax)
        {
            return (target.Argument is null ? null : FindArgument(attribute, syntax, target.Argument))?.GetLocation() ?? syntax.GetLocation();
        }

        return type.Locations.FirstOrDefault() ?? Location.None;
    }

    /// <summary>
    /// Finds an argument by name: a named argument (<c>Stride = 2</c>) by its property name, a positional one by the
    /// constructor parameter it binds to (written in order, or with <c>kernel:</c>).
    /// </summary>
    private static AttributeArgumentSyntax? FindArgument(AttributeData attribute, AttributeSyntax syntax, string name)
    {
        if (syntax.ArgumentList is null)
        {
            return null;
        }

        var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
        int position = 0;
        foreach (var argument in syntax.ArgumentList.Arguments)
        {
            if (argument.NameEquals is not null)
            {
                if (argument.NameEquals.Name.Identifier.ValueText == name)
                {
                    return argument;
                }

                continue;
            }

            string? bound = argument.NameColon?.Name.Identifier.ValueText
                ?? (position < parameters.Length ? parameters[position].Name : null);
            position++;
            if (bound == name)
            {
                return argument;
            }
        }

        return null;
    }
}
