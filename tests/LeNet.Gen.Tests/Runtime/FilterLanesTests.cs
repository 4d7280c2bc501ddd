using System;
using LeNet.Gen.Runtime;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The filters-in-lanes convolution against its definition, summed in double: strides 1 to 3, kernels 1 to 5, filter
/// counts that make an odd block (8, 24, 40), fill AVX-512's 16 lanes (16, 32) or its 4-block tiles (64, 96, 112), planes that end part-way through a
/// six-position tile or hold fewer than six positions, ReLU with NaN; and the errors for shapes it does not run.
/// </summary>
public class FilterLanesTests
{
    [Theory]
    [InlineData(16, 17, 17, 32, 3, 2)] // a stride-2 3×3 layer, the family's best case: 8×8 outputs, two blocks of 16 on AVX-512
    [InlineData(3, 12, 12, 8, 5, 1)]   // one block only, a 1-block tile; 64 positions end part-way through a tile
    [InlineData(4, 11, 10, 24, 4, 3)]  // stride 3, a non-square input, three blocks of 8 (a 2-block and a 1-block tile)
    [InlineData(5, 6, 6, 40, 1, 1)]    // a 1×1 kernel, five blocks of 8
    [InlineData(2, 5, 5, 16, 3, 2)]    // 2×2 outputs: fewer positions than one tile
    [InlineData(8, 9, 9, 48, 3, 1)]    // 7×7 outputs (49 positions), six blocks of 8, three of 16
    [InlineData(6, 14, 14, 16, 5, 1)]  // LeNet-5's conv2: 100 positions, two blocks of 8 (also on AVX-512)
    [InlineData(3, 7, 9, 8, 3, 2)]     // 3×4 outputs: two 1-block tiles, exactly full
    [InlineData(2, 3, 9, 16, 3, 1)]    // 1×7 outputs: a 1-block tile and one position
    [InlineData(2, 5, 8, 8, 3, 1)]     // 3×6 outputs (18 positions): three full 1-block tiles
    [InlineData(2, 3, 13, 16, 3, 1)]   // 1×11 outputs: a 1-block tile and one five positions long
    [InlineData(6, 17, 17, 64, 3, 2)]  // strided's conv2 shape: one 4-block tile of 16 on AVX-512 (two 2-block tiles of 8 on AVX2)
    [InlineData(3, 9, 7, 112, 3, 1)]   // 7×5 outputs (35 positions, a last tile of five): 4-, 2- and 1-block tiles of 16
    [InlineData(2, 5, 5, 96, 2, 2)]    // 2×2 outputs, fewer than a tile: a 4-block and a 2-block tile
    public void A_convolution_matches_the_definition(int channels, int height, int width, int filters, int kernel, int stride)
    {
        if (!FilterLanes.Supports(filters))
        {
            return; // the kernels need AVX2 and FMA
        }

        int outHeight = ((height - kernel) / stride) + 1, outWidth = ((width - kernel) / stride) + 1, taps = channels * kernel * kernel;
        var random = new Random((channels * 31) + filters);
        float[] input = SignedValues(random, channels * height * width), weight = SignedValues(random, filters * taps), bias = SignedValues(random, filters);
        var packed = new float[filters * taps];
        var scratch = Filled(outHeight * outWidth * filters, float.NaN); // must be overwritten, not read
        var output = Filled(filters * outHeight * outWidth, float.NaN);

        FilterLanes.PackWeights(weight, filters, taps, packed);
        FilterLanes.Convolve(input, channels, height, width, packed, bias, filters, kernel, stride, outHeight, outWidth, relu: false, scratch, output);

        for (int f = 0; f < filters; f++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    double sum = bias[f];
                    float fused = 0f; // the order the kernels promise: the taps by fused multiply-adds from zero, then the bias
                    for (int c = 0; c < channels; c++)
                    {
                        for (int i = 0; i < kernel; i++)
                        {
                            for (int j = 0; j < kernel; j++)
                            {
                                float wv = weight[(((f * channels) + c) * kernel + i) * kernel + j], xv = input[(((c * height) + (y * stride) + i) * width) + (x * stride) + j];
                                sum += (double)wv * xv;
                                fused = MathF.FusedMultiplyAdd(wv, xv, fused);
                            }
                        }
                    }

                    float actual = output[(((f * outHeight) + y) * outWidth) + x];
                    Assert.True(Math.Abs(actual - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"filter {f}, ({y}, {x}): {actual} against {sum}");
                    Assert.True(BitConverter.SingleToInt32Bits(actual) == BitConverter.SingleToInt32Bits(fused + bias[f]), $"filter {f}, ({y}, {x}): {actual} against the sequential fused sum {fused + bias[f]}");
                }
            }
        }
    }

    [Fact]
    public void ReLU_clamps_below_zero_and_keeps_NaN()
    {
        if (!FilterLanes.Supports(8))
        {
            return;
        }

        const int channels = 2, side = 4, filters = 16, kernel = 3, outSide = 2, taps = channels * kernel * kernel;
        var random = new Random(5);
        float[] input = SignedValues(random, channels * side * side), weight = SignedValues(random, filters * taps), bias = SignedValues(random, filters);
        input[0] = float.NaN; // in the window of output (0, 0) only
        var packed = new float[filters * taps];
        var withRelu = new float[filters * outSide * outSide];
        var without = new float[filters * outSide * outSide];
        FilterLanes.PackWeights(weight, filters, taps, packed);

        FilterLanes.Convolve(input, channels, side, side, packed, bias, filters, kernel, 1, outSide, outSide, relu: true, new float[withRelu.Length], withRelu);
        FilterLanes.Convolve(input, channels, side, side, packed, bias, filters, kernel, 1, outSide, outSide, relu: false, new float[without.Length], without);

        for (int i = 0; i < without.Length; i++)
        {
            bool corner = i % (outSide * outSide) == 0;
            Assert.Equal(corner, float.IsNaN(withRelu[i]));
            if (!corner)
            {
                Assert.Equal(Math.Max(without[i], 0f), withRelu[i]);
            }
        }
    }

    [Fact]
    public void Packing_puts_the_filters_of_a_tap_side_by_side()
    {
        const int filters = 24, taps = 13; // neither a multiple of the 8 × 8 blocks' sides in both directions
        var weight = new float[filters * taps];
        for (int i = 0; i < weight.Length; i++)
        {
            weight[i] = i;
        }

        var packed = new float[filters * taps];
        FilterLanes.PackWeights(weight, filters, taps, packed);

        for (int t = 0; t < taps; t++)
        {
            for (int f = 0; f < filters; f++)
            {
                Assert.Equal(weight[(f * taps) + t], packed[(t * filters) + f]);
            }
        }
    }

    [Fact]
    public void Shapes_it_does_not_run_and_short_spans_are_refused_with_the_shape_named()
    {
        if (!FilterLanes.Supports(8))
        {
            return;
        }

        var odd = Assert.Throws<ArgumentException>(() => FilterLanes.Convolve(new float[100], 1, 10, 10, new float[12 * 9], new float[12], 12, 3, 1, 8, 8, relu: false, new float[12 * 64], new float[12 * 64]));
        Assert.Contains("12 filters", odd.Message);
        var outside = Assert.Throws<ArgumentException>(() => FilterLanes.Convolve(new float[100], 1, 10, 10, new float[8 * 9], new float[8], 8, 3, 2, 5, 5, relu: false, new float[8 * 25], new float[8 * 25]));
        Assert.Contains("from 10×10 to 5×5", outside.Message); // (5 − 1)·2 + 3 = 11 rows do not fit in 10
        var shortOutput = Assert.Throws<ArgumentException>(() => FilterLanes.Convolve(new float[100], 1, 10, 10, new float[8 * 9], new float[8], 8, 3, 1, 8, 8, relu: false, new float[8 * 64], new float[8 * 63]));
        Assert.Contains("shorter", shortOutput.Message);
        var pack = Assert.Throws<ArgumentException>(() => FilterLanes.PackWeights(new float[10], 8, 2, new float[16]));
        Assert.Contains("8 filters, 2 taps", pack.Message);
    }
}
