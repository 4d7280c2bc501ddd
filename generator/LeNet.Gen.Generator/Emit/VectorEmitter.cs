using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Writes the vectorised kernels of a stride-1 convolution, once per vector width: the forward pass and the input
/// gradient as <see cref="WideConv"/> convolutions (the input gradient is the convolution of the zero-padded output
/// gradient with the kernels turned by 180°), and the weight gradient as dot products over the wide positions.
/// The scalar methods stay the definition; these compute the same sums in a different order.
/// </summary>
internal static class VectorEmitter
{
    // The kernels live in a namespace of their own with these using directives, so short names are safe there: no type
    // of the user's can shadow them (see EmitKernelClass).
    private const string Unsafe = "Unsafe";
    private const string Marshal = "MemoryMarshal";
    private const string Fma = "Simd.MultiplyAdd";
    private const string Span = "Span<float>";
    private const string ReadOnlySpan = "ReadOnlySpan<float>";

    private static readonly string[] Usings =
    {
        "System",
        "System.Runtime.CompilerServices",
        "System.Runtime.InteropServices",
        "System.Runtime.Intrinsics",
        "LeNet.Gen.Runtime",
    };

    /// <summary>The generated class's way to call a kernel: its class, fully qualified.</summary>
    public static string ClassOf(NetworkPlan plan) => "global::" + Namespace + "." + plan.Spec.Type.KernelClass;

    private const string Namespace = "LeNet.Gen.Generated";

    /// <summary>
    /// Writes the vector kernels of every vectorised layer after the network class, in a static class of the namespace
    /// <c>LeNet.Gen.Generated</c>, as the Regex generator does with its helpers: its own <c>using</c> directives keep the
    /// kernels short to read, and a user's type can never change what they mean.
    /// </summary>
    public static void EmitKernelClass(SourceWriter w, NetworkPlan plan, IReadOnlyList<LayerCode> layers)
    {
        if (!layers.Any(l => l.IsVectorized))
        {
            return;
        }

        w.Line();
        using (w.Block("namespace " + Namespace))
        {
            foreach (string name in Usings)
            {
                w.Line("using " + name + ";");
            }

            w.Line();
            w.Line("/// <summary>");
            w.Line("/// The vector kernels of <see cref=\"" + Code.Xml(CrefOf(plan.Spec.Type)) + "\"/>: the same sums as its scalar layer methods, in another order:");
            w.Line("/// stride-1 convolutions on wide rows, with AVX-512 or AVX2. The layer methods call these when the processor has the instructions.");
            w.Line("/// </summary>");
            w.Line(NetworkEmitter.GeneratedCode);
            w.Line("[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]");
            using (w.Block("internal static class " + plan.Spec.Type.KernelClass))
            {
                foreach (var layer in layers.Where(l => l.IsVectorized))
                {
                    EmitConvKernels(w, layer, plan.CanTrain);
                }

                w.TrimBlankLine();
            }
        }
    }

    /// <summary>The network class as a <c>cref</c> from outside its namespace: <c>global::Demo.LeNet5</c>, type parameters as <c>{T}</c>.</summary>
    private static string CrefOf(TypeIdentity type)
    {
        var parts = new List<string>();
        if (type.Namespace is not null)
        {
            parts.Add(type.Namespace);
        }

        parts.AddRange(type.ContainingTypes.Select(t => t.NameWithTypeParameters));
        parts.Add(type.NameWithTypeParameters);
        return "global::" + string.Join(".", parts).Replace('<', '{').Replace('>', '}');
    }

