using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace LeNet.Gen.Generator.Diagnostics;

/// <summary>
/// The catalog of every diagnostic LeNet.Gen reports: one descriptor per rule, with its ID, category, severity,
/// message and help link. The README's diagnostics table and the release-tracking files list the same rules.
/// </summary>
internal static class Rules
{
    private const string Shapes = "LeNet.Gen.Shapes";
    private const string Structure = "LeNet.Gen.Structure";
    private const string Generation = "LeNet.Gen.Generation";

    public static readonly DiagnosticDescriptor NonWholeOutputSize = Error(
        "LNG0001", Shapes,
        "Output size is not a whole number",
        "{0}: the output size is not a whole number: {1}. {2}");

    public static readonly DiagnosticDescriptor NonPositiveOutputSize = Error(
        "LNG0002", Shapes,
        "Window larger than the padded input",
        "{0}: the output size {1} is not positive: {2}");

    public static readonly DiagnosticDescriptor InvalidValue = Error(
        "LNG0003", Shapes,
        "Invalid layer value",
        "{0}: {1} must be {2}, but it is {3}");

    public static readonly DiagnosticDescriptor TooLarge = Error(
        "LNG0004", Shapes,
        "Network too large",
        "{0}: {1}");

    public static readonly DiagnosticDescriptor SpatialLayerAfterDense = Error(
        "LNG0005", Shapes,
        "Convolution or pooling after a dense layer",
        "{0} needs a channels × height × width input, but it follows {1}, whose output is a flat vector of {2} values; put [Conv] and [Pool] layers before the first [Dense]");

    public static readonly DiagnosticDescriptor DenseInputsMismatch = Error(
        "LNG0006", Shapes,
        "Dense input size differs from the declared Inputs",
        "{0} declares Inputs = {1}, but its input has {2} values: {3}");

    public static readonly DiagnosticDescriptor NotPartial = Error(
        "LNG0007", Structure,
        "Network class must be partial",
        "The network class '{0}' must be declared 'partial' so that the generator can add its members");

    public static readonly DiagnosticDescriptor NoLayers = Error(
        "LNG0008", Structure,
        "Network has no layers",
        "The network '{0}' has no layers: add [Conv], [Pool] or [Dense] attributes after [Network]");

    public static readonly DiagnosticDescriptor LayersSplitAcrossDeclarations = Error(
        "LNG0009", Structure,
        "Layer attributes spread over several partial declarations",
        "The layer attributes of '{0}' are spread over several partial declarations, so their order is ambiguous: put every layer attribute on the declaration that has [Network]");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error(
        "LNG0010", Structure,
        "Softmax on a layer that is not the last",
        "{0} uses Activation.Softmax, which is allowed only on the last layer ({1})");

    public static readonly DiagnosticDescriptor LayerWithoutNetwork = Error(
        "LNG0011", Structure,
        "Layer attributes without [Network]",
        "'{0}' has layer attributes but no [Network(channels, height, width)] attribute, so no network is generated for it");

    public static readonly DiagnosticDescriptor UnsupportedType = Error(
        "LNG0012", Structure,
        "Type cannot hold a network",
        "'{0}' cannot hold a network: {1}");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(
        "LNG0013", Structure,
        "Containing type must be partial",
        "The network class '{0}' is nested in '{1}', which must also be declared 'partial' so that the generator can add members to the nested class");

    public static readonly DiagnosticDescriptor GlobalPoolAfterDense = Error(
        "LNG0014", Shapes,
        "Global average pooling after a dense layer",
        "{0} averages each channel of a channels × height × width input, but it follows {1}, whose output is a flat vector of {2} values; put [GlobalAveragePool] after the last [Conv] or [Pool] and before the first [Dense]");

    public static readonly DiagnosticDescriptor BatchNormPlacement = Error(
        "LNG0015", Shapes,
        "Batch norm without a layer to normalise",
        "{0} normalises the output of the layer before it, but {1}");

    public static readonly DiagnosticDescriptor UnknownLayerAttribute = Error(
        "LNG0016", Structure,
        "LeNet.Gen attribute that the generator does not know",
        "[{0}] is an attribute of the LeNet.Gen library that this generator does not know as a layer (it knows {1}), so no network is generated for '{2}': the library and the generator come from different versions; reference a single LeNet.Gen package");

    public static readonly DiagnosticDescriptor StrideSkipsInput = Warning(
        "LNG0101", Shapes,
        "Stride larger than the window",
        "{0}: stride {1} is larger than the {2}×{2} window, so {3} of every {1} rows and columns are never read");

    public static readonly DiagnosticDescriptor FloorDropsInput = new(
        "LNG0102", "Rounding ignores input rows and columns", "{0}: Rounding = Floor ignores the last {1} of the {2} input",
        Shapes, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpLink("LNG0102"));

    public static readonly DiagnosticDescriptor TrainNotGenerated = Warning(
        "LNG0201", Generation,
        "Train is not generated without a softmax head",
        "'{0}' gets Predict but no Train: training minimises cross-entropy, which needs Activation.Softmax on the last layer, and {1} uses Activation.{2}");

    /// <summary>Every rule, for <c>SupportedDiagnostics</c> and for looking a rule up by its ID.</summary>
    public static ImmutableArray<DiagnosticDescriptor> All { get; } = ImmutableArray.Create(
        NonWholeOutputSize, NonPositiveOutputSize, InvalidValue, TooLarge, SpatialLayerAfterDense, DenseInputsMismatch,
        NotPartial, NoLayers, LayersSplitAcrossDeclarations, SoftmaxNotLast, LayerWithoutNetwork, UnsupportedType,
        ContainingTypeNotPartial, GlobalPoolAfterDense, BatchNormPlacement, UnknownLayerAttribute, StrideSkipsInput, FloorDropsInput, TrainNotGenerated);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor Get(string id) => ById[id];

    /// <summary>True when the rule is an error: a spec with any such problem generates no members.</summary>
    public static bool IsError(string id) => ById[id].DefaultSeverity == DiagnosticSeverity.Error;

    private static string HelpLink(string id) =>
        "https://github.com/lenet-gen/LeNet.Gen/blob/main/README.md#" + id.ToLowerInvariant();

    private static DiagnosticDescriptor Error(string id, string category, string title, string message) =>
        new(id, title, message, category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    private static DiagnosticDescriptor Warning(string id, string category, string title, string message) =>
        new(id, title, message, category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink(id));
}
