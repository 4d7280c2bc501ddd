using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>Simd.Transpose against the definition, for sizes that are whole 8×8 blocks, that leave edges, and that have no block at all.</summary>
public class TransposeTests
{
    [Theory]
    [InlineData(8, 8)]
    [InlineData(64, 256)]  // vgg-cifar conv2's output gradient
    [InlineData(16, 100)]  // LeNet-5 conv2's: 100 = 12 blocks of 8 + 4
    [InlineData(13, 21)]   // edges on both sides
    [InlineData(3, 5)]     // no whole block
    [InlineData(1, 9)]
    public void Transpose_moves_every_value_to_its_place(int rows, int columns)
    {
        var source = new float[rows * columns];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 1; // every value distinct and nonzero
        }

        var target = new float[rows * columns];
        Simd.Transpose(source, rows, columns, target);

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                Assert.Equal(source[(r * columns) + c], target[(c * rows) + r]);
            }
        }
    }

    [Fact]
    public void A_short_target_is_refused_with_the_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => Simd.Transpose(new float[12], 3, 4, new float[11]));
        Assert.Contains("3 × 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("target 11", error.Message, StringComparison.Ordinal);
    }
}
