using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The runtime's Winograd F(2×2, 3×3) convolution against the convolution's definition summed in double here: every path
/// of its transforms (8 or 4 tiles per vector, a last group of 8 moved back, the one-value-at-a-time gather and scatter
/// for other widths and odd sizes), its matrix-product tiles and their leftovers, padding 0 to 2, with and without ReLU;
/// that a group of images (batch calls' products over several images' tiles) gives each image the same bits as a call on
/// it alone; its argument checks; and that a reused scratch buffer gives the same result again.
/// </summary>
public class WinogradTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        { 32, 64, 16, 16, 1 }, // vgg-cifar's conv2: 8 tiles across, products in 6×2 and 4×2 tiles
        { 64, 128, 8, 8, 1 },  // vgg-cifar's conv3: 4 tiles across, 128-bit transforms
        { 16, 24, 18, 18, 1 }, // 9 tiles across: a last group of 8 moved back
        { 5, 7, 6, 5, 0 },     // odd output, 2 tiles across: gathered and scattered
        { 9, 13, 11, 4, 2 },   // padding 2, 13 × 6 output
        { 3, 5, 7, 9, 1 },     // channels and filters that fill no register tile
        { 17, 19, 33, 35, 1 }, // 17 × 18 tiles: 306 tiles, 39 vectors (4×3 tiles with leftovers)
        { 16, 24, 18, 18, 0 }, // an already padded input with even output sides: read in place, not copied
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_equals_the_direct_convolution(int channels, int filters, int height, int width, int padding)
    {
        if (!Runs())
        {
            return;
        }

        var random = new Random((channels * 31) + height);
        float[] input = Values(random, channels * height * width, 1.0);
        float[] weight = Values(random, filters * channels * 9, 0.5);
        float[] bias = Values(random, filters, 0.5);
        int outHeight = height + (2 * padding) - 2, outWidth = width + (2 * padding) - 2;
        double[] expected = Direct(input, weight, bias, channels, filters, height, width, padding);

        float[] transformed = new float[Winograd.WeightsLength(filters, channels)];
        float[] scratch = new float[Winograd.ScratchLength(channels, filters, height, width, padding)];
        Winograd.TransformWeights(weight, filters, channels, transformed);
        foreach (bool relu in new[] { false, true })
        {
            float[] output = new float[filters * outHeight * outWidth];
            Winograd.Forward(input, channels, height, width, padding, transformed, bias, filters, relu, output, scratch);

            // The transforms add up to 4 input values (and 4 products) before the sums over channels, so the rounding
            // error grows like that of a sum over 9·channels terms of at most 4 times the size: bound it by that scale.
            double scale = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }

            double tolerance = 64 * 9 * channels * scale * Math.Pow(2, -24);
            for (int i = 0; i < expected.Length; i++)
            {
                double want = relu ? Math.Max(0, expected[i]) : expected[i];
                Assert.True(Math.Abs(output[i] - want) <= tolerance, $"relu {relu}, output {i}: {output[i]:R}, expected {want:R} (tolerance {tolerance:E2})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_group_gives_each_image_exactly_its_outputs_alone(int channels, int filters, int height, int width, int padding)
    {
        if (!Runs())
        {
            return;
        }

        var random = new Random((channels * 17) + width);
        float[] weight = Values(random, filters * channels * 9, 0.5);
        float[] bias = Values(random, filters, 0.5);
        float[] transformed = new float[Winograd.WeightsLength(filters, channels)];
        Winograd.TransformWeights(weight, filters, channels, transformed);
        int outputs = filters * (height + (2 * padding) - 2) * (width + (2 * padding) - 2);
        float[] alone = new float[Winograd.ScratchLength(channels, filters, height, width, padding)];
        const int Images = 3;
        float[] group = new float[Winograd.GroupScratchLength(channels, filters, height, width, padding, Images)];

        // The first call fills all three images' columns; the second gives only two images, the third image's columns
        // keep the first call's tiles (as in a call's last, short group), which must not reach the other two.
        foreach (int given in new[] { Images, 2 })
        {
            var inputs = new float[given][];
            for (int n = 0; n < given; n++)
            {
                inputs[n] = Values(random, channels * height * width, given == Images ? 100.0 : 1.0);
                Winograd.GroupInput(inputs[n], channels, height, width, padding, filters, n, Images, group);
            }

            Winograd.GroupProducts(transformed, channels, height, width, padding, filters, Images, group);
            for (int n = 0; n < given; n++)
            {
                bool relu = n % 2 == 1;
                float[] expected = new float[outputs], actual = new float[outputs];
                Winograd.Forward(inputs[n], channels, height, width, padding, transformed, bias, filters, relu, expected, alone);
                Winograd.GroupOutput(bias, channels, height, width, padding, filters, relu, n, Images, group, actual);
                for (int i = 0; i < outputs; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{given} images given, image {n}, output {i}: {actual[i]:R} in the group, {expected[i]:R} alone");
                }
            }
        }
    }

    [Fact]
    public void A_group_refuses_an_image_outside_it_and_a_short_scratch_with_the_numbers()
    {
        if (!Runs())
        {
            return;
        }

        float[] input = new float[8 * 6 * 6];
        float[] scratch = new float[Winograd.GroupScratchLength(8, 16, 6, 6, 1, 2)];
        var outside = Assert.Throws<ArgumentException>(() => Winograd.GroupInput(input, 8, 6, 6, 1, 16, 2, 2, scratch));
        Assert.Contains("image 2 of a group of 2", outside.Message, StringComparison.Ordinal);
        var shortScratch = Assert.Throws<ArgumentException>(() => Winograd.GroupInput(input, 8, 6, 6, 1, 16, 0, 2, new float[scratch.Length - 1]));
        Assert.Contains($"{scratch.Length - 1} of scratch for a group of 2 images of 8×6×6 → 16×6×6, which need 288 and {scratch.Length}", shortScratch.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Winograd.GroupScratchLength(8, 16, 6, 6, 1, 0));
        Assert.Throws<ArgumentException>(() => Winograd.GroupProducts(new float[Winograd.WeightsLength(16, 8) - 1], 8, 6, 6, 1, 16, 2, scratch));
        Assert.Throws<ArgumentException>(() => Winograd.GroupOutput(new float[15], 8, 6, 6, 1, 16, false, 0, 2, scratch, new float[16 * 36]));
    }

    [Fact]
    public void An_empty_bias_stands_for_zeros()
    {
        if (!Runs())
        {
            return;
        }

        var random = new Random(9);
        const int Channels = 24, Filters = 16, Side = 9;
        float[] input = Values(random, Channels * Side * Side, 1.0);
        float[] weight = Values(random, Filters * Channels * 9, 0.5);
        float[] transformed = new float[Winograd.WeightsLength(Filters, Channels)];
        float[] scratch = new float[Winograd.ScratchLength(Channels, Filters, Side, Side, 2)];
        Winograd.TransformWeights(weight, Filters, Channels, transformed);
        int outputs = Filters * (Side + 2) * (Side + 2);
        float[] zeros = new float[Filters], withZeros = new float[outputs], without = new float[outputs];

        Winograd.Forward(input, Channels, Side, Side, 2, transformed, zeros, Filters, false, withZeros, scratch);
        Winograd.Forward(input, Channels, Side, Side, 2, transformed, default, Filters, false, without, scratch);

        Assert.Equal(withZeros, without);
        Assert.Contains(without, v => v != 0);
    }

    [Fact]
    public void A_reused_scratch_buffer_gives_the_same_outputs()
    {
        if (!Runs())
        {
            return;
        }

        var random = new Random(5);
        const int Channels = 16, Filters = 16, Side = 7; // 3 tiles across, 16 tiles: lanes past the last tile in use
        float[] input = Values(random, Channels * Side * Side, 1.0);
        float[] other = Values(random, Channels * Side * Side, 100.0);
        float[] weight = Values(random, Filters * Channels * 9, 0.5);
        float[] bias = new float[Filters];
        float[] transformed = new float[Winograd.WeightsLength(Filters, Channels)];
        float[] scratch = new float[Winograd.ScratchLength(Channels, Filters, Side, Side, 1)];
        Winograd.TransformWeights(weight, Filters, Channels, transformed);
        float[] first = new float[Filters * Side * Side], again = new float[Filters * Side * Side], between = new float[Filters * Side * Side];

        Winograd.Forward(input, Channels, Side, Side, 1, transformed, bias, Filters, false, first, scratch);
        for (int i = 0; i < 50; i++)
        {
            Winograd.Forward(other, Channels, Side, Side, 1, transformed, bias, Filters, false, between, scratch);
        }

        Winograd.Forward(input, Channels, Side, Side, 1, transformed, bias, Filters, false, again, scratch);

        Assert.Equal(first, again);
    }

    [Fact]
    public void Short_buffers_and_windows_that_do_not_fit_are_refused_with_the_sizes()
    {
        if (!Runs())
        {
            return;
        }

        float[] input = new float[16 * 8 * 8], bias = new float[16], output = new float[16 * 8 * 8];
        float[] transformed = new float[Winograd.WeightsLength(16, 16)];
        float[] scratch = new float[Winograd.ScratchLength(16, 16, 8, 8, 1)];

        var shortScratch = Assert.Throws<ArgumentException>(() => Winograd.Forward(input, 16, 8, 8, 1, transformed, bias, 16, false, output, new float[scratch.Length - 1]));
        Assert.Contains("16×8×8 → 16×8×8", shortScratch.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Winograd.Forward(input, 16, 8, 8, 1, transformed, bias, 16, false, new float[output.Length - 1], scratch));
        var tooSmall = Assert.Throws<ArgumentException>(() => Winograd.ScratchLength(1, 1, 2, 2, 0));
        Assert.Contains("2×2 input with padding 0", tooSmall.Message, StringComparison.Ordinal);
        var shortWeights = Assert.Throws<ArgumentException>(() => Winograd.TransformWeights(new float[16 * 16 * 9 - 1], 16, 16, transformed));
        Assert.Contains("16 filters × 16 channels", shortWeights.Message, StringComparison.Ordinal);
    }

    // Winograd's kernels need AVX2 and FMA; the generated code calls them only when Simd.Use256 is true. They run here
    // in-process and in InstructionSetTests' AVX2 child; its scalar child (which hides AVX2) has nothing to run.
    private static bool Runs()
    {
        if (Environment.GetEnvironmentVariable("LENET_EXPECTED_PATH") == "scalar")
        {
            return false;
        }

        Assert.True(Simd.Use256, "Winograd's kernels need AVX2 and FMA, which this process should have.");
        return true;
    }

    private static double[] Direct(float[] input, float[] weight, float[] bias, int channels, int filters, int height, int width, int padding)
    {
        int outHeight = height + (2 * padding) - 2, outWidth = width + (2 * padding) - 2;
        var output = new double[filters * outHeight * outWidth];
        for (int f = 0; f < filters; f++)
        {
            for (int y = 0; y < outHeight; y++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    double sum = bias[f];
                    for (int c = 0; c < channels; c++)
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            for (int j = 0; j < 3; j++)
                            {
                                int iy = y + i - padding, ix = x + j - padding;
                                if (iy >= 0 && iy < height && ix >= 0 && ix < width)
                                {
                                    sum += (double)weight[(((f * channels) + c) * 9) + (i * 3) + j] * input[(((c * height) + iy) * width) + ix];
                                }
                            }
                        }
                    }

                    output[(((f * outHeight) + y) * outWidth) + x] = sum;
                }
            }
        }

        return output;
    }

    private static float[] Values(Random random, int count, double range)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(((random.NextDouble() * 2) - 1) * range);
        }

        return values;
    }
}
