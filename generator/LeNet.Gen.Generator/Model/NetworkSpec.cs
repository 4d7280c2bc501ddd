namespace LeNet.Gen.Generator.Model;

// The equatable spec model: what the user wrote, as plain values. Nothing here refers to a symbol, a syntax
// node, a location or the compilation, so the incremental pipeline can cache it and compare it cheaply.

/// <summary>A network as declared: the class it lives on, its input, its rounding mode and its layers in order.</summary>
internal sealed record NetworkSpec(
    TypeIdentity Type,
    int Channels,
    int Height,
    int Width,
    RoundingMode Rounding,
    EquatableArray<LayerSpec> Layers);

/// <summary>
/// One layer attribute. <see cref="Index"/> is its position among the class's layer attributes (0-based, source order),
/// which is how diagnostics find their way back to the attribute.
/// </summary>
internal abstract record LayerSpec(int Index);

// Each kind's own record (ConvSpec, PoolSpec, DenseSpec, …) lives beside its unit in Layers/<Kind>/.

/// <summary>
/// Where the generated partial declaration goes: namespace, the containing types (outermost first) and the type itself,
/// each as the text that follows its keyword (name plus type parameter list).
/// </summary>
internal sealed record TypeIdentity(
    string? Namespace,
    EquatableArray<ContainingType> ContainingTypes,
    string Name,
    string NameWithTypeParameters,
    string HintName)
{
    /// <summary>
    /// The class that holds the network's vector kernels, in the generator's own namespace <c>LeNet.Gen.Generated</c>:
    /// the hint name as an identifier, so unique like it (<c>Demo.LeNet5.g.cs</c> → <c>Demo_LeNet5_VectorKernels</c>).
    /// </summary>
    public string KernelClass => HintName.Substring(0, HintName.Length - ".g.cs".Length).Replace('.', '_') + "_VectorKernels";
}

/// <summary>A type that encloses the network class; <see cref="Keyword"/> is <c>class</c>, <c>struct</c>, <c>record</c>, …</summary>
internal sealed record ContainingType(string Keyword, string NameWithTypeParameters);
