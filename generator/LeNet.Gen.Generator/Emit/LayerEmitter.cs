using System.Collections.Generic;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Shapes;
using static LeNet.Gen.Generator.Emit.Code;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Writes a layer's scalar forward and backward methods, side by side, through its kind's unit (<see cref="LayerKinds"/>),
/// and holds the text the units share: activations, index arithmetic with the products folded into literals.
/// </summary>
internal static class LayerEmitter
{
    public static void Emit(SourceWriter w, LayerCode code, bool training) => LayerKinds.Of(code.Layer.Spec).Emit(w, code, training);

    /// <summary>Applies the layer's activation to its whole output, in place: a runtime call, or a loop over the scalar expression.</summary>
    internal static void EmitActivationInPlace(SourceWriter w, LayerCode code, string output = "output")
    {
        var activation = code.Activation;
        string length = Int(code.Layer.Output.Length);
        if (activation.SpanForward is { } apply)
        {
            w.Line($"{apply}({output}.Slice(0, {length}));");
        }
        else if (!activation.IsIdentity)
        {
            using (w.Block($"for (int o = 0; o < {length}; o++)"))
            {
                w.Line($"{output}[o] = {activation.Scalar($"{output}[o]")};");
            }
        }
    }

    /// <summary>Writes the body once per input channel: inside a loop over <c>c</c>, or directly (with <c>c</c> = 0 folded away) for one channel.</summary>
    internal static void ForEachChannel(SourceWriter w, int channels, System.Action body)
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
    internal static string WindowStart(bool hasChannel, int height, int width, int stride, TensorShape output)
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
    internal static string Flat(string a, int n, string b) => n == 1 ? a : $"(({a} * {n}) + {b})";

    internal static string Flat3(string a, int n1, string b, int n2, string c) => $"(((({a} * {n1}) + {b}) * {n2}) + {c})";

    internal static string Times(string variable, int factor) => factor == 1 ? variable : $"{factor}{variable}";

    // ---------------------------------------------------------------- activations

    /// <summary>
    /// Turns the gradient with respect to the layer's output into the gradient with respect to its pre-activation sum,
    /// in place, using the output itself. A softmax head gets its logits' gradient straight from the loss, so it needs nothing here.
    /// </summary>
    internal static void EmitActivationBackward(SourceWriter w, LayerCode code)
    {
        if (code.Activation.Backward is { } undo)
        {
            w.Line($"{undo}(output.Slice(0, {Int(code.Layer.Output.Length)}), outputGradient); // {code.Activation.BackwardComment}");
        }
    }
}
