using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The runtime's 2×2 stride-2 pooling kernels against the definition written out plainly here: the outputs, where a
/// maximum's gradient goes when the window holds ties, NaN, and shapes whose rows are not a whole number of vectors or
/// leave a last row and column outside every window.
/// </summary>
public class PoolingTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 2, 2 },    // one window
        { 2, 8, 8 },    // exactly one vector of four outputs per row
        { 3, 9, 11 },   // odd: the last row and column are in no window
        { 6, 28, 28 },  // LeNet-5's pool1: 14 outputs a row, three vectors and a tail of two
        { 4, 10, 26 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_kernels_equal_the_definition(int planes, int height, int width)
    {
        float[] input = Values(planes * height * width, seed: height * 31 + width, ties: true);
        int oh = height / 2, ow = width / 2;
        float[] max = new float[planes * oh * ow], average = new float[planes * oh * ow];

        Pooling.MaxForward2x2(input, max, planes, height, width, oh, ow);
        Pooling.AverageForward2x2(input, average, planes, height, width, oh, ow);

        for (int c = 0; c < planes; c++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int x = 0; x < ow; x++)
                {
                    float a = At(input, c, 2 * y, 2 * x), b = At(input, c, 2 * y, 2 * x + 1), d = At(input, c, 2 * y + 1, 2 * x), e = At(input, c, 2 * y + 1, 2 * x + 1);
                    int o = (((c * oh) + y) * ow) + x;
                    Assert.Equal(MathF.Max(MathF.Max(MathF.Max(a, b), d), e), max[o]);
                    Assert.Equal(((a + b) + (d + e)) * 0.25f, average[o]);
                }
            }
        }

        float At(float[] values, int c, int y, int x) => values[(((c * height) + y) * width) + x];
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Backward_kernels_equal_the_definition(int planes, int height, int width)
    {
        float[] input = Values(planes * height * width, seed: height * 17 + width, ties: true);
        int oh = height / 2, ow = width / 2;
        float[] output = new float[planes * oh * ow];
        Pooling.MaxForward2x2(input, output, planes, height, width, oh, ow);
        float[] outputGradient = Values(output.Length, seed: 5, ties: false);
        float[] maxGradient = Filled(input.Length, float.NaN), averageGradient = Filled(input.Length, float.NaN); // every value must be written

        Pooling.MaxBackward2x2(input, output, outputGradient, maxGradient, planes, height, width, oh, ow);
        Pooling.AverageBackward2x2(outputGradient, averageGradient, planes, height, width, oh, ow);

        float[] expectedMax = new float[input.Length], expectedAverage = new float[input.Length];
        for (int c = 0; c < planes; c++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int x = 0; x < ow; x++)
                {
                    int o = (((c * oh) + y) * ow) + x;
                    bool given = false;
                    for (int r = 0; r < 2; r++)
                    {
                        for (int q = 0; q < 2; q++)
                        {
                            int i = (((c * height) + (2 * y) + r) * width) + (2 * x) + q;
                            expectedAverage[i] = outputGradient[o] * 0.25f;
                            if (!given && input[i] == output[o])
                            {
                                expectedMax[i] = outputGradient[o]; // the first in the window, row by row
                                given = true;
                            }
                        }
                    }
                }
            }
        }

        Assert.Equal(expectedMax, maxGradient);
        Assert.Equal(expectedAverage, averageGradient);
    }

    [Fact]
    public void Ties_send_the_gradient_to_the_first_maximum_of_the_window_row_by_row()
    {
        // Four windows of one 2×8 plane: all equal; the maximum twice in the bottom row; twice on the diagonal; once, last.
        float[] input =
        {
            1, 1,  0, 0,  2, 0,  0, 0,
            1, 1,  3, 3,  0, 2,  0, 4,
        };
        float[] output = new float[4];
        float[] gradient = new float[16];

        Pooling.MaxForward2x2(input, output, 1, 2, 8, 1, 4);
        Pooling.MaxBackward2x2(input, output, new float[] { 10, 20, 30, 40 }, gradient, 1, 2, 8, 1, 4);

        Assert.Equal(new float[] { 1, 3, 2, 4 }, output);
        Assert.Equal(new float[]
        {
            10, 0,  0, 0,  30, 0,  0, 0,
            0, 0,  20, 0,  0, 0,  0, 40,
        }, gradient);
    }

    [Fact]
    public void A_NaN_in_a_window_gives_a_NaN_output_and_no_gradient_to_that_window()
    {
        float[] input = { 1, float.NaN, 2, 0, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0 };
        float[] output = new float[4];
        float[] gradient = Filled(16, -1f);

        Pooling.MaxForward2x2(input, output, 1, 2, 8, 1, 4);
        Pooling.MaxBackward2x2(input, output, new float[] { 1, 1, 1, 1 }, gradient, 1, 2, 8, 1, 4);

        Assert.True(float.IsNaN(output[0]));
        Assert.Equal(new float[] { 2, 6, 8 }, output[1..]);
        Assert.Equal(new float[] { 0, 0, 1, 0, 0, 1, 0, 1 }, gradient[..8]);
        Assert.All(gradient[8..], g => Assert.Equal(0f, g));
    }

    [Fact]
    public void Shapes_whose_windows_leave_the_input_or_spans_too_short_are_rejected_with_the_values()
    {
        var outside = Assert.Throws<ArgumentException>(() => Pooling.MaxForward2x2(new float[9], new float[4], 1, 3, 3, 2, 2));
        Assert.Contains("1 × 3×3 → 2×2", outside.Message);
        var shortSpan = Assert.Throws<ArgumentException>(() => Pooling.AverageForward2x2(new float[15], new float[4], 1, 4, 4, 2, 2));
        Assert.Contains("hold 15 input and 4 output values, expected at least 16 and 4", shortSpan.Message);
    }

    // Values in [-1, 1); with ties, a third of them are drawn from a few levels so that windows hold equal values.
    private static float[] Values(int count, int seed, bool ties)
    {
        var random = new Random(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = ties && random.Next(3) == 0 ? random.Next(-2, 3) * 0.25f : (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static float[] Filled(int count, float value)
    {
        float[] values = new float[count];
        Array.Fill(values, value);
        return values;
    }
}
