using System;
using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using static LeNet.Gen.Generator.Emit.Code;
using static LeNet.Gen.Generator.Emit.LayerEmitter;
using static LeNet.Gen.Generator.Shapes.ShapeInference;
using static LeNet.Gen.Generator.Parsing.SpecReader;

namespace LeNet.Gen.Generator.Layers;

/// <summary><c>[Pool(kind, size, Stride)]</c>; <see cref="StrideArgument"/> is null when not written, and the stride is then the window.</summary>
internal sealed record PoolSpec(int Index, PoolingKind Kind, int Size, int? StrideArgument) : LayerSpec(Index)
{
    public int Stride => StrideArgument ?? Size;
}

/// <summary>
/// <c>[Pool(kind, size, Stride)]</c>: max or average pooling, <c>pool{k}</c>, without parameters (PyTorch's
/// <c>MaxPool2d</c>/<c>AvgPool2d</c>). With Ceiling rounding a last window may hang over the edge and covers only what is inside.
/// </summary>
internal sealed class PoolLayer : ILayerKind
{
    public static readonly PoolLayer Instance = new();

    public string AttributeName => "LeNet.Gen.PoolAttribute";

    public string NamePrefix => "pool";

    public string? SoleName => null;

    public bool NeedsWorkspace => false;

    public bool Owns(LayerSpec spec) => spec is PoolSpec;

