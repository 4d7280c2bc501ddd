using System;
using System.Collections.Generic;
using System.Globalization;

namespace LeNet.Gen;

/// <summary>The kind of a layer in a generated network.</summary>
public enum LayerKind
{
    /// <summary>A 2-D convolution with square filters, from <c>[Conv]</c>.</summary>
    Convolution = 0,

    /// <summary>A per-channel max or average pooling layer with a square window and no padding, from <c>[Pool]</c>.</summary>
    Pooling = 1,

    /// <summary>A fully connected layer over the flattened input, from <c>[Dense]</c>.</summary>
    Dense = 2,

    /// <summary>The mean of each channel over its height and width, C×H×W → C×1×1, from <c>[GlobalAveragePool]</c>.</summary>
    GlobalAveragePool = 3,

    /// <summary>Inverted dropout in training and the identity in prediction, from <c>[Dropout(p)]</c>; the shape is unchanged.</summary>
    Dropout = 4,

    /// <summary>
    /// Batch normalisation per channel (after a spatial layer) or per unit (after a dense layer), from <c>[BatchNorm]</c>;
    /// the shape is unchanged, and the activation written on the layer before it is applied after the normalisation.
    /// </summary>
    BatchNorm = 5,
}

/// <summary>
/// One layer of a generated network as plain data: its kind, window, stride, padding, pooling kind, rounding mode,
/// activation, shapes and the names of its tensors. Generated networks list theirs in <c>Layers</c>; the ONNX
/// exporter and importer (<see cref="Onnx.OnnxModel"/>) build and check graphs from them.
/// </summary>
public sealed class LayerInfo
{
    private readonly int[] _inputShape;
    private readonly int[] _outputShape;

    /// <summary>Describes a layer.</summary>
    /// <param name="kind">The kind of layer.</param>
    /// <param name="name">The layer's name, e.g. <c>conv1</c>, <c>pool2</c>, <c>fc3</c>.</param>
    /// <param name="inputShape">The shape the layer reads: [channels, height, width], or [length] after a dense layer.</param>
    /// <param name="outputShape">The shape the layer writes: [channels, height, width], or [units] for a dense layer.</param>
    /// <param name="kernel">The square window of a convolution or pooling layer; 0 for a dense layer.</param>
    /// <param name="stride">The window's step; 0 for a dense layer.</param>
    /// <param name="padding">Zero padding on every side of a convolution's input; 0 otherwise.</param>
    /// <param name="pooling">Max or average, for a pooling layer; ignored otherwise.</param>
    /// <param name="rounding">How the network rounds output sizes that are not whole.</param>
    /// <param name="activation">The activation applied to the layer's output.</param>
    /// <param name="weight">The name of the weight tensor in <c>Tensors</c>; null for a pooling layer.</param>
    /// <param name="bias">The name of the bias tensor in <c>Tensors</c>; null for a pooling layer.</param>
    /// <exception cref="ArgumentException">The values do not describe a layer of that kind.</exception>
    public LayerInfo(
        LayerKind kind,
        string name,
        int[] inputShape,
        int[] outputShape,
        int kernel,
        int stride,
        int padding,
        PoolKind pooling,
        ShapeRounding rounding,
        Activation activation,
        string? weight,
        string? bias)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(outputShape);
        if (!Enum.IsDefined(kind) || !Enum.IsDefined(pooling) || !Enum.IsDefined(rounding) || !Enum.IsDefined(activation))
        {
            throw new ArgumentException($"Layer {name}: kind {kind}, pooling {pooling}, rounding {rounding} or activation {activation} is not defined.");
        }

        switch (kind)
        {
            case LayerKind.Convolution or LayerKind.Pooling or LayerKind.Dense:
                CheckWindowedOrDense(kind, name, inputShape, outputShape, kernel, stride, padding, activation, weight, bias);
                break;
            default:
                CheckShapeKeeping(kind, name, inputShape, outputShape, kernel, stride, padding, activation, weight, bias);
                break;
        }

