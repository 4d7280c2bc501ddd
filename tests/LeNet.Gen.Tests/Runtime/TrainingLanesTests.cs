using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;
using static LeNet.Gen.Tests.Generated.Numerics;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The training-lanes kernels against the definitions of their layers' backward passes, summed in double over each
/// example on its own: a convolution's weight, bias and input gradients (stride, padding, windows that leave part of the
/// input unread, kernels from 1 to 7, odd output widths), pooling's input gradient (ties, clipped windows, overlapping
/// windows), a dense layer's forward pass, input gradient and weight gradient, and the loss. A chunk of fewer than eight
/// examples leaves its last lanes empty: they must stay out of every sum, and no lane may leak into another.
/// </summary>
public class TrainingLanesTests
{
    private const int L = TrainingLanes.Count;

    [Theory]
    [InlineData(1, 32, 32, 6, 5, 1, 0, 8)]  // LeNet-5's conv1 (no input gradient needed there, computed anyway)
    [InlineData(6, 14, 14, 16, 5, 1, 0, 8)] // LeNet-5's conv2
    [InlineData(3, 9, 9, 5, 3, 2, 1, 5)]    // stride 2 with padding, an odd filter count, five examples
    [InlineData(2, 11, 11, 3, 7, 1, 3, 3)]  // a 7×7 kernel: a row of six taps and a row of one
    [InlineData(2, 8, 8, 4, 6, 2, 2, 8)]    // a 6×6 kernel, stride 2
    [InlineData(4, 5, 5, 2, 1, 1, 0, 1)]    // a 1×1 kernel, one example
    [InlineData(2, 7, 7, 3, 3, 2, 0, 7)]    // 3×3 output on 7×7
    [InlineData(2, 8, 8, 3, 3, 2, 0, 8)]    // the last row and column of the input unread (floor rounding)
    [InlineData(2, 6, 6, 4, 3, 2, 0, 6)]    // a window hanging over the edge (ceiling rounding: 3×3 output on 6×6)
    public void A_convolution_backward_pass_matches_the_definition(int channels, int height, int width, int filters, int kernel, int stride, int padding, int count)
    {
        if (!TrainingLanes.Supported)
        {
            return; // the pass runs only with AVX2 and FMA
        }

        int span = height + (2 * padding) - kernel;
        int outHeight = ((span + stride - 1) / stride) + 1, outWidth = ((width + (2 * padding) - kernel + stride - 1) / stride) + 1;
        if (kernel == 3 && height == 8)
        {
            outHeight = outWidth = (span / stride) + 1; // floor: the input's last row and column are read by no window
        }

        var random = new Random((channels * 131) + (filters * 7) + kernel);
        int inLength = channels * height * width, outLength = filters * outHeight * outWidth;
        float[][] inputs = Enumerable.Range(0, count).Select(_ => SignedValues(random, inLength)).ToArray();
        float[][] gradients = Enumerable.Range(0, count).Select(_ => SignedValues(random, outLength)).ToArray();
        float[] weight = SignedValues(random, filters * channels * kernel * kernel);
        var input = new float[inLength * L];
        var outputGradient = new float[outLength * L];
        TrainingLanes.Gather(inputs.SelectMany(x => x).ToArray(), count, inLength, input);
        TrainingLanes.Gather(gradients.SelectMany(x => x).ToArray(), count, outLength, outputGradient);
        var scratch = Filled(Math.Max(1, TrainingLanes.ConvolutionScratch(channels, height, width, kernel, stride, padding, outHeight, outWidth)), float.NaN);
        float[] weightGradient = Filled(weight.Length, 0.5f), biasGradient = Filled(filters, -0.25f); // added to, not overwritten
        var inputGradient = Filled(inLength * L, float.NaN); // overwritten, not read

        TrainingLanes.ConvolveBackward(input, channels, height, width, weight, outputGradient, filters, kernel, stride, padding, outHeight, outWidth, scratch, weightGradient, biasGradient, inputGradient);

        var expectedInput = new double[count, inLength];
        for (int f = 0; f < filters; f++)
        {
            double bias = -0.25, biasSize = 0;
            for (int n = 0; n < count; n++)
            {
                for (int p = 0; p < outHeight * outWidth; p++)
                {
                    bias += gradients[n][(f * outHeight * outWidth) + p];
                    biasSize += Math.Abs(gradients[n][(f * outHeight * outWidth) + p]);
                }
            }

            Assert.True(Math.Abs(biasGradient[f] - bias) <= 1e-5 * (1 + biasSize), $"bias {f}: {biasGradient[f]} against {bias}");
            for (int c = 0; c < channels; c++)
            {
                for (int i = 0; i < kernel; i++)
                {
                    for (int j = 0; j < kernel; j++)
                    {
                        int w = (((f * channels) + c) * kernel + i) * kernel + j;
                        double sum = 0.5, size = 0;
                        for (int n = 0; n < count; n++)
                        {
                            for (int y = 0; y < outHeight; y++)
                            {
                                for (int x = 0; x < outWidth; x++)
                                {
                                    int row = (y * stride) + i - padding, column = (x * stride) + j - padding;
                                    if (row < 0 || row >= height || column < 0 || column >= width)
                                    {
                                        continue;
                                    }

                                    double d = gradients[n][(((f * outHeight) + y) * outWidth) + x];
                                    int at = (((c * height) + row) * width) + column;
                                    sum += d * inputs[n][at];
                                    size += Math.Abs(d * inputs[n][at]);
                                    expectedInput[n, at] += d * weight[w];
                                }
                            }
                        }

                        Assert.True(Math.Abs(weightGradient[w] - sum) <= 1e-5 * (1 + size), $"weight ({f}, {c}, {i}, {j}): {weightGradient[w]} against {sum}");
                    }
                }
            }
        }

        for (int n = 0; n < L; n++)
        {
            for (int v = 0; v < inLength; v++)
            {
                double expected = n < count ? expectedInput[n, v] : 0;
                float actual = inputGradient[(v * L) + n];
                Assert.True(Math.Abs(actual - expected) <= 1e-5 * (1 + Math.Abs(expected)) * Math.Sqrt(filters * kernel * kernel), $"example {n}, input value {v}: {actual} against {expected}");
            }
        }

        // Without an input gradient (a first layer) the weight gradient is the same sum.
        float[] again = Filled(weight.Length, 0.5f), againBias = Filled(filters, -0.25f);
        TrainingLanes.ConvolveBackward(input, channels, height, width, weight, outputGradient, filters, kernel, stride, padding, outHeight, outWidth, scratch, again, againBias, default);
        Assert.Equal(weightGradient, again);
        Assert.Equal(biasGradient, againBias);
    }

