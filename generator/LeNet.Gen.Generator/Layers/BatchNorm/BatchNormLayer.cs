using System;
using System.Collections.Generic;
using System.Globalization;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Emit;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using Microsoft.CodeAnalysis;
using static LeNet.Gen.Generator.Emit.Code;
using static LeNet.Gen.Generator.Emit.LayerEmitter;
using static LeNet.Gen.Generator.Shapes.ShapeInference;

namespace LeNet.Gen.Generator.Layers;

/// <summary><c>[BatchNorm(Epsilon, Momentum)]</c>.</summary>
internal sealed record BatchNormSpec(int Index, double Epsilon, double Momentum) : LayerSpec(Index);

/// <summary>
/// <c>[BatchNorm]</c>: batch normalisation, <c>bn{k}</c> with PyTorch's <c>BatchNorm2d</c>/<c>BatchNorm1d</c> tensors: per
/// channel after a spatial layer, per unit after a dense one. The activation written on the layer before moves after it.
/// Predict uses the running statistics, kept as state after the parameters; training normalises with the whole batch's
/// statistics, which the runtime reduces between the stages of the training pass (<see cref="IBatchWideKind"/>).
/// </summary>
internal sealed class BatchNormLayer : IBatchWideKind
{
    public static readonly BatchNormLayer Instance = new();

    public string AttributeName => "LeNet.Gen.BatchNormAttribute";

    public string NamePrefix => "bn";

    public string? SoleName => null;

    public bool NeedsWorkspace => false;

    public bool Owns(LayerSpec spec) => spec is BatchNormSpec;

