using System.Collections.Generic;
using System.Linq;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// The training pass on a chunk of examples with one example per lane (<c>TrainLanes</c>, over the runtime's
/// <c>TrainingLanes</c>): whether the network has it, and its method, buffers and interface members. Each layer's unit
/// writes its own forward and backward calls (<see cref="Layers.ILayerKind.TrainingLanesForward"/>,
/// <see cref="Layers.ILayerKind.TrainingLanesBackward"/>); this class strings them together, applies the activations
/// between them and keeps every layer's output for the backward pass.
/// </summary>
internal static class TrainingLanesEmitter
{
    private const string TrainingLanes = "global::LeNet.Gen.Runtime.TrainingLanes";

    /// <summary>Lanes per pass: the runtime's <c>TrainingLanes.Count</c>, a training chunk.</summary>
    private const int Lanes = 8;

    /// <summary>True when the network trains its chunks in lanes: it has the pass, and the cost model chose it (<see cref="Reason"/>).</summary>
    public static bool Has(NetworkPlan plan, LayerCode[] layers) => plan.CanTrain && Supported(layers) && Reason(plan, layers) is not null;

    // Every layer has lanes code, and the last is the dense softmax head whose logits the loss reads.
    private static bool Supported(LayerCode[] layers) =>
        layers.All(code => code.Kind.TrainingLanesForward(code, "a", "b", "s") is not null)
        && layers[layers.Length - 1].Kind.ImageLanesOnRows(layers[layers.Length - 1]);

    /// <summary>
    /// Why the cost model chose the pass, or null when it did not. The choice follows batch inference's
    /// (<see cref="ImageLanesEmitter.InLanes"/>): the backward kernels in lanes do the same multiply-adds per weight load as
    /// the forward ones, so a network whose layers run faster in lanes forward trains faster in lanes too. Measured on
    /// Zen 4 (one thread, batches of 32), against the single-example kernels: LeNet-5 +22%, the harness's mixed +22% and
    /// sig +60% (both chosen); strided −10% and vgg-cifar −44% (both not chosen: their single-image kernels are Winograd's
    /// and the wide rows, which the forward estimate already prefers).
    /// </summary>
    public static string? Reason(NetworkPlan plan, LayerCode[] layers)
    {
        if (!ImageLanesEmitter.InLanes(layers))
        {
            return null;
        }

        long bytes = 4L * Lanes * (Values(plan, layers) + (2L * Gradient(layers)));
        return $"as batch inference, the layers in lanes ({ImageLanesEmitter.Reason(layers)}); a chunk keeps {Kilobytes(bytes)} KB of outputs and gradients";
    }

    private static string Kilobytes(long bytes) => Int((bytes + 1023) / 1024);

    // Values per lane of the kept tensors: the input and every layer's output.
    private static int Values(NetworkPlan plan, LayerCode[] layers) => plan.Input.Length + layers.Sum(code => code.Layer.Output.Length);

    // Values per lane of each of the two gradient buffers: the largest output, or input of a layer after the first.
    private static int Gradient(LayerCode[] layers) =>
        layers.Select(code => code.Layer.Output.Length).Concat(layers.Where(code => !code.IsFirst).Select(code => code.Layer.Input.Length)).Max();

    // Scratch (all lanes): the most any layer asks for, and the loss's two rows. The sizes known here as numbers fold into
    // one; the others (the convolutions', which the runtime computes) are compared at run time, one line per layer.
    private static (int Known, List<(string Layer, string Values)> Asked) Scratch(LayerCode[] layers)
    {
        int known = 2 * layers[layers.Length - 1].Layer.Output.Length;
        var asked = new List<(string, string)>();
        foreach (var code in layers)
        {
            if (code.Kind.TrainingLanesScratch(code) is not { } values)
            {
                continue;
            }

            if (int.TryParse(values, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number))
            {
                known = System.Math.Max(known, number);
            }
            else
            {
                asked.Add((code.Layer.Name, values));
            }
        }

        return (known, asked);
    }