    [Theory]
    [InlineData(true, 2, 2, 8, 8)]   // LeNet-5's windows, max
    [InlineData(false, 2, 2, 8, 8)]  // and average
    [InlineData(true, 3, 2, 9, 9)]   // overlapping windows
    [InlineData(false, 3, 2, 9, 9)]
    [InlineData(true, 3, 2, 8, 8)]   // ceiling rounding: the last windows clipped
    [InlineData(false, 3, 2, 8, 8)]
    [InlineData(false, 3, 3, 7, 7)]  // ceiling: a clipped average divides by what it covers
    public void A_pooling_backward_pass_matches_the_definition(bool max, int size, int stride, int height, int width)
    {
        if (!TrainingLanes.Supported)
        {
            return;
        }

        const int channels = 3, count = 6;
        int outHeight = ((height - size + stride - 1) / stride) + 1, outWidth = ((width - size + stride - 1) / stride) + 1;
        var random = new Random(size * 10 + stride + (max ? 1 : 0));
        int inLength = channels * height * width, outLength = channels * outHeight * outWidth;
        // Values in eighths, so that windows tie: the gradient must go to the first input equal to the maximum.
        float[][] inputs = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, inLength).Select(_ => random.Next(-3, 4) / 8f).ToArray()).ToArray();
        float[][] gradients = Enumerable.Range(0, count).Select(_ => SignedValues(random, outLength)).ToArray();
        var input = new float[inLength * L];
        var output = new float[outLength * L];
        var outputGradient = new float[outLength * L];
        TrainingLanes.Gather(inputs.SelectMany(x => x).ToArray(), count, inLength, input);
        TrainingLanes.Gather(gradients.SelectMany(x => x).ToArray(), count, outLength, outputGradient);
        TrainingLanes.Pool(input, channels, height, width, size, stride, outHeight, outWidth, max, output);
        var inputGradient = Filled(inLength * L, float.NaN);

        TrainingLanes.PoolBackward(input, output, outputGradient, channels, height, width, size, stride, outHeight, outWidth, max, inputGradient);

        for (int n = 0; n < L; n++)
        {
            var expected = new double[inLength];
            for (int c = 0; c < channels && n < count; c++)
            {
                for (int y = 0; y < outHeight; y++)
                {
                    for (int x = 0; x < outWidth; x++)
                    {
                        int rows = Math.Min(size, height - (y * stride)), columns = Math.Min(size, width - (x * stride));
                        double d = gradients[n][(((c * outHeight) + y) * outWidth) + x];
                        float best = float.NegativeInfinity;
                        int first = -1;
                        for (int r = 0; r < rows; r++)
                        {
                            for (int q = 0; q < columns; q++)
                            {
                                int at = (((c * height) + (y * stride) + r) * width) + (x * stride) + q;
                                if (max && inputs[n][at] > best)
                                {
                                    (best, first) = (inputs[n][at], at);
                                }
                                else if (!max)
                                {
                                    expected[at] += d / (rows * columns);
                                }
                            }
                        }

                        if (max)
                        {
                            expected[first] += d;
                        }
                    }
                }
            }

            for (int v = 0; v < inLength; v++)
            {
                float actual = inputGradient[(v * L) + n];
                Assert.True(Math.Abs(actual - expected[v]) <= 1e-6 * (1 + Math.Abs(expected[v])), $"example {n}, input value {v}: {actual} against {expected[v]}");
            }
        }
    }

    [Theory]
    [InlineData(120, 400, 8)] // LeNet-5's fc1: fifteen tiles of eight rows
    [InlineData(10, 84, 3)]   // its fc3: the last tile repeats rows, three examples
    [InlineData(1, 5, 1)]
    public void A_dense_layer_forward_and_backward_match_the_definition(int rows, int columns, int count)
    {
        if (!TrainingLanes.Supported)
        {
            return;
        }

        var random = new Random(rows + columns);
        float[][] inputs = Enumerable.Range(0, count).Select(_ => SignedValues(random, columns)).ToArray();
        float[][] gradients = Enumerable.Range(0, count).Select(_ => SignedValues(random, rows)).ToArray();
        float[] weight = SignedValues(random, rows * columns), bias = SignedValues(random, rows);
        var input = new float[columns * L];
        var outputGradient = new float[rows * L];
        TrainingLanes.Gather(inputs.SelectMany(x => x).ToArray(), count, columns, input);
        TrainingLanes.Gather(gradients.SelectMany(x => x).ToArray(), count, rows, outputGradient);

        foreach (bool relu in new[] { true, false })
        {
            var output = Filled(rows * L, float.NaN);
            TrainingLanes.Dense(input, weight, bias, rows, columns, relu, output);
            for (int n = 0; n < count; n++)
            {
                for (int o = 0; o < rows; o++)
                {
                    double sum = bias[o];
                    for (int i = 0; i < columns; i++)
                    {
                        sum += (double)weight[(o * columns) + i] * inputs[n][i];
                    }

                    double expected = relu ? Math.Max(0, sum) : sum;
                    Assert.True(Math.Abs(output[(o * L) + n] - expected) <= 1e-5 * (1 + Math.Abs(sum)), $"example {n}, row {o}, relu {relu}");
                }
            }
        }

        var inputGradient = Filled(columns * L, float.NaN);
        TrainingLanes.DenseInputGradient(outputGradient, weight, rows, columns, inputGradient);
        float[] weightGradient = Filled(rows * columns, 0.5f), biasGradient = Filled(rows, -0.25f);
        TrainingLanes.DenseWeightGradient(outputGradient, input, count, rows, columns, weightGradient, biasGradient, null, 0, 0, new float[rows + columns]);
        for (int n = 0; n < L; n++)
        {
            for (int i = 0; i < columns; i++)
            {
                double sum = 0;
                for (int o = 0; o < rows && n < count; o++)
                {
                    sum += (double)gradients[n][o] * weight[(o * columns) + i];
                }

                Assert.True(Math.Abs(inputGradient[(i * L) + n] - sum) <= 1e-5 * (1 + Math.Abs(sum)), $"example {n}, input {i}");
            }
        }

        for (int o = 0; o < rows; o++)
        {
            double b = -0.25;
            for (int n = 0; n < count; n++)
            {
                b += gradients[n][o];
            }

            Assert.True(Math.Abs(biasGradient[o] - b) <= 1e-5, $"bias {o}");
            for (int i = 0; i < columns; i++)
            {
                double sum = 0.5;
                for (int n = 0; n < count; n++)
                {
                    sum += (double)gradients[n][o] * inputs[n][i];
                }

                Assert.True(Math.Abs(weightGradient[(o * columns) + i] - sum) <= 1e-5, $"weight ({o}, {i})");
            }
        }
    }

    [Fact]
    public void The_loss_is_each_examples_cross_entropy_and_its_gradient_is_zero_in_the_empty_lanes()
    {
        if (!TrainingLanes.Supported)
        {
            return;
        }

        const int classes = 10, count = 5;
        var random = new Random(5);
        float[][] logits = Enumerable.Range(0, count).Select(_ => SignedValues(random, classes).Select(v => v * 8).ToArray()).ToArray();
        int[] labels = { 3, 0, 9, 3, 7 };
        var lanes = new float[classes * L];
        TrainingLanes.Gather(logits.SelectMany(x => x).ToArray(), count, classes, lanes);
        var gradient = Filled(classes * L, float.NaN);

        float total = TrainingLanes.Loss(lanes, labels, classes, 0.125f, new float[2 * classes], gradient);

        double expected = 0;
        for (int n = 0; n < count; n++)
        {
            double max = logits[n].Max(), sum = logits[n].Sum(v => Math.Exp(v - max));
            expected += -(logits[n][labels[n]] - max - Math.Log(sum));
            for (int k = 0; k < classes; k++)
            {
                double p = Math.Exp(logits[n][k] - max) / sum;
                Assert.True(Math.Abs(gradient[(k * L) + n] - ((p - (k == labels[n] ? 1 : 0)) * 0.125)) <= 1e-6, $"example {n}, class {k}");
            }
        }

        Assert.True(Math.Abs(total - expected) <= 1e-5 * (1 + expected), $"{total} against {expected}");
        for (int n = count; n < L; n++)
        {
            for (int k = 0; k < classes; k++)
            {
                Assert.Equal(0f, gradient[(k * L) + n]);
            }
        }
    }

    [Fact]
    public void A_span_too_short_is_refused_with_the_kernels_name()
    {
        if (!TrainingLanes.Supported)
        {
            return;
        }

        var error = Assert.Throws<ArgumentException>(() =>
            TrainingLanes.ConvolveBackward(new float[6 * 14 * 14 * L], 6, 14, 14, new float[2400], new float[16 * 10 * 10 * L - 1], 16, 5, 1, 0, 10, 10, default, new float[2400], new float[16], default));
        Assert.Contains("TrainingLanes.ConvolveBackward", error.Message);
    }
}
