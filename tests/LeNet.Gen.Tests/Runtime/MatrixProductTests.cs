using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// MatrixProduct, the runtime's C = A · B under Winograd's products and the column gradient: each C value must be the
/// fused multiply-adds of its terms in k order from zero (bit for bit), whichever register tile computes it, for shapes
/// that leave every kind of remainder (rows not a multiple of 4, 8 or 16; vectors not a multiple of 2, 3 or 4). Run in
/// this process on the best path the processor has and, through <see cref="Generated.InstructionSetTests"/>, on AVX2.
/// </summary>
public class MatrixProductTests
{
    [Theory]
    [InlineData(1, 3, 1)]
    [InlineData(4, 1, 2)]
    [InlineData(7, 5, 3)]
    [InlineData(8, 32, 2)]
    [InlineData(13, 9, 5)]
    [InlineData(16, 7, 4)]
    [InlineData(24, 16, 6)]
    [InlineData(37, 11, 7)]
    [InlineData(128, 64, 2)]
    [InlineData(64, 32, 8)]
    [InlineData(40, 3, 32)]
    public void Every_value_is_its_terms_fused_in_order_from_zero(int rows, int depth, int vectors)
    {
        if (!Simd.Use256)
        {
            return; // the kernels are only called with vector support
        }

        int columns = vectors * 8;
        var random = new Random((rows * 1000) + (depth * 10) + vectors);

        // A read through two strides, as Winograd (row-major) and the column gradient (transposed) read it: test both.
        foreach (bool transposed in new[] { false, true })
        {
            int rowStride = transposed ? 1 : depth, depthStride = transposed ? rows : 1;
            var a = Values(random, rows * depth);
            var b = Values(random, depth * columns);
            var c = new float[(rows * columns) + 5];
            c.AsSpan().Fill(float.NaN); // every value must be written
            MatrixProduct.Multiply(a, rowStride, depthStride, b, c, rows, depth, vectors);
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < columns; j++)
                {
                    float sum = 0;
                    for (int k = 0; k < depth; k++)
                    {
                        sum = MathF.FusedMultiplyAdd(a[(r * rowStride) + (k * depthStride)], b[(k * columns) + j], sum);
                    }

                    Assert.True(sum == c[(r * columns) + j], $"C[{r}, {j}] of {rows}×{depth} by {depth}×{columns} (transposed A: {transposed}) is {c[(r * columns) + j]}, expected {sum}");
                }
            }

            Assert.True(float.IsNaN(c[rows * columns]), "a value past C was written");
        }
    }

    private static float[] Values(Random random, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return v;
    }
}
