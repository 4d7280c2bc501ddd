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

/// <summary><c>[Dense(units, Activation, Inputs)]</c>; <see cref="Inputs"/> is null when not written.</summary>
internal sealed record DenseSpec(int Index, int Units, ActivationKind Activation, int? Inputs) : LayerSpec(Index);

/// <summary>
/// <c>[Dense(units, Activation, Inputs)]</c>: a fully connected layer, <c>fc{k}</c> with PyTorch's <c>Linear</c> tensors
/// (weight [out, in]); a spatial input is flattened in channel, row, column order.
/// </summary>
internal sealed class DenseLayer : ILayerKind
{
    public static readonly DenseLayer Instance = new();

    public string AttributeName => "LeNet.Gen.DenseAttribute";

    public string NamePrefix => "fc";

    public string? SoleName => null;

    public bool NeedsWorkspace => false;

    public bool Owns(LayerSpec spec) => spec is DenseSpec;

    public LayerSpec Read(AttributeData attribute, int index) => new DenseSpec(
        index,
        Units: Positional(attribute, 0),
        Activation: (ActivationKind)(Named(attribute, "Activation") ?? 0),
        Inputs: Named(attribute, "Inputs"));

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems)
    {
        var d = (DenseSpec)spec;
        ProblemTarget At(string argument) => ProblemTarget.Layer(d.Index, argument);
        return AtLeast(1, d.Units, name, "units", At("units"), problems)
            & (d.Inputs is not int inputs || AtLeast(1, inputs, name, "Inputs", At("Inputs"), problems))
            & KnownActivation(d.Activation, name, At("Activation"), problems);
    }

    public LayerPlan? Plan(NetworkSpec spec, LayerSpec layer, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar)
    {
        var dense = (DenseSpec)layer;
        if (dense.Inputs is int declared && declared != input.Length)
        {
            var target = ProblemTarget.Layer(dense.Index);
            problems.Add(new Problem(
                Rules.DenseInputsMismatch.Id, ProblemTarget.Layer(dense.Index, "Inputs"), name,
                Format("{0}", declared), Format("{0}", input.Length), Format("{0} from {1}", input.ExplainLength(), source))
            {
                Fixes = new[]
                {
                    new FixSuggestion(
                        Format("Set Inputs = {0} ({1}'s real input size)", input.Length, name),
                        Rules.DenseInputsMismatch.Id + ".SetInputs",
                        FixEdit.Set(target, "Inputs", Format("{0}", input.Length))),
                    new FixSuggestion(
                        Format("Remove Inputs = {0} from {1}", declared, name),
                        Rules.DenseInputsMismatch.Id + ".RemoveInputs",
                        FixEdit.Remove(target, "Inputs")),
                }.ToEquatableArray(),
            });
        }

        long weights = Multiply(dense.Units, input.Length);
        if (!CheckParameters(name, dense.Index, weights, dense.Units, parametersSoFar, Format("{0} × {1} + {0}", dense.Units, input.Length), problems)
            || !CheckTensor(name, dense.Index, dense.Units, Format("{0}", dense.Units), problems))
        {
            return null;
        }

        int offset = (int)parametersSoFar;
        return new LayerPlan(dense, name, input, TensorShape.Flat(dense.Units), offset, (int)weights, offset + (int)weights, dense.Units);
    }

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec) => null;

    public ActivationKind ActivationOf(LayerSpec spec) => ((DenseSpec)spec).Activation;

    public bool HasActivation => true;

    public bool AppliesPreviousActivation => false;

    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer) => Array.Empty<StateTensor>();

    public bool DrawsParameters => true;

    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        // Nothing to set: its weights and biases are drawn (DrawsParameters), and it keeps no state.
    }

    public string Describe(LayerPlan layer) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} {1}→{2}", layer.Name, layer.Input.Length, ((DenseSpec)layer.Spec).Units);

    public string? WeightShape(LayerPlan layer) => $"{layer.Output.Length}, {layer.Input.Length}";

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation) =>
        $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.Dense, \"{layer.Name}\", {input}, {output}, kernel: 0, stride: 0, padding: 0, global::LeNet.Gen.PoolKind.Max, {rounding}, {activation}, \"{layer.Name}.weight\", \"{layer.Name}.bias\")";

    public LayerWorkspace Workspace(LayerCode code) => LayerWorkspace.None;

    public bool HasVectorKernels(LayerCode code) => false;

    public void EmitVectorKernels(SourceWriter w, LayerCode code, bool training)
    {
        // None: no generated kernels beyond its scalar methods (which may call the runtime's).
    }

    /// <summary>
    /// True when a training network takes the layer's weight gradient over each step's whole batch at once: when its
    /// weights (at least <see cref="BatchWeights"/>) no longer stay in the level-1 cache, the per-example rank-1 update
    /// would stream them through memory once per example. Instead each example's output gradient and input are kept
    /// (the runtime's <c>BatchGradients</c>), and after the last example every weight's gradient is written once,
    /// <c>Σ n d[n, o] · in[n, i]</c> in example order, block of rows by block of rows on the training threads.
    /// </summary>
    internal static bool TakesBatchGradient(LayerCode code) =>
        code.Plan.CanTrain && (long)code.Layer.Input.Length * code.Layer.Output.Length >= BatchWeights;

    /// <summary>
    /// The fewest weights (16 KB of floats, half a 32 KB level-1 cache, which the example's other buffers share) whose
    /// gradient is taken over the whole batch. LeNet-5's fc2 (84 × 120, 40 KB) gained: one-thread training 28.8k →
    /// 29.4k img/s on an AMD EPYC (Zen 4) against 64 KB; its fc3 (3 KB) gained nothing more.
    /// </summary>
    internal const long BatchWeights = 4096;

    /// <summary>
    /// True when single-image <c>Predict</c> calls read the layer's weights packed by groups of four rows (the runtime's
    /// <c>PackedRows</c>, same sums in the same order): when there are enough of them (at least
    /// <see cref="PackedRowsMinimum"/>) to come from the level-2 cache rather than the level-1, and few enough (at most
    /// <see cref="PackedRowsMaximum"/>) that the cache, not memory bandwidth, limits them. There the four interleaved
    /// row streams of <c>Simd.MatrixVector</c> keep the prefetchers from keeping up, and one sequential stream does not:
    /// measured on Zen 5, LeNet-5's fc1 (120 × 400) from 1.9 to 1.3 µs and a 64 × 2,048 layer from 5.5 to 3.8 µs, while
    /// 500 × 1,800 (3.6 MB) stays at 51 µs either way. The packing is made once per parameter version, so only calls
    /// that keep it (<c>kept</c>) use it; batch calls read the weights once for many images anyway.
    /// </summary>
    internal static bool PacksRows(LayerCode code)
    {
        long weights = (long)code.Layer.Input.Length * code.Layer.Output.Length;
        return weights >= PackedRowsMinimum && weights <= PackedRowsMaximum && code.Layer.Output.Length >= 4 && code.Layer.Input.Length >= 16;
    }

    /// <summary>The fewest weights (16 KB of floats) that single-image calls read packed (<see cref="PacksRows"/>).</summary>
    internal const long PackedRowsMinimum = 4096;

    /// <summary>The most weights (1 MB of floats, a level-2 cache) that single-image calls read packed (<see cref="PacksRows"/>).</summary>
    internal const long PackedRowsMaximum = 262144;

    private static string UsesPackedRows(LayerCode code) => code.Pascal + "UsesPackedRows";

    private static string PackedWeights(LayerCode code) => code.Pascal + "PackedWeights";

    private static string PackedSource(LayerCode code) => code.Pascal + "PackedSource";

    public bool HasPreparedKernels(LayerCode code) => PacksRows(code);

    public bool HasDeferredGradients(LayerCode code) => false;

    public (int WeightOffset, int Rows, int Columns)? BatchGradient(LayerCode code) =>
        TakesBatchGradient(code) ? (code.Layer.WeightOffset, code.Layer.Output.Length, code.Layer.Input.Length) : null;

    public void EmitPreparedKernelFields(SourceWriter w, LayerCode code)
    {
        // Its training-time set-up, the store of its batch-wide weight gradient, is the runtime's.
        if (PacksRows(code))
        {
            w.Line($"public bool {UsesPackedRows(code)}; // {code.Layer.Name} reads its weights packed by groups of 4 rows in this call");
            w.Line($"public float[]? {PackedWeights(code)}; // {code.Layer.Name} weights so packed, made on the thread's first such call and again when the weights change");
            w.Line($"public float[]? {PackedSource(code)}; // {code.Layer.Name} weights as they were when last packed");
        }
    }

    public void EmitPreparedKernelSetup(SourceWriter w, LayerCode code)
    {
        if (!PacksRows(code))
        {
            return;
        }

        var layer = code.Layer;
        string weights = $"parameters.Slice({Int(layer.WeightOffset)}, {Int(layer.WeightCount)})";
        w.Line($"workspace.{UsesPackedRows(code)} = !training && !batch && kept && vectors;");
        using (w.Block($"if (workspace.{UsesPackedRows(code)})"))
        {
            w.Line($"workspace.{PackedWeights(code)} ??= new float[{Int(layer.WeightCount)}];");
            using (w.Block($"if (!{PreparedWeights}.Unchanged({weights}, ref workspace.{PackedSource(code)}))"))
            {
                w.Line($"{PackedRowsClass}.Pack({weights}, {Int(layer.Output.Length)}, {Int(layer.Input.Length)}, workspace.{PackedWeights(code)});");
            }
        }
    }

    private const string PackedRowsClass = "global::LeNet.Gen.Runtime.PackedRows";

    public void EmitFinishExamples(SourceWriter w, LayerCode code)
    {
        // None: its weight gradient waits for the whole batch (BatchGradient), not for the end of a chunk.
    }

    /// <summary>On the whole call's inputs at once, one per lane of <c>ImageLanes.Batch</c> (a dense layer's input is flat).</summary>
    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch) =>
        $"{ImageLanes}.Dense({source}, {code.ParameterSlices}, {Int(code.Layer.Output.Length)}, {Int(code.Layer.Input.Length)}, relu: {(code.FusesRelu ? "true" : "false")}, {target});";

    public string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch) => null;

    public bool? ImageLanesPairPooling(LayerCode code) => null;

    public int ImageLanesScratch(LayerCode code) => 0;

    public bool ImageLanesOnRows(LayerCode code) => true;

    public (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code)
    {
        double multiplyAdds = (double)code.Layer.Input.Length * code.Layer.Output.Length;
        return (multiplyAdds / ImageLanesCostModel.DenseMultiplyAddsPerNs, multiplyAdds / ImageLanesCostModel.MatrixVectorMultiplyAddsPerNs);
    }

    public ImageGroupStep? ImageGroup(LayerCode code) => null;

    public string? TrainingLanesForward(LayerCode code, string source, string target, string scratch) =>
        $"{TrainingLanesEmitter.Runtime}.Dense({source}, {code.ParameterSlices}, {Int(code.Layer.Output.Length)}, {Int(code.Layer.Input.Length)}, relu: {(code.FusesRelu ? "true" : "false")}, {target});";

    /// <summary>
    /// The weight and bias gradients example by example (over the whole batch for a layer whose weight gradient waits for
    /// it), then the input gradient for the chunk.
    /// </summary>
    public string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch)
    {
        int rows = code.Layer.Output.Length, columns = code.Layer.Input.Length;
        string batch = BatchGradient(code) is null ? "null" : "batch";
        string weights = $"{TrainingLanesEmitter.Runtime}.DenseWeightGradient({outputGradient}, {source}, count, {Int(rows)}, {Int(columns)}, "
            + $"{TrainingLanesEmitter.GradientSlices(code)}, {batch}, {Int(code.Layer.WeightOffset)}, first, {scratch});";
        return inputGradient is null
            ? weights
            : weights + $"\n{TrainingLanesEmitter.Runtime}.DenseInputGradient({outputGradient}, parameters.Slice({Int(code.Layer.WeightOffset)}, {Int(code.Layer.WeightCount)}), {Int(rows)}, {Int(columns)}, {inputGradient});";
    }

    /// <summary>One example's output gradient and input, for its weight gradient.</summary>
    public string? TrainingLanesScratch(LayerCode code) => Int(code.Layer.Output.Length + code.Layer.Input.Length);

    public void Emit(SourceWriter w, LayerCode code, bool training)
    {
        EmitDenseForward(w, code);
        if (training)
        {
            EmitDenseBackward(w, code);
        }
    }

    private static void EmitDenseForward(SourceWriter w, LayerCode code)
    {
        int inputs = code.Layer.Input.Length, units = code.Layer.Output.Length;
        w.Line("// " + code.Layer.Describe() + (code.Layer.Input.IsSpatial ? $" (the {code.Layer.Input} input flattened in channel, row, column order)" : string.Empty));
        w.Line($"// out[o] = {code.Activation.Math("bias[o] + Σ i weight[o, i] · in[i]")}" + (code.IsSoftmaxHead ? " (the logits; softmax follows)" : string.Empty));
        string scratch = code.TakesWorkspace ? ", Workspace workspace" : string.Empty;
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {Span} output{scratch})"))
        {
            string product = $"{Simd}.MatrixVector(weight, input, bias, output, {units}, {inputs}); // output[o] = bias[o] + Σ i weight[o, i] · in[i]";
            if (PacksRows(code))
            {
                long bytes = (long)inputs * units * sizeof(float);
                w.Line($"// Cost model: a single image reads each of the {units}×{inputs} weights ({Int((bytes + 1023) / 1024)} KB, beyond the level-1 cache) once: packed by");
                w.Line("// groups of 4 rows (PrepareKernels), they are one sequential stream, the same sums in the same order.");
                using (w.Block($"if (workspace.{UsesPackedRows(code)})"))
                {
                    w.Line($"{PackedRowsClass}.MatrixVector(workspace.{PackedWeights(code)}!, input, bias, output, {units}, {inputs});");
                }

                using (w.Block("else"))
                {
                    w.Line(product);
                }
            }
            else
            {
                w.Line(product);
            }

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
            (inputGradient ? $"{Span} inputGradient, " : string.Empty) + $"{Span} weightGradient, {Span} biasGradient" +
            (code.TakesWorkspace ? ", Workspace workspace" : string.Empty);
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Backward}({parameters})"))
        {
            EmitActivationBackward(w, code);
            if (inputGradient)
            {
                w.Line($"{Simd}.TransposedMatrixVector(weight, outputGradient, inputGradient, {units}, {inputs}); // din[i] = Σ o d[o] · weight[o, i]");
            }

            if (TakesBatchGradient(code))
            {
                w.Line("// In a training step the weight gradient waits for the whole batch: this example's output gradient and input are");
                w.Line($"// kept, and after the last example the runtime writes Σ n d[n, o] · in[n, i] for each of the {units}×{inputs} weights,");
                w.Line("// the examples in order. Elsewhere (the batch-norm stages) it is added now.");
                using (w.Block("if (workspace.BatchGradients is { } batch)"))
                {
                    w.Line($"batch.Keep({Int(code.Layer.WeightOffset)}, workspace.Example, outputGradient.Slice(0, {units}), input.Slice(0, {inputs}));");
                    using (w.Block($"for (int o = 0; o < {units}; o++)"))
                    {
                        w.Line("biasGradient[o] += outputGradient[o];");
                    }

                    w.Line("return;");
                }

                w.Line();
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
}
