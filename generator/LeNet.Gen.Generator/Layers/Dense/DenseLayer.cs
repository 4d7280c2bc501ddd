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

    public bool HasPreparedKernels(LayerCode code) => false;

    public void EmitPreparedKernelFields(SourceWriter w, LayerCode code)
    {
        // No prepared kernels: every call runs the same per-input code.
    }

    public void EmitPreparedKernelSetup(SourceWriter w, LayerCode code)
    {
        // No prepared kernels to set up.
    }

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
}
