using System;

namespace LeNet.Gen;

/// <summary>
/// Batch normalisation of the layer before it: per channel after a <see cref="ConvAttribute"/> (PyTorch's
/// <c>BatchNorm2d</c>), per unit after a <see cref="DenseAttribute"/> (<c>BatchNorm1d</c>). <c>Train</c> normalises with the
/// statistics of the whole batch and updates the running ones; <c>Predict</c> uses the running ones. The activation
/// written on the layer before is applied after the normalisation: layer → batch norm → activation. Learnable weight γ
/// (initially 1) and bias β (initially 0); running mean (initially 0) and variance (initially 1), which are state, not
/// parameters: optimizers do not move them, weight files carry them.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : Attribute
{
    /// <summary>Added to the variance before its square root, as PyTorch's <c>eps</c>; 1e-5 unless set.</summary>
    public double Epsilon { get; set; } = 1e-5;

    /// <summary>
    /// The weight of each batch's statistics in the running ones, as PyTorch's <c>momentum</c>:
    /// running = (1 − momentum) · running + momentum · batch. 0.1 unless set.
    /// </summary>
    public double Momentum { get; set; } = 0.1;
}
