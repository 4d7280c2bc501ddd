using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LeNet.Gen.Generator.Parsing;

/// <summary>
/// What <see cref="SpecReader"/> found on a type. <see cref="Spec"/> is null when the declaration itself is unusable
/// (not partial, split layers, compiler errors in the arguments …). The attribute data stays here, for the analyzer to
/// place diagnostics; the generator keeps only <see cref="Spec"/>.
/// </summary>
internal sealed class SpecReading
{
    public SpecReading(NetworkSpec? spec, ImmutableArray<Problem> problems, AttributeData? network, ImmutableArray<AttributeData> layers)
    {
        Spec = spec;
        Problems = problems;
        NetworkAttribute = network;
        LayerAttributes = layers;
    }

    public NetworkSpec? Spec { get; }

    public ImmutableArray<Problem> Problems { get; }

    public AttributeData? NetworkAttribute { get; }

    /// <summary>The layer attributes in source order; <see cref="LayerSpec.Index"/> indexes this array.</summary>
    public ImmutableArray<AttributeData> LayerAttributes { get; }
}

/// <summary>
/// Turns the attributes on a class into a <see cref="NetworkSpec"/>: the first stage of the pipeline, shared by the
/// generator and the analyzer. It reports problems with the declaration (LNG0007–LNG0013); shape problems are
/// <see cref="Shapes.ShapeInference"/>'s business.
/// </summary>
internal static class SpecReader
{
    /// <summary>
    /// Reads <paramref name="type"/>. Returns null when the type has neither <c>[Network]</c> nor a layer attribute.
    /// When an attribute has compiler errors (a missing or non-constant argument, say), the spec is null and no LNG
    /// problem is added: the C# compiler already reports the error.
    /// </summary>
    /// <param name="type">The type with the attributes.</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <param name="semanticModel">
    /// When given (by the generator), the compiler's own diagnostics on each attribute are consulted too: some argument
    /// errors, such as <c>Rounding = 1</c>, still produce well-typed attribute data.
    /// </param>
    public static SpecReading? Read(INamedTypeSymbol type, CancellationToken cancellationToken, SemanticModel? semanticModel = null)
    {
        AttributeData? network = null;
        int networkCount = 0;
        var layers = ImmutableArray.CreateBuilder<AttributeData>();
        var unknown = new List<int>();
        foreach (var attribute in type.GetAttributes())
        {
            switch (attribute.AttributeClass?.ToDisplayString())
            {
                case AttributeNames.Network:
                    network ??= attribute;
                    networkCount++;
                    break;
                case var name when LayerKinds.ForAttribute(name) is not null:
                    layers.Add(attribute);
                    break;
                case var _ when IsLibraryAttribute(attribute):
                    // Kept among the layers, in source order, so that LNG0016 points at it; it is never read as a layer.
                    unknown.Add(layers.Count);
                    layers.Add(attribute);
                    break;
            }
        }

        if (network is null && layers.Count == unknown.Count)
        {
            return null;
        }

        var layerAttributes = layers.ToImmutable();
        var problems = ImmutableArray.CreateBuilder<Problem>();
        if (network is null)
        {
            problems.Add(new Problem(Rules.LayerWithoutNetwork.Id, ProblemTarget.Layer(0), type.Name));
            return new SpecReading(null, problems.ToImmutable(), null, layerAttributes);
        }

        foreach (int index in unknown)
        {
            string known = string.Join(", ", LayerKinds.All.Select(k => "[" + ShortName(k.AttributeName) + "]"));
            problems.Add(new Problem(Rules.UnknownLayerAttribute.Id, ProblemTarget.Layer(index), ShortName(layerAttributes[index].AttributeClass!.ToDisplayString()), known, type.Name));
        }

        CheckDeclaration(type, problems, cancellationToken);
        CheckSingleDeclaration(type, network, layerAttributes, problems, cancellationToken);
        bool compilerErrors = networkCount > 1 || HasErrors(network) || layerAttributes.Any(HasErrors)
            || (semanticModel is not null && layerAttributes.Add(network).Any(a => HasCompilerDiagnostics(a, semanticModel, cancellationToken)));
        if (problems.Count > 0 || compilerErrors)
        {
            return new SpecReading(null, problems.ToImmutable(), network, layerAttributes);
        }

        var spec = new NetworkSpec(
            Identify(type),
            Positional(network, 0),
            Positional(network, 1),
            Positional(network, 2),
            (RoundingMode)(Named(network, "Rounding") ?? 0),
            layerAttributes.Select(ReadLayer).ToEquatableArray());
        return new SpecReading(spec, problems.ToImmutable(), network, layerAttributes);
    }

