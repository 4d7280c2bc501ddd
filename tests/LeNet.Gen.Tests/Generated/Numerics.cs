using System;
using LeNet.Gen.Tests.Reference;
using Xunit;

namespace LeNet.Gen.Tests.Generated;

/// <summary>Random inputs and conversions shared by the tests that compare generated code with the reference.</summary>
internal static class Numerics
{
    public static float[] RandomInputs(int count, int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)random.NextDouble();
        }

        return values;
    }

    /// <summary><paramref name="count"/> values drawn uniformly from [−1, 1).</summary>
    public static float[] SignedValues(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    /// <summary><paramref name="count"/> copies of <paramref name="value"/>, e.g. NaN in a buffer a kernel must overwrite, not read.</summary>
    public static float[] Filled(int count, float value)
    {
        var values = new float[count];
        Array.Fill(values, value);
        return values;
    }

    public static int[] RandomLabels(int count, int classes, int seed)
    {
        var random = new Random(seed);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
        }

        return labels;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    /// <summary>Largest |a − b| / |b| over the elements (b the reference).</summary>
    /// <summary>Fails naming the first value whose bits differ from the expected one's.</summary>
    public static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: value {i} is {actual[i]:R}, but {expected[i]:R} was expected");
            }
        }
    }

    public static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Abs(expected[i]));
        }

        return worst;
    }

    /// <summary>A copy of the generated network's parameters in double, for the reference.</summary>
    public static double[] Parameters(INetwork network) => ToDouble(network.Parameters);

    public static double[] ReferenceForward(ReferenceNetwork reference, INetwork network, ReadOnlySpan<float> input) =>
        reference.Forward(Parameters(network), ToDouble(input));
}
