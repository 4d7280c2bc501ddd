using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The space-to-depth rearrangement of strided convolutions: worked examples by hand, the strided convolution computed
/// directly in double against the stride-1 convolution of the phase planes, and the backward helpers as the exact
/// adjoints (transposes) of the forward ones.
/// </summary>
public class SpaceToDepthTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 2, 2)]
    [InlineData(4, 2, 2)]
    [InlineData(5, 2, 3)]
    [InlineData(2, 3, 1)]
    [InlineData(4, 3, 2)]
    [InlineData(7, 3, 3)]
    public void The_sub_kernel_is_the_kernel_over_the_stride_rounded_up(int kernel, int stride, int expected)
    {
        Assert.Equal(expected, SpaceToDepth.SubKernel(kernel, stride));
    }

    [Fact]
    public void Split_of_a_4x5_channel_by_2_worked_by_hand()
    {
        // x[y, x] = 10·y + x on 4×5; planes of 3×3 (one more row and column than the input holds): zeros past its edge.
        var source = Enumerable.Range(0, 20).Select(i => (float)((10 * (i / 5)) + (i % 5))).ToArray();
        var planes = Enumerable.Repeat(-1f, 4 * 9).ToArray();

        SpaceToDepth.Split(source, 1, 4, 5, 2, planes, 3, 3);

        Assert.Equal(new float[] { 0, 2, 4, 20, 22, 24, 0, 0, 0 }, planes[0..9]); // rows 0, 2; columns 0, 2, 4
        Assert.Equal(new float[] { 1, 3, 0, 21, 23, 0, 0, 0, 0 }, planes[9..18]); // rows 0, 2; columns 1, 3
        Assert.Equal(new float[] { 10, 12, 14, 30, 32, 34, 0, 0, 0 }, planes[18..27]); // rows 1, 3; columns 0, 2, 4
        Assert.Equal(new float[] { 11, 13, 0, 31, 33, 0, 0, 0, 0 }, planes[27..36]); // rows 1, 3; columns 1, 3
    }

    [Fact]
    public void Rearranged_3x3_weights_by_2_worked_by_hand()
    {
        // w[i, j] = 1 + 3i + j: sub-kernels of 2×2, zero where 2i' + a or 2j' + b reaches 3.
        float[] weight = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        var rearranged = Enumerable.Repeat(-1f, 16).ToArray();

        SpaceToDepth.RearrangeWeights(weight, 1, 1, 3, 2, rearranged);

        Assert.Equal(new float[] { 1, 3, 7, 9, 2, 0, 8, 0, 4, 6, 0, 0, 5, 0, 0, 0 }, rearranged);
    }

    [Theory]
    [InlineData(1, 6, 6, 3, 2, 2, 2, 1)]
    [InlineData(3, 9, 9, 3, 2, 4, 4, 2)]
    [InlineData(2, 11, 10, 4, 2, 4, 4, 3)]
    [InlineData(2, 12, 12, 5, 2, 4, 4, 2)]
    [InlineData(2, 13, 11, 4, 3, 4, 3, 2)]
    [InlineData(1, 9, 9, 2, 3, 3, 3, 2)]
    [InlineData(2, 8, 8, 1, 2, 4, 4, 3)]
    [InlineData(1, 10, 10, 3, 3, 4, 4, 1)] // a last window past the edge (Ceiling rounding): it reads zeros
    public void The_stride_1_convolution_of_the_phase_planes_is_the_strided_convolution(int channels, int height, int width, int kernel, int stride, int outHeight, int outWidth, int filters)
    {
        var random = new Random((channels * 1000) + (kernel * 100) + (stride * 10) + height);
        var x = Values(random, channels * height * width);
        var w = Values(random, filters * channels * kernel * kernel);
        int sub = SpaceToDepth.SubKernel(kernel, stride);
        int planeHeight = outHeight + sub - 1, planeWidth = outWidth + sub - 1, planes = channels * stride * stride;
        var p = new float[planes * planeHeight * planeWidth];
        var wp = new float[filters * planes * sub * sub];

        SpaceToDepth.Split(x, channels, height, width, stride, p, planeHeight, planeWidth);
        SpaceToDepth.RearrangeWeights(w, filters, channels, kernel, stride, wp);

        for (int f = 0; f < filters; f++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int q = 0; q < outWidth; q++)
                {
                    double direct = 0;
                    for (int c = 0; c < channels; c++)
                    {
                        for (int i = 0; i < kernel; i++)
                        {
                            for (int j = 0; j < kernel; j++)
                            {
                                int row = (stride * y) + i, column = (stride * q) + j;
                                double value = row < height && column < width ? x[(((c * height) + row) * width) + column] : 0;
                                direct += w[(((((f * channels) + c) * kernel) + i) * kernel) + j] * value;
                            }
                        }
                    }

                    double phased = 0;
                    for (int m = 0; m < planes; m++)
                    {
                        for (int i = 0; i < sub; i++)
                        {
                            for (int j = 0; j < sub; j++)
                            {
                                phased += (double)wp[(((((f * planes) + m) * sub) + i) * sub) + j] * p[(((m * planeHeight) + y + i) * planeWidth) + q + j];
                            }
                        }
                    }

                    Assert.Equal(direct, phased, 1e-9);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 4, 5, 2, 3, 3)]
    [InlineData(2, 9, 9, 2, 5, 5)]
    [InlineData(3, 10, 7, 3, 4, 3)]
    [InlineData(1, 9, 9, 2, 4, 4)] // planes that end before the input does: its last row and column get zero
    public void Merge_is_the_transpose_of_Split(int channels, int height, int width, int stride, int planeHeight, int planeWidth)
    {
        // <Split x, g> = <x, Merge g> for random x and g: Merge sends each plane value back to where Split took it from.
        var random = new Random(height * width);
        var x = Values(random, channels * height * width);
        var g = Values(random, channels * stride * stride * planeHeight * planeWidth);
        var split = new float[g.Length];
        var merged = Enumerable.Repeat(float.NaN, x.Length).ToArray(); // Merge writes every value

        SpaceToDepth.Split(x, channels, height, width, stride, split, planeHeight, planeWidth);
        SpaceToDepth.Merge(g, channels, stride, planeHeight, planeWidth, merged, height, width);

        Assert.Equal(Dot(split, g), Dot(x, merged), 1e-9);
    }

    [Fact]
    public void Merge_puts_each_plane_value_back_in_place_and_zeroes_what_no_plane_holds()
    {
        // 1 channel of 5×5 by 2 with planes of 2×2: rows and columns 0-3 come back, row and column 4 are zero.
        var source = Enumerable.Range(1, 25).Select(i => (float)i).ToArray();
        var planes = new float[4 * 4];
        var back = Enumerable.Repeat(-1f, 25).ToArray();

        SpaceToDepth.Split(source, 1, 5, 5, 2, planes, 2, 2);
        SpaceToDepth.Merge(planes, 1, 2, 2, 2, back, 5, 5);

        for (int y = 0; y < 5; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                Assert.Equal(y < 4 && x < 4 ? source[(y * 5) + x] : 0f, back[(y * 5) + x]);
            }
        }
    }

    [Theory]
    [InlineData(2, 3, 3, 2)]
    [InlineData(3, 2, 5, 2)]
    [InlineData(1, 2, 4, 3)]
    [InlineData(2, 1, 1, 2)]
    [InlineData(2, 2, 7, 3)]
    public void FoldWeightGradient_is_the_transpose_of_RearrangeWeights_and_adds(int filters, int channels, int kernel, int stride)
    {
        var random = new Random((kernel * 10) + stride);
        int sub = SpaceToDepth.SubKernel(kernel, stride);
        var w = Values(random, filters * channels * kernel * kernel);
        var g = Values(random, filters * channels * stride * stride * sub * sub);
        var start = Values(random, w.Length);
        var rearranged = new float[g.Length];
        var folded = (float[])start.Clone();

        SpaceToDepth.RearrangeWeights(w, filters, channels, kernel, stride, rearranged);
        SpaceToDepth.FoldWeightGradient(g, filters, channels, kernel, stride, folded);

        // folded − start is the transpose applied to g: <Rearrange w, g> = <w, Fold g>.
        var added = folded.Zip(start, (a, b) => (double)a - b).ToArray();
        Assert.Equal(Dot(rearranged, g), w.Zip(added, (a, b) => a * b).Sum(), 1e-4); // the sums are rounded to float, 6e-8 each
    }

    [Fact]
    public void Short_spans_and_non_positive_shapes_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => SpaceToDepth.Split(new float[15], 1, 4, 4, 2, new float[36], 3, 3));
        Assert.Equal("source", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => SpaceToDepth.Split(new float[16], 1, 4, 4, 2, new float[35], 3, 3));
        Assert.Equal("planes", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => SpaceToDepth.Merge(new float[36], 1, 2, 3, 3, new float[15], 4, 4));
        Assert.Equal("target", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => SpaceToDepth.RearrangeWeights(new float[9], 1, 1, 3, 2, new float[15]));
        Assert.Equal("rearranged", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => SpaceToDepth.FoldWeightGradient(new float[16], 1, 1, 3, 2, new float[8]));
        Assert.Equal("weightGradient", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SpaceToDepth.SubKernel(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpaceToDepth.Split(new float[16], 1, 4, 4, 2, new float[36], 0, 3));
    }

    private static float[] Values(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
