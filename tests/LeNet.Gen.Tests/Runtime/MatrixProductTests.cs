using System;
using System.Runtime.Intrinsics.X86;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// The matrix product under Winograd's products and <see cref="ColumnGradient"/>, on shapes that send every row and
/// vector through each of its paths, against the product in double precision; and the order of each value's terms.
/// </summary>
public class MatrixProductTests
{
    [Theory]
    [InlineData(150, 16, 13)] // LeNet-5's conv2 input gradient: 4 × 3 tiles, the 13th vector in strips of 8 rows and single rows, 2 rows left
    [InlineData(17, 5, 9)]    // 4 × 3 tiles only across, and one row left over for the strips of 4 vectors
    [InlineData(128, 64, 2)]  // vgg-cifar's conv3 Winograd products: 6 × 2 tiles, two rows left
    [InlineData(11, 3, 4)]    // 6 × 2 tiles, then 4 × 2, then a row
    [InlineData(3, 7, 5)]     // no tile at all: three rows of a strip of 4 vectors and a single vector
    [InlineData(20, 2, 1)]    // one vector: 4 × 3 tiles none, strips of 8 rows and single rows
    public void Every_value_is_its_terms_fused_in_order_from_zero(int rows, int depth, int vectors)
    {
        if (!Fma.IsSupported || !Avx2.IsSupported)
        {
            return; // AVX2 code, which its callers run only with those instructions
        }

        const int Lanes = 8;
        int columns = vectors * Lanes;
        var random = new Random((rows * 31) + depth);
        // A read transposed, as ColumnGradient does (row r at r, depth k at k · rows), so both strides are exercised.
        var a = new float[rows * depth];
        var b = new float[depth * columns];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)((random.NextDouble() * 2) - 1);
        }

        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var c = new float[rows * columns];
        Array.Fill(c, float.NaN);

        MatrixProduct.Multiply(a, 1, rows, b, c, rows, depth, vectors);

        for (int row = 0; row < rows; row++)
        {
            for (int column = 0; column < columns; column++)
            {
                float sum = 0f;
                for (int k = 0; k < depth; k++)
                {
                    sum = MathF.FusedMultiplyAdd(a[row + (k * rows)], b[(k * columns) + column], sum);
                }

                Assert.True(
                    BitConverter.SingleToInt32Bits(sum) == BitConverter.SingleToInt32Bits(c[(row * columns) + column]),
                    $"C[{row}, {column}] = {c[(row * columns) + column]}, expected {sum}");
            }
        }
    }
}
