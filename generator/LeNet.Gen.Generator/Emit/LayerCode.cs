using System.Linq;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;
using LeNet.Gen.Generator.Shapes;

namespace LeNet.Gen.Generator.Emit;

/// <summary>
/// Names and shape facts about one layer as the generated code sees it, whatever its kind: its methods, the buffer it
/// writes and where its input comes from. One home for these names, so the forward pass, the backward pass and the
/// buffers agree. What only one kind plans (a convolution's padding and vector kernels) lives in its unit, which declares
/// the buffers that needs through <see cref="Workspace"/>.
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
    }

    /// <summary>The class of the network's vector kernels, fully qualified, for calls from the layer methods.</summary>
    public string VectorKernels => VectorEmitter.ClassOf(Plan);

    /// <summary>
    /// The workspace buffers the layer's chosen code uses besides <see cref="Written"/> and its gradient, as its unit
    /// declares them (<see cref="ILayerKind.Workspace"/>); asked once.
    /// </summary>
    public LayerWorkspace Workspace => _workspace ??= Kind.Workspace(this);

    private LayerWorkspace? _workspace;

    /// <summary>
    /// True when the layer's methods take the workspace as their last argument: for example state
    /// (<see cref="ILayerKind.NeedsWorkspace"/>), for the scratch buffers of its vector kernels or its prepared kernels, or
    /// for the store of a weight gradient taken over the whole batch (<see cref="ILayerKind.BatchGradient"/>).
    /// </summary>
    public bool TakesWorkspace => Kind.NeedsWorkspace || Workspace.Scratch.Count > 0 || Kind.HasPreparedKernels(this) || Kind.BatchGradient(this) is not null;

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

    public string Forward => Pascal + "Forward";

    /// <summary>Where each layer's state starts, counted in values after the network's last parameter; then the state's total length.</summary>
    public static int[] StateOffsets(NetworkPlan plan)
    {
        var offsets = new int[plan.Layers.Count + 1];
        for (int i = 0; i < plan.Layers.Count; i++)
        {
            var layer = plan.Layers[i];
            offsets[i + 1] = offsets[i] + LayerKinds.Of(layer.Spec).StateTensors(layer).Sum(t => t.Length);
        }

        return offsets;
    }

    /// <summary>The layer's state (running statistics) as a slice of <c>parameters</c>, which holds the state after the parameters.</summary>
    public string StateSlice(int length) =>
        $"parameters.Slice({Code.Int(Plan.ParameterCount + StateOffsets(Plan)[Position])}, {Code.Int(length)})";

    /// <summary>The layer's weights and biases as two slices of <c>parameters</c>, for a call's arguments.</summary>
    public string ParameterSlices =>
        $"parameters.Slice({Code.Int(Layer.WeightOffset)}, {Code.Int(Layer.WeightCount)}), parameters.Slice({Code.Int(Layer.BiasOffset)}, {Code.Int(Layer.BiasCount)})";

    /// <summary>True when ReLU is the activation the layer's own method applies (<see cref="FusedActivation"/>).</summary>
    public bool FusesRelu => FusedActivation == ActivationKind.ReLU;

    public string Backward => Pascal + "Backward";

    /// <summary>The buffer holding the layer's output (after its activation).</summary>
    public string Output => Pascal + "Output";

    /// <summary>The buffer the layer's method writes: the logits for a softmax head, otherwise its output.</summary>
    public string Written => IsSoftmaxHead ? "Logits" : Output;

    /// <summary>The gradient of the loss with respect to <see cref="Written"/>.</summary>
    public string WrittenGradient => IsSoftmaxHead ? "LogitsGradient" : Output + "Gradient";
}
