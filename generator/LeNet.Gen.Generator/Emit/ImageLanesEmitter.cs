using System.Linq;
using LeNet.Gen.Generator.Shapes;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// The batched inference pass with one image per vector lane (<c>ForwardImages</c>, over the runtime's <c>ImageLanes</c>):
/// whether the network has it, and its method, buffers and interface members. Each layer's unit writes its own call
/// (<see cref="Layers.ILayerKind.ImageLanesCall"/>); this class strings them together between two buffers.
/// </summary>
internal static class ImageLanesEmitter
{
    /// <summary>
    /// True when the network gets the pass in some form: with its layers on images in lanes (<see cref="InLanes"/>), or
    /// image by image with its dense tail batched (<see cref="TailOnly"/>), some layers on groups of images
    /// (<see cref="Grouped"/>), or both.
    /// </summary>
    public static bool Has(LayerCode[] layers) => InLanes(layers) || TailOnly(layers) || Grouped(layers);

    /// <summary>
    /// True when the network does not take the pass in lanes but has layers with a step on groups of images
    /// (<see cref="Layers.ILayerKind.ImageGroup"/>): its batch calls then run image by image around those layers.
    /// </summary>
    public static bool Grouped(LayerCode[] layers) => !InLanes(layers) && GroupSteps(layers).Count > 0;

    // Images per group when the network runs some layers on groups of images: the most any of them wants.
    private static int GroupImages(LayerCode[] layers) => GroupSteps(layers).Select(g => g.Step.Images).DefaultIfEmpty(1).Max();

    // The layers with a step on groups of images, by position.
    private static System.Collections.Generic.List<(int Position, Layers.ImageGroupStep Step)> GroupSteps(LayerCode[] layers) =>
        layers.Select((code, i) => (Position: i, Step: code.Kind.ImageGroup(code)))
            .Where(g => g.Step is not null)
            .Select(g => (g.Position, g.Step!))
            .ToList();

    /// <summary>
    /// True when every layer has image-lanes code, the layers in lanes all come before the layers on rows
    /// (<see cref="Layers.ILayerKind.ImageLanesOnRows"/>), and the cost model chose the pass (<see cref="Reason"/>).
    /// </summary>
    public static bool InLanes(LayerCode[] layers) => Supported(layers) && Reason(layers) is not null;

    /// <summary>Why the cost model chose the pass (<see cref="Layers.ImageLanesCostModel"/>), or null when it did not.</summary>
    public static string? Reason(LayerCode[] layers)
    {
        var costs = layers.Select(code => code.Kind.ImageLanesCostNs(code)).ToList();
        return Layers.ImageLanesCostModel.Choose(costs.Sum(c => c.Lanes), costs.Sum(c => c.PerImage));
    }

    /// <summary>
    /// True when the network does not take the pass in lanes but its layers from the first on rows (the dense tail) all
    /// have code on rows, and batching them saves enough (<see cref="TailReason"/>): the layers on images then run one
    /// image at a time through the single-image kernels, and the tail on all the call's inputs at once.
    /// </summary>
    public static bool TailOnly(LayerCode[] layers) => !InLanes(layers) && TailSupported(layers) && TailReason(layers) is not null;

    /// <summary>Why the cost model batches the dense tail (<see cref="Layers.ImageLanesCostModel.ChooseTail"/>), or null.</summary>
    public static string? TailReason(LayerCode[] layers)
    {
        int tail = Tail(layers);
        var costs = layers.Skip(tail).Select(code => code.Kind.ImageLanesCostNs(code)).ToList();
        return Layers.ImageLanesCostModel.ChooseTail(costs.Sum(c => c.Lanes), costs.Sum(c => c.PerImage));
    }

