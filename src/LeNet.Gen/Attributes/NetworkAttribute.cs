using System;

namespace LeNet.Gen;

/// <summary>
/// Declares that a <c>partial class</c> is a neural network whose input is a <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>
/// tensor. The layers are the <see cref="ConvAttribute"/>, <see cref="PoolAttribute"/> and <see cref="DenseAttribute"/> attributes on the same
/// declaration, applied in the order they are written. The LeNet.Gen source generator checks every shape at compile time and emits the network's code.
/// </summary>
/// <param name="channels">Input channels (1 for grey-level images, 3 for RGB).</param>
/// <param name="height">Input height in pixels.</param>
/// <param name="width">Input width in pixels.</param>
/// <example>
/// <code>
/// [Network(1, 32, 32)]
/// [Conv(6, 5, Activation = Activation.ReLU)]
/// [Pool(PoolKind.Average, 2, Stride = 2)]
/// [Conv(16, 5, Activation = Activation.ReLU)]
/// [Pool(PoolKind.Average, 2, Stride = 2)]
/// [Dense(120, Activation = Activation.ReLU)]
/// [Dense(84, Activation = Activation.ReLU)]
/// [Dense(10, Activation = Activation.Softmax)]
/// public partial class LeNet5 { }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute(int channels, int height, int width) : Attribute
{
    /// <summary>Input channels.</summary>
    public int Channels { get; } = channels;

    /// <summary>Input height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>Input width in pixels.</summary>
    public int Width { get; } = width;

    /// <summary>What to do when a layer's output size is not a whole number; <see cref="ShapeRounding.Exact"/> (an error) unless set.</summary>
    public ShapeRounding Rounding { get; set; } = ShapeRounding.Exact;
}