        Kind = kind;
        Name = name;
        _inputShape = (int[])inputShape.Clone();
        _outputShape = (int[])outputShape.Clone();
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        Pooling = pooling;
        Rounding = rounding;
        Activation = activation;
        Weight = weight;
        Bias = bias;
    }

    private static void CheckWindowedOrDense(
        LayerKind kind, string name, int[] inputShape, int[] outputShape, int kernel, int stride, int padding, Activation activation, string? weight, string? bias)
    {
        bool spatialOut = kind != LayerKind.Dense;
        if ((inputShape.Length != 3 && inputShape.Length != 1) || (kind != LayerKind.Dense && inputShape.Length != 3)
            || outputShape.Length != (spatialOut ? 3 : 1) || Array.Exists(inputShape, d => d < 1) || Array.Exists(outputShape, d => d < 1))
        {
            throw new ArgumentException($"Layer {name}: shapes {TensorInfo.Format(inputShape)} → {TensorInfo.Format(outputShape)} do not fit a {kind} layer.");
        }

        bool windowed = kind != LayerKind.Dense;
        if (windowed ? kernel < 1 || stride < 1 || padding < 0 : kernel != 0 || stride != 0 || padding != 0)
        {
            throw new ArgumentException($"Layer {name}: kernel {kernel}, stride {stride}, padding {padding} do not fit a {kind} layer.");
        }

        if ((kind == LayerKind.Pooling) != (weight is null) || (kind == LayerKind.Pooling) != (bias is null)
            || (kind == LayerKind.Pooling && (activation != Activation.None || padding != 0)))
        {
            throw new ArgumentException($"Layer {name}: a {kind} layer {(kind == LayerKind.Pooling ? "has no tensors, padding or activation" : "needs a weight and a bias tensor")}.");
        }
    }

    // Global average pooling, dropout and batch norm: no window; global pooling maps [C,H,W] to [C,1,1], the others keep
    // the shape. Only batch norm has tensors (its weight and bias; the running statistics are named after the layer) and
    // an activation (the one written on the layer before it, applied after the normalisation).
    private static void CheckShapeKeeping(
        LayerKind kind, string name, int[] inputShape, int[] outputShape, int kernel, int stride, int padding, Activation activation, string? weight, string? bias)
    {
        bool shapesFit = kind == LayerKind.GlobalAveragePool
            ? inputShape.Length == 3 && outputShape.Length == 3 && outputShape[0] == inputShape[0] && outputShape[1] == 1 && outputShape[2] == 1
            : (inputShape.Length == 3 || inputShape.Length == 1) && inputShape.AsSpan().SequenceEqual(outputShape);
        if (!shapesFit || Array.Exists(inputShape, d => d < 1) || Array.Exists(outputShape, d => d < 1))
        {
            throw new ArgumentException($"Layer {name}: shapes {TensorInfo.Format(inputShape)} → {TensorInfo.Format(outputShape)} do not fit a {kind} layer.");
        }

        if (kernel != 0 || stride != 0 || padding != 0)
        {
            throw new ArgumentException($"Layer {name}: kernel {kernel}, stride {stride}, padding {padding} do not fit a {kind} layer.");
        }

        bool hasTensors = kind == LayerKind.BatchNorm;
        if (hasTensors != (weight is not null) || hasTensors != (bias is not null) || (!hasTensors && activation != Activation.None))
        {
            throw new ArgumentException($"Layer {name}: a {kind} layer {(hasTensors ? "needs a weight and a bias tensor" : "has no tensors or activation")}.");
        }
    }

    /// <summary>Convolution, pooling, dense, global average pooling, dropout or batch norm.</summary>
    public LayerKind Kind { get; }

    /// <summary>The layer's name, e.g. <c>conv1</c>.</summary>
    public string Name { get; }

    /// <summary>The shape the layer reads: [channels, height, width], or [length] after a dense layer.</summary>
    public IReadOnlyList<int> InputShape => _inputShape;

    /// <summary>The shape the layer writes: [channels, height, width], or [units] for a dense layer.</summary>
    public IReadOnlyList<int> OutputShape => _outputShape;

    /// <summary>The square window's size (0 for a dense layer).</summary>
    public int Kernel { get; }

    /// <summary>The window's step (0 for a dense layer).</summary>
    public int Stride { get; }

    /// <summary>Zero padding on every side of a convolution's input.</summary>
    public int Padding { get; }

    /// <summary>Max or average; meaningful for a pooling layer only.</summary>
    public PoolKind Pooling { get; }

    /// <summary>How the network rounds output sizes that are not whole.</summary>
    public ShapeRounding Rounding { get; }

    /// <summary>The activation applied to the layer's output.</summary>
    public Activation Activation { get; }

    /// <summary>The name of the weight tensor (<c>conv1.weight</c>); null for a pooling layer.</summary>
    public string? Weight { get; }

    /// <summary>The name of the bias tensor (<c>conv1.bias</c>); null for a pooling layer.</summary>
    public string? Bias { get; }

    /// <summary>The probability p of dropping a value, for a <see cref="LayerKind.Dropout"/> layer; 0 otherwise.</summary>
    public double DropoutProbability { get; init; }

    /// <summary>The ε added to the variance, for a <see cref="LayerKind.BatchNorm"/> layer; 0 otherwise.</summary>
    public double Epsilon { get; init; }

    /// <summary>The weight of a batch's statistics in the running ones, for a <see cref="LayerKind.BatchNorm"/> layer; 0 otherwise.</summary>
    public double Momentum { get; init; }

    /// <summary>
    /// The zero padding after the input along one spatial axis (0: height, 1: width) that gives the layer's output
    /// size under floor rounding: <see cref="Padding"/>, plus the overhang of the last window under
    /// <see cref="ShapeRounding.Ceiling"/>. This is how the ONNX export states the rounding mode exactly.
    /// </summary>
    /// <param name="axis">0 for the height, 1 for the width.</param>
    /// <returns>The padding after the input; 0 for a dense layer.</returns>
    public int EndPadding(int axis)
    {
        if (Kind is not (LayerKind.Convolution or LayerKind.Pooling))
        {
            return 0;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(axis, 1);
        long covered = ((long)(_outputShape[1 + axis] - 1) * Stride) + Kernel;
        long available = (long)_inputShape[1 + axis] + (2L * Padding);
        return Padding + (int)Math.Max(0, covered - available);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Name} {Kind} {TensorInfo.Format(_inputShape)} → {TensorInfo.Format(_outputShape)}");
}