    // Some layer on rows, after at least one on images, and every layer from it on with code on rows (or passing through).
    private static bool TailSupported(LayerCode[] layers)
    {
        int tail = Tail(layers);
        if (tail == 0 || tail == layers.Length)
        {
            return false;
        }

        for (int i = tail; i < layers.Length; i++)
        {
            var code = layers[i];
            string? call = code.Kind.ImageLanesCall(code, "x", "y", "s");
            if (call is null || (call.Length > 0 && !code.Kind.ImageLanesOnRows(code)))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Supported(LayerCode[] layers)
    {
        int tail = Tail(layers);
        for (int i = 0; i < layers.Length; i++)
        {
            var code = layers[i];
            string? call = code.Kind.ImageLanesCall(code, "a", "b", "s");
            if (call is null || (i > tail && call.Length > 0 && !code.Kind.ImageLanesOnRows(code)))
            {
                return false;
            }
        }

        return true;
    }

    // The position of the first layer on rows; the layer count when there is none.
    private static int Tail(LayerCode[] layers)
    {
        int first = System.Array.FindIndex(layers, code => code.Kind.ImageLanesOnRows(code));
        return first < 0 ? layers.Length : first;
    }

    public static void EmitMethod(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (TailOnly(layers) || Grouped(layers))
        {
            EmitImageByImageMethod(w, plan, layers);
            return;
        }

        if (!InLanes(layers))
        {
            return;
        }

        int tail = Tail(layers);
        int buffer = Lanes(plan, layers, tail), scratch = Scratch(layers), rows = Rows(plan, layers, tail);
        int flat = tail == 0 ? plan.Input.Length : layers[tail - 1].Layer.Output.Length;
        int output = plan.Output.Length;
        const string Batch = ImageLanes + ".Batch";
        w.Line("// Batch Predict calls of 16 or more inputs run this pass on up to ImageLanes.Batch inputs at a time. The layers on");
        w.Line("// images run on groups of them, one image per vector lane (8 with AVX2, 16 with AVX-512): every weight a kernel");
        w.Line("// loads serves the whole group, and no lane is wasted whatever the channel counts, strides and windows. Their");
        w.Line("// buffers hold each value of a tensor for every lane; the layers write them in turn, a to b and back. The dense");
        w.Line("// layers then run on all the call's inputs at once, one per lane of x and y, so their weights are read once per call.");
        w.Line($"// Cost model: {Reason(layers)}.");
        w.Line(Code.Hot);
        using (w.Block($"private static void ForwardImages({ReadOnlySpan} parameters, {ReadOnlySpan} inputs, int count, Workspace workspace, {Span} outputs)"))
        {
            EmitRowBuffers(w, rows);
            if (tail > 0)
            {
                w.Line($"int lanes = {ImageLanes}.Count;");
                w.Line($"{Span} a = {ImageLanes}.Aligned(ref workspace.ImagesA, lanes * {Int(buffer)});");
                w.Line($"{Span} b = {ImageLanes}.Aligned(ref workspace.ImagesB, lanes * {Int(buffer)});");
                if (scratch > 0)
                {
                    w.Line($"{Span} scratch = {ImageLanes}.Aligned(ref workspace.ImagesScratch, lanes * {Int(scratch)});");
                }

                using (w.Block($"if (count < {Batch})"))
                {
                    w.Line($"x.Slice(0, {Batch} * {Int(flat)}).Clear(); // the lanes of the missing groups");
                }

                w.Line();
                using (w.Block("for (int first = 0; first < count; first += lanes)"))
                {
                    w.Line($"{ImageLanes}.Gather(inputs.Slice(first * {Int(plan.Input.Length)}), global::System.Math.Min(lanes, count - first), {Int(plan.Input.Length)}, a);");
                    string from = "a", to = "b";
                    for (int i = 0; i < tail; i++)
                    {
                        if (i + 1 < tail && EmitFused(w, layers[i], layers[i + 1], from, to))
                        {
                            (from, to) = (to, from);
                            i++;
                        }
                        else if (EmitLayer(w, layers[i], from, to, "lanes"))
                        {
                            (from, to) = (to, from);
                        }
                    }

                    w.Line($"{ImageLanes}.Widen({from}, {Int(flat)}, first, x);");
                }

                w.Line();
            }
            else
            {
                w.Line($"{ImageLanes}.GatherBatch(inputs, count, {Int(plan.Input.Length)}, x);");
            }

            EmitRows(w, plan, layers, tail);
        }

        w.Line();
    }

    // The pass image by image through the single-image kernels, as Predict runs them (the prepared kernels of a batch call
    // included), except for two things. The layers with a step on groups of images (Winograd's products) take a group's
    // images at once: the images run up to such a layer one after another, hand it their inputs, the layer runs on the
    // group, and the images go on one after another from its outputs. And when the dense tail is batched (TailOnly), each
    // image's flat input to it is kept, and the tail runs on all the call's inputs at once.
    private static void EmitImageByImageMethod(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        bool tailBatched = TailOnly(layers);
        int tail = tailBatched ? Tail(layers) : layers.Length;
        var steps = GroupSteps(layers).Where(g => g.Position < tail).ToList();
        int group = GroupImages(layers);
        int inputLength = plan.Input.Length, outputLength = plan.Output.Length;
        int flat = tailBatched ? layers[tail - 1].Layer.Output.Length : 0;
        const string Batch = ImageLanes + ".Batch";
        w.Line(tailBatched
            ? "// Batch Predict calls of 16 or more inputs run this pass on up to ImageLanes.Batch inputs at a time (it runs only with"
            : $"// Batch Predict calls of 16 or more inputs run this pass on {group} inputs at a time (ImagesPerPass; it runs only with");
        w.Line("// AVX2 and FMA). The layers on images run one image at a time through the single-image kernels, as Predict runs");
        w.Line(steps.Count == 0
            ? "// them."
            : $"// them, {group} images at a time around the layers that run on groups of images:");
        foreach (var (position, step) in steps)
        {
            w.Line($"// {layers[position].Layer.Name}: {step.Reason}.");
        }

        if (tailBatched)
        {
            w.Line("// Each image's flat output is kept; the dense layers then run on all of them at once, one per lane of x and y, so");
            w.Line("// that their weights are read once per call rather than once per image.");
            w.Line($"// Cost model: {TailReason(layers)}.");
        }

        w.Line(Code.Hot);
        using (w.Block($"private static void ForwardImages({ReadOnlySpan} parameters, {ReadOnlySpan} inputs, int count, Workspace workspace, {Span} outputs)"))
        {
            if (tailBatched)
            {
                EmitRowBuffers(w, Rows(plan, layers, tail));
                w.Line($"{Span} features = workspace.ImagesA ??= new float[{Batch} * {Int(flat)}];");
            }

            foreach (var (position, step) in steps)
            {
                w.Line($"{Span} group{layers[position].Pascal} = workspace.{step.Field} ??= new float[{step.FieldLength(Int(group))}];");
            }

            // The end of one image's pass: its flat output kept for the batched tail, or its outputs written.
            void EmitImageEnd()
            {
                if (tailBatched)
                {
                    string head = layers[tail].SourcePosition is int from
                        ? $"global::System.MemoryExtensions.AsSpan(workspace.{layers[from].Output}, 0, {Int(flat)})"
                        : $"input.Slice(0, {Int(flat)})";
                    w.Line($"{head}.CopyTo(features.Slice(n * {Int(flat)}));");
                    return;
                }

                if (plan.CanTrain)
                {
                    w.Line($"global::LeNet.Gen.Runtime.Softmax.Apply(workspace.Logits, workspace.{layers[layers.Length - 1].Output});");
                }

                w.Line($"global::System.MemoryExtensions.AsSpan(workspace.{layers[layers.Length - 1].Output}, 0, {Int(outputLength)}).CopyTo(outputs.Slice(n * {Int(outputLength)}));");
            }

            if (steps.Count == 0)
            {
                using (w.Block("for (int n = 0; n < count; n++)"))
                {
                    w.Line($"{ReadOnlySpan} input = inputs.Slice(n * {Int(inputLength)}, {Int(inputLength)});");
                    for (int i = 0; i < tail; i++)
                    {
                        MembersEmitter.EmitForwardCall(w, plan, layers[i], layers, training: false);
                    }

                    EmitImageEnd();
                }
            }
            else
            {
                using (w.Block($"for (int first = 0; first < count; first += {Int(group)})"))
                {
                    w.Line($"int images = global::System.Math.Min({Int(group)}, count - first);");
                    int from = 0;
                    for (int k = 0; k <= steps.Count; k++)
                    {
                        int to = k < steps.Count ? steps[k].Position : tail;
                        using (w.Block("for (int i = 0; i < images; i++)"))
                        {
                            w.Line("int n = first + i;");
                            if (k == 0)
                            {
                                w.Line($"{ReadOnlySpan} input = inputs.Slice(n * {Int(inputLength)}, {Int(inputLength)});");
                            }
                            else
                            {
                                var (position, step) = steps[k - 1];
                                step.EmitOutput(w, "i", Int(group), "group" + layers[position].Pascal, $"global::System.MemoryExtensions.AsSpan(workspace.{layers[position].Written})");
                            }

                            for (int i = from; i < to; i++)
                            {
                                MembersEmitter.EmitForwardCall(w, plan, layers[i], layers, training: false);
                            }

                            if (k < steps.Count)
                            {
                                var (position, step) = steps[k];
                                string source = MembersEmitter.EmitForwardSource(w, layers[position], layers);
                                step.EmitInput(w, source, "i", Int(group), "group" + layers[position].Pascal);
                            }
                            else
                            {
                                EmitImageEnd();
                            }
                        }

                        if (k < steps.Count)
                        {
                            var (position, step) = steps[k];
                            step.EmitGroup(w, Int(group), "group" + layers[position].Pascal);
                            from = position + 1;
                        }
                    }
                }
            }

            if (tailBatched)
            {
                w.Line();
                w.Line($"{ImageLanes}.GatherBatch(features, count, {Int(flat)}, x);");
                EmitRows(w, plan, layers, tail);
            }
        }

        w.Line();
    }

    // x and y, the buffers of the layers on the whole call: rows values for each of ImageLanes.Batch inputs.
    private static void EmitRowBuffers(SourceWriter w, int rows)
    {
        const string Batch = ImageLanes + ".Batch";
        w.Line($"{Span} x = {ImageLanes}.Aligned(ref workspace.ImagesX, {Batch} * {Int(rows)});");
        w.Line($"{Span} y = {ImageLanes}.Aligned(ref workspace.ImagesY, {Batch} * {Int(rows)});");
    }

    // The layers on the whole call, x to y and back from the layer at tail on; the outputs scattered, then the softmax.
    private static void EmitRows(SourceWriter w, NetworkPlan plan, LayerCode[] layers, int tail)
    {
        const string Batch = ImageLanes + ".Batch";
        int output = plan.Output.Length;
        string source = "x";
        for (int i = tail; i < layers.Length; i++)
        {
            string target = source == "x" ? "y" : "x";
            if (EmitLayer(w, layers[i], source, target, Batch))
            {
                source = target;
            }
        }

        w.Line($"{ImageLanes}.Scatter({source}, count, {Int(output)}, outputs);");
        if (plan.CanTrain)
        {
            using (w.Block("for (int n = 0; n < count; n++)"))
            {
                w.Line($"{Span} probabilities = outputs.Slice(n * {Int(output)}, {Int(output)});");
                w.Line("global::LeNet.Gen.Runtime.Softmax.Apply(probabilities, probabilities);");
            }
        }
    }

    // Two layers in one call (ILayerKind.ImageLanesFusedCall), then the second one's tanh or sigmoid; false when the first
    // has no such call for the second.
    private static bool EmitFused(SourceWriter w, LayerCode code, LayerCode next, string source, string target)
    {
        string? call = code.Kind.ImageLanesFusedCall(code, next, source, target, code.Kind.ImageLanesScratch(code) > 0 ? "scratch" : "default");
        if (call is null)
        {
            return false;
        }

        w.Line(call + $" // {code.Layer.Name} and {next.Layer.Name}");
        if (next.Activation.SpanForward is { } apply)
        {
            w.Line($"{apply}({target}.Slice(0, lanes * {Int(next.Layer.Output.Length)}));");
        }

        return true;
    }

    // One layer's call and its tanh or sigmoid over what it wrote (per lane or per input); false for a layer that passes its input through.
    private static bool EmitLayer(SourceWriter w, LayerCode code, string source, string target, string copies)
    {
        string call = code.Kind.ImageLanesCall(code, source, target, code.Kind.ImageLanesScratch(code) > 0 ? "scratch" : "default")!;
        if (call.Length == 0)
        {
            w.Line($"// {code.Layer.Name}: passes its input through in inference");
            return false;
        }

        w.Line(call + $" // {code.Layer.Name}");
        if (code.Activation.SpanForward is { } apply)
        {
            w.Line($"{apply}({target}.Slice(0, {copies} * {Int(code.Layer.Output.Length)}));");
        }

        return true;
    }

    /// <summary>The members of the <c>Kernels</c> struct that hand the pass to the runtime.</summary>
    public static void EmitKernelMembers(SourceWriter w, NetworkPlan plan, LayerCode[] layers)
    {
        if (Has(layers))
        {
            string type = plan.Spec.Type.NameWithTypeParameters;
            w.Line("public static bool HasImageLanes => true;");
            if (!InLanes(layers) && !TailOnly(layers))
            {
                // Image by image with only some layers on groups: a call is cut into groups, so its threads share it evenly.
                w.Line($"public static int ImagesPerPass => {ImageLanes}.Count > 0 ? {Int(GroupImages(layers))} : 0;");
            }
            w.Line($"public static void ForwardImages({ReadOnlySpan} parameters, {ReadOnlySpan} inputs, int count, Workspace workspace, {Span} outputs) => {type}.ForwardImages(parameters, inputs, count, workspace, outputs);");
        }
    }

    /// <summary>The workspace fields the pass allocates on a thread's first batch call.</summary>
    public static void EmitWorkspaceFields(SourceWriter w, LayerCode[] layers)
    {
        if (!Has(layers))
        {
            return;
        }

        w.Line();
        w.Line("// ForwardImages' buffers, allocated on the thread's first batch call (their size depends on the vector width).");
        if (!InLanes(layers))
        {
            if (TailOnly(layers))
            {
                w.Line("public float[]? ImagesA;");
                w.Line("public float[]? ImagesX;");
                w.Line("public float[]? ImagesY;");
            }

            foreach (var (position, step) in GroupSteps(layers))
            {
                w.Line($"public float[]? {step.Field}; // {layers[position].Layer.Name}: the tiles and products of a group of images");
            }

            return;
        }

        if (Tail(layers) > 0)
        {
            w.Line("public float[]? ImagesA;");
            w.Line("public float[]? ImagesB;");
        }

        if (Scratch(layers) > 0)
        {
            w.Line("public float[]? ImagesScratch;");
        }

        w.Line("public float[]? ImagesX;");
        w.Line("public float[]? ImagesY;");
    }

    // Values per lane of each of the two lanes buffers: the largest tensor up to the first layer on rows, input included.
    private static int Lanes(NetworkPlan plan, LayerCode[] layers, int tail) =>
        layers.Take(tail).Select(code => code.Layer.Output.Length).Concat(new[] { plan.Input.Length }).Max();

    // Values per lane of x and y: the largest input or output of a layer on the whole call, the head's output included.
    private static int Rows(NetworkPlan plan, LayerCode[] layers, int tail) =>
        layers.Skip(tail).Select(code => code.Layer.Output.Length)
            .Concat(new[] { tail == 0 ? plan.Input.Length : layers[tail - 1].Layer.Output.Length }).Max();

    private static int Scratch(LayerCode[] layers) => layers.Select(code => code.Kind.ImageLanesScratch(code)).Max();
}
