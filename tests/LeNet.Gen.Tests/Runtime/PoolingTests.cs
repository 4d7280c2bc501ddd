using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The runtime's pooling kernels (2×2 with stride 2, and other windows and strides) against the definition written out plainly here: the outputs, where a
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
    public static TheoryData<int, int, int, int, int> WindowShapes => new()
    {
        // planes, input height, input width, window, stride: windows all inside; rows of 1 to 40 outputs.
        { 2, 29, 29, 3, 2 },  // 13×13: one short vector a row, its store running into the next row
        { 3, 12, 12, 3, 1 },
        { 2, 12, 12, 2, 1 },
        { 4, 12, 12, 3, 3 },
        { 1, 70, 70, 4, 4 },  // 17×17: a full vector and one output a row
        { 2, 9, 42, 5, 1 },   // 38 outputs a row: two full vectors and six
        { 1, 6, 40, 1, 2 },   // a 1×1 window: every other value
        { 3, 7, 7, 7, 1 },    // one window per plane
        { 1, 11, 83, 3, 2 },  // 41 outputs a row with stride 2
        { 2, 13, 55, 4, 3 },
        { 1, 40, 40, 17, 1 },  // a window past 16×16 taps: one output at a time on every path
    };

    [Theory]
    [MemberData(nameof(WindowShapes))]
    public void Window_kernel_equals_the_definition_bit_for_bit_and_writes_nothing_past_the_output(int planes, int height, int width, int window, int stride)
    {
        int oh = ((height - window) / stride) + 1, ow = ((width - window) / stride) + 1;
        Assert.True(Pooling.Vectorizes(height, width, oh, ow, window, stride));
        float[] input = Values(planes * height * width, seed: (height * 131) + (width * 7) + window + stride, ties: true);
        input[0] = float.NaN;
        input[input.Length - 1] = -0f;
        input[input.Length / 2] = float.PositiveInfinity;
        int outputs = planes * oh * ow;
        foreach (bool average in new[] { false, true })
        {
            var buffer = Filled(outputs + 20, 42f);
            Pooling.Forward(input, buffer.AsSpan(0, outputs), planes, height, width, oh, ow, window, stride, average);
            for (int c = 0; c < planes; c++)
            {
                for (int y = 0; y < oh; y++)
                {
                    for (int x = 0; x < ow; x++)
                    {
                        // The generated scalar code: the maximum from the first value on, tap by tap row by row; the
                        // average's rows summed left to right, added in order from +0, times 1f / k².
                        float value = average ? 0f : At(input, c, y * stride, x * stride, height, width);
                        for (int i = 0; i < window; i++)
                        {
                            float row = 0f;
                            for (int j = 0; j < window; j++)
                            {
                                float v = At(input, c, (y * stride) + i, (x * stride) + j, height, width);
                                if (average)
                                {
                                    row = j == 0 ? v : row + v;
                                }
                                else
                                {
                                    value = MathF.Max(value, v);
                                }
                            }

                            value = average ? value + row : value;
                        }

                        float expected = average ? value * (1f / (window * window)) : value;
                        float actual = buffer[(((c * oh) + y) * ow) + x];
                        Assert.True(
                            BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                            $"{(average ? "average" : "max")} at ({c}, {y}, {x}): {actual} against {expected}");
                    }
                }
            }

            Assert.All(buffer[outputs..], v => Assert.Equal(42f, v));
        }
    }

    [Fact]
    public void Window_kernel_refuses_windows_past_the_edge_strides_above_4_and_short_spans()
    {
        Assert.False(Pooling.Vectorizes(10, 10, 5, 5, 3, 2));  // (5 − 1)·2 + 3 = 11 rows: the last window hangs over
        Assert.False(Pooling.Vectorizes(30, 30, 6, 6, 5, 5));  // stride 5
        Assert.True(Pooling.Vectorizes(30, 30, 7, 7, 4, 4));
        var error = Assert.Throws<ArgumentException>(() => Pooling.Forward(new float[100], new float[25], 1, 10, 10, 5, 5, 3, 2, average: false));
        Assert.Contains("3×3 stride-2", error.Message);
        Assert.Throws<ArgumentException>(() => Pooling.Forward(new float[99], new float[16], 1, 10, 10, 4, 4, 3, 2, average: false));
        Assert.Throws<ArgumentException>(() => Pooling.Forward(new float[100], new float[15], 1, 10, 10, 4, 4, 3, 2, average: true));
    }

    private static float At(float[] input, int c, int y, int x, int height, int width) => input[(((c * height) + y) * width) + x];

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
