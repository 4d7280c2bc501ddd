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

/// <summary><c>[Conv(filters, kernel, Stride, Padding, Activation)]</c>.</summary>
internal sealed record ConvSpec(int Index, int Filters, int Kernel, int Stride, int Padding, ActivationKind Activation)
    : LayerSpec(Index);

/// <summary>
/// <c>[Conv(filters, kernel, Stride, Padding, Activation)]</c>: a 2-D convolution, <c>conv{k}</c> with PyTorch's
/// <c>Conv2d</c> tensors. Its scalar code unrolls each window row by row; it also gets vector kernels
/// (<see cref="ConvVectorKernels"/>) when its outputs fill a vector, which its scalar methods call first: stride-1
/// kernels on its input, or for a larger stride the same kernels on the input's phase planes (space-to-depth,
/// <see cref="ConvCode.IsSpaceToDepth"/>). What it plans from its shapes (padding, vector kernels, workspace buffers) is
/// <see cref="ConvCode"/>.
/// </summary>
internal sealed class ConvLayer : ILayerKind
{
    public static readonly ConvLayer Instance = new();

    public string AttributeName => "LeNet.Gen.ConvAttribute";

    public string NamePrefix => "conv";

    public string? SoleName => null;

    public bool NeedsWorkspace => false;

    public bool Owns(LayerSpec spec) => spec is ConvSpec;

    public LayerSpec Read(AttributeData attribute, int index) => new ConvSpec(
        index,
        Filters: Positional(attribute, 0),
        Kernel: Positional(attribute, 1),
        Stride: Named(attribute, "Stride") ?? 1,
        Padding: Named(attribute, "Padding") ?? 0,
        Activation: (ActivationKind)(Named(attribute, "Activation") ?? 0));

    public bool CheckValues(LayerSpec spec, string name, List<Problem> problems)
    {
        var c = (ConvSpec)spec;
        ProblemTarget At(string argument) => ProblemTarget.Layer(c.Index, argument);
        return AtLeast(1, c.Filters, name, "filters", At("filters"), problems)
            & Window(c.Kernel, name, "kernel", At("kernel"), problems)
            & AtLeast(1, c.Stride, name, "Stride", At("Stride"), problems)
            & AtLeast(0, c.Padding, name, "Padding", At("Padding"), problems)
            & KnownActivation(c.Activation, name, At("Activation"), problems);
    }

    public LayerPlan? Plan(NetworkSpec spec, LayerSpec layer, string name, TensorShape input, string source, List<Problem> problems, long parametersSoFar)
    {
        var conv = (ConvSpec)layer;
        var output = PlanWindow(spec, conv.Index, name, input, source, conv.Kernel, conv.Stride, conv.Padding, conv.Filters, isConv: true, problems);
        if (output is null)
        {
            return null;
        }

        long weights = Multiply(Multiply(conv.Filters, input.Channels), (long)conv.Kernel * conv.Kernel);
        if (!CheckParameters(name, conv.Index, weights, conv.Filters, parametersSoFar, Format("{0} × {1} × {2} × {2} + {0}", conv.Filters, input.Channels, conv.Kernel), problems))
        {
            return null;
        }

        int offset = (int)parametersSoFar;
        return new LayerPlan(conv, name, input, output, offset, (int)weights, offset + (int)weights, conv.Filters);
    }

    public (int Window, int Stride, int Padding, bool IsConv)? WindowOf(LayerSpec spec)
    {
        var c = (ConvSpec)spec;
        return (c.Kernel, c.Stride, c.Padding, true);
    }

    public ActivationKind ActivationOf(LayerSpec spec) => ((ConvSpec)spec).Activation;

    public bool HasActivation => true;

    public bool AppliesPreviousActivation => false;

    public IReadOnlyList<StateTensor> StateTensors(LayerPlan layer) => Array.Empty<StateTensor>();

    public bool DrawsParameters => true;

    public void EmitFixedInitialization(SourceWriter w, LayerCode code, int stateOffset)
    {
        // Nothing to set: its weights and biases are drawn (DrawsParameters), and it keeps no state.
    }

