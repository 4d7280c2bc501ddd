using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The image-lanes kernels against the definitions of their layers, summed in double over each image on its own: a
/// convolution with padding, stride and windows over the edge, pooling (clipped windows, NaN), a dense layer over any
/// call, global average pooling; Gather, Widen and Scatter as each other's inverse with partial groups. A group's
/// lanes must not leak into each other: each image is checked against its own definition, with the other lanes holding
/// different images.
/// </summary>
public class ImageLanesTests
{
    [Fact]
    public void An_aligned_buffer_starts_on_64_bytes_and_is_kept_while_long_enough()
    {
        float[]? buffer = null;
        foreach (int length in new[] { 1, 100, 9118 * 8 })
        {
            Span<float> span = ImageLanes.Aligned(ref buffer, length);
            Assert.Equal(length, span.Length);
            var handle = System.Runtime.InteropServices.GCHandle.Alloc(buffer, System.Runtime.InteropServices.GCHandleType.Pinned);
            long start = handle.AddrOfPinnedObject() + System.Runtime.CompilerServices.Unsafe.ByteOffset(ref buffer![0], ref span[0]);
            handle.Free();
            Assert.Equal(0, start % 64);

            Assert.All(span.ToArray(), v => Assert.Equal(0f, v)); // created zeroed
            span.Fill(1f);
            float[] kept = buffer!;
            Span<float> again = ImageLanes.Aligned(ref buffer, length);
            Assert.Same(kept, buffer);
            Assert.True(again.SequenceEqual(span)); // the same values: the same place
        }
    }

