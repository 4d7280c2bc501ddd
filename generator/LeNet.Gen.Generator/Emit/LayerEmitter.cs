using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Writes each layer's forward and backward methods, side by side, in plain scalar C#: every shape a literal, every
/// kernel and pooling window unrolled into straight-line code with constant offsets, one line per window row.
/// </summary>
internal static class LayerEmitter
{
    public static void Emit(SourceWriter w, LayerCode code, bool training)
    {
        switch (code.Layer.Spec)
        {
            case ConvSpec conv:
                if (code.IsPadded)
                {
                    EmitPadding(w, code, conv);
                }

                EmitConvForward(w, code, conv);
                if (training)
                {
                    EmitConvBackward(w, code, conv);
                }

                break;
            case PoolSpec pool:
                EmitPoolForward(w, code, pool);
                if (training && !code.IsFirst)
                {
                    EmitPoolBackward(w, code, pool);
                }

                break;
            case DenseSpec:
                EmitDenseForward(w, code);
                if (training)
                {
                    EmitDenseBackward(w, code);
                }

                break;
        }
    }

    // ---------------------------------------------------------------- convolution

    private static void EmitPadding(SourceWriter w, LayerCode code, ConvSpec conv)
    {
        var input = code.Layer.Input;
        int ph = code.PaddedHeight, pw = code.PaddedWidth, p = conv.Padding;
        w.Line($"// {code.Layer.Name} padding: {input} → {input.Channels}×{ph}×{pw}, the input at row {p}, column {p}; the border stays zero.");
        using (w.Block($"private static void {code.Pascal}Pad({ReadOnlySpan} input, {Span} padded)"))
        {
            using (w.Block($"for (int c = 0; c < {input.Channels}; c++)"))
            using (w.Block($"for (int y = 0; y < {input.Height}; y++)"))
            {
                w.Line($"input.Slice((c * {Int((long)input.Height * input.Width)}) + (y * {input.Width}), {input.Width}).CopyTo(padded.Slice((c * {Int((long)ph * pw)}) + ((y + {p}) * {pw}) + {p}, {input.Width}));");
            }
        }

        w.Line();
        w.Line($"// {code.Layer.Name} padding, backward: keeps the gradient of the real input, drops that of the border.");
        using (w.Block($"private static void {code.Pascal}Unpad({ReadOnlySpan} paddedGradient, {Span} inputGradient)"))
        {
            using (w.Block($"for (int c = 0; c < {input.Channels}; c++)"))
            using (w.Block($"for (int y = 0; y < {input.Height}; y++)"))
            {
                w.Line($"paddedGradient.Slice((c * {Int((long)ph * pw)}) + ((y + {p}) * {pw}) + {p}, {input.Width}).CopyTo(inputGradient.Slice((c * {Int((long)input.Height * input.Width)}) + (y * {input.Width}), {input.Width}));");
            }
        }

        w.Line();
    }

    /// <summary>The input the window reads: the padded copy, or the layer's input itself.</summary>
    private static (int Height, int Width) WindowSource(LayerCode code) =>
        code.IsPadded ? (code.PaddedHeight, code.PaddedWidth) : (code.Layer.Input.Height, code.Layer.Input.Width);

