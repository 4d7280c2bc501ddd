using System;
using System.Collections.Generic;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using static LeNet.Gen.Generator.Emit.Code;
using static LeNet.Gen.Generator.Shapes.ShapeInference;

namespace LeNet.Gen.Generator.Layers;

/// <summary><c>[GlobalAveragePool]</c>: no arguments.</summary>
internal sealed record GlobalAveragePoolSpec(int Index) : LayerSpec(Index);

/// <summary>
/// <c>[GlobalAveragePool]</c>: the mean of each channel over its height and width, C×H×W → C×1×1, without parameters
/// (PyTorch's <c>AdaptiveAvgPool2d(1)</c>). Named <c>gap</c> when it is the network's only one, <c>gap{k}</c> otherwise.
/// </summary>
internal sealed class GlobalAveragePoolLayer : ILayerKind
{
    public static readonly GlobalAveragePoolLayer Instance = new();

    public string AttributeName => "LeNet.Gen.GlobalAveragePoolAttribute";

    public string NamePrefix => "gap";

    public string? SoleName => "gap";

    public bool NeedsWorkspace => false;

    public bool Owns(LayerSpec spec) => spec is GlobalAveragePoolSpec;

    public LayerSpec Read(AttributeData attribute, int index) => new GlobalAveragePoolSpec(index);

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems) => true;

    public LayerPlan? Plan(NetworkSpec network, LayerSpec spec, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar)
    {
        if (!input.IsSpatial)
        {
            problems.Add(new Problem(Rules.GlobalPoolAfterDense.Id, ProblemTarget.Layer(spec.Index), name, source, Format("{0}", input.Length)));
            return null;
        }

        return new LayerPlan(spec, name, input, new TensorShape(input.Channels, 1, 1, IsSpatial: true), 0, 0, 0, 0);
    }

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec) => null;

    public ActivationKind ActivationOf(LayerSpec spec) => ActivationKind.None;

    public bool HasActivation => false;

    public bool AppliesPreviousActivation => false;

    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer) => Array.Empty<StateTensor>();

    public bool DrawsParameters => false;

    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        // Nothing to set: no parameters, no state.
    }

    public string Describe(LayerPlan layer) => Format("{0} {1}→{2}", layer.Name, layer.Input, layer.Input.Channels);

    public string? WeightShape(LayerPlan layer) => null;

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation) =>
        $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.GlobalAveragePool, \"{layer.Name}\", {input}, {output}, kernel: 0, stride: 0, padding: 0, global::LeNet.Gen.PoolKind.Average, {rounding}, {activation}, null, null)";

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

    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch) =>
        $"{ImageLanes}.GlobalAverage({source}, {Int(code.Layer.Input.Channels)}, {Int(code.Layer.Input.Height * code.Layer.Input.Width)}, {target});";

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
        var input = code.Layer.Input;
        int plane = input.Height * input.Width;
        w.Line("// " + code.Layer.Describe());
        w.Line($"// out[c] = (1 / {plane}) · Σ y,x in[c, y, x]");
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {Span} output)"))
        using (w.Block($"for (int c = 0; c < {input.Channels}; c++)"))
        {
            w.Line($"{ReadOnlySpan} plane = input.Slice(c * {plane}, {plane});");
            w.Line("float sum = 0f;");
            using (w.Block($"for (int i = 0; i < {plane}; i++)"))
            {
                w.Line("sum += plane[i];");
            }

            w.Line($"output[c] = sum * {Float(1f / plane)}; // 1 / {plane}");
        }

        w.Line();
        if (!training || code.IsFirst)
        {
            return;
        }

        w.Line($"// {code.Layer.Name} backward: din[c, y, x] = d[c] / {plane}");
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Backward}({ReadOnlySpan} input, {ReadOnlySpan} output, {ReadOnlySpan} outputGradient, {Span} inputGradient)"))
        using (w.Block($"for (int c = 0; c < {input.Channels}; c++)"))
        {
            w.Line($"inputGradient.Slice(c * {plane}, {plane}).Fill(outputGradient[c] * {Float(1f / plane)});");
        }

        w.Line();
    }
}
