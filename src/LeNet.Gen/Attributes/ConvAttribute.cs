using System;

namespace LeNet.Gen;

/// <summary>
/// A 2-D convolution with <paramref name="filters"/> square <paramref name="kernel"/> × <paramref name="kernel"/> filters, each spanning all input channels,
/// plus one bias per filter. Output size per spatial axis: <c>(in − kernel + 2·Padding) / Stride + 1</c>.
/// </summary>
/// <param name="filters">Number of filters, which is the number of output channels.</param>
/// <param name="kernel">Side of the square kernel.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConvAttribute(int filters, int kernel) : Attribute
{
    /// <summary>Number of filters (output channels).</summary>
    public int Filters { get; } = filters;

    /// <summary>Side of the square kernel.</summary>
    public int Kernel { get; } = kernel;

    /// <summary>Step between neighbouring windows; 1 unless set.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zero pixels added on every side of the input; 0 unless set.</summary>
    public int Padding { get; set; }

    /// <summary>Function applied to the output; <see cref="Activation.None"/> unless set.</summary>
    public Activation Activation { get; set; }
}
