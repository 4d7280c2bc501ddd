using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Writes the class that holds the network's vector kernels, which each layer's unit writes into it
/// (<see cref="Layers.ILayerKind.EmitVectorKernels"/>), and the pieces the units share: the register-tiled
/// <see cref="WideConv"/> convolution over wide rows and the short names of the vector operations. The scalar methods
/// stay the definition; the kernels compute the same sums in a different order.
/// </summary>
internal static class VectorEmitter
{
    // The kernels live in a namespace of their own with these using directives, so short names are safe there: no type
    // of the user's can shadow them (see EmitKernelClass).
    private const string Unsafe = "Unsafe";

    /// <summary><c>MemoryMarshal</c>, as the kernels' namespace writes it.</summary>
    internal const string Marshal = "MemoryMarshal";

    private const string Fma = "Simd.MultiplyAdd";

    /// <summary><c>Span&lt;float&gt;</c>, as the kernels' namespace writes it.</summary>
    internal const string Span = "Span<float>";

    /// <summary><c>ReadOnlySpan&lt;float&gt;</c>, as the kernels' namespace writes it.</summary>
    internal const string ReadOnlySpan = "ReadOnlySpan<float>";

    /// <summary><see cref="Code.Hot"/>, as the kernels' namespace writes it.</summary>
    internal const string Hot = "[MethodImpl(MethodImplOptions.AggressiveOptimization)]";

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
    /// Writes the vector kernels of every layer that has some after the network class, in a static class of the namespace
    /// <c>LeNet.Gen.Generated</c>, as the Regex generator does with its helpers: its own <c>using</c> directives keep the
    /// kernels short to read, and a user's type can never change what they mean.
    /// </summary>
    public static void EmitKernelClass(SourceWriter w, NetworkPlan plan, IReadOnlyList<LayerCode> layers)
    {
        if (!layers.Any(l => l.Kind.HasVectorKernels(l)))
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
                foreach (var layer in layers.Where(l => l.Kind.HasVectorKernels(l)))
                {
                    layer.Kind.EmitVectorKernels(w, layer, plan.CanTrain);
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

    /// <summary>
    /// Writes the kernel <paramref name="name"/>: the register-tiled convolution <paramref name="conv"/> over wide positions
    /// (see <see cref="WideConv"/>), starting from the bias or from zero, with ReLU fused into the store when asked.
    /// </summary>
    /// <param name="strided">
    /// For the forward kernel of a space-to-depth layer: the layer's own kernels, which the kernel then reads in place of
    /// the sub-kernels (see <see cref="StridedWeights"/>); null when <paramref name="conv"/>'s weights are its own.
    /// </param>
    internal static void EmitWideConv(SourceWriter w, string name, WideConv conv, VectorIsa isa, bool withBias, bool relu, StridedWeights? strided = null, bool endsAtLastOutput = false)
    {
        var (filters, vectors, plane) = conv.Tile(isa);
        int lanes = isa.Lanes, k = conv.Kernel, kk = k * k;
        string parameters = $"{ReadOnlySpan} source, {ReadOnlySpan} weight, " + (withBias ? $"{ReadOnlySpan} bias, " : string.Empty) + $"{Span} wide";
        w.Line(Hot);
        using (w.Block($"internal static void {name}({parameters})"))
        {
            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float w = ref {Marshal}.GetReference(weight);");
            w.Line($"ref float o = ref {Marshal}.GetReference(wide);");
            using (w.Block($"for (int f = 0; f < {conv.OutChannels}; f += {filters})"))
            using (w.Block(endsAtLastOutput ? $"for (nuint tile = 0; tile < {plane}; tile += {lanes * vectors})" : $"for (nuint p = 0; p < {plane}; p += {lanes * vectors})"))
            {
                if (endsAtLastOutput)
                {
                    int last = conv.LastTile(isa);
                    w.Line($"nuint p = tile < {last} ? tile : {last}; // the last tile ends at the last output, so no load runs past the source");
                }

                w.Line($"// s<b>_<q>: filter f + b, positions p + {lanes}q … p + {lanes}q + {lanes - 1}" + (withBias ? ", starting from the bias" : string.Empty));
                for (int b = 0; b < filters; b++)
                {
                    string start = withBias ? $"Splat(bias[f + {b}])" : "Splat(0f)";
                    w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(q => q == 0 ? $"var s{b}_0 = {start};" : $"var s{b}_{q} = s{b}_0;")));
                }

                if (strided is null)
                {
                    using (w.Block($"for (int c = 0; c < {conv.InChannels}; c++)"))
                    using (w.Block($"for (int i = 0; i < {k}; i++)"))
                    {
                        w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + (i * {conv.SourceWidth})); // source row i of channel c, from p" + (conv.ReadsColumnCopies ? $"; column j's copy is {conv.ColumnStride}·j further" : string.Empty));
                        w.Line($"ref float t = ref At(ref w, (((f * {conv.InChannels}) + c) * {kk}) + (i * {k})); // kernel row i of filter f, channel c");
                        EmitTapRow(w, filters, vectors, lanes, columns: k, lastColumnIf: null, columnStep: 1, filterStep: conv.InChannels * kk, sourceColumnStep: conv.ColumnStride);
                    }
                }
                else
                {
                    EmitStridedTaps(w, conv, strided, filters, vectors, lanes);
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

    // The taps of one kernel row: per column, the position vectors loaded once and multiplied by each filter's weight,
    // which sits columnStep further along the row per column and filterStep further per filter. The last column can be
    // guarded by a condition (a phase whose sub-kernels are one column short).
    private static void EmitTapRow(SourceWriter w, int filters, int vectors, int lanes, int columns, string? lastColumnIf, int columnStep, int filterStep, int sourceColumnStep = 1)
    {
        for (int j = 0; j < columns; j++)
        {
            IDisposable? guard = j == columns - 1 && lastColumnIf is not null ? w.Block($"if ({lastColumnIf})") : null;
            string declare = j == 0 ? "var " : string.Empty;
            w.Line($"// column {j}");
            w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(q => $"{declare}a{q} = Load(ref row, p + {(q * lanes) + (j * sourceColumnStep)});")));
            for (int b = 0; b < filters; b++)
            {
                int offset = (b * filterStep) + (j * columnStep);
                string fmas = string.Join(" ", Enumerable.Range(0, vectors).Select(q => $"s{b}_{q} = Fma(a{q}, v, s{b}_{q});"));
                w.Line($"{(j == 0 && b == 0 ? "var " : string.Empty)}v = Splat(At(ref t, {offset})); {fmas}");
            }

            guard?.Dispose();
        }
    }

    // The taps of a space-to-depth forward kernel, read from the layer's own K×K kernels: phase plane (ch, pa, pb) pairs
    // with taps (s·i + pa, s·j + pb) of channel ch, the same sums in the same order as with the rearranged sub-kernels, less
    // the taps past the kernel's edge, which the sub-kernels hold as zeros.
    private static void EmitStridedTaps(SourceWriter w, WideConv conv, StridedWeights strided, int filters, int vectors, int lanes)
    {
        int s = strided.Stride, big = strided.Kernel, sub = conv.Kernel, channels = strided.Channels;
        int last = big - (s * (sub - 1)); // the phases pa (and pb) below this have a full K' rows (and columns)
        using (w.Block($"for (int ch = 0; ch < {channels}; ch++)"))
        using (w.Block($"for (int pa = 0; pa < {s}; pa++)"))
        using (w.Block($"for (int pb = 0; pb < {s}; pb++)"))
        {
            w.Line($"int c = (((ch * {s}) + pa) * {s}) + pb; // phase plane: every {Ordinal(s)} value of channel ch from row pa, column pb");
            string rows = last == s ? sub.ToString(CultureInfo.InvariantCulture) : $"pa < {last} ? {sub} : {sub - 1}";
            if (last != s)
            {
                w.Line($"int rows = {rows}; // kernel rows {s}·i + pa inside the {big}×{big} kernel");
            }

            using (w.Block($"for (int i = 0; i < {(last == s ? rows : "rows")}; i++)"))
            {
                w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + (i * {conv.SourceWidth})); // phase row i, from p");
                w.Line($"ref float t = ref At(ref w, (((f * {channels}) + ch) * {big * big}) + ((({s} * i) + pa) * {big}) + pb); // kernel row {s}·i + pa of filter f, channel ch, from column pb");
                EmitTapRow(w, filters, vectors, lanes, columns: sub, lastColumnIf: last == s ? null : $"pb < {last}", columnStep: s, filterStep: channels * big * big);
            }
        }
    }

    private static string Ordinal(int n) => n switch { 2 => "2nd", 3 => "3rd", _ => n.ToString(CultureInfo.InvariantCulture) + "th" };

    /// <summary>Short names for the vector operations, as local functions the JIT inlines, at the end of a kernel.</summary>
    internal static void EmitLocalHelpers(SourceWriter w, VectorIsa isa, bool relu, bool store)
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
}
