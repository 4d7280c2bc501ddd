using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Shapes;
using LeNet.Gen.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace LeNet.Gen.Generator;

/// <summary>
/// The LeNet.Gen source generator. Pipeline: <c>[Network]</c> classes → <see cref="Model.NetworkSpec"/> (SpecReader)
/// → <see cref="NetworkPlan"/> (ShapeInference) → C# source (NetworkEmitter). A spec with any error produces no source;
/// <see cref="Diagnostics.NetworkAnalyzer"/> reports why.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, for tests that check incremental caching.</summary>
    public static class Steps
    {
        /// <summary>Attributes read into an equatable spec.</summary>
        public const string Spec = nameof(Spec);

        /// <summary>Shapes inferred into a plan.</summary>
        public const string Plan = nameof(Plan);
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                AttributeNames.Network,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) =>
                    attributeContext.TargetSymbol is INamedTypeSymbol type ? SpecReader.Read(type, cancellationToken, attributeContext.SemanticModel)?.Spec : null)
            .WithTrackingName(Steps.Spec);

        var plans = specs
            .Select(static (spec, _) => spec is null ? null : ShapeInference.Infer(spec).Plan)
            .WithTrackingName(Steps.Plan);

        context.RegisterSourceOutput(plans, static (output, plan) =>
        {
            if (plan is not null)
            {
                output.AddSource(plan.Spec.Type.HintName, NetworkEmitter.Emit(plan));
            }
        });
    }
}