    private static void EmitConvForward(SourceWriter w, LayerCode code, ConvSpec conv)
    {
        var output = code.Layer.Output;
        int channels = code.Layer.Input.Channels, k = conv.Kernel, s = conv.Stride;
        var (h, wd) = WindowSource(code);
        w.Line("// " + code.Layer.Describe());
        w.Line($"// out[f, y, x] = {code.Activation.Math("bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, " + Times("y", s) + " + i, " + Times("x", s) + " + j]")}" + (code.IsPadded ? ", in = the padded input" : string.Empty));
        string scratch = code.IsVectorized ? ", Workspace workspace" : string.Empty;
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {Span} output{scratch})"))
        {
            if (code.IsVectorized)
            {
                EmitForwardDispatch(w, code);
            }

            EmitConvForwardLoops(w, code, conv, channels, k, s, h, wd, output);
        }

        w.Line();
    }

    private static void EmitForwardDispatch(SourceWriter w, LayerCode code)
    {
        var conv = code.ForwardWide!;
        foreach (var isa in VectorIsa.All)
        {
            using (w.Block($"if ({isa.Condition})"))
            {
                w.Line($"{code.Pascal}ForwardWide{isa.Name}(input, weight, bias, workspace.{code.Wide});");
                w.Line($"{Simd}.Compact(workspace.{code.Wide}, {conv.Tile(isa).Plane}, {conv.SourceWidth}, {conv.OutChannels}, {conv.OutHeight}, {conv.OutWidth}, output);");
                if (!code.Activation.FusesIntoVectorStore)
                {
                    EmitActivationInPlace(w, code);
                }

                w.Line("return;");
            }

            w.Line();
        }

        w.Line("// Without vector support: the definition, one output at a time.");
    }

    /// <summary>Applies the layer's activation to its whole output, in place: a runtime call, or a loop over the scalar expression.</summary>
    private static void EmitActivationInPlace(SourceWriter w, LayerCode code)
    {
        var activation = code.Activation;
        string length = Int(code.Layer.Output.Length);
        if (activation.SpanForward is { } apply)
        {
            w.Line($"{apply}(output.Slice(0, {length}));");
        }
        else if (!activation.IsIdentity)
        {
            using (w.Block($"for (int o = 0; o < {length}; o++)"))
            {
                w.Line($"output[o] = {activation.Scalar("output[o]")};");
            }
        }
    }

    private static void EmitConvForwardLoops(SourceWriter w, LayerCode code, ConvSpec conv, int channels, int k, int s, int h, int wd, TensorShape output)
    {
        using (w.Block($"for (int f = 0; f < {output.Channels}; f++)"))
        using (w.Block($"for (int y = 0; y < {output.Height}; y++)"))
        using (w.Block($"for (int x = 0; x < {output.Width}; x++)"))
        {
            w.Line("float sum = bias[f];");
            ForEachChannel(w, channels, () =>
            {
                w.Line($"{ReadOnlySpan} w = weight.Slice({Flat("f", channels, "c")} * {k * k}, {k * k});");
                w.Line($"{ReadOnlySpan} i = input.Slice({WindowStart(channels > 1, h, wd, s, output)});");
                for (int row = 0; row < k; row++)
                {
                    w.Line("sum += " + string.Join(" + ", Enumerable.Range(0, k).Select(col => $"(w[{(row * k) + col}] * i[{(row * wd) + col}])")) + ";");
                }
            });
            w.Line($"output[{Flat3("f", output.Height, "y", output.Width, "x")}] = {code.Activation.Scalar("sum")};");
        }
    }

    private static void EmitConvBackward(SourceWriter w, LayerCode code, ConvSpec conv)
    {
        var output = code.Layer.Output;
        int channels = code.Layer.Input.Channels, k = conv.Kernel, s = conv.Stride;
        var (h, wd) = WindowSource(code);
        bool inputGradient = !code.IsFirst;
        w.Line($"// {code.Layer.Name} backward: dweight[f, c, i, j] += d[f, y, x] · in[c, {Times("y", s)} + i, {Times("x", s)} + j]; dbias[f] += d[f, y, x]" +
            (inputGradient ? $"; din[c, {Times("y", s)} + i, {Times("x", s)} + j] += d[f, y, x] · weight[f, c, i, j]" : " (the first layer needs no input gradient)"));
        string parameters = $"{ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} output, {Span} outputGradient, " +
            (inputGradient ? $"{Span} inputGradient, " : string.Empty) + $"{Span} weightGradient, {Span} biasGradient" +
            (code.IsVectorized ? ", Workspace workspace" : string.Empty);
        using (w.Block($"private static void {code.Backward}({parameters})"))
        {
            EmitActivationBackward(w, code);
            if (code.IsVectorized)
            {
                EmitBackwardDispatch(w, code);
            }

            if (inputGradient)
            {
                w.Line("inputGradient.Clear();");
            }

            using (w.Block($"for (int f = 0; f < {output.Channels}; f++)"))
            using (w.Block($"for (int y = 0; y < {output.Height}; y++)"))
            using (w.Block($"for (int x = 0; x < {output.Width}; x++)"))
            {
                w.Line($"float d = outputGradient[{Flat3("f", output.Height, "y", output.Width, "x")}];");
                w.Line("biasGradient[f] += d;");
                ForEachChannel(w, channels, () =>
                {
                    w.Line($"{ReadOnlySpan} i = input.Slice({WindowStart(channels > 1, h, wd, s, output)});");
                    w.Line($"{Span} dw = weightGradient.Slice({Flat("f", channels, "c")} * {k * k}, {k * k});");
                    for (int row = 0; row < k; row++)
                    {
                        w.Line(string.Join(" ", Enumerable.Range(0, k).Select(col => $"dw[{(row * k) + col}] += d * i[{(row * wd) + col}];")));
                    }

                    if (inputGradient)
                    {
                        w.Line($"{ReadOnlySpan} w = weight.Slice({Flat("f", channels, "c")} * {k * k}, {k * k});");
                        w.Line($"{Span} di = inputGradient.Slice({WindowStart(channels > 1, h, wd, s, output)});");
                        for (int row = 0; row < k; row++)
                        {
                            w.Line(string.Join(" ", Enumerable.Range(0, k).Select(col => $"di[{(row * wd) + col}] += d * w[{(row * k) + col}];")));
                        }
                    }
                });
            }
        }

        w.Line();
    }

    private static void EmitBackwardDispatch(SourceWriter w, LayerCode code)
    {
        var forward = code.ForwardWide!;
        var backward = code.InputGradientWide!;
        int k = forward.Kernel, plane = forward.OutHeight * forward.OutWidth;
        foreach (var isa in VectorIsa.All)
        {
            using (w.Block($"if ({isa.Condition})"))
            {
                using (w.Block($"for (int f = 0; f < {forward.OutChannels}; f++)"))
                {
                    w.Line($"biasGradient[f] += {Simd}.Sum(outputGradient.Slice(f * {plane}, {plane}));");
                }

                if (code.FiltersFillVectors(isa))
                {
                    w.Line($"{code.Pascal}WeightGradient{isa.Name}(input, outputGradient, workspace.{code.TransposedGradient}, weightGradient);");
                }
                else
                {
                    w.Line($"{Simd}.Expand(outputGradient, {forward.OutChannels}, {forward.OutHeight}, {forward.OutWidth}, workspace.{code.WideGradient}, {forward.Tile(isa).Plane}, {forward.SourceWidth}, 0, 0);");
                    w.Line($"{code.Pascal}WeightGradient{isa.Name}(input, workspace.{code.WideGradient}, weightGradient);");
                }

                if (!code.IsFirst)
                {
                    w.Line($"{Simd}.Expand(outputGradient, {forward.OutChannels}, {forward.OutHeight}, {forward.OutWidth}, workspace.{code.PaddedGradient}, {backward.SourcePlane}, {backward.SourceWidth}, {k - 1}, {k - 1});");
                    w.Line($"{code.Pascal}RotateWeights(weight, workspace.{code.RotatedWeights});");
                    w.Line($"{code.Pascal}InputGradientWide{isa.Name}(workspace.{code.PaddedGradient}, workspace.{code.RotatedWeights}, workspace.{code.WideInputGradient});");
                    w.Line($"{Simd}.Compact(workspace.{code.WideInputGradient}, {backward.Tile(isa).Plane}, {backward.SourceWidth}, {backward.OutChannels}, {backward.OutHeight}, {backward.OutWidth}, inputGradient);");
                }

                w.Line("return;");
            }

            w.Line();
        }

        w.Line("// Without vector support: the definition, one output at a time.");
    }

    /// <summary>Writes the body once per input channel: inside a loop over <c>c</c>, or directly (with <c>c</c> = 0 folded away) for one channel.</summary>
    private static void ForEachChannel(SourceWriter w, int channels, System.Action body)
    {
        if (channels == 1)
        {
            body();
            return;
        }

        using (w.Block($"for (int c = 0; c < {channels}; c++)"))
        {
            body();
        }
    }

    /// <summary>
    /// Offset of a window's top-left value, <c>c·H·W + y·S·W + x·S</c>, with the products folded into literals. A loop
    /// variable that only ever takes the value 0 (an output of height or width 1) is left out, which also keeps a huge
    /// stride from producing a literal beyond <c>int</c>.
    /// </summary>
    private static string WindowStart(bool hasChannel, int height, int width, int stride, TensorShape output)
    {
        var terms = new List<string>();
        if (hasChannel)
        {
            terms.Add($"(c * {Int((long)height * width)})");
        }

        if (output.Height > 1)
        {
            terms.Add($"(y * {Int((long)stride * width)})");
        }

        if (output.Width > 1)
        {
            terms.Add(stride == 1 ? "x" : $"(x * {stride})");
        }

        return terms.Count == 0 ? "0" : string.Join(" + ", terms);
    }

    /// <summary><c>(a * n) + b</c>, or just <c>a</c> and <c>b</c> folded when <paramref name="n"/> is 1.</summary>
    private static string Flat(string a, int n, string b) => n == 1 ? a : $"(({a} * {n}) + {b})";

    private static string Flat3(string a, int n1, string b, int n2, string c) => $"(((({a} * {n1}) + {b}) * {n2}) + {c})";

    private static string Times(string variable, int factor) => factor == 1 ? variable : $"{factor}{variable}";

    // ---------------------------------------------------------------- pooling

    private static bool HasPartialWindows(LayerCode code, PoolSpec pool) =>
        ((code.Layer.Output.Height - 1) * pool.Stride) + pool.Size > code.Layer.Input.Height
        || ((code.Layer.Output.Width - 1) * pool.Stride) + pool.Size > code.Layer.Input.Width;

    private static void EmitPoolForward(SourceWriter w, LayerCode code, PoolSpec pool)
    {
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        int k = pool.Size, s = pool.Stride;
        bool max = pool.Kind == PoolingKind.Max;
        w.Line("// " + code.Layer.Describe());
        w.Line(max
            ? $"// out[c, y, x] = max over the {k}×{k} window at in[c, {Times("y", s)}, {Times("x", s)}]"
            : $"// out[c, y, x] = mean of the {k}×{k} window at in[c, {Times("y", s)}, {Times("x", s)}]");
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {Span} output)"))
        using (w.Block($"for (int c = 0; c < {output.Channels}; c++)"))
        using (w.Block($"for (int y = 0; y < {output.Height}; y++)"))
        using (w.Block($"for (int x = 0; x < {output.Width}; x++)"))
        {
            string target = $"output[{Flat3("c", output.Height, "y", output.Width, "x")}]";
            string start = WindowStart(true, input.Height, input.Width, s, output);
            if (HasPartialWindows(code, pool))
            {
                EmitClippedWindow(w, input, k, s);
                w.Line($"{ReadOnlySpan} i = input.Slice({start});");
                w.Line(max ? "float value = float.NegativeInfinity;" : "float value = 0f;");
                using (w.Block("for (int r = 0; r < rows; r++)"))
                using (w.Block("for (int q = 0; q < columns; q++)"))
                {
                    w.Line(max ? $"value = {MathF}.Max(value, i[(r * {input.Width}) + q]);" : $"value += i[(r * {input.Width}) + q];");
                }

                w.Line($"{target} = " + (max ? "value;" : "value / (rows * columns);"));
            }
            else if (max)
            {
                w.Line($"{ReadOnlySpan} i = input.Slice({start});");
                w.Line("float value = i[0];");
                for (int row = 0; row < k; row++)
                {
                    for (int col = row == 0 ? 1 : 0; col < k; col++)
                    {
                        w.Line($"value = {MathF}.Max(value, i[{(row * input.Width) + col}]);");
                    }
                }

                w.Line($"{target} = value;");
            }
            else
            {
                w.Line($"{ReadOnlySpan} i = input.Slice({start});");
                w.Line("float sum = 0f;");
                for (int row = 0; row < k; row++)
                {
                    w.Line("sum += " + string.Join(" + ", Enumerable.Range(0, k).Select(col => $"i[{(row * input.Width) + col}]")) + ";");
                }

                w.Line($"{target} = sum * {Float(1f / (k * k))}; // 1 / {k * k}");
            }
        }

        w.Line();
    }

    private static void EmitClippedWindow(SourceWriter w, TensorShape input, int k, int s)
    {
        w.Line("// Ceiling rounding: the last window may hang over the edge; it covers only the rows and columns inside the input.");
        w.Line($"int rows = global::System.Math.Min({k}, {input.Height} - (y * {s}));");
        w.Line($"int columns = global::System.Math.Min({k}, {input.Width} - (x * {s}));");
    }

    private static void EmitPoolBackward(SourceWriter w, LayerCode code, PoolSpec pool)
    {
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        int k = pool.Size, s = pool.Stride;
        bool max = pool.Kind == PoolingKind.Max;
        w.Line(max
            ? $"// {code.Layer.Name} backward: each output's gradient goes to the first input in its window (row by row) that equals the maximum"
            : $"// {code.Layer.Name} backward: each output's gradient is shared equally by the inputs of its window");
        using (w.Block($"private static void {code.Backward}({ReadOnlySpan} input, {ReadOnlySpan} output, {ReadOnlySpan} outputGradient, {Span} inputGradient)"))
        {
            w.Line("inputGradient.Clear();");
            using (w.Block($"for (int c = 0; c < {output.Channels}; c++)"))
            using (w.Block($"for (int y = 0; y < {output.Height}; y++)"))
            using (w.Block($"for (int x = 0; x < {output.Width}; x++)"))
            {
                string at = $"{Flat3("c", output.Height, "y", output.Width, "x")}";
                string start = WindowStart(true, input.Height, input.Width, s, output);
                if (HasPartialWindows(code, pool))
                {
                    EmitClippedWindow(w, input, k, s);
                    w.Line($"{ReadOnlySpan} i = input.Slice({start});");
                    w.Line($"{Span} di = inputGradient.Slice({start});");
                    w.Line($"float d = outputGradient[{at}];");
                    if (max)
                    {
                        w.Line($"float value = output[{at}];");
                        w.Line("bool found = false;");
                        using (w.Block("for (int r = 0; r < rows && !found; r++)"))
                        using (w.Block("for (int q = 0; q < columns && !found; q++)"))
                        {
                            using (w.Block($"if (i[(r * {input.Width}) + q] == value)"))
                            {
                                w.Line($"di[(r * {input.Width}) + q] += d;");
                                w.Line("found = true;");
                            }
                        }
                    }
                    else
                    {
                        w.Line("d /= rows * columns;");
                        using (w.Block("for (int r = 0; r < rows; r++)"))
                        using (w.Block("for (int q = 0; q < columns; q++)"))
                        {
                            w.Line($"di[(r * {input.Width}) + q] += d;");
                        }
                    }
                }
                else if (max)
                {
                    w.Line($"{ReadOnlySpan} i = input.Slice({start});");
                    w.Line($"{Span} di = inputGradient.Slice({start});");
                    w.Line($"float value = output[{at}];");
                    w.Line($"float d = outputGradient[{at}];");
                    bool firstCase = true;
                    for (int row = 0; row < k; row++)
                    {
                        for (int col = 0; col < k; col++)
                        {
                            int offset = (row * input.Width) + col;
                            w.Line($"{(firstCase ? "if" : "else if")} (i[{offset}] == value) di[{offset}] += d;");
                            firstCase = false;
                        }
                    }
                }
                else
                {
                    w.Line($"{Span} di = inputGradient.Slice({start});");
                    w.Line($"float d = outputGradient[{at}] * {Float(1f / (k * k))}; // 1 / {k * k}");
                    for (int row = 0; row < k; row++)
                    {
                        w.Line(string.Join(" ", Enumerable.Range(0, k).Select(col => $"di[{(row * input.Width) + col}] += d;")));
                    }
                }
            }
        }

        w.Line();
    }

    // ---------------------------------------------------------------- dense

    private static void EmitDenseForward(SourceWriter w, LayerCode code)
    {
        int inputs = code.Layer.Input.Length, units = code.Layer.Output.Length;
        w.Line("// " + code.Layer.Describe() + (code.Layer.Input.IsSpatial ? $" (the {code.Layer.Input} input flattened in channel, row, column order)" : string.Empty));
        w.Line($"// out[o] = {code.Activation.Math("bias[o] + Σ i weight[o, i] · in[i]")}" + (code.IsSoftmaxHead ? " (the logits; softmax follows)" : string.Empty));
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {Span} output)"))
        {
            w.Line($"{Simd}.MatrixVector(weight, input, bias, output, {units}, {inputs}); // output[o] = bias[o] + Σ i weight[o, i] · in[i]");
            EmitActivationInPlace(w, code);
        }

        w.Line();
    }

    private static void EmitDenseBackward(SourceWriter w, LayerCode code)
    {
        int inputs = code.Layer.Input.Length, units = code.Layer.Output.Length;
        bool inputGradient = !code.IsFirst;
        w.Line($"// {code.Layer.Name} backward: dweight[o, i] += d[o] · in[i]; dbias[o] += d[o]" + (inputGradient ? "; din[i] = Σ o d[o] · weight[o, i]" : " (the first layer needs no input gradient)"));
        string parameters = $"{ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} output, {Span} outputGradient, " +
            (inputGradient ? $"{Span} inputGradient, " : string.Empty) + $"{Span} weightGradient, {Span} biasGradient";
        using (w.Block($"private static void {code.Backward}({parameters})"))
        {
            EmitActivationBackward(w, code);
            if (inputGradient)
            {
                w.Line($"{Simd}.TransposedMatrixVector(weight, outputGradient, inputGradient, {units}, {inputs}); // din[i] = Σ o d[o] · weight[o, i]");
            }

            using (w.Block($"for (int o = 0; o < {units}; o++)"))
            {
                w.Line("float d = outputGradient[o];");
                w.Line("biasGradient[o] += d;");
                w.Line($"{Simd}.MultiplyAdd(input.Slice(0, {inputs}), d, weightGradient.Slice(o * {inputs}, {inputs})); // dweight[o, i] += d · in[i]");
            }
        }

        w.Line();
    }

    // ---------------------------------------------------------------- activations

    /// <summary>
    /// Turns the gradient with respect to the layer's output into the gradient with respect to its pre-activation sum,
    /// in place, using the output itself. A softmax head gets its logits' gradient straight from the loss, so it needs nothing here.
    /// </summary>
    private static void EmitActivationBackward(SourceWriter w, LayerCode code)
    {
        if (code.Activation.Backward is { } undo)
        {
            w.Line($"{undo}(output.Slice(0, {Int(code.Layer.Output.Length)}), outputGradient); // {code.Activation.BackwardComment}");
        }
    }
}
