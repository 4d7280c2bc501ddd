using System;
using System.Collections.Generic;
using System.Globalization;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Layers;

/// <summary><c>[Dropout(p)]</c>: the probability of dropping a value.</summary>
internal sealed record DropoutSpec(int Index, double P) : LayerSpec(Index)
{
    /// <summary>p as C# source that reads back to the same double.</summary>
    public string Literal => P.ToString("R", CultureInfo.InvariantCulture) is var text && (text.Contains(".") || text.Contains("E")) ? text : text + ".0";
}

/// <summary>
/// <c>[Dropout(p)]</c>: inverted dropout, <c>drop{k}</c>, without parameters (PyTorch's <c>Dropout</c>). The identity in
/// <c>Predict</c>; in training each value is kept with probability 1 − p and scaled by 1 / (1 − p). The mask is a hash of
/// the example's key (which the runtime sets in the workspace) and the value's place, so the backward pass recomputes it.
/// </summary>
internal sealed class DropoutLayer : ILayerKind
{
    public static readonly DropoutLayer Instance = new();

    public string AttributeName => "LeNet.Gen.DropoutAttribute";

    public string NamePrefix => "drop";

    public string? SoleName => null;

    public bool NeedsWorkspace => true;

    public bool Owns(LayerSpec spec) => spec is DropoutSpec;

    public LayerSpec Read(AttributeData attribute, int index) =>
        new DropoutSpec(index, Convert.ToDouble(attribute.ConstructorArguments[0].Value, CultureInfo.InvariantCulture));

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems)
    {
        var d = (DropoutSpec)spec;
        if (d.P >= 0 && d.P < 1)
        {
            return true;
        }

        problems.Add(new Problem(Rules.InvalidValue.Id, ProblemTarget.Layer(d.Index, "p"), name, "p", "in [0, 1)", d.P.ToString("R", CultureInfo.InvariantCulture)));
        return false;
    }

    public LayerPlan? Plan(NetworkSpec network, LayerSpec spec, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar) =>
        new(spec, name, input, input, 0, 0, 0, 0);

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec) => null;

    public ActivationKind ActivationOf(LayerSpec spec) => ActivationKind.None;

    public bool HasActivation => false;

    public bool AppliesPreviousActivation => false;

    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer) => Array.Empty<StateTensor>();

    public bool DrawsParameters => false;

    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        // Nothing to set: no parameters, no state (its masks come from the example key).
    }

    public string Describe(LayerPlan layer) => layer.Name + " p" + ((DropoutSpec)layer.Spec).P.ToString("R", CultureInfo.InvariantCulture);

    public string? WeightShape(LayerPlan layer) => null;

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation) =>
        $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.Dropout, \"{layer.Name}\", {input}, {output}, kernel: 0, stride: 0, padding: 0, global::LeNet.Gen.PoolKind.Max, {rounding}, {activation}, null, null) {{ DropoutProbability = {((DropoutSpec)layer.Spec).Literal} }}";

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

    /// <summary>Empty: inference passes the input through.</summary>
    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch) => string.Empty;

    public string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch) => null;

    public bool? ImageLanesPairPooling(LayerCode code) => null;

    public int ImageLanesScratch(LayerCode code) => 0;

    public bool ImageLanesOnRows(LayerCode code) => false;

    public (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code) => (0, 0);

    public ImageGroupStep? ImageGroup(LayerCode code) => null;

    /// <summary>None yet: a network with this layer trains example by example.</summary>
    public string? TrainingLanesForward(LayerCode code, string source, string target, string scratch) => null;

    public string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch) => null;

    public string? TrainingLanesScratch(LayerCode code) => null;

    public void Emit(SourceWriter w, LayerCode code, bool training)
    {
        var d = (DropoutSpec)code.Layer.Spec;
        int length = code.Layer.Output.Length;
        const string Mask = "global::LeNet.Gen.Runtime.DropoutMask";
        w.Line("// " + code.Layer.Describe());
        w.Line(training
            ? $"// Predict: out[i] = in[i]. Train: out[i] = keep[i] · in[i] / (1 − {d.Literal}), keep[i] = 0 with probability {d.Literal} (a hash of the example's key, layer {code.Position} and i)"
            : "// out[i] = in[i] (this network has no Train, so the layer is always the identity)");
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {Span} output, Workspace workspace)"))
        {
            if (training)
            {
                using (w.Block("if (workspace.Training)"))
                {
                    w.Line($"{Mask}.Forward(input, output, {Int(length)}, workspace.ExampleKey, {code.Position}, {d.Literal});");
                    w.Line("return;");
                }
            }

            w.Line($"input.Slice(0, {Int(length)}).CopyTo(output);");
        }

        w.Line();
        if (!training || code.IsFirst)
        {
            return;
        }

        w.Line($"// {code.Layer.Name} backward: din[i] = keep[i] · d[i] / (1 − {d.Literal}), with the forward pass's mask");
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Backward}({ReadOnlySpan} input, {ReadOnlySpan} output, {ReadOnlySpan} outputGradient, {Span} inputGradient, Workspace workspace)"))
        {
            w.Line($"{Mask}.Backward(outputGradient, inputGradient, {Int(length)}, workspace.ExampleKey, {code.Position}, {d.Literal});");
        }

        w.Line();
    }
}
