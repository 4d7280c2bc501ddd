using System.Globalization;
using LeNet.Gen.Generator.Layers;
using LeNet.Gen.Generator.Model;

namespace LeNet.Gen.Generator.Shapes;

/// <summary>
/// A valid network with every shape and offset worked out: what the emitters consume. Equatable, so an edit
/// that does not change the network leaves the generated source cached.
/// </summary>
internal sealed record NetworkPlan(
    NetworkSpec Spec,
    TensorShape Input,
    EquatableArray<LayerPlan> Layers,
    int ParameterCount)
{
    public TensorShape Output => Layers[Layers.Count - 1].Output;

    /// <summary>Train is generated only for a softmax head (cross-entropy loss).</summary>
    public bool CanTrain => Layers[Layers.Count - 1].Activation == ActivationKind.Softmax;
}

/// <summary>
/// A tensor shape. Spatial tensors are channels × height × width; a dense layer's output is a flat vector
/// (<see cref="IsSpatial"/> false, <see cref="Channels"/> holds its length, height and width are 1).
/// </summary>
internal sealed record TensorShape(int Channels, int Height, int Width, bool IsSpatial)
{
    public static TensorShape Flat(int length) => new(length, 1, 1, IsSpatial: false);

    public int Length => Channels * Height * Width;

    public override string ToString() => IsSpatial
        ? string.Format(CultureInfo.InvariantCulture, "{0}×{1}×{2}", Channels, Height, Width)
        : Channels.ToString(CultureInfo.InvariantCulture);

    /// <summary>The flattening product, e.g. <c>16 × 5 × 5 = 400</c>, or just the length for a flat vector.</summary>
    public string ExplainLength() => IsSpatial
        ? string.Format(CultureInfo.InvariantCulture, "{0} × {1} × {2} = {3}", Channels, Height, Width, Length)
        : Length.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// One layer with its shapes, its place in the parameter vector and the layer whose output it reads
/// (<see cref="Source"/>, by name; null for the network's input). <see cref="Name"/> is <c>conv1</c>, <c>pool2</c>,
/// <c>fc3</c>…, numbered within each kind as in the equivalent PyTorch model. Pooling layers have no parameters
/// (their offsets and counts are 0).
/// </summary>
internal sealed record LayerPlan(
    LayerSpec Spec,
    string Name,
    TensorShape Input,
    TensorShape Output,
    int WeightOffset,
    int WeightCount,
    int BiasOffset,
    int BiasCount,
    string? Source = null)
{
    public int ParameterCount => WeightCount + BiasCount;

    public ActivationKind Activation => LayerKinds.Of(Spec).ActivationOf(Spec);

    /// <summary>
    /// The one-line description used in the summary and in the generated code, e.g.
    /// <c>conv1 5×5×6 s1 p0 ReLU: 1×32×32 → 6×28×28</c>.
    /// </summary>
    public string Describe() => string.Format(CultureInfo.InvariantCulture, "{0}: {1} → {2}", DescribeLayer(), Input, Output);

    /// <summary>The layer without its shapes, e.g. <c>conv1 5×5×6 s1 p0 ReLU</c>, <c>pool1 avg 2×2 s2</c>, <c>fc1 400→120 ReLU</c>.</summary>
    public string DescribeLayer()
    {
        string text = LayerKinds.Of(Spec).Describe(this);
        return Activation == ActivationKind.None ? text : text + " " + Activation;
    }
}
