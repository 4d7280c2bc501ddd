using System;
using System.Linq;
using LeNet.Gen.Runtime;
using Xunit;

namespace LeNet.Gen.Tests.Runtime;

/// <summary>The shared softmax head against the formulas in double precision.</summary>
public class SoftmaxTests
{
    [Fact]
    public void Probabilities_match_the_formula_and_sum_to_one()
    {
        float[] logits = { 1.5f, -2f, 0.25f, 3f, 3f };
        var probabilities = new float[logits.Length];

        Softmax.Apply(logits, probabilities);

        double sum = logits.Sum(z => Math.Exp(z));
        for (int k = 0; k < logits.Length; k++)
        {
            Assert.Equal(Math.Exp(logits[k]) / sum, probabilities[k], 6);
        }

        Assert.Equal(1.0, probabilities.Sum(), 5);
    }

    [Fact]
    public void Huge_logits_do_not_overflow_and_far_smaller_ones_get_exactly_zero()
    {
        float[] logits = { 1000f, 999f, 900f };
        var probabilities = new float[3];

        Softmax.Apply(logits, probabilities);

        Assert.Equal(1 / (1 + Math.Exp(-1)), probabilities[0], 6);
        Assert.Equal(Math.Exp(-1) / (1 + Math.Exp(-1)), probabilities[1], 6);
        Assert.Equal(0f, probabilities[2]); // 100 below the largest: no denormal
    }

    [Fact]
    public void Cross_entropy_is_minus_the_log_probability_also_for_huge_logits()
    {
        float[] logits = { 2f, -1f, 0.5f };
        double log = Math.Log(logits.Sum(z => Math.Exp(z)));
        for (int label = 0; label < logits.Length; label++)
        {
            Assert.Equal(log - logits[label], Softmax.CrossEntropy(logits, label), 5);
        }

        Assert.Equal(1 + Math.Log(1 + Math.Exp(-1)), Softmax.CrossEntropy(new[] { 1000f, 999f }, 1), 4);
    }

    [Theory]
    [InlineData(new[] { 0.1f, 0.7f, 0.2f }, 1)]
    [InlineData(new[] { 0.4f, 0.1f, 0.4f }, 0)] // a tie goes to the first
    [InlineData(new[] { 0.4f, float.NaN, 0.9f }, -1)]
    [InlineData(new[] { -3f }, 0)]
    public void The_largest_index_is_the_first_largest_and_minus_one_for_nan(float[] outputs, int expected) =>
        Assert.Equal(expected, Softmax.LargestIndex(outputs));
}
