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
    /// <param name="kind">Convolution, pooling or dense.</param>
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

    /// <summary>Convolution, pooling or dense.</summary>
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

    /// <summary>
    /// The zero padding after the input along one spatial axis (0: height, 1: width) that gives the layer's output
    /// size under floor rounding: <see cref="Padding"/>, plus the overhang of the last window under
    /// <see cref="ShapeRounding.Ceiling"/>. This is how the ONNX export states the rounding mode exactly.
    /// </summary>
    /// <param name="axis">0 for the height, 1 for the width.</param>
    /// <returns>The padding after the input; 0 for a dense layer.</returns>
    public int EndPadding(int axis)
    {
        if (Kind == LayerKind.Dense)
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
