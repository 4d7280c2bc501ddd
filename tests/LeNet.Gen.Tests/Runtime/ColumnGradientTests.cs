using System;
using System.Runtime.Intrinsics.X86;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// ColumnGradient.InputGradient against the definition of a stride-1 convolution's input gradient, summed in double:
/// din[c, y + i, x + j] = Σ f d[f, y, x] · w[f, c, i, j].
/// </summary>
public class ColumnGradientTests
{
    [Theory]
    [InlineData(16, 6, 5, 10, 10)] // LeNet-5's conv2: 150 rows (37 blocks of 4 and 2 single rows), 100 positions → 104
    [InlineData(3, 2, 3, 4, 5)]    // 18 rows, 20 positions → 24: one block of 3 vectors
    [InlineData(5, 1, 1, 1, 1)]    // a 1×1 kernel on one position
    [InlineData(8, 3, 7, 9, 11)]   // 7×7 taps, 99 positions → 104: blocks of 3 vectors and single vectors
    public void The_input_gradient_matches_the_definition(int filters, int channels, int kernel, int outHeight, int outWidth)
    {
        if (!Fma.IsSupported || !Avx2.IsSupported)
        {
            return; // AVX2 code, which the generated layers call only with those instructions
        }

        var random = new Random((filters * 31) + kernel);
        float[] Values(int n)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = (float)((random.NextDouble() * 2) - 1);
            }

            return v;
        }

        int height = outHeight + kernel - 1, width = outWidth + kernel - 1;
        float[] d = Values(filters * outHeight * outWidth), w = Values(filters * channels * kernel * kernel);
        float[] din = Values(channels * height * width); // garbage that must be overwritten
        var scratch = new float[ColumnGradient.ScratchLength(filters, channels, kernel, outHeight, outWidth)];
        Array.Fill(scratch, float.NaN); // the padding of the gradient's rows must be cleared, not read as it was

        ColumnGradient.InputGradient(d, w, filters, channels, kernel, outHeight, outWidth, din, height, width, scratch);

        var expected = new double[din.Length];
        for (int f = 0; f < filters; f++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int i = 0; i < kernel; i++)
                {
                    for (int j = 0; j < kernel; j++)
                    {
                        double weight = w[(((f * channels) + c) * kernel + i) * kernel + j];
                        for (int y = 0; y < outHeight; y++)
                        {
                            for (int x = 0; x < outWidth; x++)
                            {
                                expected[(((c * height) + y + i) * width) + x + j] += weight * d[(((f * outHeight) + y) * outWidth) + x];
                            }
                        }
                    }
                }
            }
        }

        for (int k = 0; k < din.Length; k++)
        {
            Assert.True(Math.Abs(din[k] - expected[k]) <= 1e-5 * (1 + Math.Abs(expected[k])), $"din[{k}] = {din[k]}, expected {expected[k]}");
        }
    }

    [Fact]
    public void Sizes_that_do_not_fit_are_refused_with_the_numbers()
    {
        var error = Assert.Throws<ArgumentException>(() => ColumnGradient.InputGradient(new float[100], new float[25], 1, 1, 5, 10, 10, new float[196], 14, 14, new float[10]));
        Assert.Contains("scratch 10", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => ColumnGradient.InputGradient(new float[100], new float[25], 1, 1, 5, 10, 10, new float[196], 13, 14, new float[1000]));
        Assert.Contains("13×14", error.Message, StringComparison.Ordinal);
    }
}
