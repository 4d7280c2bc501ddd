using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The shifted column copies a stride-1 convolution's forward kernels may read: every copied value against the
/// definition <c>copy[j][c, r, x] = source[c, r, x + j]</c>, the values past a copy left alone, a convolution computed in
/// double on the copies against the same one on the source, and the argument checks.
/// </summary>
public class ColumnCopiesTests
{
    [Theory]
    [InlineData(6, 14, 5, 10)] // LeNet-5's conv2
    [InlineData(1, 9, 2, 8)] // one vector a row exactly
    [InlineData(3, 5, 3, 13)] // a row of one vector and a short last one
    [InlineData(2, 4, 7, 17)] // three vectors a row, the last one moved back
    public void Each_copy_holds_every_row_from_its_column(int channels, int height, int kernel, int outWidth)
    {
        int width = outWidth + kernel - 1, rows = channels * height, copyLength = (rows * outWidth) + 5;
        var source = Enumerable.Range(0, rows * width).Select(i => (float)i).ToArray();
        var copies = Enumerable.Repeat(-1f, kernel * copyLength).ToArray();

        ColumnCopies.Split(source, channels, height, width, kernel, outWidth, copies, copyLength);

        for (int j = 0; j < kernel; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int x = 0; x < outWidth; x++)
                {
                    Assert.Equal(source[(r * width) + x + j], copies[(j * copyLength) + (r * outWidth) + x]);
                }
            }

            Assert.All(copies.AsSpan((j * copyLength) + (rows * outWidth), 5).ToArray(), v => Assert.Equal(-1f, v));
        }
    }

    [Fact]
    public void A_convolution_on_the_copies_is_the_convolution_on_the_source()
    {
        // out[y, x] = Σ c,i,j w[c, i, j] · in[c, y + i, x + j], read the second time at copy j, offset c·H·OW + i·OW from y·OW + x.
        const int channels = 3, height = 12, kernel = 4, outWidth = 9, width = outWidth + kernel - 1, outHeight = height - kernel + 1;
        var random = new Random(7);
        var source = Enumerable.Range(0, channels * height * width).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var weights = Enumerable.Range(0, channels * kernel * kernel).Select(_ => (random.NextDouble() * 2) - 1).ToArray();
        int copyLength = channels * height * outWidth;
        var copies = new float[kernel * copyLength];

        ColumnCopies.Split(source, channels, height, width, kernel, outWidth, copies, copyLength);

        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                double direct = 0, copied = 0;
                for (int c = 0; c < channels; c++)
                {
                    for (int i = 0; i < kernel; i++)
                    {
                        for (int j = 0; j < kernel; j++)
                        {
                            double w = weights[(((c * kernel) + i) * kernel) + j];
                            direct += w * source[(((c * height) + y + i) * width) + x + j];
                            copied += w * copies[(j * copyLength) + (c * height * outWidth) + (i * outWidth) + (y * outWidth) + x];
                        }
                    }
                }

                Assert.Equal(direct, copied);
            }
        }
    }

    [Theory]
    [InlineData(0, 4, 3, 8, 10)] // no channels
    [InlineData(1, 4, 3, 7, 9)] // an output narrower than a vector
    [InlineData(1, 4, 3, 8, 11)] // a width that is not output + kernel − 1
    public void Shapes_that_are_not_a_convolution_are_refused(int channels, int height, int kernel, int outWidth, int width)
    {
        var copies = new float[1000];
        var ex = Assert.Throws<ArgumentException>(() => ColumnCopies.Split(new float[1000], channels, height, width, kernel, outWidth, copies, 100));
        Assert.Contains($"output width {outWidth}", ex.Message);
    }

    [Fact]
    public void Short_spans_and_copy_lengths_are_refused_with_their_sizes()
    {
        // 2 channels of 4×10, kernel 3: copies of 2·4·8 = 64 values, the last one starting at 2·64.
        var ex = Assert.Throws<ArgumentException>(() => ColumnCopies.Split(new float[80], 2, 4, 10, 3, 8, new float[192], 63));
        Assert.Contains("copy length 63 (needs 64)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ColumnCopies.Split(new float[79], 2, 4, 10, 3, 8, new float[192], 64));
        Assert.Contains("source 79 values (needs 80)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => ColumnCopies.Split(new float[80], 2, 4, 10, 3, 8, new float[191], 64));
        Assert.Contains("copies 191 (needs 192)", ex.Message);
        ColumnCopies.Split(new float[80], 2, 4, 10, 3, 8, new float[192], 64);
    }
}