    // The name of the span holding a layer's output in the pass.
    private static string Name(LayerCode code) => code.IsSoftmaxHead ? "logits" : code.Layer.Name;

    public static void EmitMethod(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (!Has(plan, layers))
        {
            return;
        }

        int values = Values(plan, layers), gradient = Gradient(layers);
        var (known, asked) = Scratch(layers);
        var head = layers[layers.Length - 1];
        w.Line("// A training chunk (up to 8 examples, NetworkTraining.ChunkSize) in one pass, one example in each lane of a 256-bit");
        w.Line("// vector (the runtime's TrainingLanes): every weight a kernel loads serves the whole chunk. The forward pass keeps each");
        w.Line("// layer's output; the loss gives the logits' gradient; the backward pass turns it layer by layer into the gradient of");
        w.Line("// each layer's input in two buffers, a and b in turn, and adds the chunk's weight gradients into gradients.");
        w.Line($"// Cost model: {Reason(plan, layers)}.");
        w.Line(Hot);
        using (w.Block($"private static float TrainLanes({ReadOnlySpan} parameters, {ReadOnlySpan} inputs, {ReadOnlyIntSpan} labels, int first, float scale, Workspace workspace, {Span} gradients, global::LeNet.Gen.Runtime.BatchGradients? batch)"))
        {
            w.Line($"const int lanes = {TrainingLanes}.Count;");
            w.Line("int count = labels.Length;");
            w.Line($"{Span} values = {ImageLanes}.Aligned(ref workspace.LanesValues, lanes * {Int(values)});");
            w.Line($"{Span} a = {ImageLanes}.Aligned(ref workspace.LanesGradientA, lanes * {Int(gradient)});");
            w.Line($"{Span} b = {ImageLanes}.Aligned(ref workspace.LanesGradientB, lanes * {Int(gradient)});");
            w.Line($"int scratchLength = {Int(known)};");
            foreach (var (layer, length) in asked)
            {
                w.Line($"scratchLength = global::System.Math.Max(scratchLength, {length}); // {layer}");
            }

            w.Line($"{Span} scratch = {ImageLanes}.Aligned(ref workspace.LanesScratch, scratchLength);");
            int offset = plan.Input.Length;
            w.Line($"{Span} input = values.Slice(0, lanes * {Int(plan.Input.Length)});");
            foreach (var code in layers)
            {
                w.Line($"{Span} {Name(code)} = values.Slice(lanes * {Int(offset)}, lanes * {Int(code.Layer.Output.Length)});");
                offset += code.Layer.Output.Length;
            }

            w.Line();
            w.Line($"{TrainingLanes}.Gather(inputs, count, {Int(plan.Input.Length)}, input);");
            foreach (var code in layers)
            {
                string source = code.IsFirst ? "input" : Name(layers[code.SourcePosition!.Value]);
                w.Line($"{code.Kind.TrainingLanesForward(code, source, Name(code), "scratch")} // {code.Layer.Name}");
                if (code.Activation.SpanForward is { } apply)
                {
                    w.Line($"{apply}({Name(code)});");
                }
            }

            w.Line();
            w.Line($"float loss = {TrainingLanes}.Loss(logits, labels, {Int(head.Layer.Output.Length)}, scale, scratch, a); // the loss and the logits' gradient, scaled for the batch mean");
            string current = "a", other = "b";
            for (int i = layers.Length - 1; i >= 0; i--)
            {
                var code = layers[i];
                string gradientOf = $"{current}.Slice(0, lanes * {Int(code.Layer.Output.Length)})";
                if (code.Activation.Backward is { } undo)
                {
                    w.Line($"{undo}({Name(code)}, {gradientOf}); // {code.Layer.Name}: {code.Activation.BackwardComment}");
                }

                string source = code.IsFirst ? "input" : Name(layers[code.SourcePosition!.Value]);
                string? inputGradient = code.IsFirst ? null : other;
                string statement = code.Kind.TrainingLanesBackward(code, source, Name(code), current, inputGradient, "scratch")!;
                string comment = $" // {code.Layer.Name} backward";
                foreach (string line in statement.Split(new[] { '\n' }, System.StringSplitOptions.RemoveEmptyEntries))
                {
                    w.Line(line + comment);
                    comment = string.Empty;
                }

                (current, other) = (other, current);
            }

            w.Line("return loss;");
        }

        w.Line();
    }

