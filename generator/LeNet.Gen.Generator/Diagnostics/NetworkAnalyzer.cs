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
            context.ReportDiagnostic(Diagnostic.Create(Rules.Get(problem.RuleId), location, problem.MessageArguments.ToArray<object>()));
        }
    }

    /// <summary>The argument named by the target if it is written in source, else the whole attribute, else the type's name.</summary>
    private static Location Locate(INamedTypeSymbol type, SpecReading reading, ProblemTarget target, CancellationToken cancellationToken)
    {
        var attribute = target.Kind switch
        {
            TargetKind.Network => reading.NetworkAttribute,
            TargetKind.Layer when target.LayerIndex >= 0 && target.LayerIndex < reading.LayerAttributes.Length => reading.LayerAttributes[target.LayerIndex],
            _ => null,
        };
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
