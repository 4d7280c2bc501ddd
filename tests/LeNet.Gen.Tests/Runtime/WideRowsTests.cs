using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// <see cref="Simd.Compact"/>, <see cref="Simd.CompactPlanes"/> and <see cref="Simd.Expand"/>, which move a convolution's outputs off its wide rows and its
/// output gradient onto them: every value against the definition, for rows shorter than a vector, of whole vectors and
/// with a short last vector, and what lies between the rows left alone.
/// </summary>
public class WideRowsTests
{
    [Theory]
    [InlineData(2, 3, 5, 7, 24)] // rows shorter than a vector
    [InlineData(3, 4, 8, 12, 50)] // one vector a row
    [InlineData(6, 28, 28, 32, 896)] // LeNet-5's conv1: three vectors and one moved back
    [InlineData(16, 10, 10, 14, 144)] // LeNet-5's conv2 on its own rows
    public void Compact_takes_each_row_off_the_wide_planes(int channels, int height, int width, int rowStride, int plane)
    {
        var wide = Enumerable.Range(0, channels * plane).Select(i => (float)i).ToArray();
        var output = Enumerable.Repeat(-1f, (channels * height * width) + 3).ToArray();

        Simd.Compact(wide, plane, rowStride, channels, height, width, output);

        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    Assert.Equal(wide[(c * plane) + (y * rowStride) + x], output[(((c * height) + y) * width) + x]);
                }
            }
        }

        Assert.Equal(new[] { -1f, -1f, -1f }, output[^3..]);
    }

    [Theory]
    [InlineData(2, 3, 5, 9, 45, 2, 2)] // rows shorter than a vector, padded by 2 on a 5×9 plane
    [InlineData(6, 28, 28, 32, 896, 0, 0)] // LeNet-5's conv1 gradient onto its wide rows
    [InlineData(3, 10, 10, 18, 330, 4, 4)] // a gradient padded by kernel − 1 = 4
    public void Expand_puts_each_row_on_the_wide_planes_and_leaves_the_rest(int channels, int height, int width, int rowStride, int plane, int top, int left)
    {
        var compact = Enumerable.Range(1, channels * height * width).Select(i => (float)i).ToArray();
        var wide = new float[channels * plane];

        Simd.Expand(compact, channels, height, width, wide, plane, rowStride, top, left);

        var expected = new float[wide.Length];
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    expected[(c * plane) + ((y + top) * rowStride) + left + x] = compact[(((c * height) + y) * width) + x];
                }
            }
        }

        Assert.Equal(expected, wide);
    }

    [Fact]
    public void CompactPlanes_takes_the_first_outputs_of_each_plane()
    {
        // LeNet-5's conv2 on column copies: 16 planes of 112 positions, of which the first 100 are the 10×10 outputs.
        var planes = Enumerable.Range(0, 16 * 112).Select(i => (float)i).ToArray();
        var output = Enumerable.Repeat(-1f, 1601).ToArray();

        Simd.CompactPlanes(planes, 112, 16, 100, output);

        Assert.Equal(Enumerable.Range(0, 1600).Select(i => (float)(((i / 100) * 112) + (i % 100))), output[..1600]);
        Assert.Equal(-1f, output[1600]);
    }
}