    public static void EmitConvKernels(SourceWriter w, LayerCode code, bool training)
    {
        var forward = code.ForwardWide!;
        foreach (var isa in VectorIsa.All)
        {
            var (filters, vectors, plane) = forward.Tile(isa);
            w.Line($"// {code.Layer.Name} forward, {isa.Description}: each filter's {code.Layer.Output.Height}×{code.Layer.Output.Width} outputs sit at y·{forward.SourceWidth} + x of a");
            w.Line($"// {plane}-wide plane ({forward.Positions} positions used), computed {filters} filters × {vectors} vectors at a time.");
            EmitWideConv(w, $"{code.Pascal}ForwardWide{isa.Name}", forward, isa, withBias: true, relu: ActivationRow.Of(code.FusedActivation).FusesIntoVectorStore);
            if (!training)
            {
                continue;
            }

            if (code.FiltersFillVectors(isa))
            {
                EmitFilterVectorWeightGradient(w, code, isa);
            }
            else
            {
                EmitWeightGradient(w, code, isa);
            }
            if (!code.IsFirst)
            {
                var backward = code.InputGradientWide!;
                var tile = backward.Tile(isa);
                w.Line($"// {code.Layer.Name} input gradient, {isa.Description}: din = the output gradient, padded by {backward.Kernel - 1}, convolved with the kernels");
                w.Line($"// turned by 180° (channels and filters swapped), on a {tile.Plane}-wide plane, {tile.Filters} channels × {tile.Vectors} vectors at a time.");
                EmitWideConv(w, $"{code.Pascal}InputGradientWide{isa.Name}", backward, isa, withBias: false, relu: false);
            }
        }

        if (training && !code.IsFirst)
        {
            EmitRotateWeights(w, code);
        }
    }