    public LayerSpec Read(AttributeData attribute, int index)
    {
        double epsilon = 1e-5, momentum = 0.1;
        foreach (var argument in attribute.NamedArguments)
        {
            double value = Convert.ToDouble(argument.Value.Value, CultureInfo.InvariantCulture);
            if (argument.Key == "Epsilon")
            {
                epsilon = value;
            }
            else if (argument.Key == "Momentum")
            {
                momentum = value;
            }
        }

        return new BatchNormSpec(index, epsilon, momentum);
    }

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems)
    {
        var b = (BatchNormSpec)spec;
        bool ok = true;
        if (!(b.Epsilon > 0) || double.IsInfinity(b.Epsilon))
        {
            problems.Add(new Problem(Rules.InvalidValue.Id, ProblemTarget.Layer(b.Index, "Epsilon"), name, "Epsilon", "positive and finite", b.Epsilon.ToString("R", CultureInfo.InvariantCulture)));
            ok = false;
        }

        if (!(b.Momentum >= 0 && b.Momentum <= 1))
        {
            problems.Add(new Problem(Rules.InvalidValue.Id, ProblemTarget.Layer(b.Index, "Momentum"), name, "Momentum", "in [0, 1]", b.Momentum.ToString("R", CultureInfo.InvariantCulture)));
            ok = false;
        }

        return ok;
    }

    // LNG0015's fix: the batch norm that has nothing to normalise goes.
    private static EquatableArray<FixSuggestion> RemoveIt(string name, ProblemTarget target) =>
        new[] { new FixSuggestion($"Remove [BatchNorm] ({name})", Rules.BatchNormPlacement.Id + ".Remove", FixEdit.RemoveAttribute(target)) }.ToEquatableArray();

    public LayerPlan? Plan(NetworkSpec network, LayerSpec spec, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar)
    {
        var target = ProblemTarget.Layer(spec.Index);
        if (spec.Index == 0)
        {
            problems.Add(new Problem(Rules.BatchNormPlacement.Id, target, name, "it is the first layer: put it after a [Conv] or a [Dense]") { Fixes = RemoveIt(name, target) });
            return null;
        }

        if (network.Layers[spec.Index - 1] is BatchNormSpec)
        {
            problems.Add(new Problem(Rules.BatchNormPlacement.Id, target, name, Format("it follows {0}, another batch norm, whose output is already normalised: remove one of them", source)) { Fixes = RemoveIt(name, target) });
            return null;
        }

        int channels = ChannelsOf(input);
        if (!CheckParameters(name, spec.Index, channels, channels, parametersSoFar, Format("{0} + {0}", channels), problems))
        {
            return null;
        }

        int offset = (int)parametersSoFar;
        return new LayerPlan(spec, name, input, input, offset, channels, offset + channels, channels);
    }

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec) => null;

    public ActivationKind ActivationOf(LayerSpec spec) => ActivationKind.None;

    public bool HasActivation => false;

    public bool AppliesPreviousActivation => true;

    /// <summary>PyTorch's buffers: <c>running_mean</c> and <c>running_var</c> per channel, then the scalar <c>num_batches_tracked</c>.</summary>
    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer)
    {
        var channels = new[] { ChannelsOf(layer.Input) };
        return new[]
        {
            new StateTensor("running_mean", channels, IsInt64: false),
            new StateTensor("running_var", channels, IsInt64: false),
            new StateTensor("num_batches_tracked", Array.Empty<int>(), IsInt64: true),
        };
    }

    public bool DrawsParameters => false;

    /// <summary>γ = 1 and running_var = 1; β, running_mean and the batch count stay 0.</summary>
    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        var layer = code.Layer;
        int channels = ChannelsOf(layer.Input);
        w.Line($"global::System.MemoryExtensions.AsSpan(_parameters, {Int(layer.WeightOffset)}, {Int(layer.WeightCount)}).Fill(1f); // {layer.Name}.weight = 1, {layer.Name}.bias = 0");
        w.Line($"global::System.MemoryExtensions.AsSpan(_parameters, {Int(code.Plan.ParameterCount + stateOffset + channels)}, {Int(channels)}).Fill(1f); // {layer.Name}.running_var = 1, running_mean = 0");
    }

    /// <summary>The batch means and 1 / √(var + ε) per channel; in backward, the batch means of dy and of dy·x̂.</summary>
    public int StatisticsLength(LayerPlan layer) => 2 * ChannelsOf(layer.Input);

    /// <summary>Predict reads running_mean and running_var, the first 2 × channels values of the state.</summary>
    public string InferenceForwardCall(LayerCode code, string source, string parameters, int stateOffset) =>
        $"{code.Forward}({source}, {parameters}, parameters.Slice({Int(code.Plan.ParameterCount + stateOffset)}, {Int(2 * ChannelsOf(code.Layer.Input))}), workspace.{code.Written});";

    public string TrainingForwardCall(LayerCode code, string source, string parameters, string statistics) =>
        $"{Normalize(code)}({source}, {parameters}, {statistics}, workspace.{code.Written});";

    /// <summary>Through the activation written on the layer before, when there is one.</summary>
    public string? OutputBackwardCall(LayerCode code) =>
        code.Activation.IsIdentity ? null : $"{OutputBackward(code)}(workspace.{code.Written}, workspace.{code.WrittenGradient});";

    public string InputBackwardCall(LayerCode code, LayerCode source, string statistics, string sums)
    {
        var layer = code.Layer;
        return $"{InputBackward(code)}(workspace.{source.Output}, parameters.Slice({Int(layer.WeightOffset)}, {Int(layer.WeightCount)}), {statistics}, {sums}, workspace.{code.WrittenGradient}, workspace.{source.WrittenGradient});";
    }

    public string RuntimeInfo(LayerCode code, int stateOffset, int statisticsOffset)
    {
        var layer = code.Layer;
        var b = (BatchNormSpec)layer.Spec;
        return $"new global::LeNet.Gen.Runtime.BatchNormInfo(\"{layer.Name}\", {ChannelsOf(layer.Input)}, {PlaneOf(layer.Input)}, {Int(layer.WeightOffset)}, {Int(stateOffset)}, {Int(statisticsOffset)}, {b.Epsilon.ToString("R", CultureInfo.InvariantCulture)}, {b.Momentum.ToString("R", CultureInfo.InvariantCulture)})";
    }

    public string Describe(LayerPlan layer) => layer.Input.IsSpatial
        ? Format("{0} {1}ch", layer.Name, layer.Input.Channels)
        : Format("{0} {1} units", layer.Name, layer.Input.Length);

    public string? WeightShape(LayerPlan layer) => Int(ChannelsOf(layer.Input));

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation)
    {
        var b = (BatchNormSpec)layer.Spec;
        return $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.BatchNorm, \"{layer.Name}\", {input}, {output}, kernel: 0, stride: 0, padding: 0, global::LeNet.Gen.PoolKind.Max, {rounding}, {activation}, \"{layer.Name}.weight\", \"{layer.Name}.bias\") {{ Epsilon = {Text(b.Epsilon)}, Momentum = {Text(b.Momentum)} }}";
    }

    /// <summary>Channels after a spatial layer, units after a dense one.</summary>
    private static int ChannelsOf(TensorShape shape) => shape.IsSpatial ? shape.Channels : shape.Length;

    /// <summary>Values per channel in one example.</summary>
    private static int PlaneOf(TensorShape shape) => shape.IsSpatial ? shape.Height * shape.Width : 1;

    // The training methods: the forward pass with the batch statistics, and the two parts of the backward pass.
    private static string Normalize(LayerCode code) => code.Pascal + "Normalize";

    private static string OutputBackward(LayerCode code) => code.Pascal + "OutputBackward";

    private static string InputBackward(LayerCode code) => code.Pascal + "InputBackward";

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

    /// <summary>With the running statistics, as <c>Predict</c>: in lanes after a spatial layer, on rows after a dense one.</summary>
    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch)
    {
        var b = (BatchNormSpec)code.Layer.Spec;
        int channels = ChannelsOf(code.Layer.Input);
        string arguments = $"{code.ParameterSlices}, {code.StateSlice(2 * channels)}, {Float((float)b.Epsilon)}, {Int(channels)}";
        string relu = code.FusesRelu ? "true" : "false";
        return code.Layer.Input.IsSpatial
            ? $"{ImageLanes}.Normalize({source}, {arguments}, {Int(PlaneOf(code.Layer.Input))}, relu: {relu}, {target});"
            : $"{ImageLanes}.NormalizeBatch({source}, {arguments}, relu: {relu}, {target});";
    }

    public string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch) => null;

    public bool? ImageLanesPairPooling(LayerCode code) => null;

    public int ImageLanesScratch(LayerCode code) => 0;

    public bool ImageLanesOnRows(LayerCode code) => !code.Layer.Input.IsSpatial;

    public (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code) => (0, 0);

    public ImageGroupStep? ImageGroup(LayerCode code) => null;

    /// <summary>None yet: a network with this layer trains example by example.</summary>
    public string? TrainingLanesForward(LayerCode code, string source, string target, string scratch) => null;

    public string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch) => null;

    public string? TrainingLanesScratch(LayerCode code) => null;

    public void Emit(SourceWriter w, LayerCode code, bool training)
    {
        var b = (BatchNormSpec)code.Layer.Spec;
        int channels = ChannelsOf(code.Layer.Input), plane = PlaneOf(code.Layer.Input);
        string epsilon = Float((float)b.Epsilon);
        string at = plane == 1 ? "c" : "j";
        w.Line("// " + code.Layer.Describe() + (code.Activation.IsIdentity ? string.Empty : $", then the {code.FusedActivation} written on the layer before"));
        w.Line($"// Predict: out[c, i] = {code.Activation.Math("γ[c] · (in[c, i] − running_mean[c]) / √(running_var[c] + " + Text(b.Epsilon) + ") + β[c]")}");
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {ReadOnlySpan} state, {Span} output)"))
        {
            using (w.Block($"for (int c = 0; c < {channels}; c++)"))
            {
                w.Line($"float scale = weight[c] / {MathF}.Sqrt(state[{channels} + c] + {epsilon});");
                w.Line("float shift = bias[c] - (state[c] * scale);");
                PerValue(w, plane, () => w.Line($"output[{at}] = (input[{at}] * scale) + shift;"));
            }

            EmitActivationInPlace(w, code);
        }

        w.Line();
        if (!training)
        {
            return;
        }

        w.Line($"// {code.Layer.Name} in training: out[c, i] = {code.Activation.Math("γ[c] · (in[c, i] − mean[c]) · invstd[c] + β[c]")}, with the whole batch's mean and 1 / √(var + ε)");
        w.Line(Code.Hot);
        using (w.Block($"private static void {Normalize(code)}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {ReadOnlyDoubleSpan} statistics, {Span} output)"))
        {
            bool fusesRelu = plane > 1 && code.FusedActivation == ActivationKind.ReLU;
            using (w.Block($"for (int c = 0; c < {channels}; c++)"))
            {
                if (plane > 1)
                {
                    // A channel's plane at a time, in the runtime's vector code: (in − mean) in float, then one fused multiply-add.
                    w.Line($"{BatchNormMath}.Normalize(input.Slice(c * {plane}, {plane}), statistics[c], statistics[{channels} + c], weight[c], bias[c], output.Slice(c * {plane}, {plane}), relu: {(fusesRelu ? "true" : "false")});");
                }
                else
                {
                    w.Line($"double mean = statistics[c], invstd = statistics[{channels} + c];");
                    w.Line("float gamma = weight[c], beta = bias[c];");
                    w.Line($"output[{at}] = (gamma * (float)((input[{at}] - mean) * invstd)) + beta;");
                }
            }

            if (!fusesRelu)
            {
                EmitActivationInPlace(w, code);
            }
        }

        w.Line();
        if (!code.Activation.IsIdentity)
        {
            w.Line($"// {code.Layer.Name} backward, part 1: the gradient of γ·x̂ + β from the gradient of the {code.FusedActivation} output");
            w.Line(Code.Hot);
            using (w.Block($"private static void {OutputBackward(code)}({ReadOnlySpan} output, {Span} outputGradient)"))
            {
                EmitActivationBackward(w, code);
            }

            w.Line();
        }

        w.Line($"// {code.Layer.Name} backward, part 2, with the batch means of dy and dy·x̂ (the runtime also adds dγ = Σ dy·x̂ and dβ = Σ dy):");
        w.Line("// din[c, i] = γ[c] · invstd[c] · (dy[c, i] − mean(dy)[c] − x̂[c, i] · mean(dy·x̂)[c])");
        w.Line(Code.Hot);
        using (w.Block($"private static void {InputBackward(code)}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlyDoubleSpan} statistics, {ReadOnlyDoubleSpan} sums, {ReadOnlySpan} outputGradient, {Span} inputGradient)"))
        using (w.Block($"for (int c = 0; c < {channels}; c++)"))
        {
            if (plane > 1)
            {
                w.Line("// in double, with x̂ recomputed (dy − mean(dy) − x̂·mean(dy·x̂) cancels, and float would lose the difference), in the runtime's vector code");
                w.Line($"{BatchNormMath}.InputGradient(input.Slice(c * {plane}, {plane}), outputGradient.Slice(c * {plane}, {plane}), statistics[c], statistics[{channels} + c], weight[c], sums[c], sums[{channels} + c], inputGradient.Slice(c * {plane}, {plane}));");
            }
            else
            {
                w.Line($"double mean = statistics[c], invstd = statistics[{channels} + c], scale = weight[c] * invstd, meanGradient = sums[c], meanProduct = sums[{channels} + c];");
                w.Line("// in double, with x̂ recomputed: dy − mean(dy) − x̂·mean(dy·x̂) cancels, and float would lose the difference");
                w.Line($"inputGradient[{at}] = (float)(scale * (outputGradient[{at}] - meanGradient - ((input[{at}] - mean) * invstd * meanProduct)));");
            }
        }

        w.Line();
    }

    // The body once per value of channel c: at index c after a dense layer, at j = c·plane + i after a spatial one.
    private static void PerValue(SourceWriter w, int plane, Action body)
    {
        if (plane == 1)
        {
            body();
            return;
        }

        using (w.Block($"for (int j = c * {plane}, end = j + {plane}; j < end; j++)"))
        {
            body();
        }
    }

    private static string Text(double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains(".") || text.Contains("E") || text.Contains("N") || text.Contains("I") ? text : text + ".0";
    }
}