    /// <summary>
    /// True for an attribute declared in the library's namespace, <c>LeNet.Gen</c>: every such attribute on a network
    /// class is <c>[Network]</c> or a layer, so one that no unit reads comes from a library newer than this generator.
    /// </summary>
    private static bool IsLibraryAttribute(AttributeData attribute) =>
        attribute.AttributeClass is { ContainingNamespace: { Name: "Gen", ContainingNamespace: { Name: "LeNet", ContainingNamespace.IsGlobalNamespace: true } } };

    /// <summary><c>LeNet.Gen.ConvAttribute</c> → <c>Conv</c>: the name as users write it.</summary>
    private static string ShortName(string attributeName)
    {
        string name = attributeName.Substring(attributeName.LastIndexOf('.') + 1);
        return name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }

    // Only attributes of a registered kind reach a spec (an unknown one stops it with LNG0016), so the lookup always finds one.
    private static LayerSpec ReadLayer(AttributeData attribute, int index) =>
        LayerKinds.ForAttribute(attribute.AttributeClass?.ToDisplayString())!.Read(attribute, index);

    /// <summary>
    /// True when the compiler could not bind the attribute's arguments (it reports that error itself): no constructor,
    /// an argument of the wrong type, or an argument in source that the binder dropped, such as a misspelled property.
    /// </summary>
    private static bool HasErrors(AttributeData attribute)
    {
        if (attribute.AttributeConstructor is null
            || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error || a.Value is null)
            || attribute.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error || a.Value.Value is null))
        {
            return true;
        }

        // An argument that does not convert to its parameter (Rounding = 1, say) keeps its own type.
        var parameters = attribute.AttributeConstructor.Parameters;
        for (int i = 0; i < attribute.ConstructorArguments.Length && i < parameters.Length; i++)
        {
            if (!SymbolEqualityComparer.Default.Equals(attribute.ConstructorArguments[i].Type, parameters[i].Type))
            {
                return true;
            }
        }

        foreach (var named in attribute.NamedArguments)
        {
            var property = attribute.AttributeClass?.GetMembers(named.Key).OfType<IPropertySymbol>().FirstOrDefault();
            if (property is null || !SymbolEqualityComparer.Default.Equals(named.Value.Type, property.Type))
            {
                return true;
            }
        }

        if (attribute.ApplicationSyntaxReference?.GetSyntax() is AttributeSyntax { ArgumentList: { } list })
        {
            int named = list.Arguments.Count(a => a.NameEquals is not null);
            return named != attribute.NamedArguments.Length || list.Arguments.Count - named != attribute.ConstructorArguments.Length;
        }

        return false;
    }

    private static bool HasCompilerDiagnostics(AttributeData attribute, SemanticModel semanticModel, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not { } syntax)
        {
            return false;
        }

        var model = syntax.SyntaxTree == semanticModel.SyntaxTree ? semanticModel : semanticModel.Compilation.GetSemanticModel(syntax.SyntaxTree);
        return model.GetDiagnostics(syntax.Span, cancellationToken).Any(d => d.Severity == DiagnosticSeverity.Error);
    }

    internal static int Positional(AttributeData attribute, int position) => ToInt(attribute.ConstructorArguments[position].Value);

    internal static int? Named(AttributeData attribute, string name)
    {
        // The last assignment wins if a name is repeated (the compiler reports CS0643 for that anyway).
        int? value = null;
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
            {
                value = ToInt(argument.Value.Value);
            }
        }

        return value;
    }

    private static int ToInt(object? value) => value switch
    {
        int i => i,
        _ => 0,
    };

    /// <summary>LNG0007, LNG0012, LNG0013: the type must be a partial, non-static class, nested only in partial types.</summary>
    private static void CheckDeclaration(INamedTypeSymbol type, ImmutableArray<Problem>.Builder problems, CancellationToken cancellationToken)
    {
        if (type.TypeKind != TypeKind.Class || type.IsRecord || type.IsStatic)
        {
            string why = type.IsRecord ? "it is a record; declare a partial class"
                : type.IsStatic ? "it is static, but a network is created with new and holds its weights"
                : "it is not a class; declare a partial class";
            problems.Add(new Problem(Rules.UnsupportedType.Id, ProblemTarget.Type, type.Name, why));
            return;
        }

        if (!IsPartial(type, cancellationToken))
        {
            problems.Add(new Problem(Rules.NotPartial.Id, ProblemTarget.Type, type.Name)
            {
                Fixes = AddPartial(type.Name, 0, Rules.NotPartial.Id),
            });
        }

        int depth = 1;
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType, depth++)
        {
            if (!IsPartial(outer, cancellationToken))
            {
                problems.Add(new Problem(Rules.ContainingTypeNotPartial.Id, ProblemTarget.Type, type.Name, outer.Name)
                {
                    Fixes = AddPartial(outer.Name, depth, Rules.ContainingTypeNotPartial.Id),
                });
            }
        }
    }

    private static EquatableArray<FixSuggestion> AddPartial(string name, int depth, string rule) =>
        new[] { new FixSuggestion("Make '" + name + "' partial", rule + ".AddPartial", FixEdit.AddPartial(depth)) }.ToEquatableArray();

    /// <summary>True when the declaration says <c>partial</c>.</summary>
    public static bool IsPartial(TypeDeclarationSyntax declaration) => declaration.Modifiers.Any(m => m.ValueText == "partial");

    private static bool IsPartial(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration
                && !IsPartial(declaration))
            {
                return false;
            }
        }

        return type.DeclaringSyntaxReferences.Length > 0;
    }

    /// <summary>LNG0009: all layer attributes must sit on the declaration that carries <c>[Network]</c>, or their order is ambiguous.</summary>
    private static void CheckSingleDeclaration(
        INamedTypeSymbol type, AttributeData network, ImmutableArray<AttributeData> layers, ImmutableArray<Problem>.Builder problems, CancellationToken cancellationToken)
    {
        var home = DeclarationOf(network, cancellationToken);
        for (int i = 0; i < layers.Length; i++)
        {
            var declaration = DeclarationOf(layers[i], cancellationToken);
            if (declaration is not null && home is not null && declaration != home)
            {
                problems.Add(new Problem(Rules.LayersSplitAcrossDeclarations.Id, ProblemTarget.Layer(i), type.Name));
                return;
            }
        }
    }

    private static SyntaxNode? DeclarationOf(AttributeData attribute, CancellationToken cancellationToken) =>
        attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).FirstAncestorOrSelf<TypeDeclarationSyntax>();

    private static TypeIdentity Identify(INamedTypeSymbol type)
    {
        var containing = new List<ContainingType>();
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            containing.Insert(0, new ContainingType(KeywordOf(outer), NameWithTypeParameters(outer)));
        }

        string? ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        return new TypeIdentity(ns, containing.ToEquatableArray(), type.Name, NameWithTypeParameters(type), HintName(type));
    }

    private static string KeywordOf(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, TypeKind: TypeKind.Struct } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string NameWithTypeParameters(INamedTypeSymbol type) =>
        type.TypeParameters.Length == 0 ? type.Name : type.Name + "<" + string.Join(", ", type.TypeParameters.Select(p => p.Name)) + ">";

    /// <summary>A file name unique to the type: namespace, containing types and arity, e.g. <c>Demo.Outer.LeNet5_1.g.cs</c>.</summary>
    private static string HintName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (ISymbol? symbol = type; symbol is INamedTypeSymbol named; symbol = named.ContainingType)
        {
            parts.Insert(0, named.MetadataName);
        }

        if (type.ContainingNamespace is { IsGlobalNamespace: false } ns)
        {
            parts.Insert(0, ns.ToDisplayString());
        }

        var builder = new StringBuilder();
        foreach (char c in string.Join(".", parts))
        {
            builder.Append(char.IsLetterOrDigit(c) || c == '.' ? c : '_');
        }

        return builder.Append(".g.cs").ToString();
    }
}
