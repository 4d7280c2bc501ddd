using System.Linq;
using LeNet.Gen.Generator.Emit;
using static LeNet.Gen.Generator.Emit.VectorEmitter;

namespace LeNet.Gen.Generator.Layers;

/// <summary>
/// The vector kernels of a convolution, once per vector width (for a stride above 1, the stride-1 kernels of its phase
/// planes and sub-kernels, <see cref="ConvCode.IsSpaceToDepth"/>), as members of the network's kernel class
/// (<see cref="VectorEmitter"/>): the forward pass and the input gradient as <see cref="WideConv"/> convolutions (the input
/// gradient is the convolution of the zero-padded output gradient with the kernels turned by 180°), and the weight
/// gradient by the kernel <see cref="ConvCode.FiltersFillVectors"/> picks for each width. The scalar methods stay the
/// definition; these compute the same sums in a different order.
/// </summary>
internal static class ConvVectorKernels
{
    /// <summary>Writes the layer's kernels; with <paramref name="training"/>, its weight- and input-gradient kernels too.</summary>
    public static void Emit(SourceWriter w, ConvCode plan, bool training)
    {
        var code = plan.Code;
        var forward = plan.ForwardWide!;
        if (plan.SpaceToDepthSummary is { } summary)
        {
            w.Line($"// {code.Layer.Name}, {summary}.");
            w.Line($"// The kernels below read the phase planes as {forward.InChannels} input channels of {forward.SourceHeight}×{forward.SourceWidth} (SpaceToDepth in the runtime");
            w.Line($"// splits the input). The forward kernel reads the layer's {plan.Spec.Kernel}×{plan.Spec.Kernel} kernels as {forward.Kernel}×{forward.Kernel} sub-kernels in place; the backward kernels");
            w.Line("// read the sub-kernels rearranged by SpaceToDepth and write their gradient, folded back into the kernels' afterwards.");
        }

        foreach (var isa in VectorIsa.All)
        {
            if (plan.ForwardCopies is { } copies)
            {
                var tile = copies.Tile(isa);
                w.Line($"// {code.Layer.Name} forward, {isa.Description}: each filter's {code.Layer.Output.Height}×{code.Layer.Output.Width} outputs sit back to back at y·{copies.OutWidth} + x of a");
                w.Line($"// {tile.Plane}-wide plane, computed {tile.Filters} filters × {tile.Vectors} vectors at a time from the input's {copies.Kernel} shifted column copies");
                w.Line($"// (LeNet.Gen.Runtime.ColumnCopies: copy j, {copies.ColumnStride} values from the last, holds each row's {copies.OutWidth} values from column j).");
                EmitWideConv(w, $"{code.Pascal}ForwardCopies{isa.Name}", copies, isa, withBias: true, relu: ActivationRow.Of(code.FusedActivation).FusesIntoVectorStore);
            }
            else
            {
                EmitForwardWide(w, plan, isa);
            }

            if (!training)
            {
                continue;
            }

            if (plan.FiltersFillVectors(isa))
            {
                EmitFilterVectorWeightGradient(w, plan, isa);
            }
            else
            {
                EmitWeightGradient(w, plan, isa);
            }

            if (!code.IsFirst && !plan.UsesColumnGradient)
            {
                var backward = plan.InputGradientWide!;
                var tile = backward.Tile(isa);
                w.Line($"// {code.Layer.Name} input gradient, {isa.Description}: din = the output gradient, padded by {backward.Kernel - 1}, convolved with the kernels");
                w.Line($"// turned by 180° (channels and filters swapped), on a {tile.Plane}-wide plane, {tile.Filters} channels × {tile.Vectors} vectors at a time.");
                EmitWideConv(w, $"{code.Pascal}InputGradientWide{isa.Name}", backward, isa, withBias: false, relu: false);
            }
        }

        if (training && !code.IsFirst && !plan.UsesColumnGradient)
        {
            EmitRotateWeights(w, plan);
        }
    }

