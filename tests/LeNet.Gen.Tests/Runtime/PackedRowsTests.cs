using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// PackedRows, the dense weights packed by groups of four rows for single-image calls: its matrix-vector product must
/// equal <see cref="Simd.MatrixVector"/> on the unpacked weights bit for bit (the same sums in the same order), and both
/// must agree with a double-precision sum, for shapes that leave every remainder (rows not a multiple of 4, columns not a
/// multiple of 8 or 16, columns that fill no vector). Run on the best path the processor has and, through
/// <see cref="Generated.InstructionSetTests"/>, on AVX2 and without vectors.
/// </summary>
public class PackedRowsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 40)]
    [InlineData(4, 7)]
    [InlineData(4, 8)]
    [InlineData(5, 15)]
    [InlineData(6, 16)]
    [InlineData(9, 19)]
    [InlineData(84, 120)]
    [InlineData(120, 400)]
    [InlineData(13, 1000)]
    [InlineData(64, 33)]
    public void The_product_equals_MatrixVector_on_the_unpacked_weights_bit_for_bit(int rows, int columns)
    {
        var random = new Random((rows * 7919) + columns);
        float[] weight = Values(random, rows * columns), x = Values(random, columns), bias = Values(random, rows);
        var packed = new float[rows * columns];
        var expected = new float[rows];
        var actual = new float[rows];

        PackedRows.Pack(weight, rows, columns, packed);
        Simd.MatrixVector(weight, x, bias, expected, rows, columns);
        PackedRows.MatrixVector(packed, x, bias, actual, rows, columns);

        for (int o = 0; o < rows; o++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[o]), BitConverter.SingleToInt32Bits(actual[o]));
            double sum = bias[o];
            for (int i = 0; i < columns; i++)
            {
                sum += (double)weight[(o * columns) + i] * x[i];
            }

            Assert.True(Math.Abs(actual[o] - sum) <= 1e-5 * Math.Max(1, Math.Abs(sum)), $"row {o}: {actual[o]} against {sum}");
        }
    }

    [Fact]
    public void The_layout_puts_each_group_s_vectors_side_by_side_then_its_tails_then_the_last_rows_whole()
    {
        // 5 rows × 19 columns, weight[o, i] = 100·o + i. With vectors (8 lanes, with AVX-512 too): rows 0–3's columns
        // 0–7, one row after the other (32 values), then their columns 8–15, then their columns 16–18 (12 values), then
        // row 4 whole. Without vectors: the rows as they are.
        const int Rows = 5, Columns = 19;
        var weight = new float[Rows * Columns];
        for (int o = 0; o < Rows; o++)
        {
            for (int i = 0; i < Columns; i++)
            {
                weight[(o * Columns) + i] = (100 * o) + i;
            }
        }

        var packed = new float[Rows * Columns];
        PackedRows.Pack(weight, Rows, Columns, packed);

        int lanes = Simd.Use256 ? 8 : 0;
        var expected = new System.Collections.Generic.List<float>();
        if (lanes == 0)
        {
            expected.AddRange(weight);
        }
        else
        {
            for (int start = 0; start + lanes <= 16; start += lanes)
            {
                for (int o = 0; o < 4; o++)
                {
                    for (int i = start; i < start + lanes; i++)
                    {
                        expected.Add((100 * o) + i);
                    }
                }
            }

            for (int o = 0; o < 4; o++)
            {
                expected.AddRange(new float[] { (100 * o) + 16, (100 * o) + 17, (100 * o) + 18 });
            }

            for (int i = 0; i < Columns; i++)
            {
                expected.Add(400 + i);
            }
        }

        Assert.Equal(expected, packed);
        if (lanes == 8)
        {
            Assert.Equal(new float[] { 0, 1, 2 }, packed[..3]);
            Assert.Equal(100f, packed[8]); // row 1's first vector right after row 0's
            Assert.Equal(8f, packed[32]); // then row 0's second vector
            Assert.Equal(16f, packed[64]); // then row 0's tail
        }
    }

    [Fact]
    public void Short_spans_are_refused_with_the_shape_named()
    {
        var error = Assert.Throws<ArgumentException>(() => PackedRows.Pack(new float[10], 4, 3, new float[12]));
        Assert.Contains("4 × 3", error.Message);
        Assert.Throws<ArgumentException>(() => PackedRows.MatrixVector(new float[12], new float[2], new float[4], new float[4], 4, 3));
        Assert.Throws<ArgumentException>(() => PackedRows.MatrixVector(new float[12], new float[3], new float[4], new float[3], 4, 3));
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