    public LayerSpec Read(AttributeData attribute, int index) =>
        new PoolSpec(index, (PoolingKind)Positional(attribute, 0), Positional(attribute, 1), StrideArgument: Named(attribute, "Stride"));

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems)
    {
        var p = (PoolSpec)spec;
        ProblemTarget At(string argument) => ProblemTarget.Layer(p.Index, argument);
        return Window(p.Size, name, "size", At("size"), problems)
            & (p.StrideArgument is not int stride || AtLeast(1, stride, name, "Stride", At("Stride"), problems))
            & KnownPool(p.Kind, name, At("kind"), problems);
    }

    public LayerPlan? Plan(NetworkSpec spec, LayerSpec layer, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar)
    {
        var pool = (PoolSpec)layer;
        var output = PlanWindow(spec, pool.Index, name, input, source, pool.Size, pool.Stride, padding: 0, input.Channels, isConv: false, problems);
        return output is null ? null : new LayerPlan(pool, name, input, output, 0, 0, 0, 0);
    }

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec)
    {
        var p = (PoolSpec)spec;
        return (p.Size, p.Stride, 0, false);
    }

    public ActivationKind ActivationOf(LayerSpec spec) => ActivationKind.None;

    public bool HasActivation => false;

    public bool AppliesPreviousActivation => false;

    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer) => Array.Empty<StateTensor>();

    public bool DrawsParameters => false;

    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        // Nothing to set: no parameters, no state.
    }

    public string Describe(LayerPlan layer)
    {
        var p = (PoolSpec)layer.Spec;
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} {1} {2}×{2} s{3}", layer.Name, p.Kind == PoolingKind.Max ? "max" : "avg", p.Size, p.Stride);
    }

    public string? WeightShape(LayerPlan layer) => null;

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation)
    {
        var p = (PoolSpec)layer.Spec;
        return $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.Pooling, \"{layer.Name}\", {input}, {output}, kernel: {Int(p.Size)}, stride: {Int(p.Stride)}, padding: 0, global::LeNet.Gen.PoolKind.{p.Kind}, {rounding}, {activation}, null, null)";
    }

    public LayerWorkspace Workspace(LayerCode code) => LayerWorkspace.None;

    public bool HasVectorKernels(LayerCode code) => false;

    public void EmitVectorKernels(SourceWriter w, LayerCode code, bool training)
    {
        // None: no generated kernels beyond its scalar methods (which may call the runtime's).
    }

    public bool HasPreparedKernels(LayerCode code) => false;

    public void EmitPreparedKernelFields(SourceWriter w, LayerCode code)
    {
        // No prepared kernels: every call runs the same per-input code.
    }

    public void EmitPreparedKernelSetup(SourceWriter w, LayerCode code)
    {
        // No prepared kernels to set up.
    }

    public bool HasDeferredGradients(LayerCode code) => false;

    public (int WeightOffset, int Rows, int Columns)? BatchGradient(LayerCode code) => null;

    public void EmitFinishExamples(SourceWriter w, LayerCode code)
    {
        // No deferred weight gradients: each example's are added as its backward pass runs.
    }

    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        return $"{ImageLanes}.Pool({source}, {Int(input.Channels)}, {Int(input.Height)}, {Int(input.Width)}, {Int(pool.Size)}, {Int(pool.Stride)}, "
            + $"{Int(output.Height)}, {Int(output.Width)}, max: {(pool.Kind == PoolingKind.Max ? "true" : "false")}, {target});";
    }

    public string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch) => null;

    public bool? ImageLanesPairPooling(LayerCode code)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        return pool.Size == 2 && pool.Stride == 2 && input.Height % 2 == 0 && input.Width % 2 == 0 ? pool.Kind == PoolingKind.Max : null;
    }

    public int ImageLanesScratch(LayerCode code) => 0;

    public bool ImageLanesOnRows(LayerCode code) => false;

    public (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code) => (0, 0);

    public ImageGroupStep? ImageGroup(LayerCode code) => null;

    public string? TrainingLanesForward(LayerCode code, string source, string target, string scratch)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        return $"{TrainingLanesEmitter.Runtime}.Pool({source}, {LanesShapes(code)}, max: {(pool.Kind == PoolingKind.Max ? "true" : "false")}, {target});";
    }

    /// <summary>Each window's gradient to its first maximal input, or shared by its inputs; nothing for a first layer.</summary>
    public string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        return inputGradient is null
            ? string.Empty
            : $"{TrainingLanesEmitter.Runtime}.PoolBackward({source}, {output}, {outputGradient}, {LanesShapes(code)}, max: {(pool.Kind == PoolingKind.Max ? "true" : "false")}, {inputGradient});";
    }

    public string? TrainingLanesScratch(LayerCode code) => null;

    // channels, height, width, size, stride, outHeight, outWidth
    private static string LanesShapes(LayerCode code)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        return $"{Int(input.Channels)}, {Int(input.Height)}, {Int(input.Width)}, {Int(pool.Size)}, {Int(pool.Stride)}, {Int(output.Height)}, {Int(output.Width)}";
    }

    public void Emit(SourceWriter w, LayerCode code, bool training)
    {
        var pool = (PoolSpec)code.Layer.Spec;
        EmitPoolForward(w, code, pool);
        if (training && !code.IsFirst)
        {
            EmitPoolBackward(w, code, pool);
        }
    }

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
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {Span} output)"))
        {
            if (UsesVectorKernel(code, pool))
            {
                EmitVectorCall(w, $"{(max ? "Max" : "Average")}Forward2x2(input, output, {Shapes(code)});");
            }
            else if (UsesWindowKernel(code, pool))
            {
                w.Line($"// Kernel: {k}×{k} windows with stride {s}: the runtime's kernel computes 16 outputs of a row at once with AVX-512 (lane");
                w.Line("// permutes pick every s-th input), one at a time with AVX2; the same arithmetic as the loops below, which run without AVX2.");
                using (w.Block($"if ({Simd}.Use256)"))
                {
                    w.Line($"{Pooling}.Forward(input, output, {Shapes(code)}, {k}, {s}, average: {(max ? "false" : "true")});");
                    w.Line("return;");
                }

                w.Line();
            }

            EmitPoolForwardLoops(w, code, pool);
        }

        w.Line();
    }

    /// <summary>
    /// True when the layer runs the runtime's vector kernel (<c>Pooling.*2x2</c>) on AVX2 machines: 2×2 windows with stride 2,
    /// which never overlap, and none hanging over the edge.
    /// </summary>
    internal static bool UsesVectorKernel(LayerCode code, PoolSpec pool) =>
        pool.Size == 2 && pool.Stride == 2 && !HasPartialWindows(code, pool);

    /// <summary>
    /// True when the layer's forward pass runs the runtime's kernel for other windows and strides (<c>Pooling.Forward</c>)
    /// on AVX2 machines: windows other than 2×2 with stride 2, none hanging over the edge, and a stride of at most
    /// <see cref="MaxWindowStride"/>. The runtime's <c>Pooling.Vectorizes</c> checks the same.
    /// </summary>
    internal static bool UsesWindowKernel(LayerCode code, PoolSpec pool) =>
        !UsesVectorKernel(code, pool) && !HasPartialWindows(code, pool) && pool.Stride <= MaxWindowStride;

    /// <summary>The runtime's <c>Pooling.MaxWindowStride</c>: 16 outputs of a row then span at most 4 vectors of input.</summary>
    internal const int MaxWindowStride = 4;

    private static string Shapes(LayerCode code) =>
        $"{code.Layer.Input.Channels}, {code.Layer.Input.Height}, {code.Layer.Input.Width}, {code.Layer.Output.Height}, {code.Layer.Output.Width}";

    private static void EmitVectorCall(SourceWriter w, string call)
    {
        w.Line("// Kernel: 2×2 windows with stride 2 neither overlap nor leave the input, so the runtime's vector kernel does four");
        w.Line("// outputs per step (a lane shuffle pairs the neighbours); the same arithmetic as the loops below, which run without AVX2.");
        using (w.Block($"if ({Simd}.Use256)"))
        {
            w.Line($"{Pooling}.{call}");
            w.Line("return;");
        }

        w.Line();
    }

    private static void EmitPoolForwardLoops(SourceWriter w, LayerCode code, PoolSpec pool)
    {
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        int k = pool.Size, s = pool.Stride;
        bool max = pool.Kind == PoolingKind.Max;
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
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Backward}({ReadOnlySpan} input, {ReadOnlySpan} output, {ReadOnlySpan} outputGradient, {Span} inputGradient)"))
        {
            if (UsesVectorKernel(code, pool))
            {
                EmitVectorCall(w, max
                    ? $"MaxBackward2x2(input, output, outputGradient, inputGradient, {Shapes(code)});"
                    : $"AverageBackward2x2(outputGradient, inputGradient, {Shapes(code)});");
            }

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
                    if (k * k <= 32)
                    {
                        w.Line("// Which inputs of the window equal the maximum, one bit each in row-by-row order, found without branches");
                        w.Line("// (where the maximum lies changes from window to window, so a chain of ifs mispredicts); the gradient goes");
                        w.Line("// to the first. None equals a NaN maximum: that window passes no gradient.");
                        var flags = Enumerable.Range(0, k * k).Select(tap => $"{Pooling}.Flag(i[{(tap / k * input.Width) + (tap % k)}] == value, {tap})");
                        w.Line($"int equal = {string.Join(" | ", flags)};");
                        using (w.Block("if (equal != 0)"))
                        {
                            w.Line("int tap = global::System.Numerics.BitOperations.TrailingZeroCount(equal);");
                            w.Line($"di[(tap / {k} * {input.Width}) + (tap % {k})] += d;");
                        }
                    }
                    else
                    {
                        // Windows of more than 32 inputs (6×6 and larger): the first equal input by a chain of tests.
                        bool firstCase = true;
                        for (int tap = 0; tap < k * k; tap++)
                        {
                            int offset = (tap / k * input.Width) + (tap % k);
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
}