    // The forward kernel on the source's own rows (or a strided layer's phase planes), with the comment that says where its outputs sit.
    private static void EmitForwardWide(SourceWriter w, ConvCode plan, VectorIsa isa)
    {
        var code = plan.Code;
        var forward = plan.ForwardWide!;
        var (filters, vectors, plane) = forward.Tile(isa);
        w.Line($"// {code.Layer.Name} forward, {isa.Description}: each filter's {code.Layer.Output.Height}×{code.Layer.Output.Width} outputs sit at y·{forward.SourceWidth} + x of a");
        w.Line($"// {plane}-wide plane ({forward.Positions} positions used), computed {filters} filters × {vectors} vectors at a time" +
            (plan.ReadsInputInPlace ? $"; it reads the caller's input in place, so the last tile starts at {forward.LastTile(isa)} and ends at the last output." : "."));
        var strided = plan.IsSpaceToDepth ? new StridedWeights(plan.Stride, plan.Spec.Kernel, code.Layer.Input.Channels) : null;
        EmitWideConv(w, $"{code.Pascal}ForwardWide{isa.Name}", forward, isa, withBias: true, relu: ActivationRow.Of(code.FusedActivation).FusesIntoVectorStore, strided, endsAtLastOutput: plan.ReadsInputInPlace);
    }

