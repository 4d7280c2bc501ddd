using System;

namespace LeNet.Gen.Benchmarks.Baseline;

/// <summary>PyTorch's default initialisation of <c>Conv2d</c> and <c>Linear</c>: weights and biases uniform in ±1/√fan_in.</summary>
internal static class Initialisation
{
    public static void FillUniform(float[] values, float bound, Random random)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = ((random.NextSingle() * 2f) - 1f) * bound;
        }
    }
}