    public string Describe(LayerPlan layer)
    {
        var c = (ConvSpec)layer.Spec;
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0} {1}×{1}×{2} s{3} p{4}", layer.Name, c.Kernel, c.Filters, c.Stride, c.Padding);
    }

    public string? WeightShape(LayerPlan layer)
    {
        var c = (ConvSpec)layer.Spec;
        return $"{c.Filters}, {layer.Input.Channels}, {c.Kernel}, {c.Kernel}";
    }

    public string LayerInfo(LayerPlan layer, string input, string output, string rounding, string activation)
    {
        var c = (ConvSpec)layer.Spec;
        return $"new global::LeNet.Gen.LayerInfo(global::LeNet.Gen.LayerKind.Convolution, \"{layer.Name}\", {input}, {output}, kernel: {Int(c.Kernel)}, stride: {Int(c.Stride)}, padding: {Int(c.Padding)}, global::LeNet.Gen.PoolKind.Max, {rounding}, {activation}, \"{layer.Name}.weight\", \"{layer.Name}.bias\")";
    }

    public LayerWorkspace Workspace(LayerCode code) => new ConvCode(code).Workspace();

    public bool HasVectorKernels(LayerCode code) => new ConvCode(code).IsVectorized;

    public void EmitVectorKernels(SourceWriter w, LayerCode code, bool training)
    {
        var conv = new ConvCode(code);
        if (conv.IsVectorized)
        {
            ConvVectorKernels.Emit(w, conv, training);
        }
    }

    public bool HasPreparedKernels(LayerCode code)
    {
        var conv = new ConvCode(code);
        return conv.Winograd is not null || conv.FilterLanes is not null || conv.WinogradBackward is not null || TurnsWeights(code, conv) || conv.DefersWeightGradient;
    }

    // True when the layer's vector backward pass reads turned kernels (the input gradient's), which training steps then
    // make once per step and workspace in PrepareKernels instead of once per example.
    private static bool TurnsWeights(LayerCode code, ConvCode conv) => code.Plan.CanTrain && !code.IsFirst && conv.IsVectorized && !conv.UsesColumnGradient;

    public void EmitPreparedKernelFields(SourceWriter w, LayerCode code)
    {
        var conv = new ConvCode(code);
        if (conv.Winograd is not null)
        {
            w.Line($"public bool {conv.UsesWinograd}; // {code.Layer.Name} runs Winograd's kernels in this call");
            w.Line($"public float[]? {conv.WinogradWeights}; // {code.Layer.Name} weights transformed for Winograd, made on the thread's first such call and again when the weights change");
            w.Line($"public float[]? {conv.WinogradScratch}; // {code.Layer.Name} Winograd tiles and products");
            w.Line($"public float[]? {conv.WinogradSource}; // {code.Layer.Name} weights as they were when last transformed");
        }

        if (conv.FilterLanes is not null)
        {
            w.Line($"public bool {conv.UsesFilterLanes}; // {code.Layer.Name} runs with the filters across the vector lanes in this call");
            w.Line($"public float[]? {conv.FilterLanesWeights}; // {code.Layer.Name} weights packed for those kernels, made on the thread's first such call and again when the weights change");
            w.Line($"public float[]? {conv.FilterLanesScratch}; // {code.Layer.Name} outputs position by position");
            w.Line($"public float[]? {conv.FilterLanesSource}; // {code.Layer.Name} weights as they were when last packed");
        }

        if (TurnsWeights(code, conv))
        {
            w.Line($"public bool {conv.WeightsTurned}; // {code.Layer.Name}'s turned kernels hold this training step's weights");
        }

        if (conv.DefersWeightGradient)
        {
            w.Line($"public bool {conv.DefersFlag}; // {code.Layer.Name} sums its weight gradient over a chunk of examples, added in FinishExamples (training steps)");
            w.Line($"public float[]? {conv.PendingWeightGradient}; // that sum, [channel, i, j, filter]");
        }

        if (conv.WinogradBackward is not null)
        {
            w.Line($"public bool {conv.UsesWinogradBackward}; // {code.Layer.Name}'s input gradient runs Winograd's kernels in this step");
            w.Line($"public float[]? {conv.WinogradBackwardWeights}; // {code.Layer.Name} turned kernels transformed for Winograd");
            w.Line($"public float[]? {conv.WinogradBackwardScratch}; // {code.Layer.Name} backward Winograd tiles and products");
        }
    }

    public void EmitPreparedKernelSetup(SourceWriter w, LayerCode code)
    {
        var conv = new ConvCode(code);
        int channels = code.Layer.Input.Channels, filters = code.Layer.Output.Channels;
        var layer = code.Layer;
        string weights = $"parameters.Slice({Int(layer.WeightOffset)}, {Int(layer.WeightCount)})";
        if (conv.Winograd is { } choice)
        {
            w.Line($"workspace.{conv.UsesWinograd} = vectors{(choice.SingleImages ? string.Empty : " && batch")};");
            using (w.Block($"if (workspace.{conv.UsesWinograd})"))
            {
                w.Line($"workspace.{conv.WinogradWeights} ??= new float[{Winograd}.WeightsLength({filters}, {channels})];");
                w.Line($"workspace.{conv.WinogradScratch} ??= new float[{Winograd}.ScratchLength({channels}, {filters}, {conv.WindowHeight}, {conv.WindowWidth}, 0)];");
                using (w.Block($"if (!{PreparedWeights}.Unchanged({weights}, ref workspace.{conv.WinogradSource}))"))
                {
                    w.Line($"{Winograd}.TransformWeights({weights}, {filters}, {channels}, workspace.{conv.WinogradWeights});");
                }
            }
        }

        if (conv.FilterLanes is not null)
        {
            var output = layer.Output;
            long taps = (long)channels * conv.Spec.Kernel * conv.Spec.Kernel;
            string winograd = conv.Winograd is null ? string.Empty : $" && !workspace.{conv.UsesWinograd}";
            string avx512 = conv.FilterLanes.NotWithAvx512 ? " && !global::LeNet.Gen.Runtime.Simd.FullRate512" : string.Empty;
            string training = conv.FilterLanes.Training ? string.Empty : "!training && ";
            w.Line($"workspace.{conv.UsesFilterLanes} = {training}{FilterLanes}.Supports({filters}){avx512}{winograd};");
            using (w.Block($"if (workspace.{conv.UsesFilterLanes})"))
            {
                w.Line($"workspace.{conv.FilterLanesWeights} ??= new float[{Int(taps * filters)}];");
                w.Line($"workspace.{conv.FilterLanesScratch} ??= new float[{Int((long)output.Height * output.Width * filters)}];");
                using (w.Block($"if (!{PreparedWeights}.Unchanged({weights}, ref workspace.{conv.FilterLanesSource}))"))
                {
                    w.Line($"{FilterLanes}.PackWeights({weights}, {filters}, {Int(taps)}, workspace.{conv.FilterLanesWeights});");
                }
            }
        }

        if (conv.DefersWeightGradient)
        {
            var wide = conv.ForwardWide!;
            w.Line($"workspace.{conv.DefersFlag} = vectors && training;");
            using (w.Block($"if (workspace.{conv.DefersFlag})"))
            {
                w.Line($"workspace.{conv.PendingWeightGradient} ??= new float[{Int((long)wide.InChannels * wide.Kernel * wide.Kernel * wide.OutChannels)}];");
                w.Line($"global::System.Array.Clear(workspace.{conv.PendingWeightGradient}); // nothing left from a step that stopped part-way");
            }
        }

        if (TurnsWeights(code, conv))
        {
            w.Line($"workspace.{conv.WeightsTurned} = vectors && training;");
            using (w.Block($"if (workspace.{conv.WeightsTurned})"))
            {
                EmitTurnWeights(w, code, conv, weights);
            }
        }

        if (conv.WinogradBackward is not null)
        {
            var output = layer.Output;
            w.Line($"workspace.{conv.UsesWinogradBackward} = vectors && batch && training;");
            using (w.Block($"if (workspace.{conv.UsesWinogradBackward})"))
            {
                w.Line($"workspace.{conv.WinogradBackwardWeights} ??= new float[{Winograd}.WeightsLength({channels}, {filters})];");
                w.Line($"workspace.{conv.WinogradBackwardScratch} ??= new float[{Winograd}.ScratchLength({filters}, {channels}, {output.Height}, {output.Width}, 2)];");
                w.Line($"{Winograd}.TransformWeights(workspace.{conv.RotatedWeights}, {channels}, {filters}, workspace.{conv.WinogradBackwardWeights}); // the kernels turned above");
            }
        }
    }

    // The kernels the input gradient convolves with: the layer's turned by 180° with channels and filters swapped, from the
    // sub-kernels for a space-to-depth layer.
    private static void EmitTurnWeights(SourceWriter w, LayerCode code, ConvCode conv, string weights)
    {
        if (conv.IsSpaceToDepth)
        {
            w.Line($"{SpaceToDepth}.RearrangeWeights({weights}, {code.Layer.Output.Channels}, {code.Layer.Input.Channels}, {conv.Spec.Kernel}, {conv.Stride}, workspace.{conv.PhaseWeights});");
            w.Line($"{code.VectorKernels}.{code.Pascal}RotateWeights(workspace.{conv.PhaseWeights}, workspace.{conv.RotatedWeights});");
        }
        else
        {
            w.Line($"{code.VectorKernels}.{code.Pascal}RotateWeights({weights}, workspace.{conv.RotatedWeights});");
        }
    }

    public bool HasDeferredGradients(LayerCode code) => new ConvCode(code).DefersWeightGradient;

    public (int WeightOffset, int Rows, int Columns)? BatchGradient(LayerCode code) => null;

    public void EmitFinishExamples(SourceWriter w, LayerCode code)
    {
        var conv = new ConvCode(code);
        if (!conv.DefersWeightGradient)
        {
            return;
        }

        // The chunk's sum, [channel, i, j, filter], goes into the gradient's [filter, channel, i, j]: the same sums in the
        // same order as adding each example's own, since the chunk's gradient starts at zero.
        var wide = conv.ForwardWide!;
        long rows = (long)wide.InChannels * wide.Kernel * wide.Kernel;
        string weightGradient = $"gradients.Slice({Int(code.Layer.WeightOffset)}, {Int(code.Layer.WeightCount)})";
        using (w.Block($"if (workspace.{conv.DefersFlag})"))
        {
            if (conv.IsSpaceToDepth)
            {
                w.Line($"{Simd}.Transpose(workspace.{conv.PendingWeightGradient}!, {Int(rows)}, {wide.OutChannels}, workspace.{conv.PhaseWeightGradient});");
                w.Line($"{SpaceToDepth}.FoldWeightGradient(workspace.{conv.PhaseWeightGradient}, {wide.OutChannels}, {code.Layer.Input.Channels}, {conv.Spec.Kernel}, {conv.Stride}, {weightGradient});");
            }
            else
            {
                w.Line($"{Simd}.AddTransposed(workspace.{conv.PendingWeightGradient}!, {Int(rows)}, {wide.OutChannels}, {weightGradient});");
            }

            w.Line($"global::System.Array.Clear(workspace.{conv.PendingWeightGradient}!);");
        }
    }

    public string? ImageLanesCall(LayerCode code, string source, string target, string scratch)
    {
        var conv = (ConvSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        return $"{ImageLanes}.Convolve({source}, {Int(input.Channels)}, {Int(input.Height)}, {Int(input.Width)}, {code.ParameterSlices}, "
            + $"{Int(conv.Filters)}, {Int(conv.Kernel)}, {Int(conv.Stride)}, {Int(conv.Padding)}, {Int(output.Height)}, {Int(output.Width)}, relu: {(code.FusesRelu ? "true" : "false")}, {scratch}, {target});";
    }

    /// <summary>
    /// With a 2 × 2 pooling of stride 2 after it that tiles the output exactly (the pooling unit's
    /// <see cref="ILayerKind.ImageLanesPairPooling"/>), and no activation for the network to apply between the two (ReLU or
    /// none), the runtime's <c>ConvolvePool</c>: three filters × one pooling window a register tile, storing only the pooled
    /// values. Not when four divide the filters and three do not: <c>Convolve</c>'s four-filter tiles have no filter to
    /// repeat there, and a repeated one costs more than the pooling pass the fusion saves.
    /// </summary>
    public string? ImageLanesFusedCall(LayerCode code, LayerCode next, string source, string target, string scratch)
    {
        var conv = (ConvSpec)code.Layer.Spec;
        if (next.Kind.ImageLanesPairPooling(next) is not { } max || code.Activation.SpanForward is not null
            || (conv.Filters % 4 == 0 && conv.Filters % 3 != 0))
        {
            return null;
        }

        var input = code.Layer.Input;
        var output = code.Layer.Output;
        return $"{ImageLanes}.ConvolvePool({source}, {Int(input.Channels)}, {Int(input.Height)}, {Int(input.Width)}, {code.ParameterSlices}, "
            + $"{Int(conv.Filters)}, {Int(conv.Kernel)}, {Int(conv.Stride)}, {Int(conv.Padding)}, {Int(output.Height)}, {Int(output.Width)}, "
            + $"relu: {(code.FusesRelu ? "true" : "false")}, max: {(max ? "true" : "false")}, {scratch}, {target});";
    }

    public bool? ImageLanesPairPooling(LayerCode code) => null;

    /// <summary>The padded copy of the input, when there is padding or a window hangs over the edge (ceiling rounding).</summary>
    public int ImageLanesScratch(LayerCode code)
    {
        var conv = (ConvSpec)code.Layer.Spec;
        var input = code.Layer.Input;
        var output = code.Layer.Output;
        int height = ((output.Height - 1) * conv.Stride) + conv.Kernel, width = ((output.Width - 1) * conv.Stride) + conv.Kernel;
        return conv.Padding > 0 || height > input.Height || width > input.Width ? input.Channels * height * width : 0;
    }

    public bool ImageLanesOnRows(LayerCode code) => false;

    /// <summary>
    /// In lanes, its own multiply-adds; one image at a time, Winograd's batch estimate where the layer has it, otherwise
    /// the wide rows' multiply-adds over their whole plane (the columns between rows included), or the scalar loops'.
    /// </summary>
    public (double Lanes, double PerImage) ImageLanesCostNs(LayerCode code)
    {
        var conv = new ConvCode(code);
        var output = code.Layer.Output;
        double exact = (double)code.Layer.Input.Channels * conv.Spec.Kernel * conv.Spec.Kernel * output.Channels * output.Height * output.Width;
        double lanes = exact / ImageLanesCostModel.ConvMultiplyAddsPerNs;
        if (conv.Winograd is { } winograd)
        {
            return (lanes, winograd.BatchNs);
        }

        if (conv.DirectNs is { } direct)
        {
            return (lanes, conv.FilterLanes is { } filterLanes ? Math.Min(direct, filterLanes.Ns) : direct);
        }

        return (lanes, exact / ImageLanesCostModel.ScalarMultiplyAddsPerNs);
    }

    public string? TrainingLanesForward(LayerCode code, string source, string target, string scratch) =>
        $"{TrainingLanesEmitter.Runtime}.Convolve({source}, {LanesInput(code)}, {code.ParameterSlices}, {LanesWindow(code)}, relu: {(code.FusesRelu ? "true" : "false")}, {scratch}, {target});";

    /// <summary>The bias and weight gradients, and the input gradient unless the layer is the network's first.</summary>
    public string? TrainingLanesBackward(LayerCode code, string source, string output, string outputGradient, string? inputGradient, string scratch) =>
        $"{TrainingLanesEmitter.Runtime}.ConvolveBackward({source}, {LanesInput(code)}, parameters.Slice({Int(code.Layer.WeightOffset)}, {Int(code.Layer.WeightCount)}), {outputGradient}, "
        + $"{LanesWindow(code)}, {scratch}, {TrainingLanesEmitter.GradientSlices(code)}, {inputGradient ?? "default"});";

    /// <summary>The runtime's <c>ConvolutionScratch</c>, which knows the size: the padded copies of the input and its gradient.</summary>
    public string? TrainingLanesScratch(LayerCode code)
    {
        var conv = (ConvSpec)code.Layer.Spec;
        return $"{TrainingLanesEmitter.Runtime}.ConvolutionScratch({LanesInput(code)}, {Int(conv.Kernel)}, {Int(conv.Stride)}, {Int(conv.Padding)}, {Int(code.Layer.Output.Height)}, {Int(code.Layer.Output.Width)})";
    }

    // channels, height, width of the input
    private static string LanesInput(LayerCode code) =>
        $"{Int(code.Layer.Input.Channels)}, {Int(code.Layer.Input.Height)}, {Int(code.Layer.Input.Width)}";

    // filters, kernel, stride, padding, outHeight, outWidth
    private static string LanesWindow(LayerCode code)
    {
        var conv = (ConvSpec)code.Layer.Spec;
        var output = code.Layer.Output;
        return $"{Int(conv.Filters)}, {Int(conv.Kernel)}, {Int(conv.Stride)}, {Int(conv.Padding)}, {Int(output.Height)}, {Int(output.Width)}";
    }

    /// <summary>Winograd's products over a group of images (<see cref="WinogradGroupStep"/>), where the cost model chose them.</summary>
    public ImageGroupStep? ImageGroup(LayerCode code) => WinogradGroupStep.For(new ConvCode(code));

    public void Emit(SourceWriter w, LayerCode code, bool training)
    {
        var conv = new ConvCode(code);
        if (conv.IsPadded)
        {
            EmitPadding(w, code, conv);
        }

        EmitConvForward(w, code, conv);
        if (training)
        {
            EmitConvBackward(w, code, conv);
        }
    }

    private static void EmitPadding(SourceWriter w, LayerCode code, ConvCode conv)
    {
        var input = code.Layer.Input;
        int ph = conv.PaddedHeight, pw = conv.PaddedWidth, p = conv.Spec.Padding;
        w.Line($"// {code.Layer.Name} padding: {input} → {input.Channels}×{ph}×{pw}, the input at row {p}, column {p}; the border stays zero.");
        w.Line(Code.Hot);
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
        w.Line(Code.Hot);
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
    private static (int Height, int Width) WindowSource(LayerCode code, ConvCode conv) =>
        conv.IsPadded ? (conv.PaddedHeight, conv.PaddedWidth) : (code.Layer.Input.Height, code.Layer.Input.Width);

    private static void EmitConvForward(SourceWriter w, LayerCode code, ConvCode conv)
    {
        var output = code.Layer.Output;
        int channels = code.Layer.Input.Channels, k = conv.Spec.Kernel, s = conv.Spec.Stride;
        var (h, wd) = WindowSource(code, conv);
        w.Line("// " + code.Layer.Describe());
        w.Line($"// out[f, y, x] = {code.Activation.Math("bias[f] + Σ c,i,j weight[f, c, i, j] · in[c, " + Times("y", s) + " + i, " + Times("x", s) + " + j]")}" + (conv.IsPadded ? ", in = the padded input" : string.Empty));
        string scratch = conv.IsVectorized ? ", Workspace workspace" : string.Empty;
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Forward}({ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} bias, {Span} output{scratch})"))
        {
            if (conv.IsVectorized)
            {
                EmitForwardDispatch(w, code, conv);
            }

            EmitConvForwardLoops(w, code, channels, k, s, h, wd, output);
        }

        w.Line();
    }

    private static void EmitForwardDispatch(SourceWriter w, LayerCode code, ConvCode plan)
    {
        var conv = plan.ForwardWide!;
        if (plan.SpaceToDepthSummary is { } summary)
        {
            w.Line("// Vector code, " + summary + ".");
        }

        if (plan.ColumnCopiesReason is { } copiesReason)
        {
            w.Line($"// Cost model: {copiesReason}.");
        }

        if (plan.Winograd is { } choice)
        {
            EmitPreparedCall(w, code, choice.Reason, plan.UsesWinograd, relu => $"{Winograd}.Forward(input, {code.Layer.Input.Channels}, {plan.WindowHeight}, {plan.WindowWidth}, 0, workspace.{plan.WinogradWeights}!, bias, {conv.OutChannels}, relu: {relu}, output, workspace.{plan.WinogradScratch}!);");
        }

        if (plan.FilterLanes is { } lanes)
        {
            var output = code.Layer.Output;
            EmitPreparedCall(w, code, lanes.Reason, plan.UsesFilterLanes, relu => $"{FilterLanes}.Convolve(input, {code.Layer.Input.Channels}, {plan.WindowHeight}, {plan.WindowWidth}, workspace.{plan.FilterLanesWeights}!, bias, {conv.OutChannels}, {plan.Spec.Kernel}, {plan.Stride}, {output.Height}, {output.Width}, relu: {relu}, workspace.{plan.FilterLanesScratch}!, output);");
        }

        foreach (var isa in VectorIsa.All)
        {
            using (w.Block($"if ({isa.Condition})"))
            {
                if (plan.ForwardCopies is { } copies)
                {
                    w.Line($"{ColumnCopies}.Split(input, {code.Layer.Input.Channels}, {plan.WindowHeight}, {plan.WindowWidth}, {conv.Kernel}, {conv.OutWidth}, workspace.{plan.ColumnCopies}, {copies.ColumnStride});");
                    w.Line($"{code.VectorKernels}.{code.Pascal}ForwardCopies{isa.Name}(workspace.{plan.ColumnCopies}, weight, bias, workspace.{plan.Wide});");
                    w.Line($"{Simd}.CompactPlanes(workspace.{plan.Wide}, {copies.Tile(isa).Plane}, {conv.OutChannels}, {conv.OutHeight * conv.OutWidth}, output); // each plane's outputs are already back to back");
                }
                else
                {
                    string source = "input";
                    if (plan.IsSpaceToDepth)
                    {
                        w.Line($"{SpaceToDepth}.Split(input, {code.Layer.Input.Channels}, {plan.WindowHeight}, {plan.WindowWidth}, {plan.Stride}, workspace.{plan.Phases}, {conv.SourceHeight}, {conv.SourceWidth});");
                        source = $"workspace.{plan.Phases}";
                    }

                    w.Line($"{code.VectorKernels}.{code.Pascal}ForwardWide{isa.Name}({source}, weight, bias, workspace.{plan.Wide});");
                    w.Line($"{Simd}.Compact(workspace.{plan.Wide}, {conv.Tile(isa).Plane}, {conv.SourceWidth}, {conv.OutChannels}, {conv.OutHeight}, {conv.OutWidth}, output);");
                }

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

    // A kernel family the cost model chose, behind the workspace flag PrepareKernels sets: its reason, the call (given
    // "true" or "false" for a ReLU fused into its stores), the activation it cannot fuse applied in place, and return.
    private static void EmitPreparedCall(SourceWriter w, LayerCode code, string reason, string flag, Func<string, string> call)
    {
        var activation = ActivationRow.Of(code.FusedActivation);
        bool relu = activation.FusesIntoVectorStore && !activation.IsIdentity;
        w.Line($"// Cost model: {reason}.");
        using (w.Block($"if (workspace.{flag})"))
        {
            w.Line(call(relu ? "true" : "false"));
            if (!activation.FusesIntoVectorStore)
            {
                EmitActivationInPlace(w, code);
            }

            w.Line("return;");
        }

        w.Line();
    }

    private static void EmitConvForwardLoops(SourceWriter w, LayerCode code, int channels, int k, int s, int h, int wd, TensorShape output)
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

    private static void EmitConvBackward(SourceWriter w, LayerCode code, ConvCode conv)
    {
        var output = code.Layer.Output;
        int channels = code.Layer.Input.Channels, k = conv.Spec.Kernel, s = conv.Spec.Stride;
        var (h, wd) = WindowSource(code, conv);
        bool inputGradient = !code.IsFirst;
        w.Line($"// {code.Layer.Name} backward: dweight[f, c, i, j] += d[f, y, x] · in[c, {Times("y", s)} + i, {Times("x", s)} + j]; dbias[f] += d[f, y, x]" +
            (inputGradient ? $"; din[c, {Times("y", s)} + i, {Times("x", s)} + j] += d[f, y, x] · weight[f, c, i, j]" : " (the first layer needs no input gradient)"));
        string parameters = $"{ReadOnlySpan} input, {ReadOnlySpan} weight, {ReadOnlySpan} output, {Span} outputGradient, " +
            (inputGradient ? $"{Span} inputGradient, " : string.Empty) + $"{Span} weightGradient, {Span} biasGradient" +
            (conv.IsVectorized ? ", Workspace workspace" : string.Empty);
        w.Line(Code.Hot);
        using (w.Block($"private static void {code.Backward}({parameters})"))
        {
            EmitActivationBackward(w, code);
            if (conv.IsVectorized)
            {
                EmitBackwardDispatch(w, code, conv);
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

    private static void EmitBackwardDispatch(SourceWriter w, LayerCode code, ConvCode plan)
    {
        var forward = plan.ForwardWide!;
        var backward = plan.InputGradientWide!;
        int k = forward.Kernel, plane = forward.OutHeight * forward.OutWidth;
        bool phases = plan.IsSpaceToDepth;
        int channels = code.Layer.Input.Channels;
        if (phases)
        {
            w.Line("// Vector code, on the phase planes the forward pass left in the workspace and the turned sub-kernels: their gradients, then folded");
            w.Line($"// back into the {plan.Spec.Kernel}×{plan.Spec.Kernel} kernels and merged back into the input's {plan.WindowHeight}×{plan.WindowWidth} grid.");
        }

        // With space-to-depth the stride-1 kernels read the phase planes and sub-kernels and write the sub-kernels' gradient.
        string source = phases ? $"workspace.{plan.Phases}" : "input";
        string weightGradient = phases ? $"workspace.{plan.PhaseWeightGradient}" : "weightGradient";
        foreach (var isa in VectorIsa.All)
        {
            using (w.Block($"if ({isa.Condition})"))
            {
                using (w.Block($"for (int f = 0; f < {forward.OutChannels}; f++)"))
                {
                    w.Line($"biasGradient[f] += {Simd}.Sum(outputGradient.Slice(f * {plane}, {plane}));");
                }

                string clearPhases = plan.DefersWeightGradient ? $"if (!workspace.{plan.DefersFlag}) " : string.Empty;
                if (phases)
                {
                    w.Line($"{clearPhases}global::System.Array.Clear({weightGradient});");
                }

                if (plan.FiltersFillVectors(isa) && plan.DefersWeightGradient)
                {
                    w.Line($"// In training steps the kernel adds into the chunk's sum, which FinishExamples adds into the gradient.");
                    w.Line($"{code.VectorKernels}.{code.Pascal}WeightGradient{isa.Name}({source}, outputGradient, workspace.{plan.TransposedGradient}, {weightGradient}, workspace.{plan.DefersFlag} ? workspace.{plan.PendingWeightGradient} : default);");
                }
                else if (plan.FiltersFillVectors(isa))
                {
                    w.Line($"{code.VectorKernels}.{code.Pascal}WeightGradient{isa.Name}({source}, outputGradient, workspace.{plan.TransposedGradient}, {weightGradient}, default);");
                }
                else
                {
                    w.Line($"{Simd}.Expand(outputGradient, {forward.OutChannels}, {forward.OutHeight}, {forward.OutWidth}, workspace.{plan.WideGradient}, {forward.Tile(isa).Plane}, {forward.SourceWidth}, 0, 0);");
                    w.Line($"{code.VectorKernels}.{code.Pascal}WeightGradient{isa.Name}({source}, workspace.{plan.WideGradient}, {weightGradient});");
                }

                if (phases)
                {
                    w.Line($"{clearPhases}{SpaceToDepth}.FoldWeightGradient({weightGradient}, {forward.OutChannels}, {channels}, {plan.Spec.Kernel}, {plan.Stride}, weightGradient);");
                }

                if (!code.IsFirst && plan.WinogradBackward is not null)
                {
                    var output = code.Layer.Output;
                    w.Line($"// Cost model, input gradient in batch steps: {plan.WinogradBackward.Reason}.");
                    using (w.Block($"if (workspace.{plan.UsesWinogradBackward})"))
                    {
                        w.Line($"{Winograd}.Forward(outputGradient, {forward.OutChannels}, {output.Height}, {output.Width}, 2, workspace.{plan.WinogradBackwardWeights}!, default, {channels}, relu: false, inputGradient, workspace.{plan.WinogradBackwardScratch}!);");
                        w.Line("return;");
                    }
                }

                if (plan.ColumnGradient is { } columns)
                {
                    var output = code.Layer.Output;
                    w.Line($"// Cost model: {columns}.");
                    w.Line($"{ColumnGradient}.InputGradient(outputGradient, weight, {output.Channels}, {channels}, {plan.Spec.Kernel}, {output.Height}, {output.Width}, inputGradient, {backward.OutHeight}, {backward.OutWidth}, workspace.{plan.Columns});");
                }
                else if (!code.IsFirst)
                {
                    string inputGradient = phases ? $"workspace.{plan.PhaseGradient}" : "inputGradient";
                    w.Line($"{Simd}.Expand(outputGradient, {forward.OutChannels}, {forward.OutHeight}, {forward.OutWidth}, workspace.{plan.PaddedGradient}, {backward.SourcePlane}, {backward.SourceWidth}, {k - 1}, {k - 1});");
                    using (w.Block($"if (!workspace.{plan.WeightsTurned})"))
                    {
                        w.Line("// Not made for this step by PrepareKernels (the batch-norm stages do not call it): turned here, per example.");
                        EmitTurnWeights(w, code, plan, "weight");
                    }

                    w.Line($"{code.VectorKernels}.{code.Pascal}InputGradientWide{isa.Name}(workspace.{plan.PaddedGradient}, workspace.{plan.RotatedWeights}, workspace.{plan.WideInputGradient});");
                    w.Line($"{Simd}.Compact(workspace.{plan.WideInputGradient}, {backward.Tile(isa).Plane}, {backward.SourceWidth}, {backward.OutChannels}, {backward.OutHeight}, {backward.OutWidth}, {inputGradient});");
                    if (phases)
                    {
                        w.Line($"{SpaceToDepth}.Merge({inputGradient}, {channels}, {plan.Stride}, {forward.SourceHeight}, {forward.SourceWidth}, inputGradient, {plan.WindowHeight}, {plan.WindowWidth});");
                    }
                }

                w.Line("return;");
            }

            w.Line();
        }

        w.Line("// Without vector support: the definition, one output at a time.");
    }
}
