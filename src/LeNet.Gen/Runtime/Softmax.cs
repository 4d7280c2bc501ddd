using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// The softmax head every trainable network shares: probabilities, cross-entropy and the predicted class.
/// Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Softmax
{
    /// <summary>
    /// softmax(z)[k] = exp(z[k] − max) / Σ exp(z − max): subtracting the largest logit keeps exp from overflowing.
    /// A logit more than 80 below the largest gets probability exactly 0 (e^−80 ≈ 2e−35 is below float precision next
    /// to the largest probability): its exp would be a denormal float, and denormals flowing into the gradients make
    /// every later multiplication slow on x86, which halves the speed of long online-training runs.
    /// </summary>
    /// <param name="logits">The logits z, at least one.</param>
    /// <param name="probabilities">Receives one probability per logit.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        probabilities = probabilities.Slice(0, logits.Length);
        float max = LargestLogit(logits);
        float sum = 0f;
        for (int k = 0; k < logits.Length; k++)
        {
            float shifted = logits[k] - max;
            probabilities[k] = shifted < -80f ? 0f : MathF.Exp(shifted);
            sum += probabilities[k];
        }

        float scale = 1f / sum;
        for (int k = 0; k < probabilities.Length; k++)
        {
            probabilities[k] *= scale;
        }
    }

    /// <summary>
    /// The cross-entropy −log softmax(z)[label], computed stably from the logits:
    /// log Σ exp(z − max) − (z[label] − max).
    /// </summary>
    /// <param name="logits">The logits z, at least one.</param>
    /// <param name="label">The correct class, an index into <paramref name="logits"/>.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float CrossEntropy(ReadOnlySpan<float> logits, int label)
    {
        float max = LargestLogit(logits);
        float sum = 0f;
        for (int k = 0; k < logits.Length; k++)
        {
            sum += MathF.Exp(logits[k] - max);
        }

        return MathF.Log(sum) - (logits[label] - max);
    }

    /// <summary>
    /// The index of the largest output (the first, on a tie): the predicted class. −1 when an output is NaN, which is
    /// what an input holding NaN or infinity produces.
    /// </summary>
    /// <param name="outputs">The network's outputs, at least one.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int LargestIndex(ReadOnlySpan<float> outputs)
    {
        int best = 0;
        for (int k = 0; k < outputs.Length; k++)
        {
            if (float.IsNaN(outputs[k]))
            {
                return -1;
            }

            if (outputs[k] > outputs[best])
            {
                best = k;
            }
        }

        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float LargestLogit(ReadOnlySpan<float> logits)
    {
        float max = logits[0];
        for (int k = 1; k < logits.Length; k++)
        {
            max = MathF.Max(max, logits[k]);
        }

        return max;
    }
}