    /// <summary>
    /// The fewest examples of a chunk worth a pass in lanes, which costs the same for any count: the smallest n with
    /// n × (the one-image estimate) ≥ <see cref="Lanes"/> × (the lanes estimate), from batch inference's estimates per layer
    /// (training does about three times the same multiply-adds either way). LeNet-5: 8 × 10.7 / 13.8 = 6.2, so 7; measured
    /// on Zen 4 (one thread, batches of n): 7 examples 29.9k img/s in lanes against 28.6k one at a time, 4 examples 17.6k
    /// against 26.8k, 1 example 4.3k against 19.3k.
    /// </summary>
    private static (int Minimum, double LanesNs, double PerImageNs) Minimum(LayerCode[] layers)
    {
        var costs = layers.Select(code => code.Kind.ImageLanesCostNs(code)).ToList();
        double lanes = costs.Sum(c => c.Lanes), perImage = costs.Sum(c => c.PerImage);
        int minimum = perImage > 0 ? (int)System.Math.Ceiling(Lanes * lanes / perImage) : Lanes;
        return (System.Math.Max(1, System.Math.Min(Lanes, minimum)), lanes, perImage);
    }

    private static string Micro(double ns) => (ns / 1000).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The members of the <c>Kernels</c> struct that hand the pass to the runtime.</summary>
    public static void EmitKernelMembers(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (!Has(plan, layers))
        {
            return;
        }

        string type = plan.Spec.Type.NameWithTypeParameters;
        w.Line("// Chunks train in lanes where the processor has AVX2 and FMA, unless 512-bit multiply-adds run at full rate: there the");
        w.Line("// single-example kernels run vectors twice as wide as the pass's 256 bits (the pass is measured only where they do not).");
        w.Line($"public static bool TrainsInLanes => {TrainingLanes}.Supported && !{Simd}.FullRate512;");
        var (minimum, lanesNs, perImageNs) = Minimum(layers);
        w.Line($"// A chunk of fewer than {Int(minimum)} examples trains one at a time: the pass costs about {Lanes} × {Micro(lanesNs)} µs whatever the count,");
        w.Line($"// against {Micro(perImageNs)} µs an example (the batch-inference estimates).");
        w.Line($"public static int TrainingLanesMinimum => {Int(minimum)};");
        w.Line($"public static float TrainLanes({ReadOnlySpan} parameters, {ReadOnlySpan} inputs, {ReadOnlyIntSpan} labels, int first, float scale, Workspace workspace, {Span} gradients, global::LeNet.Gen.Runtime.BatchGradients? batch) => {type}.TrainLanes(parameters, inputs, labels, first, scale, workspace, gradients, batch);");
    }

    /// <summary>The workspace fields the pass allocates on a training workspace's first chunk.</summary>
    public static void EmitWorkspaceFields(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (!Has(plan, layers))
        {
            return;
        }

        w.Line();
        w.Line("// TrainLanes' buffers, allocated on the workspace's first training chunk.");
        w.Line("public float[]? LanesValues;");
        w.Line("public float[]? LanesGradientA;");
        w.Line("public float[]? LanesGradientB;");
        w.Line("public float[]? LanesScratch;");
    }

    /// <summary>The gradient of a layer's weights and biases as two slices of <c>gradients</c>, for a call's arguments.</summary>
    public static string GradientSlices(LayerCode code) =>
        $"gradients.Slice({Int(code.Layer.WeightOffset)}, {Int(code.Layer.WeightCount)}), gradients.Slice({Int(code.Layer.BiasOffset)}, {Int(code.Layer.BiasCount)})";

    /// <summary>The runtime class's name, fully qualified, for the layer units' calls.</summary>
    public static string Runtime => TrainingLanes;
}
