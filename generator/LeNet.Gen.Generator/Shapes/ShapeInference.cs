using System.Collections.Generic;
using System.Globalization;
using LeNet.Gen.Generator.Diagnostics;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;

namespace LeNet.Gen.Generator.Shapes;

/// <summary>The outcome of shape inference: a plan when the spec has no errors, and every problem found (errors, warnings and notes).</summary>
internal sealed record InferenceResult(NetworkPlan? Plan, EquatableArray<Problem> Problems);

/// <summary>
/// Works out every layer's output shape and parameter count from a <see cref="NetworkSpec"/>, and every problem with it.
/// Pure: no Roslyn types, no state; the generator and the analyzer both call it.
/// </summary>
internal static class ShapeInference
{
    public static InferenceResult Infer(NetworkSpec spec)
    {
        var problems = new List<Problem>();
        var layers = new List<LayerPlan>();
        var input = CheckInput(spec, problems);
        if (spec.Layers.Count == 0)
        {
            problems.Add(new Problem(Rules.NoLayers.Id, ProblemTarget.Network(), spec.Type.Name));
            return new InferenceResult(null, problems.ToEquatableArray());
        }

        if (spec.Layers.Count > Limits.MaxLayers)
        {
            problems.Add(new Problem(
                Rules.TooLarge.Id, ProblemTarget.Network(), spec.Type.Name,
                Format("it has {0} layers, more than LeNet.Gen's limit of {1}", spec.Layers.Count, Limits.MaxLayers)));
            return new InferenceResult(null, problems.ToEquatableArray());
        }

        var names = NamesOf(spec.Layers);
        TensorShape? current = input;
        string source = "the input";
        long parameters = 0;
        int lastIndex = spec.Layers.Count - 1;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            string name = names[i];
            var kind = LayerKinds.Of(layer);
            bool valid = kind.CheckValues(layer, name, problems);
            if (kind.ActivationOf(layer) == ActivationKind.Softmax && i != lastIndex)
            {
                problems.Add(new Problem(
                    Rules.SoftmaxNotLast.Id, ProblemTarget.Layer(layer.Index, "Activation"), name, "the last layer is " + names[lastIndex])
                {
                    Fixes = MoveSoftmax(layer.Index, name, spec.Layers[lastIndex], names[lastIndex]),
                });
            }

            if (!valid || current is null)
            {
                if (!valid && current is not null)
                {
                    ReportWindowBeyondInput(spec, layer, name, current, problems);
                }

                current = null;
                continue;
            }

            var plan = kind.Plan(spec, layer, name, current, source, problems, parameters);
            if (plan is null)
            {
                current = null;
                continue;
            }

            layers.Add(plan with { Source = layers.Count == 0 ? null : layers[layers.Count - 1].Name });
            parameters += plan.ParameterCount;
            current = plan.Output;
            source = name;
        }

        if (current is null || HasErrors(problems))
        {
            return new InferenceResult(null, problems.ToEquatableArray());
        }

        var last = layers[layers.Count - 1];
        if (last.Activation != ActivationKind.Softmax)
        {
            problems.Add(new Problem(
                Rules.TrainNotGenerated.Id, ProblemTarget.Layer(last.Spec.Index, "Activation"), spec.Type.Name, last.Name, last.Activation.ToString())
            {
                Fixes = !LayerKinds.Of(last.Spec).HasActivation // only attributes with an Activation argument can set it
                    ? EquatableArray<FixSuggestion>.Empty
                    : Single(new FixSuggestion(
                        Format("Set Activation = Softmax on {0} (generates Train)", last.Name),
                        Rules.TrainNotGenerated.Id + ".UseSoftmax",
                        FixEdit.Set(ProblemTarget.Layer(last.Spec.Index), "Activation", ActivationValue(ActivationKind.Softmax)))),
            });
        }

