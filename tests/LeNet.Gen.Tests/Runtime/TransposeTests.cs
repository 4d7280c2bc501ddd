using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// Simd.Transpose and Simd.AddTransposed against the definition, for sizes that are whole 8×8 blocks, that leave edges, and
/// that have no block at all; Simd.AddOuterProducts against per-example MultiplyAdd calls, bit for bit.
/// </summary>
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

    [Theory]
    [InlineData(8, 8)]
    [InlineData(576, 64)]  // vgg-cifar conv2's weight gradient kept with the filters adjacent: 32 channels × 3×3 taps × 64 filters
    [InlineData(13, 21)]
    [InlineData(3, 5)]
    public void AddTransposed_adds_every_value_to_its_place(int rows, int columns)
    {
        var source = new float[rows * columns];
        var target = new float[rows * columns];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 1;
            target[i] = -0.5f * i; // what the target held before stays in the sum
        }

        var before = (float[])target.Clone();
        Simd.AddTransposed(source, rows, columns, target);

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                Assert.Equal(before[(c * rows) + r] + source[(r * columns) + c], target[(c * rows) + r]);
            }
        }

        Assert.Throws<ArgumentException>(() => Simd.AddTransposed(source, rows, columns + 1, target));
    }

    [Theory]
    [InlineData(8, 256, 2048)] // vgg-cifar's fc1 over a chunk of 8 examples
    [InlineData(3, 5, 21)]     // vector part and scalar tail
    [InlineData(8, 120, 400)]  // LeNet-5's fc1: 400 = 12 × 32 + 16 (AVX2), 6 × 64 + 16 (AVX-512)
    [InlineData(5, 3, 77)]     // four-vector blocks, single vectors and a scalar tail
    [InlineData(1, 1, 1)]
    [InlineData(0, 4, 4)]      // no example: the target stays as it was
    public void AddOuterProducts_is_bit_identical_to_one_MultiplyAdd_per_example_and_row(int count, int rows, int columns)
    {
        var random = new Random((rows * 7) + columns);
        float[] Values(int n)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++)
            {
                v[i] = (float)((random.NextDouble() * 2) - 1);
            }

            return v;
        }

        float[] d = Values(count * rows), x = Values(count * columns), start = Values(rows * columns);
        float[] expected = (float[])start.Clone(), actual = (float[])start.Clone();
        for (int n = 0; n < count; n++)
        {
            for (int o = 0; o < rows; o++)
            {
                Simd.MultiplyAdd(x.AsSpan(n * columns, columns), d[(n * rows) + o], expected.AsSpan(o * columns, columns));
            }
        }

        Simd.AddOuterProducts(d, x, count, rows, columns, actual);

        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentException>(() => Simd.AddOuterProducts(d, x, count + 1, rows, columns, actual));
    }

    [Fact]
    public void A_short_target_is_refused_with_the_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => Simd.Transpose(new float[12], 3, 4, new float[11]));
        Assert.Contains("3 × 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("target 11", error.Message, StringComparison.Ordinal);
    }
}