    [Theory]
    [InlineData(1, 32, 32, 6, 5, 1, 0)]  // LeNet-5's conv1: six filters × two positions a tile
    [InlineData(2, 7, 7, 18, 3, 1, 1)]   // three tiles of six filters, padding
    [InlineData(2, 6, 6, 9, 3, 1, 0)]    // three filters × three positions a tile
    [InlineData(6, 14, 14, 16, 5, 1, 0)] // LeNet-5's conv2: four filters a tile, tiles across rows
    [InlineData(3, 9, 9, 5, 3, 2, 1)]    // stride 2 with padding; five filters (the last tile repeats one)
    [InlineData(2, 8, 7, 7, 4, 3, 2)]    // stride 3, padding 2, an even kernel
    [InlineData(4, 5, 5, 2, 1, 1, 0)]    // a 1×1 kernel, two filters
    [InlineData(2, 6, 6, 4, 3, 2, 0)]    // a window hanging over the edge (ceiling rounding: 3×3 output on 6×6)
    public void A_convolution_matches_the_definition_in_every_lane(int channels, int height, int width, int filters, int kernel, int stride, int padding)
    {
        if (ImageLanes.Count == 0)
        {
            return; // the pass runs only with AVX2 and FMA
        }

        bool ceiling = (height + (2 * padding) - kernel) % stride != 0;
        int outHeight = ((height + (2 * padding) - kernel + (ceiling ? stride - 1 : 0)) / stride) + 1;
        int outWidth = ((width + (2 * padding) - kernel + (ceiling ? stride - 1 : 0)) / stride) + 1;
        var random = new Random((channels * 97) + filters);
        int l = ImageLanes.Count, images = l - 1; // one lane left empty
        float[][] inputs = Enumerable.Range(0, images).Select(_ => SignedValues(random, channels * height * width)).ToArray();
        float[] weight = SignedValues(random, filters * channels * kernel * kernel), bias = SignedValues(random, filters);
        var lanes = new float[channels * height * width * l];
        ImageLanes.Gather(inputs.SelectMany(x => x).ToArray(), images, channels * height * width, lanes);
        int paddedHeight = ((outHeight - 1) * stride) + kernel, paddedWidth = ((outWidth - 1) * stride) + kernel;
        var scratch = Filled(channels * paddedHeight * paddedWidth * l, float.NaN); // must be overwritten, not read
        foreach (bool relu in new[] { true, false }) // the kernels are compiled apart for each
        {
            var output = Filled(filters * outHeight * outWidth * l, float.NaN);
            ImageLanes.Convolve(lanes, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, relu, scratch, output);
            AssertConvolution(output, relu);
        }

        void AssertConvolution(float[] output, bool relu)
        {
            for (int n = 0; n < images; n++)
            {
                for (int f = 0; f < filters; f++)
                {
                    for (int y = 0; y < outHeight; y++)
                    {
                        for (int x = 0; x < outWidth; x++)
                        {
                            double sum = bias[f];
                            for (int c = 0; c < channels; c++)
                            {
                                for (int i = 0; i < kernel; i++)
                                {
                                    for (int j = 0; j < kernel; j++)
                                    {
                                        int row = (y * stride) + i - padding, column = (x * stride) + j - padding;
                                        if (row >= 0 && row < height && column >= 0 && column < width)
                                        {
                                            sum += (double)weight[(((f * channels) + c) * kernel + i) * kernel + j] * inputs[n][(((c * height) + row) * width) + column];
                                        }
                                    }
                                }
                            }

                            float actual = output[((((f * outHeight) + y) * outWidth) + x) * l + n];
                            double expected = relu ? Math.Max(sum, 0) : sum;
                            Assert.True(Math.Abs(actual - expected) <= 1e-5 * (1 + Math.Abs(sum)), $"image {n}, filter {f}, ({y}, {x}), relu {relu}: {actual} against {expected}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Packed_weights_are_reused_only_while_the_weights_are_unchanged()
    {
        // Two layers of one shape alternate, as the groups of a call do; then one weight of the first changes in place.
        if (ImageLanes.Count == 0)
        {
            return;
        }

        const int channels = 2, side = 6, filters = 4, kernel = 3, outSide = 4;
        int l = ImageLanes.Count;
        var random = new Random(17);
        var input = SignedValues(random, channels * side * side * l);
        float[] first = SignedValues(random, filters * channels * kernel * kernel), second = SignedValues(random, first.Length), bias = SignedValues(random, filters);
        var output = new float[filters * outSide * outSide * l];
        double Expected(float[] weight, int f, int y, int x, int n)
        {
            double sum = bias[f];
            for (int c = 0; c < channels; c++)
            {
                for (int i = 0; i < kernel; i++)
                {
                    for (int j = 0; j < kernel; j++)
                    {
                        sum += (double)weight[(((f * channels) + c) * kernel + i) * kernel + j] * input[((((c * side) + y + i) * side) + x + j) * l + n];
                    }
                }
            }

            return sum;
        }

        foreach (var (weight, change) in new[] { (first, false), (second, false), (first, false), (first, true), (second, false), (first, false) })
        {
            if (change)
            {
                first[7] += 0.5f;
            }

            ImageLanes.Convolve(input, channels, side, side, weight, bias, filters, kernel, 1, 0, outSide, outSide, relu: false, default, output);
            for (int f = 0; f < filters; f++)
            {
                for (int p = 0; p < outSide * outSide; p++)
                {
                    double expected = Expected(weight, f, p / outSide, p % outSide, l - 1);
                    float actual = output[((f * outSide * outSide) + p) * l + l - 1];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"filter {f}, position {p}: {actual} against {expected}");
                }
            }
        }
    }

    [Theory]
    [InlineData(120, 400, 32)] // LeNet-5's fc1 over a full call (with AVX2): 7 slices of columns, the last one short
    [InlineData(10, 84, 7)]    // rows not a multiple of six, a short call
    [InlineData(5, 13, 1)]     // one input
    public void A_dense_layer_matches_the_definition_for_each_input(int rows, int columns, int count)
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        count = Math.Min(count, ImageLanes.Batch);
        var random = new Random(rows + columns + count);
        float[] inputs = SignedValues(random, count * columns), weight = SignedValues(random, rows * columns), bias = SignedValues(random, rows);
        var batch = Filled(columns * ImageLanes.Batch, float.NaN);
        var output = Filled(rows * ImageLanes.Batch, float.NaN);
        var outputs = new float[count * rows];

        ImageLanes.GatherBatch(inputs, count, columns, batch);
        ImageLanes.Dense(batch, weight, bias, rows, columns, relu: false, output);
        ImageLanes.Scatter(output, count, rows, outputs);

        for (int n = 0; n < count; n++)
        {
            for (int o = 0; o < rows; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < columns; i++)
                {
                    sum += (double)weight[(o * columns) + i] * inputs[(n * columns) + i];
                }

                Assert.True(Math.Abs(outputs[(n * rows) + o] - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"input {n}, row {o}: {outputs[(n * rows) + o]} against {sum}");
            }
        }
    }

    [Fact]
    public void A_dense_sum_adds_its_terms_in_order_by_fused_multiply_adds_then_the_bias_then_ReLU()
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        // The documented order, bit for bit: it keeps each input's result independent of its lane, its neighbours and
        // the instruction set. 150 columns: three slices, the sums waiting in the output between them.
        const int Rows = 7, Columns = 150;
        int count = ImageLanes.Batch;
        var random = new Random(5);
        float[] inputs = SignedValues(random, count * Columns), weight = SignedValues(random, Rows * Columns), bias = SignedValues(random, Rows);
        var batch = new float[Columns * count];
        var output = new float[Rows * count];
        var outputs = new float[count * Rows];
        ImageLanes.GatherBatch(inputs, count, Columns, batch);
        ImageLanes.Dense(batch, weight, bias, Rows, Columns, relu: true, output);
        ImageLanes.Scatter(output, count, Rows, outputs);

        for (int n = 0; n < count; n++)
        {
            for (int o = 0; o < Rows; o++)
            {
                float sum = 0f;
                for (int i = 0; i < Columns; i++)
                {
                    sum = MathF.FusedMultiplyAdd(weight[(o * Columns) + i], inputs[(n * Columns) + i], sum);
                }

                Assert.Equal(MathF.Max(bias[o] + sum, 0f), outputs[(n * Rows) + o]);
            }
        }
    }

    [Theory]
    [InlineData(true, 2, 2, 8, 8)]  // 2×2 stride 2
    [InlineData(false, 2, 2, 8, 8)]
    [InlineData(true, 2, 2, 7, 7)]  // 2×2 stride 2 with the last window clipped: not the exact-tiling path
    [InlineData(true, 3, 2, 7, 7)]  // overlapping windows
    [InlineData(true, 3, 2, 8, 8)]  // the last window hanging over the edge
    [InlineData(false, 3, 2, 8, 8)] // the last window clipped: divided by its own count
    public void Pooling_matches_the_definition_in_every_lane(bool max, int size, int stride, int height, int width)
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        const int Channels = 3;
        int outHeight = ((height - size + stride - 1) / stride) + 1, outWidth = ((width - size + stride - 1) / stride) + 1;
        int l = ImageLanes.Count;
        var random = new Random(size + (max ? 10 : 0));
        var lanes = SignedValues(random, Channels * height * width * l);
        lanes[(5 * l) + 1] = float.NaN; // one value of image 1: its window (and only its) gives NaN for a maximum
        var output = new float[Channels * outHeight * outWidth * l];

        ImageLanes.Pool(lanes, Channels, height, width, size, stride, outHeight, outWidth, max, output);

        for (int n = 0; n < l; n++)
        {
            for (int c = 0; c < Channels; c++)
            {
                for (int y = 0; y < outHeight; y++)
                {
                    for (int x = 0; x < outWidth; x++)
                    {
                        double value = max ? double.NegativeInfinity : 0;
                        int count = 0;
                        for (int i = y * stride; i < Math.Min((y * stride) + size, height); i++)
                        {
                            for (int j = x * stride; j < Math.Min((x * stride) + size, width); j++)
                            {
                                double v = lanes[((((c * height) + i) * width) + j) * l + n];
                                value = max ? (double.IsNaN(v) || double.IsNaN(value) ? double.NaN : Math.Max(value, v)) : value + v;
                                count++;
                            }
                        }

                        double expected = max ? value : value / count;
                        float actual = output[((((c * outHeight) + y) * outWidth) + x) * l + n];
                        if (double.IsNaN(expected))
                        {
                            Assert.True(float.IsNaN(actual), $"image {n}, ({c}, {y}, {x}): {actual} where a NaN was in the window");
                        }
                        else
                        {
                            Assert.True(Math.Abs(actual - expected) <= 1e-6 * (1 + Math.Abs(expected)), $"image {n}, ({c}, {y}, {x}): {actual} against {expected}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Global_average_pooling_matches_the_definition_in_every_lane()
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        const int Channels = 5, Plane = 49;
        int l = ImageLanes.Count;
        var lanes = SignedValues(new Random(3), Channels * Plane * l);
        var output = new float[Channels * l];

        ImageLanes.GlobalAverage(lanes, Channels, Plane, output);

        for (int n = 0; n < l; n++)
        {
            for (int c = 0; c < Channels; c++)
            {
                double mean = Enumerable.Range(0, Plane).Average(p => (double)lanes[((c * Plane) + p) * l + n]);
                Assert.True(Math.Abs(output[(c * l) + n] - mean) <= 1e-6, $"image {n}, channel {c}: {output[(c * l) + n]} against {mean}");
            }
        }
    }

    [Theory]
    [InlineData(1024, 8)]
    [InlineData(1024, 3)] // a partial group: the missing lanes are zeros
    [InlineData(13, 16)]  // lengths that are not whole vectors
    [InlineData(5, 1)]
    public void Gather_places_each_image_in_its_lane(int length, int count)
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        int l = ImageLanes.Count;
        count = Math.Min(count, l);
        var images = SignedValues(new Random(length), count * length);
        var lanes = Filled(length * l, float.NaN);

        ImageLanes.Gather(images, count, length, lanes);

        for (int v = 0; v < length; v++)
        {
            for (int n = 0; n < l; n++)
            {
                Assert.Equal(n < count ? images[(n * length) + v] : 0f, lanes[(v * l) + n]);
            }
        }
    }

    [Theory]
    [InlineData(400, 32)]
    [InlineData(13, 11)]
    [InlineData(5, 1)]
    public void Groups_widened_into_a_call_and_scattered_come_back_as_they_were_gathered(int length, int count)
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        int l = ImageLanes.Count, b = ImageLanes.Batch;
        count = Math.Min(count, b);
        var images = SignedValues(new Random(length + count), count * length);
        var lanes = new float[length * l];
        var batch = Filled(length * b, float.NaN);
        for (int first = 0; first < count; first += l)
        {
            ImageLanes.Gather(images.AsSpan(first * length), Math.Min(l, count - first), length, lanes);
            ImageLanes.Widen(lanes, length, first, batch);
        }

        var back = new float[count * length];
        ImageLanes.Scatter(batch, count, length, back);
        Assert.Equal(images, back);

        var direct = Filled(length * b, float.NaN);
        ImageLanes.GatherBatch(images, count, length, direct);
        ImageLanes.Scatter(direct, count, length, back);
        Assert.Equal(images, back);
    }

    [Fact]
    public void Short_spans_and_oversized_groups_are_refused_with_the_shapes_named()
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        int l = ImageLanes.Count;
        var error = Assert.Throws<ArgumentException>(() => ImageLanes.Gather(new float[(l + 1) * 4], l + 1, 4, new float[4 * (l + 1)]));
        Assert.Contains("ImageLanes.Gather", error.Message);
        Assert.Throws<ArgumentException>(() => ImageLanes.Dense(new float[10], new float[20], new float[2], 2, 10, relu: false, new float[2 * ImageLanes.Batch]));
        Assert.Throws<ArgumentException>(() => ImageLanes.Widen(new float[4 * l], 4, ImageLanes.Batch - l + 1, new float[4 * ImageLanes.Batch])); // past the call's last lane

        Assert.Throws<ArgumentException>(() =>
            ImageLanes.Convolve(new float[9 * l], 1, 3, 3, new float[4], new float[1], 1, 2, 1, 1, 4, 4, relu: false, new float[1], new float[16 * l]));

        // A convolution output of 3 × 3 is not tiled by 2 × 2 windows.
        var odd = Assert.Throws<ArgumentException>(() =>
            ImageLanes.ConvolvePool(new float[25 * l], 1, 5, 5, new float[9], new float[1], 1, 3, 1, 0, 3, 3, relu: false, max: true, default, new float[4 * l]));
        Assert.Contains("ImageLanes.ConvolvePool(3, 3", odd.Message);
        Assert.Contains("odd", odd.Message);
    }

    [Theory]
    [InlineData(1, 32, 32, 6, 5, 1, 0)] // LeNet-5's conv1 and pool1
    [InlineData(2, 9, 9, 5, 3, 1, 1)]   // padding; five filters, so the last tile repeats one
    [InlineData(3, 13, 13, 3, 3, 2, 1)] // stride 2 with padding: a 7 × 7 output of which the first 6 × 6 are pooled
    [InlineData(4, 6, 6, 12, 1, 1, 0)]  // a 1 × 1 kernel, four tiles
    public void A_pooled_convolution_is_the_convolution_then_the_pooling_bit_for_bit(int channels, int height, int width, int filters, int kernel, int stride, int padding)
    {
        if (ImageLanes.Count == 0)
        {
            return;
        }

        // The output side, rounded down to even: the fused kernel needs 2 × 2 windows that tile it.
        int outHeight = (((height + (2 * padding) - kernel) / stride) + 1) & ~1, outWidth = (((width + (2 * padding) - kernel) / stride) + 1) & ~1;
        int l = ImageLanes.Count;
        var random = new Random((channels * 31) + filters);
        var input = SignedValues(random, channels * height * width * l);
        input[(3 * l) + 2] = float.NaN; // in image 2 only
        float[] weight = SignedValues(random, filters * channels * kernel * kernel), bias = SignedValues(random, filters);
        int paddedHeight = ((outHeight - 1) * stride) + kernel, paddedWidth = ((outWidth - 1) * stride) + kernel;
        var scratch = new float[channels * paddedHeight * paddedWidth * l];
        foreach (bool relu in new[] { true, false })
        {
            foreach (bool max in new[] { true, false })
            {
                var convolved = new float[filters * outHeight * outWidth * l];
                var expected = new float[filters * (outHeight / 2) * (outWidth / 2) * l];
                ImageLanes.Convolve(input, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, relu, scratch, convolved);
                ImageLanes.Pool(convolved, filters, outHeight, outWidth, 2, 2, outHeight / 2, outWidth / 2, max, expected);
                var fused = Filled(expected.Length, 12345f);

                ImageLanes.ConvolvePool(input, channels, height, width, weight, bias, filters, kernel, stride, padding, outHeight, outWidth, relu, max, scratch, fused);

                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.True(
                        BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(fused[i]) || (float.IsNaN(expected[i]) && float.IsNaN(fused[i])),
                        $"relu {relu}, max {max}, value {i} (image {i % l}): {fused[i]} against {expected[i]}");
                }

                Assert.Contains(expected, float.IsNaN); // the NaN reached the output
            }
        }
    }
}
