using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// Simd.Transpose and Simd.AddTransposed against the definition, for sizes that are whole 8×8 blocks, that leave edges, and
/// that have no block at all; Simd.OuterProducts on packed columns against per-example MultiplyAdd calls, bit for bit.
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
    [InlineData(32, 256, 2048, 0, 6)]     // vgg-cifar's fc1 over a batch of 32: its first part
    [InlineData(32, 256, 2048, 252, 256)] // its last part, a short tile of 4 rows
    [InlineData(7, 13, 37, 3, 11)]        // an odd first row, a short tile, columns after the panels: a vector step and a scalar tail
    [InlineData(32, 120, 400, 0, 120)]    // LeNet-5's fc1 over a batch of 32
    [InlineData(3, 5, 21, 0, 5)]
    [InlineData(2, 9, 100, 1, 9)]
    [InlineData(5, 3, 77, 0, 3)]
    [InlineData(1, 1, 1, 0, 1)]
    [InlineData(3, 4, 8, 2, 2)]           // no rows: nothing changes
    public void OuterProducts_match_MultiplyAdd_per_example_and_row_from_zero_and_leave_the_other_rows(int count, int rows, int columns, int first, int end)
    {
        var random = new Random((rows * 11) + columns + first);
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
        for (int o = first; o < end; o++)
        {
            expected.AsSpan(o * columns, columns).Clear(); // written from zero
            for (int n = 0; n < count; n++)
            {
                Simd.MultiplyAdd(x.AsSpan(n * columns, columns), d[(n * rows) + o], expected.AsSpan(o * columns, columns));
            }
        }

        var packed = new float[count * columns];
        for (int n = count - 1; n >= 0; n--)
        {
            Simd.PackColumns(x.AsSpan(n * columns, columns), n, count, columns, packed);
        }

        Simd.OuterProducts(d, packed, count, rows, columns, first, end, actual);

        Assert.Equal(expected, actual);
        Assert.Throws<ArgumentException>(() => Simd.OuterProducts(d, packed, count, rows, columns, first, rows + 1, actual));
        Assert.Throws<ArgumentException>(() => Simd.OuterProducts(d, packed, count + 1, rows, columns, first, end, actual));
        Assert.Throws<ArgumentException>(() => Simd.PackColumns(x, count, count, columns, packed));
    }

    [Theory]
    [InlineData(120, 400, 2)]  // LeNet-5's fc1: every other row's gradient 0, as after ReLU
    [InlineData(13, 37, 3)]    // a vector part and a scalar tail; live rows not a multiple of 4
    [InlineData(600, 24, 5)]   // more rows than one block of live rows
    [InlineData(7, 16, 1)]     // every row 0: the result is 0
    [InlineData(84, 120, 2)]   // fc2: 7 vectors of 16 and one of 8 with AVX-512
    [InlineData(5, 309, 3)]    // 19 vectors of 16 (a block of 8 held in registers, pairs, one) and 5 columns after them
    [InlineData(7, 317, 4)]    // the same, a vector of 8 with AVX-512, then 5 columns
    [InlineData(64, 2048, 3)]
    public void TransposedMatrixVector_skips_zero_rows_and_sums_the_others_in_row_order(int rows, int columns, int zeroEvery)
    {
        var random = new Random(rows + columns);
        var weight = new float[rows * columns];
        var d = new float[rows];
        for (int i = 0; i < weight.Length; i++)
        {
            weight[i] = (float)((random.NextDouble() * 2) - 1);
        }

        for (int o = 0; o < rows; o++)
        {
            d[o] = o % zeroEvery == 0 ? 0f : (float)((random.NextDouble() * 2) - 1);
        }

        var actual = new float[columns + 3];
        actual.AsSpan().Fill(7f); // stale values: every column must be overwritten, nothing past the end touched
        Simd.TransposedMatrixVector(weight, d, actual, rows, columns);

        // The vector columns (16 lanes with AVX-512, then 8 for a remainder of 8 or more): one fused multiply-add per live
        // row, in row order; the columns after them: plain sums over every row. Every column also near a double sum.
        int wide = Simd.Use256 ? columns / 8 * 8 : 0;
        for (int i = 0; i < columns; i++)
        {
            float sum = 0f;
            double exact = 0, magnitude = 0;
            for (int o = 0; o < rows; o++)
            {
                if (i < wide)
                {
                    sum = d[o] == 0f ? sum : MathF.FusedMultiplyAdd(weight[(o * columns) + i], d[o], sum);
                }
                else
                {
                    sum += weight[(o * columns) + i] * d[o];
                }

                exact += (double)weight[(o * columns) + i] * d[o];
                magnitude += Math.Abs((double)weight[(o * columns) + i] * d[o]);
            }

            Assert.Equal(sum, actual[i]);
            Assert.True(Math.Abs(actual[i] - exact) <= 1e-6 * magnitude, $"column {i}: {actual[i]} against {exact}");
        }

        Assert.Equal(new[] { 7f, 7f, 7f }, actual[columns..]);
        Assert.Throws<ArgumentException>(() => Simd.TransposedMatrixVector(weight, d, new float[columns - 1], rows, columns));
    }

    [Fact]
    public void A_short_target_is_refused_with_the_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => Simd.Transpose(new float[12], 3, 4, new float[11]));
        Assert.Contains("3 × 4", error.Message, StringComparison.Ordinal);
        Assert.Contains("target 11", error.Message, StringComparison.Ordinal);
    }
}
