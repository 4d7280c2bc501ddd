using System;

namespace LeNet.Gen;

/// <summary>
/// A fully connected layer with <paramref name="units"/> outputs, each a weighted sum of every input plus a bias.
/// After a convolution or pooling layer the input is flattened in channel, row, column order.
/// </summary>
/// <param name="units">Number of outputs.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(int units) : Attribute
{
    /// <summary>Number of outputs.</summary>
    public int Units { get; } = units;

    /// <summary>Function applied to the output; <see cref="Activation.None"/> unless set.</summary>
    public Activation Activation { get; set; }

    /// <summary>
    /// The flattened input size you expect (for example 400 for 16 × 5 × 5). Optional: when set, the generator checks it
    /// against the size it infers and reports LNG0006 if they differ. 0 (the default) means not checked.
    /// </summary>
    public int Inputs { get; set; }
}
