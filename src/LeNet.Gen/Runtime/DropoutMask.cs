using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace LeNet.Gen.Runtime;

/// <summary>
/// The dropout masks of generated networks, without state: whether value <c>index</c> of layer <c>layer</c> is kept for
/// one example is a hash of the example's key (from the network's seed, the training step and the example's place in
/// its batch) and the two positions. The forward and backward passes recompute the same mask, and which thread runs
/// an example does not matter. Not meant to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DropoutMask
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>The key of example <paramref name="example"/> of training step <paramref name="step"/> of a network created with <paramref name="seed"/>.</summary>
    public static ulong ExampleKey(long seed, long step, int example) =>
        Mix(unchecked(Mix(unchecked(Mix(unchecked((ulong)seed + Golden)) + ((ulong)step * Golden))) + ((ulong)(uint)example * Golden)));

    /// <summary>True when value <paramref name="index"/> of layer <paramref name="layer"/> is kept: a uniform draw in [0, 1) with 24 bits is at least <paramref name="p"/>.</summary>
    public static bool Keeps(ulong key, int layer, int index, double p)
    {
        ulong bits = Mix(unchecked(key + ((((ulong)(uint)layer << 32) | (uint)index) * Golden)));
        double uniform = (bits >> 40) * (1.0 / (1 << 24));
        return uniform >= p;
    }

    /// <summary>Inverted dropout: <c>output[i] = input[i] / (1 − p)</c> where the mask keeps value i, 0 elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, Span<float> output, int length, ulong key, int layer, double p)
    {
        float scale = (float)(1.0 / (1.0 - p));
        for (int i = 0; i < length; i++)
        {
            output[i] = Keeps(key, layer, i, p) ? input[i] * scale : 0f;
        }
    }

    /// <summary>The gradient through <see cref="Forward"/>: <c>inputGradient[i] = outputGradient[i] / (1 − p)</c> where the mask keeps value i, 0 elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int length, ulong key, int layer, double p)
    {
        float scale = (float)(1.0 / (1.0 - p));
        for (int i = 0; i < length; i++)
        {
            inputGradient[i] = Keeps(key, layer, i, p) ? outputGradient[i] * scale : 0f;
        }
    }

    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
