using System.Linq;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Names and shape facts about one layer as the generated code sees it: its methods, its buffers and where its
/// input comes from. One home for these names, so the forward pass, the backward pass and the buffers agree.
/// </summary>
internal sealed class LayerCode
{
    public LayerCode(NetworkPlan plan, int position)
    {
        Plan = plan;
        Layer = plan.Layers[position];
        Position = position;
        SourcePosition = Layer.Source is null ? null : IndexOf(plan, Layer.Source);
        IsFirst = SourcePosition is null;
        IsLast = position == plan.Layers.Count - 1;
        Pascal = char.ToUpperInvariant(Layer.Name[0]) + Layer.Name.Substring(1);
        Kind = LayerKinds.Of(Layer.Spec);
        if (Kind.WindowOf(Layer.Spec) is { IsConv: true } conv)
        {
            // The window reads a zero-padded copy of the input when the layer has padding, or when Ceiling rounding
            // places a last window that hangs over the bottom or right edge. A convolution has one filter per output channel.
            int kernel = conv.Window, filters = Layer.Output.Channels;
            PaddedHeight = System.Math.Max(Layer.Input.Height + (2 * conv.Padding), ((Layer.Output.Height - 1) * conv.Stride) + kernel);
            PaddedWidth = System.Math.Max(Layer.Input.Width + (2 * conv.Padding), ((Layer.Output.Width - 1) * conv.Stride) + kernel);
            IsPadded = PaddedHeight != Layer.Input.Height || PaddedWidth != Layer.Input.Width;
            if (conv.Stride == 1)
            {
                var (h, w) = IsPadded ? (PaddedHeight, PaddedWidth) : (Layer.Input.Height, Layer.Input.Width);
                var forward = new WideConv(Layer.Input.Channels, h, w, kernel, filters, Layer.Output.Height, Layer.Output.Width);
                if (VectorIsa.All.All(forward.Fits))
                {
                    ForwardWide = forward;
                    InputGradientWide = new WideConv(filters, h + kernel - 1, w + kernel - 1, kernel, Layer.Input.Channels, h, w);
                }
            }
        }
    }

    /// <summary>The forward convolution as computed by the vector code, or null when the layer only has scalar code (strides above 1, tiny outputs).</summary>
    public WideConv? ForwardWide { get; }

    /// <summary>The input gradient as a convolution of the padded output gradient, for the vector code.</summary>
    public WideConv? InputGradientWide { get; }

    public bool IsVectorized => ForwardWide is not null;

    /// <summary>The class of the network's vector kernels, fully qualified, for calls from the layer methods.</summary>
    public string VectorKernels => VectorEmitter.ClassOf(Plan);

    /// <summary>
    /// Which weight-gradient kernel the vector code uses for <paramref name="isa"/>: one filter per lane when the filters fill
    /// whole vectors (it reads the output gradient transposed, <see cref="TransposedGradient"/>), otherwise dot products
    /// over the wide plane (it reads the output gradient on wide rows, <see cref="WideGradient"/>).
    /// </summary>
    public bool FiltersFillVectors(VectorIsa isa) => ForwardWide!.OutChannels % isa.Lanes == 0;

    /// <summary>True when some vector width's weight-gradient kernel reads <see cref="WideGradient"/>.</summary>
    public bool UsesWideGradient => IsVectorized && VectorIsa.All.Any(isa => !FiltersFillVectors(isa));

    /// <summary>True when some vector width's weight-gradient kernel reads <see cref="TransposedGradient"/>.</summary>
    public bool UsesTransposedGradient => IsVectorized && VectorIsa.All.Any(FiltersFillVectors);

    /// <summary>Values the buffer the window reads from must hold, so vector loads past the last row stay inside it.</summary>
    public int SourceLength => ForwardWide is null ? 0 : VectorIsa.All.Max(isa => ForwardWide.SourceLength(isa));

    /// <summary>A first vectorised layer reads a copy of the caller's input, which has room for the vector loads past its end.</summary>
    public bool CopiesInput => IsFirst && IsVectorized && !IsPadded;

    public string InputCopy => Pascal + "Input";

    public string Wide => Pascal + "Wide";

    public string WideGradient => Pascal + "WideGradient";

    public string TransposedGradient => Pascal + "TransposedGradient";

    public string PaddedGradient => Pascal + "PaddedGradient";

    public string RotatedWeights => Pascal + "RotatedWeights";

    public string WideInputGradient => Pascal + "WideInputGradient";

    public NetworkPlan Plan { get; }

    public LayerPlan Layer { get; }

    /// <summary>The unit of the layer's kind.</summary>
    public ILayerKind Kind { get; }

    public int Position { get; }

    /// <summary>True when the layer reads the network's input: it needs no input gradient.</summary>
    public bool IsFirst { get; }

    /// <summary>The position of the layer whose output this one reads, or null for the network's input.</summary>
    public int? SourcePosition { get; }

    private static int? IndexOf(NetworkPlan plan, string name)
    {
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            if (plan.Layers[i].Name == name)
            {
                return i;
            }
        }

        return null;
    }

    public bool IsLast { get; }

    /// <summary>The layer name in PascalCase, e.g. <c>Conv1</c>, for method and buffer names.</summary>
    public string Pascal { get; }

    /// <summary>True when the last layer applies softmax: its forward pass writes logits and the loss supplies their gradient.</summary>
    public bool IsSoftmaxHead => IsLast && Layer.Activation == ActivationKind.Softmax;

    /// <summary>
    /// True when the next layer applies this layer's activation (<see cref="ILayerKind.AppliesPreviousActivation"/>, a batch
    /// norm): the activation then moves after the normalisation.
    /// </summary>
    public bool PassesActivationOn => Position + 1 < Plan.Layers.Count && LayerKinds.Of(Plan.Layers[Position + 1].Spec).AppliesPreviousActivation;

    /// <summary>
    /// The activation the layer's own method applies (softmax is applied separately, after the logits). A layer that
    /// passes its activation on applies none, and the next layer applies the one written on the layer before it.
    /// </summary>
    public ActivationKind FusedActivation =>
        IsSoftmaxHead || PassesActivationOn ? ActivationKind.None
        : Kind.AppliesPreviousActivation && Position > 0 ? Plan.Layers[Position - 1].Activation
        : Layer.Activation;

    /// <summary>The table row of <see cref="FusedActivation"/>.</summary>
    public ActivationRow Activation => ActivationRow.Of(FusedActivation);

    public bool IsPadded { get; }

    public int PaddedHeight { get; }

    public int PaddedWidth { get; }

    public string Forward => Pascal + "Forward";

    public string Backward => Pascal + "Backward";

    /// <summary>The buffer holding the layer's output (after its activation).</summary>
    public string Output => Pascal + "Output";

    /// <summary>The buffer the layer's method writes: the logits for a softmax head, otherwise its output.</summary>
    public string Written => IsSoftmaxHead ? "Logits" : Output;

    /// <summary>The gradient of the loss with respect to <see cref="Written"/>.</summary>
    public string WrittenGradient => IsSoftmaxHead ? "LogitsGradient" : Output + "Gradient";

    public string PaddedInput => Pascal + "PaddedInput";

    public string PaddedInputGradient => Pascal + "PaddedInputGradient";
}