        var result = new NetworkPlan(spec, input!, layers.ToEquatableArray(), (int)parameters);
        return new InferenceResult(result, problems.ToEquatableArray());
    }

    private static bool HasErrors(List<Problem> problems)
    {
        foreach (var p in problems)
        {
            if (Rules.IsError(p.RuleId))
            {
                return true;
            }
        }

        return false;
    }

    private static TensorShape? CheckInput(NetworkSpec spec, List<Problem> problems)
    {
        bool valid = AtLeast(1, spec.Channels, "input", "channels", ProblemTarget.Network("channels"), problems)
            & AtLeast(1, spec.Height, "input", "height", ProblemTarget.Network("height"), problems)
            & AtLeast(1, spec.Width, "input", "width", ProblemTarget.Network("width"), problems);
        if (!valid)
        {
            return null;
        }

        long length = (long)spec.Channels * spec.Height * spec.Width;
        if (length > Limits.MaxTensorLength)
        {
            problems.Add(new Problem(
                Rules.TooLarge.Id, ProblemTarget.Network(), "input",
                Format("{0} × {1} × {2} = {3} values exceeds LeNet.Gen's limit of {4} values per tensor", spec.Channels, spec.Height, spec.Width, length, Limits.MaxTensorLength)));
            return null;
        }

        return new TensorShape(spec.Channels, spec.Height, spec.Width, IsSpatial: true);
    }

    /// <summary>
    /// A layer whose values were rejected (a window over the unrolling limit, say) is not planned, yet a window larger
    /// than the padded input is the more specific fact and usually the user's real mistake: report it too, with its
    /// arithmetic, whenever the window, stride and padding are themselves in range.
    /// </summary>
    private static void ReportWindowBeyondInput(NetworkSpec spec, LayerSpec layer, string name, TensorShape input, List<Problem> problems)
    {
        if (LayerKinds.Of(layer).WindowOf(layer) is not var (window, stride, padding, isConv)
            || !input.IsSpatial || window < 1 || stride < 1 || padding < 0)
        {
            return;
        }

        var target = ProblemTarget.Layer(layer.Index);
        var height = ShapeFormula.Output(input.Height, window, stride, padding, spec.Rounding);
        var width = ShapeFormula.Output(input.Width, window, stride, padding, spec.Rounding);
        bool square = input.Height == input.Width;
        if (!height.Fits)
        {
            CheckAxis(spec, name, target, height, square ? null : "height", isConv, problems);
        }

        if (!square && !width.Fits)
        {
            CheckAxis(spec, name, target, width, "width", isConv, problems);
        }
    }

    internal static bool AtLeast(int minimum, int value, string layer, string what, ProblemTarget target, List<Problem> problems)
    {
        if (value >= minimum)
        {
            return true;
        }

        problems.Add(new Problem(Rules.InvalidValue.Id, target, layer, what, Format("at least {0}", minimum), Format("{0}", value)));
        return false;
    }

    internal static bool Window(int value, string layer, string what, ProblemTarget target, List<Problem> problems)
    {
        if (!AtLeast(1, value, layer, what, target, problems))
        {
            return false;
        }

        if (value <= Limits.MaxWindow)
        {
            return true;
        }

        problems.Add(new Problem(
            Rules.TooLarge.Id, target, layer,
            Format("a {0}×{0} window is larger than LeNet.Gen's limit of {1}×{1} (windows are unrolled in the generated code)", value, Limits.MaxWindow)));
        return false;
    }

    internal static bool KnownActivation(ActivationKind value, string layer, ProblemTarget target, List<Problem> problems)
    {
        if (value is >= ActivationKind.None and <= ActivationKind.Softmax)
        {
            return true;
        }

        problems.Add(new Problem(Rules.InvalidValue.Id, target, layer, "Activation", "one of None, ReLU, Tanh, Sigmoid, Softmax", Format("{0}", (int)value)));
        return false;
    }

    internal static bool KnownPool(PoolingKind value, string layer, ProblemTarget target, List<Problem> problems)
    {
        if (value is PoolingKind.Max or PoolingKind.Average)
        {
            return true;
        }

        problems.Add(new Problem(Rules.InvalidValue.Id, target, layer, "kind", "PoolKind.Max or PoolKind.Average", Format("{0}", (int)value)));
        return false;
    }

    /// <summary>The output shape of a convolution or pooling layer, or null after reporting why there is none.</summary>
    internal static TensorShape? PlanWindow(
        NetworkSpec spec, int index, string name, TensorShape input, string source, int window, int stride, int padding, int channels, bool isConv, List<Problem> problems)
    {
        var target = ProblemTarget.Layer(index);
        if (!input.IsSpatial)
        {
            problems.Add(new Problem(Rules.SpatialLayerAfterDense.Id, target, name, source, Format("{0}", input.Length)));
            return null;
        }

        var height = ShapeFormula.Output(input.Height, window, stride, padding, spec.Rounding);
        var width = ShapeFormula.Output(input.Width, window, stride, padding, spec.Rounding);
        bool square = input.Height == input.Width;
        bool ok = CheckAxis(spec, name, target, height, square ? null : "height", isConv, problems);
        if (!square)
        {
            ok &= CheckAxis(spec, name, target, width, "width", isConv, problems);
        }

        if (!ok)
        {
            return null;
        }

        if (stride > window)
        {
            problems.Add(new Problem(
                Rules.StrideSkipsInput.Id, ProblemTarget.Layer(index, "Stride"), name, Format("{0}", stride), Format("{0}", window), Format("{0}", stride - window)));
        }

        if (spec.Rounding == RoundingMode.Floor && (height.Unread > 0 || width.Unread > 0))
        {
            string unread = height.Unread == width.Unread
                ? Format("{0} rows and columns", height.Unread)
                : Format("{0} rows and {1} columns", height.Unread, width.Unread);
            problems.Add(new Problem(Rules.FloorDropsInput.Id, target, name, unread, Padded(input, padding)));
        }

        long length = Multiply(Multiply(channels, height.Size), width.Size);
        string product = Format("{0} × {1} × {2}", channels, height.Size, width.Size);
        return CheckTensor(name, index, length, product, problems)
            ? new TensorShape(channels, (int)height.Size, (int)width.Size, IsSpatial: true)
            : null;
    }

    private static string Padded(TensorShape input, int padding) => padding == 0
        ? Format("{0}×{1}", input.Height, input.Width)
        : Format("padded {0}×{1}", input.Height + (2L * padding), input.Width + (2L * padding));

    private static bool CheckAxis(NetworkSpec spec, string name, ProblemTarget target, AxisSize axis, string? axisName, bool isConv, List<Problem> problems)
    {
        string suffix = axisName is null ? string.Empty : " (" + axisName + ")";
        if (!axis.Fits)
        {
            string padded = axisName is null
                ? Format("{0}×{0}", axis.Input + (2L * axis.Padding))
                : Format("{0} {1}", axis.Input + (2L * axis.Padding), axisName);
            string why = Format(
                "the {0}×{0} window is larger than the padded input, {1} ({2}); use a smaller window{3} or a larger input",
                axis.Window, padded, ShapeFormula.ExplainPaddedInput(axis), isConv ? ", more padding" : string.Empty);
            problems.Add(new Problem(Rules.NonPositiveOutputSize.Id, target, name, ShapeFormula.Explain(axis) + suffix, why));
            return false;
        }

        if (axis.IsWhole || spec.Rounding != RoundingMode.Exact)
        {
            return true;
        }

        var fixes = new List<FixSuggestion>();
        string suggestion = Suggest(axis, isConv, name, axisName, target, fixes);
        problems.Add(new Problem(Rules.NonWholeOutputSize.Id, target, name, ShapeFormula.Explain(axis) + suffix, suggestion)
        {
            Fixes = fixes.ToEquatableArray(),
        });
        return false;
    }

    /// <summary>
    /// How to make a non-whole output whole: a stride, a padding (for convolutions) or a rounding mode. Returns the
    /// sentence for the message and adds the same suggestions, as edits, to <paramref name="fixes"/>.
    /// </summary>
    private static string Suggest(AxisSize axis, bool isConv, string name, string? axisName, ProblemTarget layer, List<FixSuggestion> fixes)
    {
        // "(conv2 → 10×10)" on a square input, where both axes follow; "(conv2 height → 10)" otherwise.
        string Result(long size) => axisName is null ? Format("({0} → {1}×{1})", name, size) : Format("({0} {1} → {2})", name, axisName, size);
        string rule = Rules.NonWholeOutputSize.Id;

        var (below, above) = ShapeFormula.WholeStrides(axis);
        long belowSize = (axis.Span / below) + 1;
        fixes.Add(new FixSuggestion(
            Format("Set Stride = {0} {1}", below, Result(belowSize)), rule + ".SmallerStride", FixEdit.Set(layer, "Stride", Format("{0}", below))));
        string strides = Format("Stride = {0} (→ {1})", below, belowSize);
        if (above is int a)
        {
            long aboveSize = (axis.Span / a) + 1;
            fixes.Add(new FixSuggestion(
                Format("Set Stride = {0} {1}", a, Result(aboveSize)), rule + ".LargerStride", FixEdit.Set(layer, "Stride", Format("{0}", a))));
            strides += Format(" or Stride = {0} (→ {1})", a, aboveSize);
        }

        var sentences = new List<string> { strides };
        if (isConv && ShapeFormula.WholePadding(axis) is int padding)
        {
            long size = ((axis.Input + (2L * padding) - axis.Window) / axis.Stride) + 1;
            sentences.Add(Format("Padding = {0} (→ {1})", padding, size));
            fixes.Add(new FixSuggestion(
                Format("Set Padding = {0} {1}", padding, Result(size)), rule + ".Padding", FixEdit.Set(layer, "Padding", Format("{0}", padding))));
        }

        // What the generator would really produce under Ceiling (the last window is dropped when it starts past the
        // input and its leading padding), not just the rounded-up quotient.
        long ceiling = ShapeFormula.Output(axis.Input, axis.Window, axis.Stride, axis.Padding, RoundingMode.Ceiling).Size;
        var network = ProblemTarget.Network();
        fixes.Add(new FixSuggestion(
            Format("Set Rounding = Floor on [Network] {0}", Result(axis.Floor)), rule + ".Floor",
            FixEdit.Set(network, "Rounding", "global::LeNet.Gen.ShapeRounding.Floor")));
        fixes.Add(new FixSuggestion(
            Format("Set Rounding = Ceiling on [Network] {0}", Result(ceiling)), rule + ".Ceiling",
            FixEdit.Set(network, "Rounding", "global::LeNet.Gen.ShapeRounding.Ceiling")));

        return Format(
            "{0} would make it whole, or set Rounding = ShapeRounding.Floor (→ {1}) or ShapeRounding.Ceiling (→ {2}) on [Network]",
            string.Join(", ", sentences), axis.Floor, ceiling);
    }

    /// <summary>
    /// LNG0010's fix: Softmax goes to the last layer and the layer that had it takes the last layer's activation (none,
    /// when the last layer had none). When the last layer already has Softmax, the fix removes the stray one. A pooling
    /// layer has no activation, so there is no fix when the network ends with one.
    /// </summary>
    private static EquatableArray<FixSuggestion> MoveSoftmax(int index, string name, LayerSpec last, string lastName)
    {
        var kind = LayerKinds.Of(last);
        ActivationKind? activation = kind.HasActivation ? kind.ActivationOf(last) : null;
        var layer = ProblemTarget.Layer(index);
        string rule = Rules.SoftmaxNotLast.Id;
        switch (activation)
        {
            case null:
                return EquatableArray<FixSuggestion>.Empty;
            case ActivationKind.Softmax:
                return Single(new FixSuggestion(
                    Format("Remove Softmax from {0} ({1}, the last layer, has it)", name, lastName), rule + ".RemoveSoftmax",
                    FixEdit.Remove(layer, "Activation")));
            case ActivationKind.None:
                return Single(new FixSuggestion(
                    Format("Move Softmax from {0} to {1}, the last layer", name, lastName), rule + ".MoveSoftmax",
                    FixEdit.Remove(layer, "Activation"),
                    FixEdit.Set(ProblemTarget.Layer(last.Index), "Activation", ActivationValue(ActivationKind.Softmax))));
            default:
                return Single(new FixSuggestion(
                    Format("Move Softmax from {0} to {1}, the last layer ({0} gets {2})", name, lastName, activation),
                    rule + ".MoveSoftmax",
                    FixEdit.Set(layer, "Activation", ActivationValue(activation.Value)),
                    FixEdit.Set(ProblemTarget.Layer(last.Index), "Activation", ActivationValue(ActivationKind.Softmax))));
        }
    }

    private static string ActivationValue(ActivationKind activation) => "global::LeNet.Gen.Activation." + activation;

    private static EquatableArray<FixSuggestion> Single(FixSuggestion fix) => new[] { fix }.ToEquatableArray();

    internal static bool CheckParameters(string name, int index, long weights, int biases, long parametersSoFar, string product, List<Problem> problems)
    {
        long count = weights + biases;
        long total = parametersSoFar + count;
        if (total <= Limits.MaxParameterCount)
        {
            return true;
        }

        string message = count > Limits.MaxParameterCount
            ? Format("{0} = {1} parameters exceeds LeNet.Gen's limit of {2}{3}", product, count, Limits.MaxParameterCount, OverflowNote(count))
            : Format("the network reaches {0} parameters here ({1} = {2} in this layer), more than LeNet.Gen's limit of {3}", total, product, count, Limits.MaxParameterCount);
        problems.Add(new Problem(Rules.TooLarge.Id, ProblemTarget.Layer(index), name, message));
        return false;
    }

    internal static bool CheckTensor(string name, int index, long length, string product, List<Problem> problems)
    {
        if (length <= Limits.MaxTensorLength)
        {
            return true;
        }

        problems.Add(new Problem(
            Rules.TooLarge.Id, ProblemTarget.Layer(index), name,
            Format("its output has {0} = {1} values, more than LeNet.Gen's limit of {2} values per tensor{3}", product, length, Limits.MaxTensorLength, OverflowNote(length))));
        return false;
    }

    private static string OverflowNote(long value) => value > int.MaxValue ? Format(" (and more than int.MaxValue, {0})", int.MaxValue) : string.Empty;

    /// <summary>Saturating multiplication: large enough to compare against the limits, and never wraps.</summary>
    internal static long Multiply(long a, long b) => a != 0 && b > long.MaxValue / a ? long.MaxValue : a * b;

    /// <summary>conv1, pool1, conv2, …, fc1: numbered within each kind, like the equivalent PyTorch model's modules.</summary>
    private static string[] NamesOf(EquatableArray<LayerSpec> layers)
    {
        // Numbered within each kind from 1, as PyTorch modules are usually named: conv1, pool1, conv2, …, fc1.
        // A kind with a sole name (gap) uses it when the network has only one layer of that kind.
        var names = new string[layers.Count];
        var counts = new System.Collections.Generic.Dictionary<string, int>();
        var totals = new System.Collections.Generic.Dictionary<string, int>();
        foreach (var layer in layers)
        {
            string prefix = LayerKinds.Of(layer).NamePrefix;
            totals[prefix] = totals.TryGetValue(prefix, out int total) ? total + 1 : 1;
        }

        for (int i = 0; i < layers.Count; i++)
        {
            var kind = LayerKinds.Of(layers[i]);
            string prefix = kind.NamePrefix;
            counts[prefix] = counts.TryGetValue(prefix, out int count) ? count + 1 : 1;
            names[i] = kind.SoleName is { } sole && totals[prefix] == 1 ? sole : prefix + counts[prefix].ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }

    internal static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
