using System;

namespace LeNet.Gen;

/// <summary>
/// Inverted dropout with probability <paramref name="p"/>: in <c>Train</c> each value is dropped (set to 0) with
/// probability p and each kept value is scaled by 1 / (1 − p); in <c>Predict</c> the layer is the identity (PyTorch's
/// <c>Dropout</c>). The mask comes from the network's seed, the training step and the example's place in its batch, so
/// the same seed and the same calls give the same result for any <c>TrainingThreads</c>. No parameters; the shape is unchanged.
/// </summary>
/// <param name="p">The probability of dropping a value, in [0, 1).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(double p) : Attribute
{
    /// <summary>The probability of dropping a value, in [0, 1).</summary>
    public double P { get; } = p;
}
