using System;
using System.ComponentModel;

namespace LeNet.Gen.Runtime;

/// <summary>
/// What the runtime needs to know about one batch-norm layer of a generated network to train it over a whole batch:
/// its name, how many channels (or units) it normalises and how many values each has per example, where its weight
/// (γ), bias (β) and running statistics live, where its batch statistics go, and its ε and momentum. Not meant to be
/// used directly.
/// </summary>
/// <param name="Name">The layer's name, e.g. <c>bn1</c>, for error messages.</param>
/// <param name="Channels">Channels after a spatial layer, units after a dense one.</param>
/// <param name="Plane">Values per channel in one example: height × width, or 1 after a dense layer.</param>
/// <param name="WeightOffset">Where γ starts in the parameter vector (β follows it).</param>
/// <param name="StateOffset">Where the running mean starts in the storage after the parameters (the running variance and the batch count follow it).</param>
/// <param name="StatisticsOffset">Where this layer's 2 × <paramref name="Channels"/> values start in the batch buffers.</param>
/// <param name="Epsilon">Added to the variance before its square root.</param>
/// <param name="Momentum">The weight of a batch's statistics in the running ones.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct BatchNormInfo(string Name, int Channels, int Plane, int WeightOffset, int StateOffset, int StatisticsOffset, double Epsilon, double Momentum);

/// <summary>The per-example buffers of a batch-norm layer that the runtime reduces over the batch.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum BatchNormBuffer
{
    /// <summary>The layer's input, before normalisation.</summary>
    Input = 0,

    /// <summary>The gradient with respect to γ·x̂ + β (the activation's gradient already taken off), x̂ = (x − mean) / √(var + ε).</summary>
    OutputGradient = 1,
}