    /// <summary>The register-tiled convolution over wide positions; see <see cref="WideConv"/>.</summary>
    private static void EmitWideConv(SourceWriter w, string name, WideConv conv, VectorIsa isa, bool withBias, bool relu)
    {
        var (filters, vectors, plane) = conv.Tile(isa);
        int lanes = isa.Lanes, k = conv.Kernel, kk = k * k;
        string parameters = $"{ReadOnlySpan} source, {ReadOnlySpan} weight, " + (withBias ? $"{ReadOnlySpan} bias, " : string.Empty) + $"{Span} wide";
        using (w.Block($"internal static void {name}({parameters})"))
        {
            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float w = ref {Marshal}.GetReference(weight);");
            w.Line($"ref float o = ref {Marshal}.GetReference(wide);");
            using (w.Block($"for (int f = 0; f < {conv.OutChannels}; f += {filters})"))
            using (w.Block($"for (nuint p = 0; p < {plane}; p += {lanes * vectors})"))
            {
                w.Line($"// s<b>_<q>: filter f + b, positions p + {lanes}q … p + {lanes}q + {lanes - 1}" + (withBias ? ", starting from the bias" : string.Empty));
                for (int b = 0; b < filters; b++)
                {
                    string start = withBias ? $"Splat(bias[f + {b}])" : "Splat(0f)";
                    w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(q => q == 0 ? $"var s{b}_0 = {start};" : $"var s{b}_{q} = s{b}_0;")));
                }

                using (w.Block($"for (int c = 0; c < {conv.InChannels}; c++)"))
                using (w.Block($"for (int i = 0; i < {k}; i++)"))
                {
                    w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + (i * {conv.SourceWidth})); // source row i of channel c, from p");
                    w.Line($"ref float t = ref At(ref w, (((f * {conv.InChannels}) + c) * {kk}) + (i * {k})); // kernel row i of filter f, channel c");
                    for (int j = 0; j < k; j++)
                    {
                        string declare = j == 0 ? "var " : string.Empty;
                        w.Line($"// column {j}");
                        w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(q => $"{declare}a{q} = Load(ref row, p + {(q * lanes) + j});")));
                        for (int b = 0; b < filters; b++)
                        {
                            int offset = (b * conv.InChannels * kk) + j;
                            string fmas = string.Join(" ", Enumerable.Range(0, vectors).Select(q => $"s{b}_{q} = Fma(a{q}, v, s{b}_{q});"));
                            w.Line($"{(j == 0 && b == 0 ? "var " : string.Empty)}v = Splat(At(ref t, {offset})); {fmas}");
                        }
                    }
                }

                for (int b = 0; b < filters; b++)
                {
                    w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(q =>
                        $"Store({(relu ? $"Relu(s{b}_{q})" : $"s{b}_{q}")}, ref o, (nuint)((f + {b}) * {plane}) + p + {q * lanes});")));
                }
            }

            EmitLocalHelpers(w, isa, relu, store: true);
        }

        w.Line();
    }

    /// <summary>Short names for the vector operations, as local functions the JIT inlines.</summary>
    private static void EmitLocalHelpers(SourceWriter w, VectorIsa isa, bool relu, bool store)
    {
        string V = isa.Type, S = isa.Static;
        const string Inline = "[MethodImpl(MethodImplOptions.AggressiveInlining)]";
        w.Line();
        w.Line($"{Inline} static ref float At(ref float start, int offset) => ref {Unsafe}.Add(ref start, offset);");
        w.Line($"{Inline} static {V} Load(ref float start, nuint offset) => {S}.LoadUnsafe(ref start, offset);");
        if (store)
        {
            w.Line($"{Inline} static void Store({V} value, ref float start, nuint offset) => {S}.StoreUnsafe(value, ref start, offset);");
        }

        w.Line($"{Inline} static {V} Splat(float value) => {S}.Create(value);");
        w.Line($"{Inline} static {V} Fma({V} a, {V} b, {V} c) => {Fma}(a, b, c);");
        if (relu)
        {
            w.Line($"{Inline} static {V} Relu({V} value) => Simd.Relu(value);");
        }
    }

    /// <summary>dweight[f, c, i, j] += Σ p d[f, p] · source[c, p + i·W + j]: one dot product per weight, K of them per pass over a row.</summary>
    private static void EmitWeightGradient(SourceWriter w, LayerCode code, VectorIsa isa)
    {
        var conv = code.ForwardWide!;
        int plane = conv.Tile(isa).Plane, k = conv.Kernel, lanes = isa.Lanes;
        w.Line($"// {code.Layer.Name} weight gradient, {isa.Description}: dweight[f, c, i, j] += Σ p d[f, p] · in[c, p + {conv.SourceWidth}i + j] over the wide positions");
        w.Line("// (d is zero at the positions that fall across a row end, so they add nothing).");
        using (w.Block($"internal static void {code.Pascal}WeightGradient{isa.Name}({ReadOnlySpan} source, {ReadOnlySpan} wideGradient, {Span} weightGradient)"))
        {
            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float d = ref {Marshal}.GetReference(wideGradient);");
            using (w.Block($"for (int f = 0; f < {conv.OutChannels}; f++)"))
            using (w.Block($"for (int c = 0; c < {conv.InChannels}; c++)"))
            using (w.Block($"for (int i = 0; i < {k}; i++)"))
            {
                w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + (i * {conv.SourceWidth}));");
                w.Line($"ref float g = ref At(ref d, f * {plane});");
                w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"var t{j} = Splat(0f);")));
                using (w.Block($"for (nuint p = 0; p < {plane}; p += {lanes})"))
                {
                    w.Line("var e = Load(ref g, p);");
                    w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"t{j} = Fma(e, Load(ref row, p + {j}), t{j});")));
                }

                w.Line($"{Span} dw = weightGradient.Slice((((f * {conv.InChannels}) + c) * {k * k}) + (i * {k}), {k});");
                w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"dw[{j}] += {isa.Static}.Sum(t{j});")));
            }

            EmitLocalHelpers(w, isa, relu: false, store: false);
        }

        w.Line();
    }

    /// <summary>True when the filters fill whole vectors, so the weight gradient can keep one filter per lane.</summary>
    /// <summary>
    /// The weight gradient with one filter per lane: dweight[f, c, i, j] for a vector of filters is Σ over outputs (y, x) of
    /// d[f, y, x] (a vector load from the transposed gradient) times in[c, y + i, x + j] (one broadcast value). No
    /// horizontal sums, which is what makes it faster than the dot products when the filters fill whole vectors.
    /// </summary>
    private static void EmitFilterVectorWeightGradient(SourceWriter w, LayerCode code, VectorIsa isa)
    {
        var conv = code.ForwardWide!;
        int k = conv.Kernel, kk = k * k, lanes = isa.Lanes, f = conv.OutChannels, c = conv.InChannels;
        int outputs = conv.OutHeight * conv.OutWidth;
        w.Line($"// {code.Layer.Name} weight gradient, {isa.Description}: {lanes} filters per vector, dweight[f, c, i, j] += Σ y,x d[f, y, x] · in[c, y + i, x + j],");
        w.Line("// with d transposed first so that the gradients of all filters at one output are adjacent.");
        using (w.Block($"internal static void {code.Pascal}WeightGradient{isa.Name}({ReadOnlySpan} source, {ReadOnlySpan} outputGradient, {Span} transposed, {Span} weightGradient)"))
        {
            using (w.Block($"for (int filter = 0; filter < {f}; filter++)"))
            using (w.Block($"for (int p = 0; p < {outputs}; p++)"))
            {
                w.Line($"transposed[(p * {f}) + filter] = outputGradient[(filter * {outputs}) + p];");
            }

            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float d = ref {Marshal}.GetReference(transposed);");
            w.Line($"{Span} sums = stackalloc float[{lanes}];");
            using (w.Block($"for (int c = 0; c < {c}; c++)"))
            using (w.Block($"for (int i = 0; i < {k}; i++)"))
            using (w.Block($"for (int fb = 0; fb < {f}; fb += {lanes})"))
            {
                w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"var t{j} = Splat(0f);")));
                using (w.Block($"for (int y = 0; y < {conv.OutHeight}; y++)"))
                {
                    w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + ((y + i) * {conv.SourceWidth}));");
                    using (w.Block($"for (int q = 0; q < {conv.OutWidth}; q++)"))
                    {
                        w.Line($"var e = Load(ref d, (nuint)((((y * {conv.OutWidth}) + q) * {f}) + fb));");
                        w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"t{j} = Fma(e, Splat(At(ref row, q + {j})), t{j});")));
                    }
                }

                for (int j = 0; j < k; j++)
                {
                    w.Line($"{isa.Static}.CopyTo(t{j}, sums);");
                    using (w.Block($"for (int lane = 0; lane < {lanes}; lane++)"))
                    {
                        w.Line($"weightGradient[(((fb + lane) * {c}) + c) * {kk} + (i * {k}) + {j}] += sums[lane];");
                    }
                }
            }

            EmitLocalHelpers(w, isa, relu: false, store: false);
        }

        w.Line();
    }

    private static void EmitRotateWeights(SourceWriter w, LayerCode code)
    {
        var conv = code.ForwardWide!;
        int k = conv.Kernel, kk = k * k, f = conv.OutChannels, c = conv.InChannels;
        w.Line($"// {code.Layer.Name}: the kernels turned by 180° with filters and channels swapped, rotated[c, f, i, j] = weight[f, c, {k - 1} − i, {k - 1} − j].");
        using (w.Block($"internal static void {code.Pascal}RotateWeights({ReadOnlySpan} weight, {Span} rotated)"))
        using (w.Block($"for (int f = 0; f < {f}; f++)"))
        using (w.Block($"for (int c = 0; c < {c}; c++)"))
        using (w.Block($"for (int t = 0; t < {kk}; t++)"))
        {
            w.Line($"rotated[(((c * {f}) + f) * {kk}) + ({kk - 1} - t)] = weight[(((f * {c}) + c) * {kk}) + t];");
        }

        w.Line();
    }
}
