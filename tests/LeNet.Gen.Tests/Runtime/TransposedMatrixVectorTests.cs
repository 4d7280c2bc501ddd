using System;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>
/// <see cref="Simd.TransposedMatrixVector"/>, a dense layer's input gradient <c>result[i] = Σ o weight[o, i] · d[o]</c>:
/// against a double-precision sum for every column, and, for the columns its vectors cover, bit for bit against the order
/// it documents (the rows whose d is not 0, in order, each added by one fused multiply-add from zero). The shapes leave
/// every remainder: blocks of 8 vectors, pairs and single vectors after them, columns past the last vector, more rows
/// than one block of live rows (512). Run on the best path the processor has and, through
/// <see cref="Generated.InstructionSetTests"/>, on AVX2 and without vectors.
/// </summary>
public class TransposedMatrixVectorTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(10, 84)]       // LeNet-5's fc3
    [InlineData(84, 120)]      // fc2
    [InlineData(120, 400)]     // fc1
    [InlineData(5, 309)]       // 19 vectors of 16 (one block of 8, then pairs, then one) and 5 columns after them
    [InlineData(7, 317)]       // the same and a vector of 8 (with AVX-512), then 5 columns
    [InlineData(700, 40)]      // two blocks of live rows
    [InlineData(64, 2048)]
    public void The_product_matches_the_definition_and_its_documented_order(int rows, int columns)
    {
        var random = new Random((rows * 131) + columns);
        var weight = new float[rows * columns];
        var d = new float[rows];
        for (int k = 0; k < weight.Length; k++)
        {
            weight[k] = (float)((random.NextDouble() * 2) - 1);
        }

        for (int o = 0; o < rows; o++)
        {
            d[o] = random.Next(3) == 0 ? 0f : (float)((random.NextDouble() * 2) - 1); // about a third of the rows dead, as after a ReLU
        }

        var result = new float[columns + 3];
        result.AsSpan().Fill(7f); // stale values: every column must be overwritten, none past the end touched
        Simd.TransposedMatrixVector(weight, d, result, rows, columns);

        int vectors = Simd.Use256 ? columns / 8 * 8 : 0; // with AVX-512, 16 lanes and then 8 for a remainder of 8 or more
        for (int i = 0; i < columns; i++)
        {
            double exact = 0, magnitude = 0;
            float ordered = 0f;
            for (int o = 0; o < rows; o++)
            {
                exact += (double)weight[(o * columns) + i] * d[o];
                magnitude += Math.Abs((double)weight[(o * columns) + i] * d[o]);
                if (d[o] != 0f)
                {
                    ordered = MathF.FusedMultiplyAdd(weight[(o * columns) + i], d[o], ordered);
                }
            }

            Assert.True(Math.Abs(result[i] - exact) <= (1e-6 * magnitude) + 1e-30, $"column {i}: {result[i]} against {exact}");
            if (i < vectors)
            {
                Assert.True(BitConverter.SingleToInt32Bits(ordered) == BitConverter.SingleToInt32Bits(result[i]), $"column {i}: {result[i]} against {ordered} in row order");
            }
        }

        Assert.Equal(new[] { 7f, 7f, 7f }, result[columns..]);
    }

    [Fact]
    public void Short_spans_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => Simd.TransposedMatrixVector(new float[11], new float[3], new float[4], 3, 4));
        Assert.Contains("rows × columns", error.Message);
    }
}
