using System;
using System.Collections.Generic;
using System.Globalization;

namespace LeNet.Gen;

/// <summary>How a tensor's values are stored in a weight file.</summary>
public enum TensorElementType
{
    /// <summary>32-bit floats (safetensors <c>F32</c>): weights, biases, running statistics.</summary>
    Float32 = 0,

    /// <summary>
    /// A 64-bit integer (safetensors <c>I64</c>) held as a whole float in the vector, such as batch norm's
    /// <c>num_batches_tracked</c>; exact up to 2^24.
    /// </summary>
    Int64 = 1,
}

/// <summary>
/// One named tensor inside a network's <c>Parameters</c> vector, such as <c>conv1.weight</c> with shape [6, 1, 5, 5]:
/// its name (as in the equivalent PyTorch <c>state_dict</c>), where it starts and its shape. Generated networks list
/// theirs in <c>Tensors</c>; weight files use them.
/// </summary>
public sealed class TensorInfo
{
    private readonly int[] _shape;

    /// <summary>Describes a tensor.</summary>
    /// <param name="name">The tensor's name, e.g. <c>fc1.bias</c>.</param>
    /// <param name="offset">Index of its first value in the parameter vector.</param>
    /// <param name="shape">Its dimensions, outermost first; the values are stored row-major.</param>
    /// <exception cref="ArgumentException">The name is empty, the offset negative, or a dimension below 1.</exception>
    public TensorInfo(string name, int offset, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentNullException.ThrowIfNull(shape);
        long length = 1;
        foreach (int dimension in shape)
        {
            if (dimension < 1)
            {
                throw new ArgumentException($"Every dimension of tensor '{name}' must be at least 1, but the shape is {Format(shape)}.", nameof(shape));
            }

            length *= dimension;
            if (length > int.MaxValue)
            {
                throw new ArgumentException($"Tensor '{name}' with shape {Format(shape)} has more than int.MaxValue values.", nameof(shape));
            }
        }

        Name = name;
        Offset = offset;
        _shape = (int[])shape.Clone();
        Length = (int)length;
    }

    /// <summary>How the values are stored in a weight file; <see cref="TensorElementType.Float32"/> unless set.</summary>
    public TensorElementType ElementType { get; init; }

    /// <summary>The tensor's name, e.g. <c>conv1.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Index of the tensor's first value in the parameter vector.</summary>
    public int Offset { get; }

    /// <summary>Number of values: the product of <see cref="Shape"/>.</summary>
    public int Length { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape as text, e.g. <c>[6,1,5,5]</c>.</summary>
    public string ShapeText => Format(_shape);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} {ShapeText} at {Offset}");

    internal static string Format(IReadOnlyList<int> shape) => "[" + string.Join(",", shape) + "]";
}