    /// <summary>
    /// dweight[f, c, i, j] += Σ p d[f, p] · source[c, p + i·W + j]: one dot product per weight, K of them per pass over a row,
    /// for <see cref="DotFilters"/> filters at once so that their K·filters sums hide the fused multiply-adds' latency and
    /// each load of the row serves every filter. Each sum runs over the positions in order, whatever the group.
    /// </summary>
    private static void EmitWeightGradient(SourceWriter w, ConvCode plan, VectorIsa isa)
    {
        var code = plan.Code;
        var conv = plan.ForwardWide!;
        int plane = conv.Tile(isa).Plane, k = conv.Kernel, lanes = isa.Lanes;
        int group = DotFilters(conv.OutChannels, k, isa);
        var sums = Enumerable.Range(0, group).SelectMany(b => Enumerable.Range(0, k).Select(j => (b, j))).ToList();
        w.Line($"// {code.Layer.Name} weight gradient, {isa.Description}: dweight[f, c, i, j] += Σ p d[f, p] · in[c, p + {conv.SourceWidth}i + j] over the wide positions");
        w.Line($"// (d is zero at the positions that fall across a row end, so they add nothing); {group} filter{(group == 1 ? string.Empty : "s")} × {k} taps of a kernel row at a time.");
        w.Line(VectorEmitter.Hot);
        using (w.Block($"internal static void {code.Pascal}WeightGradient{isa.Name}({ReadOnlySpan} source, {ReadOnlySpan} wideGradient, {Span} weightGradient)"))
        {
            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float d = ref {Marshal}.GetReference(wideGradient);");
            using (w.Block($"for (int f = 0; f < {conv.OutChannels}; f += {group})"))
            using (w.Block($"for (int c = 0; c < {conv.InChannels}; c++)"))
            using (w.Block($"for (int i = 0; i < {k}; i++)"))
            {
                w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + (i * {conv.SourceWidth}));");
                w.Line($"ref float g = ref At(ref d, f * {plane}); // filter f's gradient; f + b's is {plane}·b further");
                w.Line(string.Join(" ", sums.Select(t => $"var t{t.b}{t.j} = Splat(0f);")));
                using (w.Block($"for (nuint p = 0; p < {plane}; p += {lanes})"))
                {
                    w.Line(string.Join(" ", Enumerable.Range(0, group).Select(b => $"var e{b} = Load(ref g, p{(b == 0 ? string.Empty : $" + {b * plane}")});")));
                    for (int j = 0; j < k; j++)
                    {
                        w.Line($"{(j == 0 ? "var " : string.Empty)}r = Load(ref row, p + {j});" + string.Concat(Enumerable.Range(0, group).Select(b => $" t{b}{j} = Fma(e{b}, r, t{b}{j});")));
                    }
                }

                for (int b = 0; b < group; b++)
                {
                    w.Line($"{(b == 0 ? $"{Span} " : string.Empty)}dw = weightGradient.Slice(((((f + {b}) * {conv.InChannels}) + c) * {k * k}) + (i * {k}), {k});");
                    w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"dw[{j}] += {isa.Static}.Sum(t{b}{j});")));
                }
            }

            EmitLocalHelpers(w, isa, relu: false, store: false);
        }

        w.Line();
    }

    /// <summary>
    /// How many filters the dot-product weight gradient takes at once: the most (up to 4) that divide the
    /// <paramref name="filters"/> and keep filters × <paramref name="kernel"/> sums, the filters' gradient vectors and one
    /// row vector within the registers.
    /// </summary>
    internal static int DotFilters(int filters, int kernel, VectorIsa isa)
    {
        for (int group = 4; group > 1; group--)
        {
            if (filters % group == 0 && (group * kernel) + group + 1 <= isa.Registers)
            {
                return group;
            }
        }

        return 1;
    }

    /// <summary>
    /// The weight gradient with one filter per lane: dweight[f, c, i, j] for a vector of filters is Σ over outputs (y, x) of
    /// d[f, y, x] (a vector load from the transposed gradient) times in[c, y + i, x + j] (one broadcast value). No
    /// horizontal sums, which is what makes it faster than the dot products when the filters fill whole vectors. Each
    /// pass keeps <see cref="FilterBlocks"/> vectors of filters × K taps of accumulators, enough independent sums to hide
    /// the latency of the fused multiply-adds; each broadcast then serves every block.
    /// </summary>
    private static void EmitFilterVectorWeightGradient(SourceWriter w, ConvCode plan, VectorIsa isa)
    {
        var code = plan.Code;
        var conv = plan.ForwardWide!;
        int k = conv.Kernel, kk = k * k, lanes = isa.Lanes, f = conv.OutChannels, c = conv.InChannels;
        int outputs = conv.OutHeight * conv.OutWidth;
        int blocks = FilterBlocks(f / lanes, k, isa);

        // With one vector of filters, the kernel row's taps at one output each need their own broadcast input: one broadcast
        // per multiply-add. When a whole output row of gradient vectors fits in the registers beside the taps' sums, the
        // row is loaded once and each input value of the row is broadcast once for every tap it meets (LeNet-5's conv2:
        // 14 broadcasts and 10 loads for 50 multiply-adds instead of 50 and 10). Each sum still adds its outputs in order.
        // LeNet-5's training, 1 thread: 34.5k → 36.1k img/s (medians of 6 interleaved processes; 35.8k → 38.7k at best).
        bool wholeRows = blocks == 1 && conv.OutWidth + k + 2 <= isa.Registers;
        w.Line($"// {code.Layer.Name} weight gradient, {isa.Description}: {lanes} filters per vector, dweight[f, c, i, j] += Σ y,x d[f, y, x] · in[c, y + i, x + j],");
        w.Line(wholeRows
            ? $"// with d transposed first so that the gradients of all filters at one output are adjacent; {lanes} filters × {k} taps of {(k >= 2 ? "two kernel rows" : "a kernel row")} at a time, a row of {conv.OutWidth} outputs' gradients held while each input value is broadcast once."
            : $"// with d transposed first so that the gradients of all filters at one output are adjacent; {blocks} × {lanes} filters × {k} taps of a kernel row at a time.");
        w.Line($"// A nonempty pending takes the sums instead, [channel, i, j, filter]: one vector added per {lanes} filters (FinishExamples adds it");
        w.Line("// into the weight gradient after a chunk of examples).");
        w.Line(VectorEmitter.Hot);
        using (w.Block($"internal static void {code.Pascal}WeightGradient{isa.Name}({ReadOnlySpan} source, {ReadOnlySpan} outputGradient, {Span} transposed, {Span} weightGradient, {Span} pending)"))
        {
            w.Line($"Simd.Transpose(outputGradient, {f}, {outputs}, transposed); // transposed[p·{f} + filter] = d[filter, p]");

            w.Line($"ref float x = ref {Marshal}.GetReference(source);");
            w.Line($"ref float d = ref {Marshal}.GetReference(transposed);");
            w.Line($"ref float pt = ref {Marshal}.GetReference(pending);");
            w.Line("bool deferred = !pending.IsEmpty;");
            w.Line($"{Span} sums = stackalloc float[{lanes}];");
            if (wholeRows)
            {
                EmitWholeRowWeightGradient(w, conv, isa);
                EmitLocalHelpers(w, isa, relu: false, store: true);
                return;
            }

            var sums = Enumerable.Range(0, blocks).SelectMany(g => Enumerable.Range(0, k).Select(j => (g, j))).ToList();
            using (w.Block($"for (int c = 0; c < {c}; c++)"))
            using (w.Block($"for (int i = 0; i < {k}; i++)"))
            using (w.Block($"for (int fb = 0; fb < {f}; fb += {lanes * blocks})"))
            {
                w.Line(string.Join(" ", sums.Select(t => $"var t{t.g}{t.j} = Splat(0f);")));
                using (w.Block($"for (int y = 0; y < {conv.OutHeight}; y++)"))
                {
                    w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + ((y + i) * {conv.SourceWidth}));");
                    using (w.Block($"for (int q = 0; q < {conv.OutWidth}; q++)"))
                    {
                        w.Line($"nuint at = (nuint)((((y * {conv.OutWidth}) + q) * {f}) + fb);");
                        w.Line(string.Join(" ", Enumerable.Range(0, k).Select(j => $"var s{j} = Splat(At(ref row, q + {j}));")));
                        for (int g = 0; g < blocks; g++)
                        {
                            w.Line($"var e{g} = Load(ref d, at{(g == 0 ? string.Empty : $" + {g * lanes}")});" + string.Concat(Enumerable.Range(0, k).Select(j => $" t{g}{j} = Fma(e{g}, s{j}, t{g}{j});")));
                        }
                    }
                }

                using (w.Block("if (deferred)"))
                {
                    w.Line($"nuint kept = (nuint)((((c * {k}) + i) * {k * f}) + fb); // pending[c, i, 0, fb]");
                    foreach (var (g, j) in sums)
                    {
                        string at = $"kept + {(j * f) + (g * lanes)}";
                        w.Line($"Store(Load(ref pt, {at}) + t{g}{j}, ref pt, {at});");
                    }

                    w.Line("continue;");
                }

                foreach (var (g, j) in sums)
                {
                    w.Line($"{isa.Static}.CopyTo(t{g}{j}, sums);");
                    using (w.Block($"for (int lane = 0; lane < {lanes}; lane++)"))
                    {
                        w.Line($"weightGradient[(((fb + {g * lanes} + lane) * {c}) + c) * {kk} + (i * {k}) + {j}] += sums[lane];");
                    }
                }
            }

            EmitLocalHelpers(w, isa, relu: false, store: true);
        }

        w.Line();
    }

    // The weight gradient a row of outputs at a time (wholeRows above), two kernel rows i and i + 1 at once where the
    // kernel has them: ten sums in flight for a 5×5 kernel, so the multiply-adds do not wait on each other's results.
    private static void EmitWholeRowWeightGradient(SourceWriter w, WideConv conv, VectorIsa isa)
    {
        int k = conv.Kernel, f = conv.OutChannels, lanes = isa.Lanes;
        using (w.Block($"for (int c = 0; c < {conv.InChannels}; c++)"))
        using (w.Block($"for (int fb = 0; fb < {f}; fb += {lanes})"))
        {
            if (k >= 2)
            {
                using (w.Block($"for (int i = 0; i < {k - 1}; i += 2)"))
                {
                    EmitWholeRowPass(w, conv, isa, rows: 2);
                }
            }

            if (k % 2 == 1)
            {
                using (w.Block(string.Empty))
                {
                    w.Line($"const int i = {k - 1};");
                    EmitWholeRowPass(w, conv, isa, rows: 1);
                }
            }
        }
    }

    // Kernel rows i (sums t0 … t(k − 1)) and, with rows 2, i + 1 (sums u0 …): for each output row y, its gradient vectors
    // e0 … e(width − 1) loaded, then input column s of each kernel row broadcast once and multiplied into the sum of every
    // tap j whose output q = s − j lies in the row. Each sum adds its outputs in order, as the other kernels do.
    private static void EmitWholeRowPass(SourceWriter w, WideConv conv, VectorIsa isa, int rows)
    {
        int k = conv.Kernel, width = conv.OutWidth, f = conv.OutChannels, lanes = isa.Lanes, kk = k * k;
        var prefixes = rows == 2 ? new[] { "t", "u" } : new[] { "t" };
        w.Line(string.Join(" ", prefixes.SelectMany(p => Enumerable.Range(0, k).Select(j => $"var {p}{j} = Splat(0f);"))));
        using (w.Block($"for (int y = 0; y < {conv.OutHeight}; y++)"))
        {
            w.Line($"ref float row = ref At(ref x, (c * {conv.SourcePlane}) + ((y + i) * {conv.SourceWidth}));");
            w.Line($"nuint at = (nuint)((y * {width * f}) + fb);");
            w.Line(string.Join(" ", Enumerable.Range(0, width).Select(q => $"var e{q} = Load(ref d, at{(q == 0 ? string.Empty : $" + {q * f}")});")));
            for (int column = 0; column < width + k - 1; column++)
            {
                var taps = Enumerable.Range(0, k).Where(j => column - j >= 0 && column - j < width).ToList();
                string declare = column == 0 ? "var " : string.Empty;
                var line = new System.Text.StringBuilder($"{declare}v = Splat(At(ref row, {column}));");
                if (rows == 2)
                {
                    line.Append($" {declare}n = Splat(At(ref row, {conv.SourceWidth + column}));");
                }

                foreach (int j in taps)
                {
                    line.Append($" t{j} = Fma(e{column - j}, v, t{j});");
                    if (rows == 2)
                    {
                        line.Append($" u{j} = Fma(e{column - j}, n, u{j});");
                    }
                }

                w.Line(line.ToString());
            }
        }

        using (w.Block("if (deferred)"))
        {
            w.Line($"nuint kept = (nuint)((((c * {k}) + i) * {k * f}) + fb); // pending[c, i, 0, fb]");
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < k; j++)
                {
                    string at = $"kept + {(r * k * f) + (j * f)}";
                    w.Line($"Store(Load(ref pt, {at}) + {prefixes[r]}{j}, ref pt, {at});");
                }
            }
        }
        using (w.Block("else"))
        {
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < k; j++)
                {
                    w.Line($"{isa.Static}.CopyTo({prefixes[r]}{j}, sums);");
                    using (w.Block($"for (int lane = 0; lane < {lanes}; lane++)"))
                    {
                        w.Line($"weightGradient[(((fb + lane) * {conv.InChannels}) + c) * {kk} + ((i + {r}) * {k}) + {j}] += sums[lane];");
                    }
                }
            }
        }
    }

    /// <summary>
    /// How many vectors of filters the weight-gradient kernel sums at once: the most (up to 8) that divide the
    /// <paramref name="vectors"/> of filters and keep blocks × <paramref name="kernel"/> accumulators, the row's
    /// <paramref name="kernel"/> broadcast inputs and one loaded gradient within the registers.
    /// </summary>
    internal static int FilterBlocks(int vectors, int kernel, VectorIsa isa)
    {
        for (int blocks = 8; blocks > 1; blocks--)
        {
            if (vectors % blocks == 0 && (blocks * kernel) + kernel + 1 <= isa.Registers)
            {
                return blocks;
            }
        }

        return 1;
    }

    private static void EmitRotateWeights(SourceWriter w, ConvCode plan)
    {
        var code = plan.Code;
        var conv = plan.ForwardWide!;
        int k = conv.Kernel, kk = k * k, f = conv.OutChannels, c = conv.InChannels;
        w.Line($"// {code.Layer.Name}: the kernels turned by 180° with filters and channels swapped, rotated[c, f, i, j] = weight[f, c, {k - 1} − i, {k - 1} − j].");
        w.Line(VectorEmitter.Hot);
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
